/*
 * Service "crypto.keys", version 1: what the crypto plugin lends other
 * plugins of its keys without handing them out (docs/protocol/files-encryption.md).
 * Obtain it with
 *
 *     size_t size;
 *     const dg_crypto_keys_v1 *k = api->service_require(ctx, "crypto.keys", 1, &size);
 *
 * and list "crypto.keys@1" in the manifest's requires. Bodies are sealed and
 * opened exactly like encrypted message bodies (docs/ipmsg-protocol.md §6.3):
 * RSA-2048 + AES-256-CBC with the packet number as IV, base64, SHA-256
 * signature with our key. The private keys never leave the crypto plugin.
 *
 * Every function runs on the loop thread. On a first start the key pairs
 * may still be being made: functions then return DG_CRYPTO_KEYS_NOT_READY.
 * Like the other service tables, this one only grows at its end.
 */
#ifndef DENGON_CRYPTO_KEYS_H
#define DENGON_CRYPTO_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define DG_CRYPTO_KEYS_SERVICE "crypto.keys"
#define DG_CRYPTO_KEYS_VERSION 1

/* Our key pairs are not there yet (being generated): try again later. */
#define DG_CRYPTO_KEYS_NOT_READY (-2)

typedef struct dg_crypto_keys_v1 {
    uint32_t struct_size;
    void *self; /* pass as the first argument of every function */
    /*
     * Whether peer (its user@host key, without a fingerprint field, ADR 0017)
     * whose wire user name is user can take sealed bodies from us and sign
     * for us (§6.6): user is fingerprinted (§6.4), the key pinned for peer is
     * trusted, RSA-2048, and matches that fingerprint. 1 yes, 0 no (why in
     * err), DG_CRYPTO_KEYS_NOT_READY.
     */
    int (*qualifies)(void *self, const char *peer, const char *user, char *err, size_t errlen);
    /*
     * Encrypts plain[0..len) for peer's (user@host key) trusted RSA-2048 key
     * and signs it with ours (SHA-256); packet_no is the IV. 0 with *extra (malloc'd,
     * "<capa>:<key>:<body>:<sig>"), -1 with err, DG_CRYPTO_KEYS_NOT_READY.
     */
    int (*seal)(void *self, const char *peer, uint32_t packet_no, const void *plain, size_t len,
                char **extra, char *err, size_t errlen);
    /*
     * Decrypts extra[0..len) with our key (packet_no: the field as received)
     * and verifies its signature with the trusted key of sender ("<wire user
     * name>@host" as a packet header has it: a fingerprint field is dropped
     * to find the key, and must then match it). 0 with *plain (malloc'd,
     * NUL-terminated, *plain_len bytes with the NUL), *verified (1: signed by
     * the trusted key pinned for the sender; 0: unsigned, unknown or changed
     * key; a bad signature is an error) and peer (the sender's user@host key,
     * cap bytes), -1 with err, DG_CRYPTO_KEYS_NOT_READY.
     */
    int (*open)(void *self, const char *sender, const char *packet_no, size_t packet_no_len,
                const char *extra, size_t len, char **plain, size_t *plain_len, int *verified,
                char *peer, size_t cap, char *err, size_t errlen);
    /*
     * Our user name as peers must see it to verify our signatures: base with
     * our fingerprint appended (§6.4) unless it already carries it. 0, -1
     * when out is too small, DG_CRYPTO_KEYS_NOT_READY.
     */
    int (*own_user)(void *self, const char *base, char *out, size_t cap);
} dg_crypto_keys_v1;

#define DG_CRYPTO_KEYS_HAS(t, size, member)                                                        \
    ((t) != NULL && offsetof(dg_crypto_keys_v1, member) + sizeof((t)->member) <= (size_t)(size) && \
     (t)->member != NULL)

#endif
