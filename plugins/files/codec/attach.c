/* FILEATTACHOPT attach list parser and formatter (attach.h, §5.1). */
#include "attach.h"

#include <stdlib.h>
#include <string.h>

#include "ipmsg_proto.h"

#define SEP IPMSG_FILELIST_SEPARATOR

bool dg_attach_is_inline_image(const dg_attach_entry *e)
{
    return dg_attach_type(e) == IPMSG_FILE_CLIPBOARD;
}

bool dg_attach_is_fetchable(const dg_attach_entry *e)
{
    uint32_t t = dg_attach_type(e);
    return t == IPMSG_FILE_REGULAR || t == IPMSG_FILE_DIR;
}

bool dg_attach_clip_pos(const dg_attach_entry *e, uint64_t *pos)
{
    return dg_extattr_find(e->ext, e->n_ext, IPMSG_FILE_CLIPBOARDPOS, pos);
}

void dg_attach_list_free(dg_attach_list *list)
{
    if (!list)
        return;
    free(list->entries);
    free(list->names);
    memset(list, 0, sizeof(*list));
}

typedef struct parser {
    const char *base;
    const char *p;
    const char *end;
    ipmsg_error *err;
} parser;

static size_t at(const parser *ps)
{
    return (size_t)(ps->p - ps->base);
}

/* A number field that must be followed by ':' (fileID, size, mtime). */
static int number_colon(parser *ps, int base, uint64_t max, uint64_t *v, const char *truncated)
{
    size_t n = dg_wf_span(ps->p, ps->end, ":\a");
    if (ps->p + n == ps->end || ps->p[n] != ':')
        return ipmsg_fail(ps->err, IPMSG_E_SYNTAX, truncated, at(ps) + n);
    int rc = dg_wf_number(ps->p, n, base, max, v, at(ps), ps->err);
    if (rc == IPMSG_OK)
        ps->p += n + 1;
    return rc;
}

static int parse_name(parser *ps, dg_attach_entry *e, char *store, size_t max_name)
{
    size_t ulen;
    size_t elen = dg_wf_name_scan(ps->p, ps->end, &ulen);
    if (elen == (size_t)-1)
        return ipmsg_fail(ps->err, IPMSG_E_SYNTAX, "attach entry ends inside the file name",
                          at(ps));
    if (elen == 0)
        return ipmsg_fail(ps->err, IPMSG_E_SYNTAX, "empty file name in attach entry", at(ps));
    if (ulen > max_name)
        return ipmsg_fail(ps->err, IPMSG_E_TOOBIG, "file name in attach entry too long", at(ps));
    for (size_t i = 0; i < elen; i++)
        if (ps->p[i] == '\0' || ps->p[i] == SEP)
            return ipmsg_fail(ps->err, IPMSG_E_SYNTAX, "NUL or '\\a' inside a file name",
                              at(ps) + i);
    dg_wf_name_unescape(ps->p, elen, store);
    store[ulen] = '\0';
    e->name = store;
    e->name_len = ulen;
    ps->p += elen + 1;
    return IPMSG_OK;
}

/* attr, then ":ext" fields up to '\a' or the end of the list. */
static int parse_tail(parser *ps, dg_attach_entry *e)
{
    size_t n = dg_wf_span(ps->p, ps->end, ":\a");
    uint64_t v;
    int rc = dg_wf_number(ps->p, n, 16, UINT32_MAX, &v, at(ps), ps->err);
    if (rc != IPMSG_OK)
        return rc;
    e->attr = (uint32_t)v;
    ps->p += n;
    while (ps->p < ps->end && *ps->p == ':') {
        ps->p++;
        n = dg_wf_span(ps->p, ps->end, ":\a");
        if (n == 0)
            continue; /* "::" or the ':' before '\a' */
        if (e->n_ext == DG_EXTATTR_MAX)
            return ipmsg_fail(ps->err, IPMSG_E_RANGE, "too many extended attributes in entry",
                              at(ps));
        rc = dg_extattr_parse(ps->p, n, &e->ext[e->n_ext], at(ps), ps->err);
        if (rc != IPMSG_OK)
            return rc;
        e->n_ext++;
        ps->p += n;
    }
    if (ps->p < ps->end)
        ps->p++; /* '\a' (the loop above stops only there or at the end) */
    return IPMSG_OK;
}

static void skip_separators(parser *ps)
{
    /* iptux writes ":" after '\a'; some clients leave extra separators at
     * the end. A fileID never starts with either. */
    while (ps->p < ps->end && (*ps->p == SEP || *ps->p == ':'))
        ps->p++;
}

int dg_attach_parse(const char *data, size_t len, const dg_attach_limits *lim, dg_attach_list *out,
                    ipmsg_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!data && len)
        return ipmsg_fail(err, IPMSG_E_INVAL, "no attach list", 0);
    size_t max_entries = lim && lim->max_entries ? lim->max_entries : DG_ATTACH_DEFAULT_MAX_ENTRIES;
    size_t max_name = lim && lim->max_name ? lim->max_name : DG_ATTACH_DEFAULT_MAX_NAME;
    parser ps = {data, data, data + len, err};
    skip_separators(&ps);
    if (ps.p == ps.end)
        return IPMSG_OK;

    /* Every unescaped name is no longer than its wire form, plus one NUL per
     * entry, and an entry takes at least 2 bytes of input: 2 * len + 1
     * bytes hold all names. */
    char *names = malloc(2 * len + 1);
    if (!names)
        return ipmsg_fail(err, IPMSG_E_NOMEM, "out of memory", 0);
    size_t cap = 8, used = 0;
    dg_attach_entry *entries = malloc(cap * sizeof(*entries));
    if (!entries) {
        free(names);
        return ipmsg_fail(err, IPMSG_E_NOMEM, "out of memory", 0);
    }
    char *store = names;
    int rc = IPMSG_OK;
    while (ps.p < ps.end) {
        if (used == max_entries) {
            rc = ipmsg_fail(err, IPMSG_E_TOOBIG, "too many entries in attach list", at(&ps));
            break;
        }
        if (used == cap) {
            dg_attach_entry *grown = realloc(entries, 2 * cap * sizeof(*entries));
            if (!grown) {
                rc = ipmsg_fail(err, IPMSG_E_NOMEM, "out of memory", 0);
                break;
            }
            entries = grown;
            cap *= 2;
        }
        dg_attach_entry *e = &entries[used];
        memset(e, 0, sizeof(*e));
        uint64_t v;
        rc = number_colon(&ps, 10, UINT32_MAX, &v, "attach entry ends after the file ID");
        if (rc != IPMSG_OK)
            break;
        e->file_id = (uint32_t)v;
        rc = parse_name(&ps, e, store, max_name);
        if (rc != IPMSG_OK)
            break;
        store += e->name_len + 1;
        rc = number_colon(&ps, 16, UINT64_MAX, &e->size, "attach entry ends after the size");
        if (rc != IPMSG_OK)
            break;
        rc = number_colon(&ps, 16, UINT64_MAX, &e->mtime, "attach entry ends after the mtime");
        if (rc != IPMSG_OK)
            break;
        rc = parse_tail(&ps, e);
        if (rc != IPMSG_OK)
            break;
        used++;
        skip_separators(&ps);
    }
    if (rc != IPMSG_OK) {
        free(entries);
        free(names);
        return rc;
    }
    out->entries = entries;
    out->count = used;
    out->names = names;
    return IPMSG_OK;
}

static int check_entry(const dg_attach_entry *e, size_t i, ipmsg_error *err)
{
    if (!e->name || e->name_len == 0)
        return ipmsg_fail(err, IPMSG_E_INVAL, "attach entry without a name", i);
    if (memchr(e->name, '\0', e->name_len) || memchr(e->name, SEP, e->name_len))
        return ipmsg_fail(err, IPMSG_E_INVAL, "NUL or '\\a' inside a file name", i);
    if (e->n_ext > DG_EXTATTR_MAX)
        return ipmsg_fail(err, IPMSG_E_INVAL, "too many extended attributes in entry", i);
    for (size_t k = 0; k < e->n_ext; k++)
        if (!dg_extattr_valid(&e->ext[k]))
            return ipmsg_fail(err, IPMSG_E_INVAL, "extended attribute without valid values", i);
    return IPMSG_OK;
}

int dg_attach_format(const dg_attach_entry *entries, size_t n, char *out, size_t cap,
                     size_t *out_len, ipmsg_error *err)
{
    *out_len = 0;
    if ((!entries && n) || (!out && cap))
        return ipmsg_fail(err, IPMSG_E_INVAL, "no entries or no output buffer", 0);
    dg_wf_out o = {out, cap, 0, 0};
    for (size_t i = 0; i < n; i++) {
        const dg_attach_entry *e = &entries[i];
        int rc = check_entry(e, i, err);
        if (rc != IPMSG_OK)
            return rc;
        dg_wf_put_num(&o, e->file_id, 10);
        dg_wf_putc(&o, ':');
        dg_wf_put_name(&o, e->name, e->name_len);
        dg_wf_putc(&o, ':');
        dg_wf_put_num(&o, e->size, 16);
        dg_wf_putc(&o, ':');
        dg_wf_put_num(&o, e->mtime, 16);
        dg_wf_putc(&o, ':');
        dg_wf_put_num(&o, e->attr, 16);
        for (size_t k = 0; k < e->n_ext; k++) {
            dg_wf_putc(&o, ':');
            dg_extattr_put(&o, &e->ext[k]);
        }
        dg_wf_putc(&o, ':');
        dg_wf_putc(&o, SEP);
    }
    if (o.overflow)
        return ipmsg_fail(err, IPMSG_E_NOSPACE, "attach list does not fit the buffer", o.len);
    *out_len = o.len;
    return IPMSG_OK;
}
