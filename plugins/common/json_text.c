#include "json_text.h"

#include <stdlib.h>
#include <string.h>

void dg_jt_init(dg_jt *w, size_t cap_hint)
{
    memset(w, 0, sizeof *w);
    w->cap = cap_hint ? cap_hint : 4096;
    w->buf = malloc(w->cap);
    if (!w->buf)
        w->failed = true;
}

void dg_jt_discard(dg_jt *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
    w->failed = true;
}

char *dg_jt_finish(dg_jt *w, size_t *len)
{
    if (w->failed || w->depth != 0 || w->len == 0 || !w->buf) {
        dg_jt_discard(w);
        return NULL;
    }
    /* reserve() always leaves room for this NUL. */
    w->buf[w->len] = '\0';
    char *out = w->buf;
    *len = w->len;
    w->buf = NULL;
    return out;
}

/* Grows the buffer for n more bytes plus a final NUL; false (and failed) when out of memory. */
static bool grow(dg_jt *w, size_t n)
{
    if (w->failed)
        return false;
    size_t cap = w->cap;
    while (n + 1 > cap - w->len) {
        if (cap > SIZE_MAX / 2) {
            w->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *grown = realloc(w->buf, cap);
    if (!grown) {
        w->failed = true;
        return false;
    }
    w->buf = grown;
    w->cap = cap;
    return true;
}

/* Room for n more bytes plus a final NUL (a failed writer never has room). */
static inline bool reserve(dg_jt *w, size_t n)
{
    if (!w->failed && n + 1 <= w->cap - w->len)
        return true;
    return grow(w, n);
}

static inline void put(dg_jt *w, const char *s, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static inline void put_c(dg_jt *w, char c)
{
    if (!reserve(w, 1))
        return;
    w->buf[w->len++] = c;
}

/* Before any value or key: the comma that separates it from the previous one. */
static void separate(dg_jt *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (w->has_items[w->depth - 1])
            put_c(w, ',');
        w->has_items[w->depth - 1] = true;
    }
}

static void open_container(dg_jt *w, char c)
{
    separate(w);
    if (w->depth >= DG_JT_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    put_c(w, c);
    w->has_items[w->depth++] = false;
}

static void close_container(dg_jt *w, char c)
{
    if (w->depth == 0 || w->after_key) {
        w->failed = true;
        return;
    }
    w->depth--;
    put_c(w, c);
}

void dg_jt_begin_object(dg_jt *w)
{
    open_container(w, '{');
}

void dg_jt_end_object(dg_jt *w)
{
    close_container(w, '}');
}

void dg_jt_begin_array(dg_jt *w)
{
    open_container(w, '[');
}

void dg_jt_end_array(dg_jt *w)
{
    close_container(w, ']');
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates), or 0. */
static size_t utf8_seq(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    if (c < 0xE0) {
        n = 2;
        min = 0x80;
    } else if (c < 0xF0) {
        n = 3;
        min = 0x800;
    } else {
        n = 4;
        min = 0x10000;
    }
    if ((size_t)(end - s) < n)
        return 0;
    unsigned cp = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* One character that must be escaped (quote, backslash, control). */
static void put_escape(dg_jt *w, unsigned c)
{
    static const char hex[] = "0123456789abcdef";
    const char *named = c == '"'    ? "\\\""
                        : c == '\\' ? "\\\\"
                        : c == '\n' ? "\\n"
                        : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t"
                        : c == '\b' ? "\\b"
                        : c == '\f' ? "\\f"
                                    : NULL;
    if (named) {
        put(w, named, 2);
    } else {
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        put(w, u, sizeof u);
    }
}

/*
 * text[0..len) as a JSON string, in one pass: runs of bytes that need no
 * escaping (printable ASCII and valid UTF-8 sequences) are copied whole. A
 * NUL inside (jansson strings may hold one) becomes \u0000; a byte that is
 * not UTF-8 becomes U+FFFD.
 */
static void put_escaped_n(dg_jt *w, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    const unsigned char *end = s + len, *run = s;
    if (!reserve(w, len + 2))
        return;
    put_c(w, '"');
    while (s < end) {
        unsigned c = *s;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            s++;
            continue;
        }
        size_t n = c >= 0x80 ? utf8_seq(s, end) : 0;
        if (n) {
            s += n;
            continue;
        }
        put(w, (const char *)run, (size_t)(s - run));
        if (c >= 0x80)
            put(w, "\xEF\xBF\xBD", 3);
        else
            put_escape(w, c);
        run = ++s;
    }
    put(w, (const char *)run, (size_t)(s - run));
    put_c(w, '"');
}

static void put_escaped(dg_jt *w, const char *text)
{
    put_escaped_n(w, text, strlen(text));
}

void dg_jt_key(dg_jt *w, const char *key)
{
    if (w->depth == 0 || w->after_key) {
        w->failed = true;
        return;
    }
    separate(w);
    put_escaped(w, key);
    put_c(w, ':');
    w->after_key = true;
}

void dg_jt_string(dg_jt *w, const char *s)
{
    if (!s) {
        dg_jt_null(w);
        return;
    }
    separate(w);
    put_escaped(w, s);
}

void dg_jt_int(dg_jt *w, int64_t v)
{
    /* By hand: snprintf's format parsing costs more than the digits (timestamps per user). */
    char num[24];
    char *p = num + sizeof num;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    separate(w);
    put(w, p, (size_t)(num + sizeof num - p));
}

void dg_jt_bool(dg_jt *w, bool v)
{
    separate(w);
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
}

void dg_jt_null(dg_jt *w)
{
    separate(w);
    put(w, "null", 4);
}

static int append_dump(const char *chunk, size_t size, void *user)
{
    dg_jt *w = user;
    put(w, chunk, size);
    return w->failed ? -1 : 0;
}

/*
 * Walked by hand rather than with json_dump_callback: jansson's dump keeps a
 * loop-detection table keyed by each container's printed address, which
 * costs more than the writing itself for small arrays in a long list.
 */
void dg_jt_value(dg_jt *w, const json_t *v)
{
    if (!v) {
        dg_jt_null(w);
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *member;
        dg_jt_begin_object(w);
        json_object_foreach((json_t *)v, key, member)
        {
            dg_jt_key(w, key);
            dg_jt_value(w, member);
        }
        dg_jt_end_object(w);
        break;
    }
    case JSON_ARRAY:
        dg_jt_begin_array(w);
        for (size_t i = 0; i < json_array_size(v); i++)
            dg_jt_value(w, json_array_get(v, i));
        dg_jt_end_array(w);
        break;
    case JSON_STRING:
        separate(w);
        put_escaped_n(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        dg_jt_int(w, json_integer_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        dg_jt_bool(w, json_is_true(v));
        break;
    case JSON_NULL:
        dg_jt_null(w);
        break;
    default: /* reals: jansson's shortest round-trip form */
        separate(w);
        if (!w->failed && json_dump_callback(v, append_dump, w, JSON_COMPACT | JSON_ENCODE_ANY))
            w->failed = true;
        break;
    }
}

void dg_jt_member_string(dg_jt *w, const char *key, const char *s)
{
    dg_jt_key(w, key);
    dg_jt_string(w, s);
}

void dg_jt_member_int(dg_jt *w, const char *key, int64_t v)
{
    dg_jt_key(w, key);
    dg_jt_int(w, v);
}

void dg_jt_member_bool(dg_jt *w, const char *key, bool v)
{
    dg_jt_key(w, key);
    dg_jt_bool(w, v);
}
