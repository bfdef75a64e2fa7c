/*
 * Ed25519 keys (OpenSSL EVP), key ids, raw signatures and base64: what the
 * licence and the policy signatures are made of.
 *
 * Keys are PEM files as `openssl genpkey -algorithm ed25519` and
 * `openssl pkey -pubout` write them. A key id is the first 8 bytes of
 * SHA-256 over the 32-byte raw public key, as 16 lowercase hex digits: short
 * enough to print, and it lets a refusal say "signed by a key this
 * installation does not trust" instead of only "bad signature".
 */
#ifndef DG_LICENCE_KEYS_H
#define DG_LICENCE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define DG_KEY_ID_LEN 16     /* hex digits, without the NUL */
#define DG_SIG_BYTES 64      /* an Ed25519 signature */
#define DG_KEY_NAME_MAX 64   /* bytes in a key's name ("vendor", "reseller-a") */
#define DG_KEY_FILE_MAX 4096 /* bytes in a PEM key file */

typedef struct dg_key dg_key;         /* one public (or private) key */
typedef struct dg_keyring dg_keyring; /* trusted public keys, by name */

/*
 * Reads a PEM public key (or a private key, whose public half is used).
 * Returns NULL with a reason in err when it is not an Ed25519 key.
 */
dg_key *dg_key_from_pem(const char *pem, size_t len, char *err, size_t errlen);
dg_key *dg_key_load(const char *path, char *err, size_t errlen);
/* A private key for signing (PEM "PRIVATE KEY"); NULL with a reason otherwise. */
dg_key *dg_key_load_private(const char *path, char *err, size_t errlen);
/* A new random key pair (for tests and `dengon-licence keygen`). */
dg_key *dg_key_generate(void);
void dg_key_free(dg_key *key);
const char *dg_key_id(const dg_key *key); /* 16 hex digits */
int dg_key_is_private(const dg_key *key);
/* PEM text of the public key, or of the private key (private must be set); new string. */
char *dg_key_pem(const dg_key *key, int private_part);

/* Signs msg with a private key into sig (64 bytes). 0 or -1. */
int dg_key_sign(const dg_key *key, const void *msg, size_t len, unsigned char sig[DG_SIG_BYTES]);
/* 1 when sig is key's signature of msg, else 0. */
int dg_key_verify(const dg_key *key, const void *msg, size_t len,
                  const unsigned char sig[DG_SIG_BYTES]);

dg_keyring *dg_keyring_new(void);
void dg_keyring_free(dg_keyring *ring);
/* Takes key (also on failure). DG_EEXIST if the name or the key is already there. */
int dg_keyring_add(dg_keyring *ring, const char *name, dg_key *key);
size_t dg_keyring_size(const dg_keyring *ring);
/* The key with this id, its name in *name (borrowed); NULL if none. */
const dg_key *dg_keyring_find(const dg_keyring *ring, const char *key_id, const char **name);
/* i-th key and its name (borrowed), for listings. */
const dg_key *dg_keyring_get(const dg_keyring *ring, size_t i, const char **name);

/*
 * Base64 (RFC 4648 standard alphabet, '=' padding, no line breaks).
 * dg_base64_encode: new string. dg_base64_decode: strict (any other
 * character, bad padding or a length that is not a multiple of 4 fails);
 * returns the number of bytes written to out (at most max), or -1.
 */
char *dg_base64_encode(const unsigned char *data, size_t len);
long dg_base64_decode(const char *text, unsigned char *out, size_t max);

#endif
