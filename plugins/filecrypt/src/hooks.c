#include "hooks.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipmc_body.h"
#include "ipmc_consts.h"
#include "ipmc_ctr.h"
#include "ipmc_error.h"
#include "ipmc_filereq.h"
#include "onloop.h"

/* Command fields of a file request (docs/ipmsg-protocol.md §3.1, §5.2). */
#define CMD_MODE(c) ((c)&0xffu)
#define GETFILEDATA 0x60u

/* ---- client: sealing a download request ---- */

typedef struct seal_call {
    const char *peer;
    uint32_t req_pkt;
    const uint8_t *plain;
    size_t plain_len;
    char *extra;
    char user[128];
    char *err;
    size_t errlen;
} seal_call;

/* The peer advertises CAPFILEENCOPT in its entry status (§6.6): the option
 * bits of its last entry packet, "entry_status" in chat.transport's user_get.
 * Its user name as sent (with the fingerprint field) goes to user. */
static bool peer_capable(fc_state *st, const char *peer, char *user, size_t cap)
{
    json_t *u = st->t->user_get(st->t->self, peer);
    json_int_t status = u ? json_integer_value(json_object_get(u, "entry_status")) : 0;
    /* "wire_user": the name as the peer sends it, fingerprint field included
     * (ADR 0017); older transports only have "user". */
    const char *name = u ? json_string_value(json_object_get(u, "wire_user")) : NULL;
    if (!name && u)
        name = json_string_value(json_object_get(u, "user"));
    snprintf(user, cap, "%s", name ? name : "");
    json_decref(u);
    return (status & IPMC_OPT_CAPFILEENCOPT) != 0;
}

/* Loop thread: 1 sealed, 0 the peer does not qualify, -1 error. */
static int seal_on_loop(fc_state *st, void *arg)
{
    seal_call *c = arg;
    char user[256];
    if (!peer_capable(st, c->peer, user, sizeof user))
        return 0;
    char why[256];
    int q = st->keys->qualifies(st->keys->self, c->peer, user, why, sizeof why);
    if (q == DG_CRYPTO_KEYS_NOT_READY) {
        snprintf(c->err, c->errlen, "our key pairs are still being made; accept again shortly");
        return -1;
    }
    if (q != 1) {
        st->api->log(st->ctx, DG_LOG_DEBUG, "plain transfer from %s: %s", c->peer, why);
        return 0;
    }
    if (st->keys->own_user(st->keys->self, st->user, c->user, sizeof c->user) != 0 ||
        st->keys->seal(st->keys->self, c->peer, c->req_pkt, c->plain, c->plain_len, &c->extra,
                       c->err, c->errlen) != 0)
        return -1;
    return 1;
}

static int fc_seal_request(void *user, const char *peer, uint32_t req_pkt, uint32_t share_pkt,
                           uint32_t file_id, int has_offset, uint64_t offset,
                           dg_files_crypto_sealed *out, char *err, size_t errlen)
{
    fc_state *st = user;
    /* The offset is part of a GETFILEDATA request only (a resumed file). */
    ipmc_filereq r = {.packet_id = share_pkt,
                      .file_id = file_id,
                      .has_offset = has_offset != 0,
                      .offset = offset,
                      .mode = IPMC_FILECAPA_AES,
                      .req_pkt = req_pkt};
    char text[256];
    if (RAND_bytes(r.aes_key, sizeof r.aes_key) != 1 ||
        ipmc_filereq_build(&r, text, sizeof text) != IPMC_OK) {
        OPENSSL_cleanse(r.aes_key, sizeof r.aes_key);
        snprintf(err, errlen, "cannot make the request key");
        return -1;
    }
    /* The body is the text and its NUL, like a message (§6.3). */
    seal_call c = {.peer = peer,
                   .req_pkt = req_pkt,
                   .plain = (const uint8_t *)text,
                   .plain_len = strlen(text) + 1,
                   .err = err,
                   .errlen = errlen};
    snprintf(err, errlen, "file encryption stopped");
    int rc = fc_on_loop(st, seal_on_loop, &c);
    OPENSSL_cleanse(text, sizeof text);
    ipmc_ctr *ctr = NULL;
    if (rc == 1 && ipmc_ctr_new(r.aes_key, req_pkt, &ctr) != IPMC_OK) {
        snprintf(err, errlen, "cannot start AES-256-CTR");
        rc = -1;
    }
    OPENSSL_cleanse(r.aes_key, sizeof r.aes_key);
    if (rc != 1) {
        free(c.extra);
        return rc;
    }
    out->extra = c.extra;
    out->opts = IPMC_OPT_ENCRYPTOPT | IPMC_OPT_ENCFILEOPT;
    out->stream = (dg_files_crypto_stream *)ctr;
    snprintf(out->user, sizeof out->user, "%s", c.user);
    return 1;
}

/* ---- server: opening an upload request ---- */

typedef struct open_call {
    const char *sender, *address; /* "<wire user>@host" of the header, where it came from */
    char peer[256];               /* the sender's user@host key, once known */
    const char *pn;
    size_t pnlen;
    uint32_t command;
    const char *extra;
    size_t len;
    ipmc_filereq r;
    int verified;
    char *err;
    size_t errlen;
} open_call;

static void refused(fc_state *st, const open_call *c, const char *why)
{
    st->api->log(st->ctx, DG_LOG_WARN, "encrypted file request from %s (%s) refused: %s", c->sender,
                 c->address, c->err);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "peer", c->peer[0] ? c->peer : c->sender,
                           "address", c->address, "why", why, "reason", c->err);
    if (!ev || st->api->publish(st->ctx, "filecrypt.request.refused", ev) < 0)
        st->api->log(st->ctx, DG_LOG_ERROR, "event filecrypt.request.refused lost");
}

/* Loop thread: 0 accepted (c->r), -1 refused (event published). */
static int open_on_loop(fc_state *st, void *arg)
{
    open_call *c = arg;
    char *plain = NULL;
    size_t plain_len = 0;
    int rc = st->keys->open(st->keys->self, c->sender, c->pn, c->pnlen, c->extra, c->len, &plain,
                            &plain_len, &c->verified, c->peer, sizeof c->peer, c->err, c->errlen);
    if (rc == DG_CRYPTO_KEYS_NOT_READY) {
        refused(st, c, "not_ready");
        return -1;
    }
    if (rc != 0) {
        /* Not for our key, tampered with, or a signature that does not verify. */
        refused(st, c, "invalid");
        return -1;
    }
    /* Only a signature by the requester's trusted key counts (it replaces the
     * address check); then the replay guard, per peer, in this run. */
    ipmc_body_out dec = {.sig = c->verified ? IPMC_SIG_SHA256_OK : IPMC_SIG_UNVERIFIED,
                         .plain = (uint8_t *)plain,
                         .plain_len = plain_len,
                         .text = plain};
    /* The peer's replay guard, kept as [top, seen] (ipmc_filereq.h). */
    json_t *last = json_object_get(st->last_req, c->peer);
    ipmc_replay guard = {
        .top = (uint32_t)json_integer_value(json_array_get(last, 0)),
        .seen = (uint64_t)json_integer_value(json_array_get(last, 1)),
    };
    bool encfile = (c->command & IPMC_OPT_ENCFILEOPT) != 0;
    rc = ipmc_filereq_accept(&dec, CMD_MODE(c->command) == GETFILEDATA, encfile, &guard, &c->r,
                             c->err, c->errlen);
    OPENSSL_cleanse(plain, plain_len);
    free(plain);
    if (rc != IPMC_OK) {
        if (rc == IPMC_ERR_SIGNATURE)
            snprintf(c->err, c->errlen, "the request is not signed by the trusted key of %s",
                     c->peer);
        refused(st, c,
                rc == IPMC_ERR_SIGNATURE ? "unsigned"
                : rc == IPMC_ERR_REPLAY  ? "replay"
                                         : "format");
        return -1;
    }
    if (encfile)
        json_object_set_new(st->last_req, c->peer,
                            json_pack("[I, I]", (json_int_t)guard.top, (json_int_t)guard.seen));
    /* Only a request that passed the replay guard stands for its signer: a
     * signed request without ENCFILEOPT has no number to check, so it could
     * be a captured one; it must then come from the recipient's address. */
    if (!encfile)
        c->verified = false;
    json_t *ev =
        json_pack("{s:s, s:s, s:I, s:I, s:s}", "peer", c->peer, "address", c->address, "offer",
                  (json_int_t)c->r.packet_id, "file_id", (json_int_t)c->r.file_id, "mode",
                  c->r.mode == IPMC_FILECAPA_AES     ? "aes-256-ctr"
                  : c->r.mode == IPMC_FILECAPA_NOENC ? "signed, body not encrypted"
                                                     : "signed");
    if (!ev || st->api->publish(st->ctx, "filecrypt.request.accepted", ev) < 0)
        st->api->log(st->ctx, DG_LOG_ERROR, "event filecrypt.request.accepted lost");
    return 0;
}

static int fc_open_request(void *user, const char *peer, const char *address, const char *packet_no,
                           size_t packet_no_len, uint32_t command, const char *extra, size_t len,
                           dg_files_crypto_request *out, char *err, size_t errlen)
{
    fc_state *st = user;
    open_call c = {.sender = peer,
                   .address = address,
                   .pn = packet_no,
                   .pnlen = packet_no_len,
                   .command = command,
                   .extra = extra,
                   .len = len,
                   .err = err,
                   .errlen = errlen};
    snprintf(err, errlen, "file encryption stopped");
    int rc = fc_on_loop(st, open_on_loop, &c);
    memset(out, 0, sizeof *out);
    if (rc != 0) {
        OPENSSL_cleanse(&c.r, sizeof c.r);
        return -1;
    }
    out->share_pkt = c.r.packet_id;
    out->file_id = c.r.file_id;
    out->has_offset = c.r.has_offset;
    out->offset = c.r.offset;
    out->verified = c.verified;
    snprintf(out->peer, sizeof out->peer, "%s", c.peer);
    if (c.r.mode == IPMC_FILECAPA_AES) {
        ipmc_ctr *ctr = NULL;
        rc = ipmc_ctr_new(c.r.aes_key, c.r.req_pkt, &ctr);
        OPENSSL_cleanse(&c.r, sizeof c.r);
        if (rc != IPMC_OK) {
            snprintf(err, errlen, "cannot start AES-256-CTR");
            return -1;
        }
        out->stream = (dg_files_crypto_stream *)ctr;
    }
    return 0;
}

/* ---- streams ---- */

static int fc_stream_apply(dg_files_crypto_stream *s, uint8_t *buf, size_t len)
{
    return ipmc_ctr_apply((ipmc_ctr *)s, buf, buf, len) == IPMC_OK ? 0 : -1;
}

static void fc_stream_free(dg_files_crypto_stream *s)
{
    ipmc_ctr_free((ipmc_ctr *)s);
}

void fc_hooks_init(fc_state *st)
{
    st->hooks = (dg_files_crypto_hooks){
        .struct_size = sizeof(dg_files_crypto_hooks),
        .seal_request = fc_seal_request,
        .open_request = fc_open_request,
        .stream_apply = fc_stream_apply,
        .stream_free = fc_stream_free,
    };
}
