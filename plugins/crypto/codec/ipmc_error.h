/*
 * Status codes of the IPMsg crypto library. Every fallible function returns
 * IPMC_OK (0) or one of the negative codes below and, when the caller passes
 * a buffer, writes a one-line English reason into it ("signature does not
 * match the sender's RSA-2048 key", ...). The codes are what callers branch
 * on (e.g. which auto-reply to send); the text is for logs and events.
 */
#ifndef DG_IPMC_ERROR_H
#define DG_IPMC_ERROR_H

#include <stddef.h>

typedef enum ipmc_status {
    IPMC_OK = 0,
    IPMC_ERR_ARG = -1,       /* caller error: NULL, wrong key size, buffer too small */
    IPMC_ERR_FORMAT = -2,    /* malformed wire text (fields, hex, base64, lengths) */
    IPMC_ERR_SUITE = -3,     /* capability word names no suite we implement */
    IPMC_ERR_KEY = -4,       /* session key does not unwrap with our private key */
    IPMC_ERR_PADDING = -5,   /* CBC padding wrong after decryption */
    IPMC_ERR_SIGNATURE = -6, /* signature present but does not verify */
    IPMC_ERR_NOKEY = -7,     /* a key needed for the operation is missing */
    IPMC_ERR_IO = -8,        /* key file could not be read/written */
    IPMC_ERR_PERM = -9,      /* key file readable by others or not owned by us */
    IPMC_ERR_CORRUPT = -10,  /* key file exists but is not a usable key */
    IPMC_ERR_CRYPTO = -11,   /* OpenSSL failed (out of memory, provider missing) */
    IPMC_ERR_REPLAY = -12,   /* §6.6 request number not above the last one */
    IPMC_ERR_MISMATCH = -13, /* fingerprint in a user name does not match the key */
} ipmc_status;

/* Short constant name of a status ("bad format", "wrong key", ...). */
const char *ipmc_status_str(int status);

/*
 * Writes "fmt..." into err (if err && errlen) and returns status, so error
 * paths read `return ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "...")`.
 */
int ipmc_fail(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
