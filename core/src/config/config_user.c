/*
 * "config set": edits the user file the way a person would. Lines that set the
 * key get their value replaced in place (comments, order, blank lines and CRLF
 * endings stay), otherwise "key = value" goes into the flat area above the
 * first [section]. libinih tells us which lines set the key (our reader counts
 * physical lines), so no second INI parser exists here. The result is parsed
 * again before it is written: if it does not read back as exactly the value
 * requested, nothing is written.
 */
#include "config/config_internal.h"

#include "util/fs.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#define USER_FILE_HEADER                                                                           \
    "# dengon user configuration. \"dengon config set\" changes single lines and keeps\n"          \
    "# everything else (comments, order), so editing by hand is fine.\n"

typedef struct hit {
    int line;
    char *value; /* as parsed, to find it again in the raw line */
} hit;

typedef struct scan {
    const char *key;
    hit *hits;
    size_t n, cap;
} scan;

typedef struct sbuf {
    char *data;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
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

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static int scan_pair(void *user, const char *key, const char *value, int line)
{
    scan *sc = user;
    if (strcmp(key, sc->key) != 0)
        return 0;
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 4;
        hit *grown = realloc(sc->hits, cap * sizeof *grown);
        if (!grown)
            return -1;
        sc->hits = grown;
        sc->cap = cap;
    }
    char *copy = strdup(value);
    if (!copy)
        return -1;
    sc->hits[sc->n++] = (hit){line, copy};
    return 0;
}

static void scan_free(scan *sc)
{
    for (size_t i = 0; i < sc->n; i++)
        free(sc->hits[i].value);
    free(sc->hits);
}

static const hit *find_hit(const scan *sc, int line)
{
    for (size_t i = 0; i < sc->n; i++)
        if (sc->hits[i].line == line)
            return &sc->hits[i];
    return NULL;
}

/* ---- line geometry ---- */

typedef struct line_ref {
    const char *start;
    size_t len; /* without the '\n' */
    int has_nl;
} line_ref;

/* Line number n (1-based) of text, or start == NULL past the end. */
static line_ref nth_line(const char *text, size_t len, int n)
{
    const char *p = text, *end = text + len;
    for (int i = 1; i < n && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    if (p >= end)
        return (line_ref){NULL, 0, 0};
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return (line_ref){p, (size_t)((nl ? nl : end) - p), nl != NULL};
}

static const char *first_nonblank(line_ref l)
{
    for (size_t i = 0; i < l.len; i++)
        if (!isspace((unsigned char)l.start[i]))
            return l.start + i;
    return NULL;
}

static int is_comment(line_ref l)
{
    const char *c = l.start ? first_nonblank(l) : NULL;
    return c && (*c == ';' || *c == '#');
}

/*
 * Line before which a new flat key goes, 0 = append at the end. After the
 * last flat key if there is one; else above the first [section] and above the
 * comment block that describes it (unless that block is the file's header).
 */
static int insertion_line(const char *text, size_t len, const dg_ini_shape *shape, int *spacer)
{
    *spacer = 0;
    if (shape->last_flat_line)
        return nth_line(text, len, shape->last_flat_line + 1).start ? shape->last_flat_line + 1 : 0;
    if (!shape->first_section_line)
        return 0;
    int at = shape->first_section_line;
    while (at > 1 && is_comment(nth_line(text, len, at - 1)))
        at--;
    if (at == 1)
        at = shape->first_section_line;
    *spacer = 1; /* keep a blank line between the flat area and what follows */
    return at;
}

/* ---- rewriting ---- */

static void emit_assignment(sbuf *out, const char *key, const char *value)
{
    sb_str(out, key);
    sb_str(out, " = ");
    sb_str(out, value);
    sb_str(out, "\n");
}

/* Replaces old with value in a raw "name = old ; comment" line, keeping the rest. */
static void replace_value(sbuf *out, line_ref l, const char *old, const char *value)
{
    const char *end = l.start + l.len, *sep = l.start;
    while (sep < end && *sep != '=' && *sep != ':')
        sep++;
    size_t olen = strlen(old);
    const char *p = sep < end ? sep + 1 : end;
    /* An empty value sits right after the separator ("a =", "a =  ; note"). */
    while (olen && p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (sep < end && (size_t)(end - p) >= olen && memcmp(p, old, olen) == 0) {
        sb_add(out, l.start, (size_t)(p - l.start));
        if (!olen && sep > l.start && sep[-1] == ' ')
            sb_str(out, " "); /* "nickname =" becomes "nickname = Bob" */
        sb_str(out, value);
        if (p + olen < end && p[olen] == ';')
            sb_str(out, " "); /* keep "; note" a comment, not part of the value */
        sb_add(out, p + olen, (size_t)(end - p - olen));
    } else { /* not where libinih said: rewrite the whole assignment */
        const char *name_end = sep;
        while (name_end > l.start && isspace((unsigned char)name_end[-1]))
            name_end--;
        sb_add(out, l.start, (size_t)(name_end - l.start));
        sb_str(out, " = ");
        sb_str(out, value);
        if (l.len && end[-1] == '\r')
            sb_str(out, "\r");
    }
    if (l.has_nl)
        sb_str(out, "\n");
}

static void rewrite(sbuf *out, const char *text, size_t len, const scan *sc,
                    const dg_ini_shape *shape, const char *key, const char *value)
{
    int spacer = 0;
    int insert_at = (value && sc->n == 0) ? insertion_line(text, len, shape, &spacer) : 0;
    line_ref l;
    for (int n = 1; (l = nth_line(text, len, n)).start; n++) {
        if (n == insert_at) {
            emit_assignment(out, key, value);
            if (spacer && first_nonblank(l))
                sb_str(out, "\n");
        }
        const hit *h = find_hit(sc, n);
        if (h && value)
            replace_value(out, l, h->value, value);
        else if (!h) /* a hit without value is "unset": the line goes */
            sb_add(out, l.start, l.len + (size_t)l.has_nl);
    }
    if (value && sc->n == 0 && insert_at == 0) {
        if (out->len && out->data[out->len - 1] != '\n')
            sb_str(out, "\n");
        emit_assignment(out, key, value);
    }
}

/* ---- validation and I/O ---- */

static int validate_set(const dg_config *cfg, const char *key, const char *value, char **err)
{
    if (!dg_config_key_valid(key)) {
        char *shown = dg_cfg_quote(key, 60);
        int rc = dg_cfg_fail(err, DG_EINVAL, "invalid key '%s'", shown ? shown : "");
        free(shown);
        return rc;
    }
    const json_t *decl = dg_cfg_decl(cfg, key);
    if (!value)
        return DG_OK; /* unset: also for unknown and locked keys, to clean up */
    if (!decl)
        return dg_cfg_fail(err, DG_ENOENT, "unknown key %s (no plugin or core declares it)", key);
    const char *problem = dg_cfg_value_problem(value);
    if (problem)
        return dg_cfg_fail(err, DG_EINVAL, "%s: value %s", key, problem);
    if (!dg_cfg_fits_type(dg_cfg_decl_type(decl), value))
        return dg_cfg_fail_owned(err, DG_EINVAL,
                                 dg_cfg_type_error(key, dg_cfg_decl_type(decl), value));
    if (dg_config_is_locked(cfg, key))
        return dg_cfg_fail(err, DG_EDENIED, "%s is locked by %s", key, cfg->policy_label);
    return DG_OK;
}

/* Reads the user file; a missing one reads as NULL (created on write). */
static int read_user_file(const char *path, char **text, size_t *len, char **err)
{
    int rc = dg_read_file(path, DG_CONFIG_FILE_MAX, text, len);
    if (rc == -ENOENT) {
        *text = NULL;
        *len = 0;
        return DG_OK;
    }
    if (rc != 0)
        return dg_cfg_fail(err, DG_ERR, "%s: %s", path,
                           rc == -EFBIG ? "file too large" : strerror(-rc));
    return DG_OK;
}

static int write_user_file(const char *path, const sbuf *out, char **err)
{
    char *dir_copy = strdup(path);
    if (!dir_copy)
        return dg_cfg_fail(err, DG_ENOMEM, "out of memory");
    int rc = dg_mkdir_p(dirname(dir_copy), 0700);
    free(dir_copy);
    if (rc == 0)
        rc = dg_write_file_atomic(path, out->data ? out->data : "", out->len, 0600);
    if (rc != 0)
        return dg_cfg_fail(err, DG_ERR, "cannot write %s: %s", path, strerror(-rc));
    return DG_OK;
}

static int reads_back(const json_t *map, const char *key, const char *value)
{
    const char *got = json_string_value(json_object_get(map, key));
    return value ? got && strcmp(got, value) == 0 : got == NULL;
}

/* Builds the new text into out; checks it reads back as intended; *map = its content. */
static int build_new_text(const char *path, const char *text, size_t len, const char *key,
                          const char *value, sbuf *out, json_t **map, char **err)
{
    scan sc = {.key = key};
    dg_ini_shape shape = {0};
    char *why = NULL;
    int rc = dg_ini_parse(text ? text : "", len, path, scan_pair, &sc, &shape, &why);
    if (rc != DG_OK) {
        rc = dg_cfg_fail(err, rc, "%s; fix the file and retry", why ? why : path);
    } else if (!value && sc.n == 0) {
        rc = DG_ENOENT; /* nothing to unset */
    } else {
        if (!text)
            sb_str(out, USER_FILE_HEADER);
        /* A BOM must stay first, even when a line is inserted above line 1. */
        size_t bom = (text && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
        sb_add(out, text, bom);
        rewrite(out, text ? text + bom : "", len - bom, &sc, &shape, key, value);
        rc = out->oom ? dg_cfg_fail(err, DG_ENOMEM, "out of memory") : DG_OK;
    }
    free(why);
    scan_free(&sc);
    if (rc != DG_OK)
        return rc;
    if (out->len > DG_CONFIG_FILE_MAX)
        return dg_cfg_fail(err, DG_EINVAL, "%s would exceed %d bytes", path, DG_CONFIG_FILE_MAX);
    rc = dg_ini_parse_map(out->data, out->len, path, map, err);
    if (rc == DG_OK && !reads_back(*map, key, value)) {
        json_decref(*map);
        *map = NULL;
        rc = dg_cfg_fail(err, DG_EINVAL,
                         "%s: this value cannot be stored in an INI file unchanged "
                         "(blanks at either end, or ' ;' which starts a comment)",
                         key);
    }
    return rc;
}

int dg_config_user_set(dg_config *cfg, const char *user_file, const char *key, const char *value,
                       char **err)
{
    if (!cfg || !user_file || !key)
        return dg_cfg_fail(err, DG_EINVAL, "invalid arguments");
    int rc = validate_set(cfg, key, value, err);
    char *text = NULL;
    size_t len = 0;
    if (rc == DG_OK)
        rc = read_user_file(user_file, &text, &len, err);
    if (rc != DG_OK)
        return rc;
    sbuf out = {0};
    json_t *map = NULL;
    rc = build_new_text(user_file, text, len, key, value, &out, &map, err);
    free(text);
    if (rc == DG_OK)
        rc = write_user_file(user_file, &out, err);
    free(out.data);
    if (rc == DG_ENOENT && !value)
        rc = DG_OK; /* unsetting what the file does not set changes nothing */
    else if (rc == DG_OK)
        rc = dg_cfg_replace_layer(cfg, DG_LAYER_USER, map);
    else
        json_decref(map);
    if (rc != DG_OK)
        return rc;
    return !dg_cfg_decl(cfg, key) || dg_config_is_live(cfg, key) ? DG_OK : DG_ERESTART;
}
