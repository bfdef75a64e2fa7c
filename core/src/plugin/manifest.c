/*
 * plugin.json parser and validator.
 *
 * The manifest is the only thing the host knows about a plugin before any of
 * its code runs (constructors run at dlopen time), so every eligibility input
 * must be validated here, strictly: duplicate keys are rejected by jansson,
 * unknown keys are rejected at every level (a misspelled optional key would
 * otherwise be silently ignored), and every string that later becomes a path,
 * a symbol name, an id or a config key is checked against its grammar.
 *
 * Errors are one line, "<file>: <what>", naming the JSON path of the culprit.
 * Values quoted in messages are sanitized (control characters replaced,
 * long values cut) so a hostile manifest cannot forge log lines.
 */
#include "plugin/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_BYTES 128  /* "name" */
#define FILE_NAME_MAX 255   /* "library" (NAME_MAX on Linux) */
#define ENTRY_MAX 255       /* "entry" */
#define PLATFORM_MAX 64     /* one "platforms" entry */
#define PLATFORMS_MAX 32    /* entries in "platforms" */
#define CONFIG_KEYS_MAX 256 /* entries in "config" */
#define CONFIG_KEY_MAX 128  /* bytes in a config key */
#define CAP_NAME_MAX 128    /* buffer for a capability name (127 bytes + NUL) */
#define ABI_MAX 65535       /* the descriptor stores ABI numbers as uint16_t */
#define JSON_PATH_MAX 160   /* JSON path shown in messages */
#define SHOWN_MAX 64        /* bytes of a quoted value shown in messages */

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* ---- grammar checks shared with the graph and the host ---- */

static int is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return is_lower(c) || (c >= 'A' && c <= 'Z');
}

/* Dotted segments, each [a-z] then chars accepted by `more`; whole string <= max bytes. */
static int dotted_valid(const char *s, size_t max, int (*more)(char))
{
    if (!s || *s == '\0' || strnlen(s, max + 1) > max)
        return 0;
    for (;;) {
        if (!is_lower(*s++))
            return 0;
        while (more(*s))
            s++;
        if (*s == '\0')
            return 1;
        if (*s++ != '.')
            return 0;
    }
}

static int id_char(char c)
{
    return is_lower(c) || is_digit(c) || c == '-';
}

static int cap_char(char c)
{
    return id_char(c) || c == '_';
}

int dg_plugin_id_valid(const char *id)
{
    return dotted_valid(id, DG_PLUGIN_ID_MAX, id_char);
}

int dg_capability_parse(const char *cap, char *name, size_t namelen, unsigned *major)
{
    const char *at = cap ? strchr(cap, '@') : NULL;
    if (!at || at == cap || (size_t)(at - cap) >= CAP_NAME_MAX)
        return -1;
    char buf[CAP_NAME_MAX];
    size_t n = (size_t)(at - cap);
    memcpy(buf, cap, n);
    buf[n] = '\0';
    if (!dotted_valid(buf, CAP_NAME_MAX - 1, cap_char))
        return -1;
    /* Major: decimal, no leading zero, so "x@1" and "x@01" cannot both appear. */
    const char *p = at + 1;
    if (!is_digit(*p) || (p[0] == '0' && p[1] != '\0'))
        return -1;
    unsigned long v = 0;
    for (; is_digit(*p); p++) {
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > UINT_MAX)
            return -1;
    }
    if (*p != '\0' || (name && namelen <= n))
        return -1;
    if (name)
        memcpy(name, buf, n + 1);
    if (major)
        *major = (unsigned)v;
    return 0;
}

#if defined(__linux__)
#define DG_OS "linux"
#elif defined(__APPLE__)
#define DG_OS "darwin"
#elif defined(_WIN32)
#define DG_OS "windows"
#elif defined(__FreeBSD__)
#define DG_OS "freebsd"
#else
#define DG_OS "unknown"
#endif

/* Architecture names as `uname -m` prints them on that OS. */
#if defined(__x86_64__) || defined(_M_X64)
#define DG_ARCH "x86_64"
#elif defined(__aarch64__) && defined(__APPLE__)
#define DG_ARCH "arm64"
#elif defined(__aarch64__)
#define DG_ARCH "aarch64"
#elif defined(__i386__)
#define DG_ARCH "i686"
#elif defined(__arm__)
#define DG_ARCH "armv7l"
#elif defined(__riscv) && __riscv_xlen == 64
#define DG_ARCH "riscv64"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define DG_ARCH "ppc64le"
#elif defined(__s390x__)
#define DG_ARCH "s390x"
#elif defined(__loongarch64)
#define DG_ARCH "loongarch64"
#else
#define DG_ARCH "unknown"
#endif

const char *dg_platform_name(void)
{
    return DG_OS "-" DG_ARCH;
}

int dg_manifest_platform_supported(const dg_manifest *m, const char *platform)
{
    if (!platform)
        platform = dg_platform_name();
    if (m->n_platforms == 0)
        return 1;
    for (size_t i = 0; i < m->n_platforms; i++)
        if (strcmp(m->platforms[i], platform) == 0)
            return 1;
    return 0;
}

/* ---- messages ---- */

typedef struct parse_ctx {
    const char *file; /* label for messages */
    char *err;
    size_t errlen;
    dg_manifest *m;
} parse_ctx;

/* A value made safe to quote in a one-line message (returned by value: no buffers to manage). */
typedef struct shown {
    char s[SHOWN_MAX + 4];
} shown;

static shown show(const char *s)
{
    shown out;
    size_t n = 0;
    for (; s[n] != '\0' && n < SHOWN_MAX; n++) {
        unsigned char ch = (unsigned char)s[n];
        out.s[n] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    if (s[n] != '\0') {
        /* Do not leave half a UTF-8 sequence before the ellipsis. */
        size_t start = n;
        while (start > 0 && ((unsigned char)out.s[start - 1] & 0xC0) == 0x80)
            start--;
        if (start > 0 && (unsigned char)out.s[start - 1] >= 0xC0) {
            unsigned char lead = (unsigned char)out.s[--start];
            size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
            if (start + len > n)
                n = start;
        }
        memcpy(out.s + n, "...", 3);
        n += 3;
    }
    out.s[n] = '\0';
    return out;
}

static int fail(parse_ctx *c, const char *fmt, ...) PRINTF_LIKE(2, 3);

static int fail(parse_ctx *c, const char *fmt, ...)
{
    if (!c->err || c->errlen == 0)
        return -1;
    int n = snprintf(c->err, c->errlen, "%s: ", c->file);
    if (n < 0 || (size_t)n >= c->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail_oom(parse_ctx *c)
{
    return fail(c, "out of memory");
}

/* "where.key", or "key" at the top level. */
static void path_key(char *out, const char *where, const char *key)
{
    if (*where == '\0')
        snprintf(out, JSON_PATH_MAX, "%s", show(key).s);
    else
        snprintf(out, JSON_PATH_MAX, "%s.%s", where, show(key).s);
}

static void path_index(char *out, const char *where, size_t i)
{
    snprintf(out, JSON_PATH_MAX, "%s[%zu]", where, i);
}

/* jansson reports "duplicate object key near '"name"'"; extract the key. */
static int fail_json(parse_ctx *c, const json_error_t *je)
{
    if (json_error_code(je) == json_error_duplicate_key) {
        const char *start = strstr(je->text, "near '\"");
        size_t len = start ? strlen(start + 7) : 0;
        if (len >= 2 && strcmp(start + 7 + len - 2, "\"'") == 0) {
            char key[JSON_ERROR_TEXT_LENGTH];
            memcpy(key, start + 7, len - 2);
            key[len - 2] = '\0';
            return fail(c, "duplicate key '%s' near line %d", show(key).s, je->line);
        }
        return fail(c, "duplicate key near line %d", je->line);
    }
    return fail(c, "invalid JSON at line %d, column %d: %s", je->line, je->column,
                show(je->text).s);
}

/* ---- generic accessors ---- */

/* Rejects any key of obj not in allowed (NULL-terminated). */
static int check_keys(parse_ctx *c, json_t *obj, const char *where, const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i]) {
            char path[JSON_PATH_MAX];
            path_key(path, where, key);
            return fail(c, "unknown key '%s'", path);
        }
    }
    return 0;
}

/* *out = obj[key] (borrowed) or NULL when absent and optional. */
static int member(parse_ctx *c, json_t *obj, const char *where, const char *key, int required,
                  json_t **out)
{
    *out = json_object_get(obj, key);
    if (!*out && required) {
        char path[JSON_PATH_MAX];
        path_key(path, where, key);
        return fail(c, "missing required key '%s'", path);
    }
    return 0;
}

/* Borrowed string value of obj[key]; *out NULL when optional and absent. */
static int string_member(parse_ctx *c, json_t *obj, const char *where, const char *key,
                         int required, const char **out)
{
    json_t *v;
    *out = NULL;
    if (member(c, obj, where, key, required, &v) != 0)
        return -1;
    if (!v)
        return 0;
    if (!json_is_string(v)) {
        char path[JSON_PATH_MAX];
        path_key(path, where, key);
        return fail(c, "'%s' must be a string", path);
    }
    /* jansson rejects "\u0000" without JSON_ALLOW_NUL, so the C string is the whole value. */
    *out = json_string_value(v);
    return 0;
}

static int copy_string(parse_ctx *c, const char *s, char **out)
{
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : fail_oom(c);
}

static int int_member(parse_ctx *c, json_t *obj, const char *where, const char *key, int required,
                      json_int_t lo, json_int_t hi, int *out)
{
    json_t *v;
    if (member(c, obj, where, key, required, &v) != 0)
        return -1;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char path[JSON_PATH_MAX];
        path_key(path, where, key);
        return fail(
            c, "'%s' must be an integer between %" JSON_INTEGER_FORMAT " and %" JSON_INTEGER_FORMAT,
            path, lo, hi);
    }
    *out = (int)json_integer_value(v);
    return 0;
}

static int bool_member(parse_ctx *c, json_t *obj, const char *where, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        char path[JSON_PATH_MAX];
        path_key(path, where, key);
        return fail(c, "'%s' must be true or false", path);
    }
    *out = json_is_true(v);
    return 0;
}

/* Optional strict object: *out NULL when absent. */
static int object_member(parse_ctx *c, json_t *obj, const char *key, int required,
                         const char *const *allowed, json_t **out)
{
    if (member(c, obj, "", key, required, out) != 0)
        return -1;
    if (!*out)
        return 0;
    if (!json_is_object(*out))
        return fail(c, "'%s' must be an object", key);
    return check_keys(c, *out, key, allowed);
}

/* ---- field grammars ---- */

/* A plain file name in the plugin's own directory: the host opens dir + "/" + library. */
static int library_valid(const char *s)
{
    size_t n = strnlen(s, FILE_NAME_MAX + 1);
    if (n == 0 || n > FILE_NAME_MAX || strcmp(s, ".") == 0 || strstr(s, ".."))
        return 0;
    /* A libtool .la file names another file to open, possibly outside the plugin folder. */
    if (n >= 3 && strcmp(s + n - 3, ".la") == 0)
        return 0;
    for (; *s; s++)
        if (*s == '/' || *s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int c_identifier_valid(const char *s)
{
    if (strnlen(s, ENTRY_MAX + 1) > ENTRY_MAX || !(is_alpha(*s) || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!(is_alpha(*s) || is_digit(*s) || *s == '_'))
            return 0;
    return 1;
}

static int capability_valid(const char *s)
{
    return dg_capability_parse(s, NULL, 0, NULL) == 0;
}

/* "<os>-<arch>", e.g. "linux-x86_64", "darwin-arm64". */
static int platform_valid(const char *s)
{
    if (strnlen(s, PLATFORM_MAX + 1) > PLATFORM_MAX || !is_lower(*s))
        return 0;
    while (is_lower(*s) || is_digit(*s))
        s++;
    if (*s++ != '-' || *s == '\0')
        return 0;
    for (; *s; s++)
        if (!(is_lower(*s) || is_digit(*s) || *s == '_'))
            return 0;
    return 1;
}

static int config_key_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '_' || c == '-';
}

/* Dotted, segments of [A-Za-z0-9_-]+ (as the config module spells keys). */
static int config_key_valid(const char *s)
{
    if (strnlen(s, CONFIG_KEY_MAX + 1) > CONFIG_KEY_MAX)
        return 0;
    for (;;) {
        if (!config_key_char(*s))
            return 0;
        while (config_key_char(*s))
            s++;
        if (*s == '\0')
            return 1;
        if (*s++ != '.')
            return 0;
    }
}

/* ---- scalar top-level fields ---- */

static int parse_manifest_version(parse_ctx *c, json_t *root)
{
    json_t *v;
    if (member(c, root, "", "manifest_version", 1, &v) != 0)
        return -1;
    if (!json_is_integer(v))
        return fail(c, "'manifest_version' must be the integer 1");
    if (json_integer_value(v) != 1)
        return fail(c, "'manifest_version' is %" JSON_INTEGER_FORMAT ", only 1 is supported",
                    json_integer_value(v));
    c->m->manifest_version = 1;
    return 0;
}

static int parse_identity(parse_ctx *c, json_t *root)
{
    dg_manifest *m = c->m;
    const char *s;
    if (string_member(c, root, "", "id", 1, &s) != 0)
        return -1;
    if (!dg_plugin_id_valid(s))
        return fail(c,
                    "'id': '%s' is not a valid plugin id (dotted lowercase segments "
                    "[a-z][a-z0-9-]*, at most %d bytes)",
                    show(s).s, DG_PLUGIN_ID_MAX);
    if (copy_string(c, s, &m->id) != 0 || string_member(c, root, "", "name", 1, &s) != 0)
        return -1;
    if (*s == '\0' || strlen(s) > NAME_MAX_BYTES)
        return fail(c, "'name' must be a non-empty string of at most %d bytes", NAME_MAX_BYTES);
    if (copy_string(c, s, &m->name) != 0 || string_member(c, root, "", "version", 1, &s) != 0)
        return -1;
    if (dg_semver_parse(s, &m->semver) != 0)
        return fail(c, "'version': '%s' is not a semantic version", show(s).s);
    if (copy_string(c, s, &m->version) != 0 ||
        string_member(c, root, "", "description", 0, &s) != 0 ||
        copy_string(c, s, &m->description) != 0 ||
        string_member(c, root, "", "publisher", 0, &s) != 0)
        return -1;
    return copy_string(c, s, &m->publisher);
}

static int parse_api(parse_ctx *c, json_t *root)
{
    static const char *const keys[] = {"abi_major", "abi_min_minor", NULL};
    json_t *api;
    if (object_member(c, root, "api", 1, keys, &api) != 0)
        return -1;
    if (int_member(c, api, "api", "abi_major", 1, 0, ABI_MAX, &c->m->abi_major) != 0)
        return -1;
    return int_member(c, api, "api", "abi_min_minor", 1, 0, ABI_MAX, &c->m->abi_min_minor);
}

static int parse_binary(parse_ctx *c, json_t *root)
{
    const char *s;
    if (string_member(c, root, "", "library", 1, &s) != 0)
        return -1;
    if (!library_valid(s))
        return fail(c,
                    "'library': '%s' must be a plain file name (no '/', no '..', not a "
                    "libtool .la, 1 to %d bytes)",
                    show(s).s, FILE_NAME_MAX);
    if (copy_string(c, s, &c->m->library) != 0 || string_member(c, root, "", "entry", 1, &s) != 0)
        return -1;
    if (!c_identifier_valid(s))
        return fail(c, "'entry': '%s' is not a C identifier", show(s).s);
    return copy_string(c, s, &c->m->entry);
}

/* ---- lists ---- */

typedef struct list_rule {
    const char *key;
    size_t max;
    int (*valid)(const char *);
    const char *what; /* "a capability (name@major)" */
} list_rule;

static int list_item(parse_ctx *c, const list_rule *r, json_t *item, size_t i, char **items)
{
    char path[JSON_PATH_MAX];
    path_index(path, r->key, i);
    if (!json_is_string(item))
        return fail(c, "'%s' must be a string", path);
    const char *s = json_string_value(item);
    if (!r->valid(s))
        return fail(c, "'%s': '%s' is not %s", path, show(s).s, r->what);
    for (size_t j = 0; j < i; j++)
        if (strcmp(items[j], s) == 0)
            return fail(c, "'%s': duplicate entry '%s'", path, show(s).s);
    return copy_string(c, s, &items[i]);
}

static int parse_string_list(parse_ctx *c, json_t *root, const list_rule *r, char ***out, size_t *n)
{
    json_t *arr = json_object_get(root, r->key);
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return fail(c, "'%s' must be an array of strings", r->key);
    size_t size = json_array_size(arr);
    if (size > r->max)
        return fail(c, "'%s' has more than %zu entries", r->key, r->max);
    /* Owned by the manifest from here on, so dg_manifest_free cleans up partial lists. */
    *out = calloc(size ? size : 1, sizeof **out);
    if (!*out)
        return fail_oom(c);
    for (size_t i = 0; i < size; i++) {
        if (list_item(c, r, json_array_get(arr, i), i, *out) != 0)
            return -1;
        *n = i + 1;
    }
    return 0;
}

static int find_string(char *const *items, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], s) == 0)
            return 1;
    return 0;
}

/* A capability may appear in only one of provides/requires/optional. */
static int check_cap_overlap(parse_ctx *c)
{
    const dg_manifest *m = c->m;
    for (size_t i = 0; i < m->n_requires; i++)
        if (find_string(m->provides, m->n_provides, m->requires[i]))
            return fail(c, "'requires[%zu]': capability '%s' is also in 'provides'", i,
                        m->requires[i]);
    for (size_t i = 0; i < m->n_optional; i++) {
        if (find_string(m->provides, m->n_provides, m->optional[i]))
            return fail(c, "'optional[%zu]': capability '%s' is also in 'provides'", i,
                        m->optional[i]);
        if (find_string(m->requires, m->n_requires, m->optional[i]))
            return fail(c, "'optional[%zu]': capability '%s' is also in 'requires'", i,
                        m->optional[i]);
    }
    return 0;
}

static int parse_lists(parse_ctx *c, json_t *root)
{
    static const char cap[] = "a capability (name@major, e.g. chat.transport@1)";
    static const list_rule provides = {"provides", DG_MANIFEST_MAX_LIST, capability_valid, cap};
    static const list_rule requires = {"requires", DG_MANIFEST_MAX_LIST, capability_valid, cap};
    static const list_rule optional = {"optional", DG_MANIFEST_MAX_LIST, capability_valid, cap};
    static const list_rule platforms = {"platforms", PLATFORMS_MAX, platform_valid,
                                        "a platform (os-arch, e.g. linux-x86_64)"};
    dg_manifest *m = c->m;
    if (parse_string_list(c, root, &provides, &m->provides, &m->n_provides) != 0 ||
        parse_string_list(c, root, &requires, &m->requires, &m->n_requires) != 0 ||
        parse_string_list(c, root, &optional, &m->optional, &m->n_optional) != 0 ||
        check_cap_overlap(c) != 0)
        return -1;
    return parse_string_list(c, root, &platforms, &m->platforms, &m->n_platforms);
}

/* ---- dependencies ---- */

static int dep_id(parse_ctx *c, json_t *obj, const char *where, size_t i, const char **out)
{
    const dg_manifest *m = c->m;
    const char *id;
    if (string_member(c, obj, where, "id", 1, &id) != 0)
        return -1;
    if (!dg_plugin_id_valid(id))
        return fail(c, "'%s.id': '%s' is not a valid plugin id", where, show(id).s);
    if (strcmp(id, m->id) == 0)
        return fail(c, "'%s.id': a plugin cannot depend on itself", where);
    for (size_t j = 0; j < i; j++)
        if (strcmp(m->deps[j].id, id) == 0)
            return fail(c, "'%s.id': duplicate dependency '%s'", where, id);
    *out = id;
    return 0;
}

static int parse_dep(parse_ctx *c, json_t *obj, size_t i)
{
    static const char *const keys[] = {"id", "version", NULL};
    char where[JSON_PATH_MAX];
    path_index(where, "dependencies", i);
    if (!json_is_object(obj))
        return fail(c, "'%s' must be an object", where);
    const char *id = NULL, *range = NULL;
    if (check_keys(c, obj, where, keys) != 0 || dep_id(c, obj, where, i, &id) != 0 ||
        string_member(c, obj, where, "version", 1, &range) != 0)
        return -1;
    if (strlen(range) > DG_RANGE_MAX || dg_semver_range_valid(range) != 0)
        return fail(c, "'%s.version': '%s' is not a valid version range", where, show(range).s);
    dg_manifest_dep *d = &c->m->deps[i];
    if (copy_string(c, id, &d->id) != 0 || copy_string(c, range, &d->range) != 0)
        return -1;
    return 0;
}

static int parse_deps(parse_ctx *c, json_t *root)
{
    json_t *arr = json_object_get(root, "dependencies");
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return fail(c, "'dependencies' must be an array of objects");
    size_t size = json_array_size(arr);
    if (size > DG_MANIFEST_MAX_LIST)
        return fail(c, "'dependencies' has more than %d entries", DG_MANIFEST_MAX_LIST);
    c->m->deps = calloc(size ? size : 1, sizeof *c->m->deps);
    if (!c->m->deps)
        return fail_oom(c);
    for (size_t i = 0; i < size; i++) {
        /* Counted before filling: dg_manifest_free copes with half-filled entries. */
        c->m->n_deps = i + 1;
        if (parse_dep(c, json_array_get(arr, i), i) != 0)
            return -1;
    }
    return 0;
}

/* ---- load / network / premium: optional strict objects ---- */

static int parse_load(parse_ctx *c, json_t *root)
{
    static const char *const keys[] = {"default_enabled", "priority", NULL};
    dg_manifest *m = c->m;
    json_t *obj;
    if (object_member(c, root, "load", 0, keys, &obj) != 0)
        return -1;
    if (!obj)
        return 0;
    if (bool_member(c, obj, "load", "default_enabled", &m->default_enabled) != 0)
        return -1;
    return int_member(c, obj, "load", "priority", 0, INT_MIN, INT_MAX, &m->priority);
}

static int parse_network(parse_ctx *c, json_t *root)
{
    static const char *const keys[] = {"outside_lan", NULL};
    json_t *obj;
    if (object_member(c, root, "network", 0, keys, &obj) != 0)
        return -1;
    return obj ? bool_member(c, obj, "network", "outside_lan", &c->m->outside_lan) : 0;
}

static int parse_premium(parse_ctx *c, json_t *root)
{
    static const char *const keys[] = {"entitlement", NULL};
    json_t *obj;
    const char *s;
    if (object_member(c, root, "premium", 0, keys, &obj) != 0)
        return -1;
    if (!obj)
        return 0;
    if (string_member(c, obj, "premium", "entitlement", 1, &s) != 0)
        return -1;
    if (!dg_plugin_id_valid(s))
        return fail(c, "'premium.entitlement': '%s' is not a valid entitlement id", show(s).s);
    return copy_string(c, s, &c->m->premium_entitlement);
}

/* ---- config ---- */

/* The default as text, the way the config module stores values. */
static int config_default(parse_ctx *c, json_t *v, const char *where, const char *type, char **out)
{
    char buf[32];
    const char *text;
    if (strcmp(type, "string") == 0 && json_is_string(v)) {
        text = json_string_value(v);
    } else if (strcmp(type, "int") == 0 && json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        text = buf;
    } else if (strcmp(type, "bool") == 0 && json_is_boolean(v)) {
        text = json_is_true(v) ? "true" : "false";
    } else {
        static const char *const expected[] = {"a string", "an integer", "true or false"};
        int t = strcmp(type, "string") == 0 ? 0 : strcmp(type, "int") == 0 ? 1 : 2;
        return fail(c, "'%s.default' must be %s (type is '%s')", where, expected[t], type);
    }
    return copy_string(c, text, out);
}

static int parse_config_entry(parse_ctx *c, const char *key, json_t *obj, dg_manifest_config_key *k)
{
    static const char *const keys[] = {"type", "default", "live", "description", NULL};
    char where[JSON_PATH_MAX];
    path_key(where, "config", key);
    if (!json_is_object(obj))
        return fail(c, "'%s' must be an object", where);
    const char *type, *desc;
    json_t *dflt;
    if (check_keys(c, obj, where, keys) != 0 || string_member(c, obj, where, "type", 1, &type) != 0)
        return -1;
    if (strcmp(type, "string") != 0 && strcmp(type, "int") != 0 && strcmp(type, "bool") != 0)
        return fail(c, "'%s.type': '%s' is not one of string, int, bool", where, show(type).s);
    if (copy_string(c, key, &k->key) != 0 || copy_string(c, type, &k->type) != 0 ||
        member(c, obj, where, "default", 0, &dflt) != 0 ||
        (dflt && config_default(c, dflt, where, type, &k->default_value) != 0) ||
        bool_member(c, obj, where, "live", &k->live) != 0 ||
        string_member(c, obj, where, "description", 0, &desc) != 0)
        return -1;
    return copy_string(c, desc, &k->description);
}

static int parse_config(parse_ctx *c, json_t *root)
{
    json_t *obj = json_object_get(root, "config");
    if (!obj)
        return 0;
    if (!json_is_object(obj))
        return fail(c, "'config' must be an object");
    size_t size = json_object_size(obj);
    if (size > CONFIG_KEYS_MAX)
        return fail(c, "'config' has more than %d keys", CONFIG_KEYS_MAX);
    c->m->config = calloc(size ? size : 1, sizeof *c->m->config);
    if (!c->m->config)
        return fail_oom(c);
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        if (!config_key_valid(key))
            return fail(c,
                        "'config': '%s' is not a valid config key (dotted [A-Za-z0-9_-] segments)",
                        show(key).s);
        /* A plugin declares only its own keys: otherwise a manifest that is never even
         * loaded could take over another plugin's keys (plugins.<id>.enabled included). */
        size_t idlen = strlen(c->m->id);
        if (strncmp(key, c->m->id, idlen) != 0 || key[idlen] != '.')
            return fail(c, "'config': '%s' must start with the plugin id ('%s.')", show(key).s,
                        c->m->id);
        dg_manifest_config_key *k = &c->m->config[c->m->n_config++];
        if (parse_config_entry(c, key, value, k) != 0)
            return -1;
    }
    return 0;
}

/* ---- top level ---- */

static int parse_root(parse_ctx *c, json_t *root)
{
    static const char *const keys[] = {
        "manifest_version", "id",       "name",         "version",   "description",
        "publisher",        "api",      "library",      "entry",     "provides",
        "requires",         "optional", "dependencies", "platforms", "load",
        "network",          "premium",  "config",       NULL};
    if (!json_is_object(root))
        return fail(c, "the top level must be an object");
    /* The version first: a newer format's new keys should not be reported as typos. */
    if (parse_manifest_version(c, root) != 0 || check_keys(c, root, "", keys) != 0 ||
        parse_identity(c, root) != 0 || parse_api(c, root) != 0 || parse_binary(c, root) != 0 ||
        parse_lists(c, root) != 0 || parse_deps(c, root) != 0 || parse_load(c, root) != 0 ||
        parse_network(c, root) != 0 || parse_premium(c, root) != 0)
        return -1;
    return parse_config(c, root);
}

/* path, dir ("." for a bare file name) and dir + "/" + library. */
static int set_paths(parse_ctx *c, const char *path)
{
    dg_manifest *m = c->m;
    if (!path)
        return 0;
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 0;
    m->path = strdup(path);
    m->dir = slash ? strndup(path, dirlen) : strdup(".");
    if (!m->path || !m->dir)
        return fail_oom(c);
    const char *sep = m->dir[strlen(m->dir) - 1] == '/' ? "" : "/";
    size_t n = strlen(m->dir) + strlen(sep) + strlen(m->library) + 1;
    m->library_path = malloc(n);
    if (!m->library_path)
        return fail_oom(c);
    snprintf(m->library_path, n, "%s%s%s", m->dir, sep, m->library);
    return 0;
}

int dg_manifest_parse(const char *json, size_t len, const char *path, dg_manifest **out, char *err,
                      size_t errlen)
{
    parse_ctx c = {path ? path : "plugin.json", err, errlen, NULL};
    if (err && errlen)
        err[0] = '\0';
    if (out)
        *out = NULL;
    if (!json || !out)
        return fail(&c, "invalid arguments");
    if (len > DG_MANIFEST_MAX_BYTES)
        return fail(&c, "file is larger than %d bytes", DG_MANIFEST_MAX_BYTES);
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return fail_json(&c, &je);
    c.m = calloc(1, sizeof *c.m);
    if (!c.m) {
        json_decref(root);
        return fail_oom(&c);
    }
    c.m->default_enabled = 1;
    int rc = parse_root(&c, root);
    json_decref(root);
    if (rc == 0)
        rc = set_paths(&c, path);
    if (rc != 0) {
        dg_manifest_free(c.m);
        return -1;
    }
    *out = c.m;
    return 0;
}

/* ---- loading ---- */

/* realpath() of the directory + "/" + the file name: absolute, without symlinked dirs. */
static char *absolute_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        errno = EISDIR;
        return NULL;
    }
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    char *real = dir ? realpath(dir, NULL) : NULL;
    free(dir);
    if (!real)
        return NULL;
    size_t n = strlen(real) + strlen(base) + 2;
    char *abs = malloc(n);
    if (abs)
        snprintf(abs, n, "%s%s%s", real, strcmp(real, "/") == 0 ? "" : "/", base);
    free(real);
    return abs;
}

/* Reads at most DG_MANIFEST_MAX_BYTES (+1 to detect more). 0, or -1 with errno / EFBIG. */
static int read_limited(int fd, char *buf, size_t *len)
{
    size_t got = 0;
    while (got <= DG_MANIFEST_MAX_BYTES) {
        ssize_t r = read(fd, buf + got, DG_MANIFEST_MAX_BYTES + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got > DG_MANIFEST_MAX_BYTES) {
        errno = EFBIG;
        return -1;
    }
    *len = got;
    return 0;
}

/* Checks the opened file and reads it whole into a new buffer. */
static int read_opened(parse_ctx *c, int fd, char **out, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fail(c, "cannot stat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(c, "not a regular file");
    if (st.st_size > DG_MANIFEST_MAX_BYTES)
        return fail(c, "file is larger than %d bytes", DG_MANIFEST_MAX_BYTES);
    char *buf = malloc(DG_MANIFEST_MAX_BYTES + 1);
    if (!buf)
        return fail_oom(c);
    if (read_limited(fd, buf, len) != 0) {
        int e = errno;
        free(buf);
        if (e == EFBIG) /* it grew after fstat */
            return fail(c, "file is larger than %d bytes", DG_MANIFEST_MAX_BYTES);
        return fail(c, "cannot read: %s", strerror(e));
    }
    *out = buf;
    return 0;
}

static int read_manifest_file(parse_ctx *c, const char *abs, char **out, size_t *len)
{
    /* O_NONBLOCK: a FIFO planted as plugin.json must not hang discovery. */
    int fd = open(abs, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return fail(c, "cannot open: %s", strerror(errno));
    int rc = read_opened(c, fd, out, len);
    close(fd);
    return rc;
}

int dg_manifest_load(const char *path, dg_manifest **out, char *err, size_t errlen)
{
    parse_ctx c = {path ? path : "plugin.json", err, errlen, NULL};
    if (err && errlen)
        err[0] = '\0';
    if (out)
        *out = NULL;
    if (!path || !out)
        return fail(&c, "invalid arguments");
    char *abs = absolute_path(path);
    if (!abs)
        return fail(&c, "cannot resolve its directory: %s", strerror(errno));
    c.file = abs;
    char *buf = NULL;
    size_t len = 0;
    int rc = read_manifest_file(&c, abs, &buf, &len);
    if (rc == 0)
        rc = dg_manifest_parse(buf, len, abs, out, err, errlen);
    free(buf);
    free(abs);
    return rc;
}

/* ---- freeing ---- */

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void dg_manifest_free(dg_manifest *m)
{
    if (!m)
        return;
    free(m->path);
    free(m->dir);
    free(m->id);
    free(m->name);
    free(m->version);
    free(m->description);
    free(m->publisher);
    free(m->library);
    free(m->library_path);
    free(m->entry);
    free(m->premium_entitlement);
    free_strings(m->provides, m->n_provides);
    free_strings(m->requires, m->n_requires);
    free_strings(m->optional, m->n_optional);
    free_strings(m->platforms, m->n_platforms);
    for (size_t i = 0; i < m->n_deps; i++) {
        free(m->deps[i].id);
        free(m->deps[i].range);
    }
    free(m->deps);
    for (size_t i = 0; i < m->n_config; i++) {
        free(m->config[i].key);
        free(m->config[i].type);
        free(m->config[i].default_value);
        free(m->config[i].description);
    }
    free(m->config);
    free(m);
}
