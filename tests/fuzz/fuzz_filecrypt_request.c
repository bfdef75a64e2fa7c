/*
 * libFuzzer harness for the server side of an encrypted file request (§6.6)
 * up to the point where RSA would decide: the raw TCP request is parsed like
 * the files plugin does (dg_file_request_parse_sealed: header, command,
 * packet-number field kept as sent for the IV), then its body is taken as
 * the decrypted plaintext and goes through the filecrypt plugin's accept
 * step (ipmc_filereq_accept: signature required, strict parse, replay guard
 * per peer). Decrypting the body is fuzzed by fuzz_crypto_body.
 *
 * Input: byte 0 bit0 = the signature verified; the rest is the request.
 * Invariants (abort on violation): the packet-number field and the body lie
 * inside the input and are not empty; nothing is accepted unsigned; an
 * accepted ENCFILEOPT request is new to the replay guard (above its top, or
 * unseen inside its window), moves the top when above it, and the very same
 * request is then refused as a replay without changing the guard.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipmc_body.h"
#include "ipmc_consts.h"
#include "ipmc_error.h"
#include "ipmc_filereq.h"
#include "ipmsg_proto.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

/* The guard's state when the request comes: an earlier request was accepted. */
#define LAST_REQ 0x1000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool verified = data[0] & 1;
    const char *req = (const char *)data + 1;
    size_t len = size - 1;
    dg_file_request fr;
    ipmsg_slice pn;
    ipmsg_error ierr = {0};
    if (dg_file_request_parse_sealed(req, len, &fr, &pn, &ierr) != IPMSG_OK)
        return 0;
    CHECK(pn.len > 0 && pn.ptr >= req && pn.ptr + pn.len <= req + len);
    CHECK(fr.pkt.extra.len > 0 && fr.pkt.extra.ptr >= req &&
          fr.pkt.extra.ptr + fr.pkt.extra.len <= req + len);
    CHECK(fr.pkt.opts & IPMSG_ENCRYPTOPT);
    CHECK(fr.pkt.mode == IPMSG_GETFILEDATA || fr.pkt.mode == IPMSG_GETDIRFILES);

    /* The body as if it were the decrypted plaintext. */
    char *text = malloc(fr.pkt.extra.len + 1);
    if (!text)
        return 0;
    memcpy(text, fr.pkt.extra.ptr, fr.pkt.extra.len);
    text[fr.pkt.extra.len] = '\0';
    ipmc_body_out dec = {.sig = verified ? IPMC_SIG_SHA256_OK : IPMC_SIG_UNVERIFIED,
                         .plain = (uint8_t *)text,
                         .plain_len = fr.pkt.extra.len + 1,
                         .text = text};
    bool getfile = fr.pkt.mode == IPMSG_GETFILEDATA;
    bool encfile = (fr.pkt.opts & IPMC_OPT_ENCFILEOPT) != 0;
    ipmc_replay last = {.top = LAST_REQ, .seen = 1}; /* LAST_REQ was accepted */
    const ipmc_replay before = last;
    ipmc_filereq r;
    char err[256];
    int rc = ipmc_filereq_accept(&dec, getfile, encfile, &last, &r, err, sizeof err);
    if (!verified)
        CHECK(rc == IPMC_ERR_SIGNATURE);
    if (rc == IPMC_OK) {
        CHECK(r.has_offset == getfile);
        if (encfile) {
            CHECK(r.mode == IPMC_FILECAPA_AES || r.mode == IPMC_FILECAPA_NOENC);
            CHECK(r.req_pkt != LAST_REQ && r.req_pkt > LAST_REQ - IPMC_REPLAY_WINDOW);
            CHECK(last.top == (r.req_pkt > LAST_REQ ? r.req_pkt : LAST_REQ));
            const ipmc_replay after = last;
            ipmc_filereq again;
            CHECK(ipmc_filereq_accept(&dec, getfile, encfile, &last, &again, err, sizeof err) ==
                  IPMC_ERR_REPLAY);
            CHECK(last.top == after.top && last.seen == after.seen);
        } else {
            CHECK(r.mode == 0 && last.top == before.top && last.seen == before.seen);
        }
    } else {
        CHECK(err[0] != '\0');
        CHECK(last.top == before.top && last.seen == before.seen);
    }
    free(text);
    return 0;
}
