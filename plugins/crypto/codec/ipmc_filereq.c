#include "ipmc_filereq.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ipmc_consts.h"
#include "ipmc_encode.h"
#include "ipmc_error.h"

int ipmc_filereq_build(const ipmc_filereq *r, char *out, size_t cap)
{
    if (!r || !out)
        return IPMC_ERR_ARG;
    int n = snprintf(out, cap, "%x:%x:", (unsigned)r->packet_id, (unsigned)r->file_id);
    if (n >= 0 && (size_t)n < cap && r->has_offset)
        n += snprintf(out + n, cap - (size_t)n, "%" PRIx64 ":", r->offset);
    if (n < 0 || (size_t)n >= cap)
        return IPMC_ERR_ARG;
    if (r->mode == IPMC_FILECAPA_AES) {
        char key[65];
        ipmc_hex_encode(r->aes_key, 32, key);
        n += snprintf(out + n, cap - (size_t)n, "%x:%s:%x", (unsigned)IPMC_FILECAPA_AES, key,
                      (unsigned)r->req_pkt);
    } else if (r->mode == IPMC_FILECAPA_NOENC) {
        n += snprintf(out + n, cap - (size_t)n, "%x:%x", (unsigned)IPMC_FILECAPA_NOENC,
                      (unsigned)r->req_pkt);
    } else if (r->mode != 0) {
        return IPMC_ERR_ARG;
    }
    return (size_t)n < cap ? IPMC_OK : IPMC_ERR_ARG;
}

/* Next ':'-terminated (or final) token of at most maxd hex digits. */
static int hex_tok(const char **p, int maxd, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    int n = 0;
    for (; *s && *s != ':'; s++, n++) {
        char c = *s;
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0 || n >= maxd)
            return IPMC_ERR_FORMAT;
        x = x << 4 | (uint64_t)d;
    }
    if (n == 0)
        return IPMC_ERR_FORMAT;
    *v = x;
    *p = *s == ':' ? s + 1 : s;
    return IPMC_OK;
}

int ipmc_filereq_parse(const char *text, bool has_offset, bool encfileopt, ipmc_filereq *r,
                       char *err, size_t errlen)
{
    if (!text || !r)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "no request");
    memset(r, 0, sizeof *r);
    const char *p = text;
    uint64_t v;
    if (hex_tok(&p, 8, &v) != IPMC_OK)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "file request: bad packet id");
    r->packet_id = (uint32_t)v;
    if (hex_tok(&p, 8, &v) != IPMC_OK)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "file request: bad file id");
    r->file_id = (uint32_t)v;
    if (has_offset) {
        if (hex_tok(&p, 16, &r->offset) != IPMC_OK)
            return ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "file request: bad offset");
        r->has_offset = true;
    }
    if (!encfileopt) {
        if (*p)
            return ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                             "file request: unexpected text without ENCFILEOPT");
        return IPMC_OK;
    }
    if (hex_tok(&p, 8, &v) != IPMC_OK)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "file request: bad mode field");
    if (v == IPMC_FILECAPA_AES) {
        const char *colon = strchr(p, ':');
        size_t klen = 0;
        if (!colon || colon - p != 64 ||
            ipmc_hex_decode(p, 64, r->aes_key, sizeof r->aes_key, &klen) != IPMC_OK)
            return ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                             "file request: AES key must be 64 hex digits");
        p = colon + 1;
    } else if (v != IPMC_FILECAPA_NOENC) {
        return ipmc_fail(err, errlen, IPMC_ERR_SUITE, "file request: unknown mode %" PRIx64, v);
    }
    r->mode = (uint32_t)v;
    const char *start = p;
    if (hex_tok(&p, 8, &v) != IPMC_OK || v == 0 || (p > start && p[-1] == ':') || *p)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                         "file request: request number must be the last field, non-zero hex");
    r->req_pkt = (uint32_t)v;
    return IPMC_OK;
}

int ipmc_replay_check(ipmc_replay *g, uint32_t req_pkt)
{
    if (!g)
        return IPMC_ERR_ARG;
    if (g->seen == 0 || req_pkt > g->top) {
        uint32_t shift = g->seen == 0 ? IPMC_REPLAY_WINDOW : req_pkt - g->top;
        g->seen = shift >= IPMC_REPLAY_WINDOW ? 1 : (g->seen << shift) | 1;
        g->top = req_pkt;
        return IPMC_OK;
    }
    uint32_t behind = g->top - req_pkt;
    if (behind >= IPMC_REPLAY_WINDOW || (g->seen & ((uint64_t)1 << behind)))
        return IPMC_ERR_REPLAY;
    g->seen |= (uint64_t)1 << behind;
    return IPMC_OK;
}

int ipmc_filereq_accept(const ipmc_body_out *dec, bool has_offset, bool encfileopt, ipmc_replay *g,
                        ipmc_filereq *r, char *err, size_t errlen)
{
    if (!dec || !dec->text || !g || !r)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "missing argument");
    if (dec->sig != IPMC_SIG_SHA1_OK && dec->sig != IPMC_SIG_SHA256_OK)
        return ipmc_fail(err, errlen, IPMC_ERR_SIGNATURE,
                         "file request signature was not verified");
    int rc = ipmc_filereq_parse(dec->text, has_offset, encfileopt, r, err, errlen);
    if (rc != IPMC_OK)
        return rc;
    if (encfileopt && ipmc_replay_check(g, r->req_pkt) != IPMC_OK) {
        uint32_t req = r->req_pkt;
        memset(r, 0, sizeof *r);
        return ipmc_fail(err, errlen, IPMC_ERR_REPLAY,
                         "file request number %x was seen already, or is older than the last %d "
                         "below %x",
                         (unsigned)req, IPMC_REPLAY_WINDOW, (unsigned)g->top);
    }
    return IPMC_OK;
}
