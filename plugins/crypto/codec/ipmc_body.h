/*
 * Encrypted SENDMSG bodies (§6.3), the extra field of SENDMSG|ENCRYPTOPT:
 *
 *   <capa HEX>:<wrapped session key>:<ciphertext>[:<signature>]
 *
 * - capa: the suite word from ipmc_suite_choose() (e.g. 41900004);
 * - wrapped key: 32 random bytes (AES-256) or 16 (Blowfish-128) encrypted to
 *   the recipient's RSA-2048 / RSA-1024 key with PKCS#1 v1.5;
 * - ciphertext: the plaintext (ipmc_plain.h) in CBC with PKCS#7 padding and
 *   the IV of ipmc_cbc.h;
 * - signature (capa has SIGN_SHA256 or SIGN_SHA1; SHA-256 wins if both):
 *   RSA PKCS#1 v1.5 over the exact plaintext bytes, NULs and extensions
 *   included, made with the SENDER's RSA-2048 key;
 * - every binary field is lowercase hex, or base64 with ENCODE_BASE64;
 *   RSA values are big-endian.
 */
#ifndef DG_IPMC_BODY_H
#define DG_IPMC_BODY_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipmc_keys.h"
#include "ipmc_suite.h"

typedef struct ipmc_body_in {
    uint32_t capa;            /* suite word (ipmc_suite_choose) */
    uint32_t packet_no;       /* packet number of the datagram carrying it (IV) */
    const EVP_PKEY *peer_key; /* recipient's key: 2048 (AES) or 1024 (Blowfish) bits */
    const EVP_PKEY *sign_key; /* our RSA-2048 private key; needed if capa has SIGN_* */
} ipmc_body_in;

/* Encrypts plain[0..len) (already composed, NULs included). *out malloc'd. */
int ipmc_body_encrypt_raw(const ipmc_body_in *in, const uint8_t *plain, size_t len, char **out,
                          char *err, size_t errlen);

/* Composes text/attach/tolist (ipmc_plain_compose) and encrypts. */
int ipmc_body_encrypt(const ipmc_body_in *in, const char *text, const char *attach,
                      const char *tolist, char **out, char *err, size_t errlen);

typedef enum ipmc_sig {
    IPMC_SIG_NONE = 0,   /* suite is unsigned (capa had no SIGN_* bit) */
    IPMC_SIG_SHA1_OK,    /* signature verified with the sender's key, SHA-1 */
    IPMC_SIG_SHA256_OK,  /* signature verified with the sender's key, SHA-256 */
    IPMC_SIG_UNVERIFIED, /* signed, but no sender key was given: NOT verified */
} ipmc_sig;

const char *ipmc_sig_name(ipmc_sig s);

typedef struct ipmc_body_out {
    uint32_t capa;
    ipmc_suite suite;
    ipmc_sig sig;
    uint8_t *plain; /* whole decrypted plaintext, malloc'd, ends with NUL */
    size_t plain_len;
    const char *text;   /* into plain */
    const char *attach; /* into plain, or NULL (ext only) */
    const char *tolist; /* into plain, or NULL (ext only) */
} ipmc_body_out;

typedef struct ipmc_body_src {
    const char *extra;      /* the field, not necessarily NUL-terminated */
    size_t len;             /* its length (up to the first NUL of the datagram) */
    const char *packet_no;  /* header's packet-number field as received (IV) */
    bool ext;               /* command had ENCEXTMSGOPT: split attach/TO lists */
    const EVP_PKEY *sender; /* sender's RSA-2048 public key, or NULL if unknown */
} ipmc_body_src;

/*
 * Decrypts with ours->rsa2048 or ours->rsa1024 (by suite) and, if signed
 * and sender is given, verifies. On IPMC_OK, *out holds the plaintext and
 * out->sig says what was verified. On failure nothing is returned (out is
 * zeroed) and the code says why: IPMC_ERR_FORMAT (fields/encoding/lengths,
 * plaintext not NUL-terminated), IPMC_ERR_SUITE, IPMC_ERR_NOKEY (we lack the
 * suite's private key), IPMC_ERR_KEY (session key does not unwrap: not for
 * our key, or corrupted), IPMC_ERR_PADDING, IPMC_ERR_SIGNATURE,
 * IPMC_ERR_ARG (sender key is not RSA-2048), IPMC_ERR_CRYPTO.
 */
int ipmc_body_decrypt(const ipmc_body_src *src, const ipmc_keys *ours, ipmc_body_out *out,
                      char *err, size_t errlen);

void ipmc_body_out_free(ipmc_body_out *out);

#endif
