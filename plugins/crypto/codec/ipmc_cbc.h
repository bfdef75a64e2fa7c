/*
 * The body ciphers (§6.3): AES-256-CBC or Blowfish-128-CBC (legacy provider,
 * private context), PKCS#7 padding ("PKCS#5" in the spec). The IV is all
 * zeros, or with PACKETNO_IV the decimal packet number as ASCII in a zeroed
 * 16-byte buffer: AES uses all 16 bytes, Blowfish the first 8, so a
 * 10-digit packet number is cut to its first 8 digits for Blowfish
 * (blowfish.cpp copies 8 bytes of the same buffer).
 */
#ifndef DG_IPMC_CBC_H
#define DG_IPMC_CBC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipmc_suite.h"

/*
 * 16-byte IV. With packetno_iv, the first min(15, strlen) characters of
 * pktno (the packet-number field as it appears in the header; Windows copies
 * it with strncpyz into 16 bytes) follow by zeros.
 */
void ipmc_cbc_iv(bool packetno_iv, const char *pktno, uint8_t iv[16]);

/* *out malloc'd, length a multiple of the block size. */
int ipmc_cbc_encrypt(ipmc_suite suite, const uint8_t *key, const uint8_t iv[16], const uint8_t *in,
                     size_t len, uint8_t **out, size_t *outlen);

/*
 * IPMC_ERR_FORMAT for a length that is not a positive multiple of the block,
 * IPMC_ERR_PADDING when the padding is wrong (wrong key or tampering),
 * IPMC_ERR_CRYPTO when the cipher is unavailable (legacy provider missing).
 */
int ipmc_cbc_decrypt(ipmc_suite suite, const uint8_t *key, const uint8_t iv[16], const uint8_t *in,
                     size_t len, uint8_t **out, size_t *outlen);

#endif
