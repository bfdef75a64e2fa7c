/* GETDIRFILES record header encoder and parser (dirhdr.h, §5.3). */
#include "dirhdr.h"

#include <stdio.h>
#include <string.h>

#include "ipmsg_proto.h"
#include "wirefield.h"

bool dg_dirhdr_mtime(const dg_dirhdr *h, uint64_t *mtime)
{
    return dg_extattr_find(h->ext, h->n_ext, IPMSG_FILE_MTIME, mtime);
}

bool dg_dirhdr_set_ext(dg_dirhdr *h, uint32_t key, uint64_t val)
{
    size_t i = 0;
    while (i < h->n_ext && h->ext[i].key != key)
        i++;
    if (i == h->n_ext) {
        if (h->n_ext == DG_EXTATTR_MAX)
            return false;
        h->n_ext++;
    }
    memset(&h->ext[i], 0, sizeof(h->ext[i]));
    h->ext[i].key = key;
    h->ext[i].n_vals = 1;
    h->ext[i].vals[0] = val;
    return true;
}

/* Everything but the length digits, which are patched in afterwards. */
static void put_header(dg_wf_out *o, const dg_dirhdr *h)
{
    dg_wf_put(o, "0000:", 5);
    dg_wf_put_name(o, h->name, h->name_len);
    dg_wf_putc(o, ':');
    dg_wf_put_num(o, h->size, 16);
    dg_wf_putc(o, ':');
    dg_wf_put_num(o, h->attr, 16);
    dg_wf_putc(o, ':');
    for (size_t k = 0; k < h->n_ext; k++) {
        dg_extattr_put(o, &h->ext[k]);
        dg_wf_putc(o, ':');
    }
}

static bool name_may_be_empty(uint32_t attr)
{
    return (attr & 0xffu) == IPMSG_FILE_RETPARENT;
}

int dg_dirhdr_format(const dg_dirhdr *h, char *out, size_t cap, size_t *out_len, ipmsg_error *err)
{
    *out_len = 0;
    if ((!h->name && h->name_len) || (h->name_len == 0 && !name_may_be_empty(h->attr)))
        return ipmsg_fail(err, IPMSG_E_INVAL, "directory record without a name", 0);
    if (h->name_len && memchr(h->name, '\0', h->name_len))
        return ipmsg_fail(err, IPMSG_E_INVAL, "NUL inside a file name", 0);
    if (h->n_ext > DG_EXTATTR_MAX)
        return ipmsg_fail(err, IPMSG_E_INVAL, "too many extended attributes in record", 0);
    for (size_t k = 0; k < h->n_ext; k++)
        if (!dg_extattr_valid(&h->ext[k]))
            return ipmsg_fail(err, IPMSG_E_INVAL, "extended attribute without valid values", 0);

    /* Measure first (buf NULL only counts), then write. */
    dg_wf_out o = {NULL, 0, 0, 0};
    put_header(&o, h);
    if (o.len > DG_DIRHDR_MAX)
        return ipmsg_fail(err, IPMSG_E_TOOBIG, "directory record header too long", 0);
    if (!out || o.len > cap)
        return ipmsg_fail(err, IPMSG_E_NOSPACE, "directory record header does not fit", 0);
    o = (dg_wf_out){out, cap, 0, 0};
    put_header(&o, h);
    if (o.overflow)
        return ipmsg_fail(err, IPMSG_E_NOSPACE, "directory record header does not fit", o.len);
    char digits[5];
    snprintf(digits, sizeof(digits), "%04x", (unsigned)o.len);
    memcpy(out, digits, 4);
    *out_len = o.len;
    return IPMSG_OK;
}

int dg_dirhdr_len_prefix(const char *p, size_t len, uint32_t *hdrsize, size_t *prefix_len,
                         ipmsg_error *err)
{
    size_t n = 0;
    while (n < len && p[n] != ':') {
        char c = p[n];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex)
            return ipmsg_fail(err, IPMSG_E_SYNTAX, "directory record length is not hex", n);
        if (++n > DG_DIRHDR_LEN_DIGITS)
            return ipmsg_fail(err, IPMSG_E_SYNTAX, "directory record length has too many digits",
                              0);
    }
    if (n == len)
        return 0;
    uint64_t v;
    int rc = dg_wf_number(p, n, 16, UINT32_MAX, &v, 0, err);
    if (rc != IPMSG_OK)
        return rc;
    *hdrsize = (uint32_t)v;
    *prefix_len = n + 1;
    return 1;
}

int dg_dirhdr_parse(const char *hdr, size_t len, dg_dirhdr *out, char *name_buf, ipmsg_error *err)
{
    memset(out, 0, sizeof(*out));
    uint32_t hs;
    size_t pre;
    int rc = dg_dirhdr_len_prefix(hdr, len, &hs, &pre, err);
    if (rc == 0)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "directory record header without length", 0);
    if (rc < 0)
        return rc;
    if (hs != len)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "directory record length does not match", 0);
    if (len < pre + 1 || hdr[len - 1] != ':')
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "directory record header does not end with ':'",
                          len ? len - 1 : 0);
    const char *p = hdr + pre, *end = hdr + len;
    size_t ulen, elen = dg_wf_name_scan(p, end, &ulen);
    if (elen == (size_t)-1)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "directory record ends inside the name",
                          (size_t)(p - hdr));
    if (memchr(p, '\0', elen))
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "NUL inside a file name", (size_t)(p - hdr));
    dg_wf_name_unescape(p, elen, name_buf);
    name_buf[ulen] = '\0';
    out->name = name_buf;
    out->name_len = ulen;
    p += elen + 1;

    size_t n = dg_wf_span(p, end, ":");
    if (p + n == end)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "directory record ends after the name",
                          (size_t)(p - hdr));
    rc = dg_wf_number(p, n, 16, UINT64_MAX, &out->size, (size_t)(p - hdr), err);
    if (rc != IPMSG_OK)
        return rc;
    p += n + 1;
    n = dg_wf_span(p, end, ":");
    if (p + n == end)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "directory record ends after the size",
                          (size_t)(p - hdr));
    uint64_t v;
    rc = dg_wf_number(p, n, 16, UINT32_MAX, &v, (size_t)(p - hdr), err);
    if (rc != IPMSG_OK)
        return rc;
    out->attr = (uint32_t)v;
    p += n + 1;
    while (p < end) {
        n = dg_wf_span(p, end, ":"); /* the header ends with ':', so p + n < end */
        if (n) {
            if (out->n_ext == DG_EXTATTR_MAX)
                return ipmsg_fail(err, IPMSG_E_RANGE, "too many extended attributes in record",
                                  (size_t)(p - hdr));
            rc = dg_extattr_parse(p, n, &out->ext[out->n_ext], (size_t)(p - hdr), err);
            if (rc != IPMSG_OK)
                return rc;
            out->n_ext++;
        }
        p += n + 1;
    }
    if (ulen == 0 && !name_may_be_empty(out->attr))
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "empty name in directory record", pre);
    return IPMSG_OK;
}
