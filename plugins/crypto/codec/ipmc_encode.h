/*
 * Binary <-> text for the encrypted fields (§6.3): lowercase hex (what
 * Windows writes; both cases are read) or standard base64 with '=' padding
 * and no line breaks (CryptBinaryToString with the CRLFs stripped) when
 * ENCODE_BASE64 is in the capability word. Decoders are strict: any
 * character outside the alphabet, an odd hex length or misplaced padding is
 * IPMC_ERR_FORMAT, never a silent truncation (Windows' own decoders stop at
 * the first bad character, which would hide tampering).
 */
#ifndef DG_IPMC_ENCODE_H
#define DG_IPMC_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes 2n lowercase hex digits and a NUL; returns 2n. */
size_t ipmc_hex_encode(const uint8_t *in, size_t n, char *out);

/* Decodes exactly slen characters into out (capacity cap). */
int ipmc_hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen);

/* Characters ipmc_b64_encode writes for n bytes (without the NUL). */
size_t ipmc_b64_len(size_t n);
/* Writes base64 and a NUL; returns the length. */
size_t ipmc_b64_encode(const uint8_t *in, size_t n, char *out);
int ipmc_b64_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen);

/* Hex or base64 into a malloc'd NUL-terminated string (NULL on OOM). */
char *ipmc_field_encode(bool b64, const uint8_t *in, size_t n);

/* Hex or base64 into a malloc'd buffer (*out, *outlen); empty input is an error. */
int ipmc_field_decode(bool b64, const char *s, size_t slen, uint8_t **out, size_t *outlen);

#endif
