/*
 * Our RSA key pairs on disk (§6.1, §6.2): one 2048-bit pair (AES suite,
 * signatures, fingerprinted user name) and one 1024-bit pair (legacy
 * Blowfish suite), each an unencrypted PKCS#8 PEM file in a directory the
 * caller owns (the identity's home folder).
 *
 * Safety rules, all enforced here:
 * - files are written atomically (temp file 0600, fsync, rename, fsync of
 *   the directory), so a crash leaves the old key or the new one, never half;
 * - a key file that is group/world-accessible, not a regular file, a symlink
 *   or owned by another user is refused with IPMC_ERR_PERM and a reason that
 *   tells the user what to fix; it is never "repaired" silently;
 * - a file that exists but does not hold an RSA private key of the expected
 *   size is refused with IPMC_ERR_CORRUPT and left in place: replacing it
 *   would change our identity (and fingerprint) behind the user's back.
 */
#ifndef DG_IPMC_KEYS_H
#define DG_IPMC_KEYS_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>

#define IPMC_KEYFILE_2048 "ipmsg-rsa2048.pem"
#define IPMC_KEYFILE_1024 "ipmsg-rsa1024.pem"

typedef struct ipmc_keys {
    EVP_PKEY *rsa2048; /* private key, 2048 bits */
    EVP_PKEY *rsa1024; /* private key, 1024 bits */
} ipmc_keys;

/* A fresh RSA key pair of `bits` bits (1024 or 2048), public exponent 65537. */
int ipmc_key_generate(unsigned bits, EVP_PKEY **out, char *err, size_t errlen);

/*
 * Loads the private key at path and checks it is RSA of exactly `bits` bits.
 * IPMC_ERR_NOKEY if the file does not exist; IPMC_ERR_PERM / IPMC_ERR_CORRUPT
 * as described above; IPMC_ERR_IO for other read errors.
 */
int ipmc_key_load(const char *path, unsigned bits, EVP_PKEY **out, char *err, size_t errlen);

/* Writes key (private) to path as PEM, mode 0600, atomically. */
int ipmc_key_save(const char *path, const EVP_PKEY *key, char *err, size_t errlen);

/*
 * Loads both key files from dir, generating and saving any that does not
 * exist yet (dir is created 0700 if missing). *created (may be NULL) tells
 * whether a key was generated. Any other problem with an existing file is
 * returned as is and nothing is written.
 */
int ipmc_keys_load_or_create(const char *dir, ipmc_keys *out, bool *created, char *err,
                             size_t errlen);

/*
 * Loads the key files of dir that exist (dir is created 0700 if missing)
 * and generates nothing: a missing file leaves its member NULL, and
 * *complete tells whether both were there. Any other problem with an
 * existing file is returned as is (nothing is written). Lets a caller keep
 * the slow generation (ipmc_keys_load_or_create) off its start path.
 */
int ipmc_keys_load_existing(const char *dir, ipmc_keys *out, bool *complete, char *err,
                            size_t errlen);

void ipmc_keys_free(ipmc_keys *keys);

#endif
