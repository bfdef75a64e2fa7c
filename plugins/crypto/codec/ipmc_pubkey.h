/*
 * RSA public keys in the IPMsg wire form (§6.2): "<exponent HEX>-<modulus
 * hex>", e.g. "10001-c3a1...". Windows keeps keys little-endian (CryptoAPI
 * blobs) and reverses them on output, so on the wire the modulus is plain
 * big-endian, exactly KeyLen bytes (256 or 128) = 512 or 256 hex digits, and
 * the exponent is printf("%X") of a 32-bit value.
 */
#ifndef DG_IPMC_PUBKEY_H
#define DG_IPMC_PUBKEY_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Key size in bits (0 if key is NULL or not RSA). */
unsigned ipmc_key_bits(const EVP_PKEY *key);

/* Big-endian modulus, exactly bits/8 bytes, into buf (cap >= bits/8). */
int ipmc_key_modulus(const EVP_PKEY *key, uint8_t *buf, size_t cap, size_t *len);

/* "<E HEX>-<n hex>" of a 1024/2048-bit RSA key (private or public): malloc'd. */
int ipmc_pubkey_to_wire(const EVP_PKEY *key, char **out, char *err, size_t errlen);

/*
 * Parses exactly len bytes of s as "<E>-<n>": E 1..8 hex digits, odd and >= 3;
 * n 256 or 512 hex digits with the top bit set (a true 1024/2048-bit modulus).
 * Anything else is IPMC_ERR_FORMAT with the reason.
 */
int ipmc_pubkey_from_wire(const char *s, size_t len, EVP_PKEY **out, char *err, size_t errlen);

/* A public-only copy of key (for handing our public key around). */
EVP_PKEY *ipmc_pubkey_public_copy(const EVP_PKEY *key);

/* Same public key (n and e)? */
bool ipmc_pubkey_equal(const EVP_PKEY *a, const EVP_PKEY *b);

#endif
