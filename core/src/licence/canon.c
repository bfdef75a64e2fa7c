/* Canonical JSON serialisation (canon.h). Written by hand rather than with
 * json_dumps flags so that every byte is decided here, not by a library
 * version. */
#include "licence/canon.h"

#include "licence/signed.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
    char *data;
    size_t len, cap;
    int oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->oom = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* path: where in the document we are, for messages ("$.entitlements[2]"). */
static int fail(char *err, size_t errlen, const char *path, const char *what)
{
    if (err && errlen) {
        snprintf(err, errlen, "%s: %s", path, what);
        dg_text_one_line(err); /* the path quotes the document's keys */
    }
    return -1;
}

static int put_string(buf *b, const char *s, size_t n, const char *path, char *err, size_t errlen)
{
    if (strlen(s) != n)
        return fail(err, errlen, path, "strings must not contain NUL characters");
    put(b, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20)
            return fail(err, errlen, path, "strings must not contain control characters");
        if (c == '"' || c == '\\') {
            put(b, s + start, i - start);
            put(b, c == '"' ? "\\\"" : "\\\\", 2);
            start = i + 1;
        }
    }
    put(b, s + start, n - start);
    put(b, "\"", 1);
    return 0;
}

static int cmp_keys(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: UTF-8 byte order, which is code point order. */
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int dump(buf *b, const json_t *v, int depth, char *path, size_t pathlen, char *err,
                size_t errlen);

static int dump_object(buf *b, const json_t *v, int depth, char *path, size_t pathlen, char *err,
                       size_t errlen)
{
    size_t n = json_object_size(v);
    const char **keys = malloc((n ? n : 1) * sizeof(*keys));
    if (!keys) {
        b->oom = 1;
        return 0;
    }
    size_t i = 0;
    const char *key;
    json_t *member;
    json_object_foreach((json_t *)v, key, member)
    {
        keys[i++] = key;
    }
    qsort(keys, n, sizeof(*keys), cmp_keys);
    size_t used = strlen(path);
    int rc = 0;
    put(b, "{", 1);
    for (i = 0; i < n && rc == 0; i++) {
        if (i)
            put(b, ",", 1);
        snprintf(path + used, pathlen - used, ".%s", keys[i]);
        rc = put_string(b, keys[i], strlen(keys[i]), path, err, errlen);
        put(b, ":", 1);
        if (rc == 0)
            rc = dump(b, json_object_get(v, keys[i]), depth + 1, path, pathlen, err, errlen);
        path[used] = '\0';
    }
    put(b, "}", 1);
    free(keys);
    return rc;
}

static int dump(buf *b, const json_t *v, int depth, char *path, size_t pathlen, char *err,
                size_t errlen)
{
    char num[32];
    if (depth > DG_CANON_MAX_DEPTH)
        return fail(err, errlen, path, "nested too deeply");
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return dump_object(b, v, depth, path, pathlen, err, errlen);
    case JSON_ARRAY: {
        size_t used = strlen(path);
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                put(b, ",", 1);
            snprintf(path + used, pathlen - used, "[%zu]", i);
            if (dump(b, json_array_get(v, i), depth + 1, path, pathlen, err, errlen) != 0)
                return -1;
            path[used] = '\0';
        }
        put(b, "]", 1);
        return 0;
    }
    case JSON_STRING:
        return put_string(b, json_string_value(v), json_string_length(v), path, err, errlen);
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        puts_(b, num);
        return 0;
    case JSON_REAL:
        return fail(err, errlen, path, "numbers must be integers");
    case JSON_TRUE:
        puts_(b, "true");
        return 0;
    case JSON_FALSE:
        puts_(b, "false");
        return 0;
    case JSON_NULL:
        puts_(b, "null");
        return 0;
    }
    return fail(err, errlen, path, "unknown JSON type");
}

int dg_canon_dump(const json_t *v, char **out, size_t *len, char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    if (!v)
        return fail(err, errlen, "$", "no document");
    buf b = {0};
    char path[256] = "$";
    int rc = dump(&b, v, 0, path, sizeof path, err, errlen);
    if (rc == 0 && b.oom)
        rc = fail(err, errlen, "$", "out of memory");
    if (rc != 0) {
        free(b.data);
        return -1;
    }
    if (!b.data) /* cannot happen: every value writes something */
        return fail(err, errlen, "$", "empty");
    *out = b.data;
    *len = b.len;
    return 0;
}
