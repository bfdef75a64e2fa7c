/*
 * RSA primitives as IP Messenger uses them (§6.3): session keys wrapped with
 * RSA PKCS#1 v1.5 encryption (CryptEncrypt with no flags), signatures RSA
 * PKCS#1 v1.5 with SHA-1 or SHA-256 (CryptSignHash). Byte strings here are
 * big-endian (OpenSSL order); Windows reverses CryptoAPI's little-endian
 * output before writing it, so the wire carries the same bytes.
 */
#ifndef DG_IPMC_RSA_H
#define DG_IPMC_RSA_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* out must hold the key size in bytes; *outlen = key size. */
int ipmc_rsa_wrap(const EVP_PKEY *pub, const uint8_t *in, size_t inlen, uint8_t *out,
                  size_t *outlen);

/* IPMC_ERR_KEY when the private key does not open the block. */
int ipmc_rsa_unwrap(const EVP_PKEY *priv, const uint8_t *in, size_t inlen, uint8_t *out, size_t cap,
                    size_t *outlen);

/* sha256 ? SHA-256 : SHA-1. out must hold the key size in bytes. */
int ipmc_rsa_sign(const EVP_PKEY *priv, bool sha256, const uint8_t *msg, size_t len, uint8_t *out,
                  size_t *outlen);

/* IPMC_OK or IPMC_ERR_SIGNATURE. */
int ipmc_rsa_verify(const EVP_PKEY *pub, bool sha256, const uint8_t *msg, size_t len,
                    const uint8_t *sig, size_t siglen);

#endif
