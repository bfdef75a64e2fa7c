/*
 * INI front end: libinih does the parsing; this file feeds it lines and checks
 * what it reports. Facts about libinih 55 as built by Debian 12 that shape it:
 *
 *  - Lines longer than the line buffer (ini_max_line, 200 by default) are split
 *    and the tail is parsed as a line of its own, so "k=<199 bytes>x=y" would
 *    silently set "x". We pass lines through our own reader, which reports a
 *    too-long line as an error, and raise ini_max_line (a runtime variable in
 *    Debian's build; the buffer is a VLA of that size) to fit DG_CONFIG_LINE_MAX.
 *  - An indented line after "key = v" is taken as a continuation of key
 *    (multi-line values), so "  b = 2" would set key to "b = 2". The reader
 *    strips leading blanks, which turns that off without touching the global
 *    ini_allow_multiline (indentation is then only cosmetic).
 *  - Section names are cut to 49 bytes and text after "]" is ignored; the
 *    reader checks section headers so neither happens silently.
 *  - Inline comments start at ';' preceded by a blank ("a = b ; note");
 *    "a = b;c" keeps "b;c". '#' starts a comment only at the start of a line.
 *    Quotes are kept as part of the value. "key: value" is accepted too.
 *  - The handler gets no line number (INI_HANDLER_LINENO is 0 in the header);
 *    our reader counts physical lines instead, which is exact because libinih
 *    calls the handler for a line before it reads the next one.
 */
#include "config/config_internal.h"

#include <ctype.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct ini_run {
    const char *pos;
    const char *end;
    const char *origin;
    int line;      /* physical line last handed to libinih */
    int err_line;  /* first problem found by the reader or handler, 0 = none */
    char *err_msg; /* "why" for err_line */
    int oom;
    dg_ini_visit_fn visit;
    void *user;
    dg_ini_shape shape;
} ini_run;

char *dg_cfg_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        out = NULL;
    va_end(ap);
    return out;
}

int dg_cfg_fail_owned(char **err, int status, char *msg)
{
    if (!err) {
        free(msg);
        return status;
    }
    *err = msg; /* an out-parameter: whatever it held is not ours to free */
    return status;
}

int dg_cfg_fail(char **err, int status, const char *fmt, ...)
{
    if (!err)
        return status;
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        out = NULL;
    va_end(ap);
    return dg_cfg_fail_owned(err, status, out);
}

char *dg_cfg_quote(const char *text, size_t max)
{
    size_t n = strnlen(text, max);
    char *out = malloc(n + 4);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    strcpy(out + n, text[n] ? "..." : "");
    return out;
}

/* ---- keys and values ---- */

static int key_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Segments of key_char joined by single dots, within len bytes. */
static int path_valid(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    size_t seg = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (seg == 0)
                return 0;
            seg = 0;
        } else if (key_char((unsigned char)s[i])) {
            seg++;
        } else {
            return 0;
        }
    }
    return seg > 0;
}

int dg_config_key_valid(const char *key)
{
    if (!key)
        return 0;
    size_t len = strnlen(key, DG_CONFIG_KEY_MAX + 1);
    return len <= DG_CONFIG_KEY_MAX && path_valid(key, len);
}

/* Length of the UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates), 0 if bad. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

const char *dg_cfg_value_problem(const char *value)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t total = 0;
    while (*s) {
        /* Control characters would corrupt logs, terminals and the INI file itself. */
        if ((*s < 0x20 && *s != '\t') || *s == 0x7f)
            return "contains a control character";
        size_t n = utf8_seq(s);
        if (n == 0)
            return "is not valid UTF-8";
        s += n;
        total += n;
        if (total > DG_CONFIG_VALUE_MAX)
            return "is longer than 4096 bytes";
    }
    return NULL;
}

const char *dg_config_type_name(dg_config_type type)
{
    switch (type) {
    case DG_CONF_INT:
        return "int";
    case DG_CONF_BOOL:
        return "bool";
    case DG_CONF_STRING:
        break;
    }
    return "string";
}

int dg_config_parse_int(const char *text, int64_t *out)
{
    if (!text)
        return -1;
    const char *p = text;
    int neg = 0;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (*p < '0' || *p > '9')
        return -1;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t mag = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        mag = mag * 10 + (uint64_t)(*p - '0');
        if (mag > limit)
            return -1; /* checked per digit, so mag * 10 above cannot wrap */
    }
    unsigned shift = 0;
    switch (*p) {
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    default:
        break;
    }
    if (shift)
        p++;
    if (*p != '\0' || mag > (limit >> shift))
        return -1;
    mag <<= shift;
    if (out)
        *out = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
    return 0;
}

int dg_config_parse_bool(const char *text, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    if (!text)
        return -1;
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0 || strcasecmp(text, no[i]) == 0) {
            if (out)
                *out = strcasecmp(text, yes[i]) == 0;
            return 0;
        }
    }
    return -1;
}

int dg_cfg_fits_type(dg_config_type type, const char *value)
{
    switch (type) {
    case DG_CONF_INT:
        return dg_config_parse_int(value, NULL) == 0;
    case DG_CONF_BOOL:
        return dg_config_parse_bool(value, NULL) == 0;
    case DG_CONF_STRING:
        break;
    }
    return 1;
}

char *dg_cfg_type_error(const char *key, dg_config_type type, const char *value)
{
    const char *expect = type == DG_CONF_INT ? "an integer (like 10, -3 or 64k)"
                                             : "a boolean (true/false, yes/no, on/off, 1/0)";
    char *shown = dg_cfg_quote(value, 60);
    char *msg = dg_cfg_fmt("%s: expected %s, got '%s'", key, expect, shown ? shown : "");
    free(shown);
    return msg;
}

/* ---- the reader and handler given to libinih ---- */

/* Keeps the first problem only: it is the one the user should fix first. */
static void note_error(ini_run *run, const char *fmt, ...) DG_PRINTF(2, 3);
static void note_error(ini_run *run, const char *fmt, ...)
{
    if (run->err_line)
        return;
    run->err_line = run->line;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&run->err_msg, fmt, ap) < 0) {
        run->err_msg = NULL;
        run->oom = 1;
    }
    va_end(ap);
}

/* line starts with '['. libinih would cut long names and ignore trailing text. */
static void check_section(ini_run *run, const char *line)
{
    const char *close = strchr(line, ']');
    if (!close)
        return; /* libinih reports the missing ']' as a syntax error */
    size_t n = (size_t)(close - line - 1);
    if (n > DG_CONFIG_SECTION_MAX || !path_valid(line + 1, n)) {
        char *shown = dg_cfg_quote(line, 60);
        note_error(run,
                   "invalid section header '%s' (a dotted name of A-Z a-z 0-9 _ -, "
                   "at most %d bytes)",
                   shown ? shown : "", DG_CONFIG_SECTION_MAX);
        free(shown);
        return;
    }
    const char *rest = close + 1;
    while (isspace((unsigned char)*rest))
        rest++;
    if (*rest && *rest != ';' && *rest != '#')
        note_error(run, "unexpected text after section header ']'");
    if (!run->shape.first_section_line)
        run->shape.first_section_line = run->line;
}

static char *feed_line(char *buf, int size, void *stream)
{
    ini_run *run = stream;
    if (run->pos >= run->end || size < 2)
        return NULL;
    const char *start = run->pos;
    const char *nl = memchr(start, '\n', (size_t)(run->end - start));
    size_t len = (size_t)((nl ? nl : run->end) - start);
    run->pos = nl ? nl + 1 : run->end;
    run->line++;
    buf[0] = '\0';
    if (memchr(start, '\0', len)) {
        note_error(run, "NUL byte in line");
        return buf;
    }
    if (len > (size_t)size - 1) {
        note_error(run, "line longer than %d bytes", size - 1);
        return buf;
    }
    /* Keep a UTF-8 BOM on line 1 in front: libinih only recognises it at offset 0. */
    size_t bom = (run->line == 1 && len >= 3 && memcmp(start, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
    size_t skip = bom;
    while (skip < len && isspace((unsigned char)start[skip]))
        skip++;
    /* A BOM after leading blanks is not a BOM (the rewrite in "config set" may
     * push the line down): keep one blank so libinih does not take it for one. */
    if (!bom && run->line == 1 && skip > 0 && len - skip >= 3 &&
        memcmp(start + skip, "\xEF\xBB\xBF", 3) == 0)
        skip--;
    memcpy(buf, start, bom);
    memcpy(buf + bom, start + skip, len - skip);
    buf[bom + len - skip] = '\0';
    if (buf[bom] == '[')
        check_section(run, buf + bom);
    return buf;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    ini_run *run = user;
    if (run->err_line || run->oom)
        return 1; /* nothing will be applied: skip the work, keep memory bounded */
    char key[DG_CONFIG_KEY_MAX + 2];
    int n = *section ? snprintf(key, sizeof key, "%s.%s", section, name)
                     : snprintf(key, sizeof key, "%s", name);
    if (n < 0 || !dg_config_key_valid(key) || (size_t)n >= sizeof key) {
        char *shown = dg_cfg_quote(name, 60);
        note_error(run, "invalid key '%s%s%s' (dotted names of A-Z a-z 0-9 _ -, at most %d bytes)",
                   section, *section ? "." : "", shown ? shown : "", DG_CONFIG_KEY_MAX);
        free(shown);
        return 0;
    }
    const char *problem = dg_cfg_value_problem(value);
    if (problem) {
        note_error(run, "%s: value %s", key, problem);
        return 0;
    }
    if (!*section)
        run->shape.last_flat_line = run->line;
    if (run->visit(run->user, key, value, run->line) != 0) {
        run->oom = 1;
        return 0;
    }
    return 1;
}

/* Once, and only upwards: other users of libinih in the process keep working. */
static void widen_line_buffer(void)
{
#ifdef DG_INIH_RUNTIME_OPTIONS
    if (ini_max_line < DG_CONFIG_LINE_MAX + 1)
        ini_max_line = DG_CONFIG_LINE_MAX + 1;
#endif
}

int dg_ini_parse(const char *text, size_t len, const char *origin, dg_ini_visit_fn visit,
                 void *user, dg_ini_shape *shape, char **err)
{
    ini_run run = {.pos = text, .end = text + len, .origin = origin, .visit = visit, .user = user};
    widen_line_buffer();
    int rc = ini_parse_stream(feed_line, &run, on_pair, &run);
    int status = DG_OK;
    if (run.oom || rc == -2) {
        status = dg_cfg_fail(err, DG_ENOMEM, "%s: out of memory", origin);
    } else if (rc > 0 && (!run.err_line || rc < run.err_line)) {
        status = dg_cfg_fail(err, DG_EINVAL,
                             "%s:%d: syntax error (expected 'key = value', '[section]' or a "
                             "comment starting with ';' or '#')",
                             origin, rc);
    } else if (run.err_line) {
        status = dg_cfg_fail(err, DG_EINVAL, "%s:%d: %s", origin, run.err_line, run.err_msg);
    } else if (rc < 0) {
        status = dg_cfg_fail(err, DG_ERR, "%s: cannot parse", origin);
    }
    free(run.err_msg);
    if (shape)
        *shape = run.shape;
    return status;
}

static int collect_pair(void *user, const char *key, const char *value, int line)
{
    (void)line;
    return json_object_set_new(user, key, json_string(value));
}

int dg_ini_parse_map(const char *text, size_t len, const char *origin, json_t **out, char **err)
{
    json_t *map = json_object();
    if (!map)
        return dg_cfg_fail(err, DG_ENOMEM, "out of memory");
    int rc = dg_ini_parse(text, len, origin, collect_pair, map, NULL, err);
    if (rc != DG_OK) {
        json_decref(map);
        map = NULL;
    }
    *out = map;
    return rc;
}
