/* GETFILEDATA / GETDIRFILES request extras (request.h, §5.2-5.3). */
#include "request.h"

#include <string.h>

#include "ipmsg_proto.h"
#include "wirefield.h"

static bool is_request_mode(uint32_t mode)
{
    return mode == IPMSG_GETFILEDATA || mode == IPMSG_GETDIRFILES;
}

/* Next ':'-terminated (or final) hex field at *p. *had_colon tells whether
 * a ':' ended it. */
static int hex_field(const char *base, const char **p, const char *end, uint64_t max, uint64_t *v,
                     bool *had_colon, ipmsg_error *err)
{
    size_t n = dg_wf_span(*p, end, ":");
    int rc = dg_wf_number(*p, n, 16, max, v, (size_t)(*p - base), err);
    if (rc != IPMSG_OK)
        return rc;
    *p += n;
    *had_colon = *p < end;
    if (*had_colon)
        (*p)++;
    return IPMSG_OK;
}

int dg_file_req_parse_extra(uint32_t mode, ipmsg_slice extra, dg_file_req *out, ipmsg_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!is_request_mode(mode))
        return ipmsg_fail(err, IPMSG_E_INVAL, "not a GETFILEDATA or GETDIRFILES command", 0);
    if (!extra.ptr)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "file request without extra", 0);
    const char *base = extra.ptr, *p = base, *end = base + extra.len;
    uint64_t v;
    bool colon;
    int rc = hex_field(base, &p, end, UINT32_MAX, &v, &colon, err);
    if (rc != IPMSG_OK)
        return rc;
    if (!colon)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "file request without a file ID",
                          (size_t)(p - base));
    out->share_pkt = (uint32_t)v;
    rc = hex_field(base, &p, end, UINT32_MAX, &v, &colon, err);
    if (rc != IPMSG_OK)
        return rc;
    out->file_id = (uint32_t)v;
    if (p < end) {
        size_t n = dg_wf_span(p, end, ":");
        /* GETDIRFILES: iptux's trailing "0" is an offset only when nothing
         * follows; otherwise the field belongs to the §6.6 suffix. */
        bool offset_field = mode == IPMSG_GETFILEDATA || p + n == end || p + n + 1 == end;
        if (offset_field) {
            rc = hex_field(base, &p, end, UINT64_MAX, &out->offset, &colon, err);
            if (rc != IPMSG_OK)
                return rc;
            out->has_offset = true;
        }
    }
    out->rest = (ipmsg_slice){p, (size_t)(end - p)};
    return IPMSG_OK;
}

int dg_file_req_format_extra(uint32_t mode, const dg_file_req *req, char *out, size_t cap,
                             size_t *out_len, ipmsg_error *err)
{
    *out_len = 0;
    if (!is_request_mode(mode))
        return ipmsg_fail(err, IPMSG_E_INVAL, "not a GETFILEDATA or GETDIRFILES command", 0);
    dg_wf_out o = {out, cap, 0, 0};
    dg_wf_put_num(&o, req->share_pkt, 16);
    dg_wf_putc(&o, ':');
    dg_wf_put_num(&o, req->file_id, 16);
    dg_wf_putc(&o, ':');
    if (mode == IPMSG_GETFILEDATA) {
        dg_wf_put_num(&o, req->offset, 16);
        dg_wf_putc(&o, ':');
    }
    if (o.overflow)
        return ipmsg_fail(err, IPMSG_E_NOSPACE, "file request does not fit the buffer", o.len);
    *out_len = o.len;
    return IPMSG_OK;
}

int dg_file_request_parse(const void *data, size_t len, dg_file_request *out, ipmsg_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = ipmsg_parse(data, len, 0, &out->pkt, err);
    if (rc != IPMSG_OK)
        return rc;
    if (!is_request_mode(out->pkt.mode)) {
        memset(out, 0, sizeof(*out));
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "TCP packet is not GETFILEDATA or GETDIRFILES", 0);
    }
    if (out->pkt.opts & IPMSG_ENCRYPTOPT) {
        memset(out, 0, sizeof(*out));
        return ipmsg_fail(err, IPMSG_E_INVAL, "encrypted file request: decrypt the extra first", 0);
    }
    size_t extra_off = (size_t)(out->pkt.extra.ptr - (const char *)data);
    rc = dg_file_req_parse_extra(out->pkt.mode, out->pkt.extra, &out->req, err);
    if (rc != IPMSG_OK) {
        if (err)
            err->offset += extra_off;
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

int dg_file_request_build(uint32_t packet_no, uint32_t mode, uint32_t opts, const char *user,
                          const char *host, const dg_file_req *req, ipmsg_charset *cs, char *out,
                          size_t cap, size_t *out_len, ipmsg_error *err)
{
    char extra[64];
    size_t elen;
    int rc = dg_file_req_format_extra(mode, req, extra, sizeof(extra), &elen, err);
    if (rc != IPMSG_OK)
        return rc;
    ipmsg_build_in in = {
        .packet_no = packet_no,
        .command = mode | (opts & 0xffffff00u),
        .user = ipmsg_text(user),
        .host = ipmsg_text(host),
        .extra = ipmsg_raw(extra, elen),
    };
    return ipmsg_build(&in, cs, out, cap, out_len, err);
}

int dg_file_request_parse_sealed(const void *data, size_t len, dg_file_request *out,
                                 ipmsg_slice *packet_no, ipmsg_error *err)
{
    memset(out, 0, sizeof(*out));
    *packet_no = (ipmsg_slice){0};
    int rc = ipmsg_parse(data, len, 0, &out->pkt, err);
    if (rc != IPMSG_OK)
        return rc;
    if (!is_request_mode(out->pkt.mode) || !(out->pkt.opts & IPMSG_ENCRYPTOPT)) {
        memset(out, 0, sizeof(*out));
        return ipmsg_fail(err, IPMSG_E_SYNTAX,
                          "not an encrypted GETFILEDATA or GETDIRFILES request", 0);
    }
    /* The field as it came: between the version's ':' and the user's (the
     * header parser found both, so the field lies inside data). */
    const char *start = out->pkt.version.ptr + out->pkt.version.len + 1;
    const char *end = out->pkt.user.ptr - 1;
    if (end <= start || out->pkt.extra.len == 0) {
        memset(out, 0, sizeof(*out));
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "encrypted request without packet number or body",
                          0);
    }
    *packet_no = (ipmsg_slice){.ptr = start, .len = (size_t)(end - start)};
    return IPMSG_OK;
}
