/*
 * Fingerprinted user names (§6.4), as IP Messenger v3+ makes them
 * (miscfunc.cpp GenUserNameDigestVal / GenUserNameDigest):
 *   1. SHA-1 over the 256-byte RSA-2048 modulus in LITTLE-endian byte order
 *      (CryptoAPI's order: the reverse of the wire/big-endian form);
 *   2. reverse the 20-byte digest and append 4 zero bytes (24 bytes);
 *   3. XOR the three 8-byte words;
 *   4. write the 8 bytes as 16 lowercase hex digits.
 * The name becomes "<name>-<" + hex + ">", e.g. "alice-<0123456789abcdef>".
 */
#ifndef DG_IPMC_FINGERPRINT_H
#define DG_IPMC_FINGERPRINT_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>

/* 16 hex digits + NUL of an RSA-2048 key (IPMC_ERR_ARG for other sizes). */
int ipmc_fingerprint_hex(const EVP_PKEY *key2048, char out[17]);

/* "<name>-<hex>" into out (cap bytes). */
int ipmc_username_add_fingerprint(const char *name, const EVP_PKEY *key2048, char *out, size_t cap);

/*
 * If user ends with "-<" + 16 hex digits + ">", copies the digits (lowercased)
 * into hex (may be NULL) and returns true. Windows only ever appends the field
 * at the end, so a field elsewhere in the name is not a fingerprint.
 */
bool ipmc_username_fingerprint(const char *user, char hex[17]);

/*
 * Checks a peer's name against the RSA-2048 key it sent in ANSPUBKEY:
 * IPMC_OK if the fingerprint matches, IPMC_ERR_NOKEY if the name carries no
 * fingerprint, IPMC_ERR_MISMATCH if it does not match (spoofed or changed key).
 */
int ipmc_username_verify(const char *user, const EVP_PKEY *key2048, char *err, size_t errlen);

#endif
