/*
 * Encrypted or signed file requests (§6.6, Windows v4 recvdlg.cpp
 * StartRecvFile / share.cpp). The receiver of an offer sends GETDIRFILES
 * (also for regular files; GETFILEDATA only for in-memory images) with
 * ENCRYPTOPT, and ENCFILEOPT when it asks for stream encryption or for the
 * NOENC_FILEBODY variant. The request text
 *
 *   <pktID hex>:<fileID hex>:[<offset hex>:]                     (signed only)
 *   <pktID hex>:<fileID hex>:[<offset hex>:]900000:<64 hex key>:<reqPkt hex>
 *   <pktID hex>:<fileID hex>:[<offset hex>:]4000000:<reqPkt hex>
 *
 * is then encrypted and signed exactly like a message body (ipmc_body.h),
 * with the request's own packet number as IV. The offset field is present
 * for GETFILEDATA only. reqPkt is the request's packet number; the sender
 * serves a request only if its signature verifies and reqPkt is above the
 * last one accepted from that recipient (replay guard).
 */
#ifndef DG_IPMC_FILEREQ_H
#define DG_IPMC_FILEREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipmc_body.h"

typedef struct ipmc_filereq {
    uint32_t packet_id; /* packet number of the SENDMSG that offered the file */
    uint32_t file_id;
    bool has_offset; /* GETFILEDATA form */
    uint64_t offset;
    uint32_t mode;       /* 0 (signed only), IPMC_FILECAPA_AES or IPMC_FILECAPA_NOENC */
    uint8_t aes_key[32]; /* mode == IPMC_FILECAPA_AES */
    uint32_t req_pkt;    /* mode != 0: the request's packet number */
} ipmc_filereq;

/* The plaintext request into out (cap >= 128 is always enough). */
int ipmc_filereq_build(const ipmc_filereq *r, char *out, size_t cap);

/*
 * Parses a decrypted request. encfileopt: the command carried ENCFILEOPT (the
 * mode field must then be present); has_offset: GETFILEDATA. Strict: hex
 * fields of sane width, a 64-digit key, a non-zero reqPkt, nothing after.
 * (Windows tolerates a missing reqPkt in AES mode; its own requests always
 * carry one, so a missing one is refused here.)
 */
int ipmc_filereq_parse(const char *text, bool has_offset, bool encfileopt, ipmc_filereq *r,
                       char *err, size_t errlen);

/*
 * Replay guard over a window, as IPsec's anti-replay does: a request number
 * above the highest seen is accepted and moves the window up; one of the
 * IPMC_REPLAY_WINDOW numbers up to the highest is accepted once; anything
 * older, or seen, is IPMC_ERR_REPLAY. A window rather than "above the last":
 * a receiver downloading several files at once numbers its requests in
 * order, but their connections reach us in any order. {0} = nothing seen.
 */
#define IPMC_REPLAY_WINDOW 64
typedef struct ipmc_replay {
    uint32_t top;  /* highest number accepted */
    uint64_t seen; /* bit i: top - i was accepted */
} ipmc_replay;
int ipmc_replay_check(ipmc_replay *g, uint32_t req_pkt);

/*
 * Sender side in one step: the decrypted request must carry a verified
 * signature (IPMC_ERR_SIGNATURE otherwise), must parse, and with ENCFILEOPT
 * must pass the replay guard g (updated only on success).
 */
int ipmc_filereq_accept(const ipmc_body_out *dec, bool has_offset, bool encfileopt, ipmc_replay *g,
                        ipmc_filereq *r, char *err, size_t errlen);

#endif
