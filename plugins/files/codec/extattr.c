/* "key=value[,value...]" extended attributes (extattr.h). */
#include "extattr.h"

#include <string.h>

int dg_extattr_parse(const char *p, size_t len, dg_extattr *out, size_t off, ipmsg_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *end = p + len;
    size_t klen = dg_wf_span(p, end, "=");
    if (klen == len)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "extended attribute without '='", off);
    uint64_t v;
    int rc = dg_wf_number(p, klen, 16, UINT32_MAX, &v, off, err);
    if (rc != IPMSG_OK)
        return rc;
    out->key = (uint32_t)v;
    const char *q = p + klen + 1;
    for (;;) {
        if (out->n_vals == DG_EXTATTR_MAX_VALS)
            return ipmsg_fail(err, IPMSG_E_RANGE, "too many values in an extended attribute",
                              off + (size_t)(q - p));
        size_t vlen = dg_wf_span(q, end, ",");
        rc = dg_wf_number(q, vlen, 16, UINT64_MAX, &out->vals[out->n_vals], off + (size_t)(q - p),
                          err);
        if (rc != IPMSG_OK)
            return rc;
        out->n_vals++;
        q += vlen;
        if (q == end)
            return IPMSG_OK;
        q++; /* ',' */
    }
}

void dg_extattr_put(dg_wf_out *o, const dg_extattr *a)
{
    dg_wf_put_num(o, a->key, 16);
    dg_wf_putc(o, '=');
    for (uint32_t i = 0; i < a->n_vals; i++) {
        if (i)
            dg_wf_putc(o, ',');
        dg_wf_put_num(o, a->vals[i], 16);
    }
}

bool dg_extattr_valid(const dg_extattr *a)
{
    return a->n_vals >= 1 && a->n_vals <= DG_EXTATTR_MAX_VALS;
}

bool dg_extattr_find(const dg_extattr *a, size_t n, uint32_t key, uint64_t *val)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].key == key && a[i].n_vals >= 1) {
            *val = a[i].vals[0];
            return true;
        }
    }
    return false;
}
