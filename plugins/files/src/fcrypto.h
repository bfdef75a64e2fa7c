/*
 * The files.crypto service (<dengon/files_crypto.h>): the optional provider
 * that encrypts transfers (§6.6), seen from the transfer threads. A provider
 * is "held" while one of its hooks runs or one of its streams is alive, so
 * that removing it (set_provider NULL, on the loop thread) can stop the
 * encrypted transfers and wait for them before the provider's code goes.
 */
#ifndef DG_FL_FCRYPTO_H
#define DG_FL_FCRYPTO_H

#include <dengon/files_crypto.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"
#include "state.h"

/* One transfer's cipher: hooks and stream of the held provider, or none. */
typedef struct fl_cipher {
    const dg_files_crypto_hooks *h;
    dg_files_crypto_stream *s;
} fl_cipher;

/* Registers the service (start). 0 or -1. */
int fcrypto_provide(fl_state *st);

/*
 * Client: asks the provider to seal a request to peer (GETFILEDATA from
 * offset when has_offset, else GETDIRFILES). 1 with *out and *c set (c holds
 * the provider until fcrypto_end), 0 when there is no provider or the peer
 * does not qualify, -1 with err.
 */
int fcrypto_seal(fl_state *st, const char *peer, uint32_t req_pkt, uint32_t share_pkt,
                 uint32_t file_id, bool has_offset, uint64_t offset, dg_files_crypto_sealed *out,
                 fl_cipher *c, char *err, size_t errlen);

/*
 * Server: an ENCRYPTOPT request (req->pkt and packet_no from
 * dg_file_request_parse_sealed; req->req to fill). 0 with req->req,
 * *verified (then peer_key: the requester's user@host key, as offers name
 * their recipients) and *c set (c holds the provider when it has a stream),
 * -1 with err (no provider, or refused).
 */
int fcrypto_open(fl_state *st, dg_file_request *req, ipmsg_slice packet_no, const char *address,
                 bool *verified, char *peer_key, size_t keycap, fl_cipher *c, char *err,
                 size_t errlen);

/* True when c encrypts or decrypts. */
static inline bool fcrypto_active(const fl_cipher *c)
{
    return c->s != NULL;
}

/* Applies c to buf in place (no-op without a stream). 0 or -1. */
int fcrypto_apply(fl_cipher *c, void *buf, size_t len);

/* Frees the stream and lets the provider go. */
void fcrypto_end(fl_state *st, fl_cipher *c);

#endif
