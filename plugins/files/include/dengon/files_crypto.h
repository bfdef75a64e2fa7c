/*
 * Service "files.crypto", version 1: how an optional provider (the premium
 * filecrypt plugin) encrypts file transfers the IP Messenger v4 way
 * (docs/ipmsg-protocol.md §6.6, docs/protocol/files-encryption.md). Obtain it
 * with
 *
 *     size_t size;
 *     const dg_files_crypto_v1 *fc = api->service_require(ctx, "files.crypto", 1, &size);
 *
 * and list "files.crypto@1" in the manifest's requires. The files plugin
 * keeps the transfers (sockets, files, directory streams); the provider
 * keeps the keys and the cryptography. Without a provider nothing changes.
 *
 * Threading: unlike the chat hooks, these hooks are called on the files
 * plugin's transfer threads, and may block (a provider that needs its loop
 * thread posts there and waits). set_provider runs on the loop thread;
 * removing the provider waits until no hook call is running and no stream
 * is alive (the transfers using one are stopped first). Like the transport
 * table, the hooks table only grows at its end (struct_size).
 */
#ifndef DENGON_FILES_CRYPTO_H
#define DENGON_FILES_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define DG_FILES_CRYPTO_SERVICE "files.crypto"
#define DG_FILES_CRYPTO_VERSION 1

/* The provider's stream cipher state of one transfer (AES-256-CTR, §6.6). */
typedef struct dg_files_crypto_stream dg_files_crypto_stream;

/* Client side: what seal_request made for one GETDIRFILES request. */
typedef struct dg_files_crypto_sealed {
    char *extra;                    /* the ENCRYPTOPT request's extra, malloc'd */
    uint32_t opts;                  /* command options to add: ENCRYPTOPT|ENCFILEOPT */
    dg_files_crypto_stream *stream; /* decrypts the answer (headers included), or NULL */
    char user[128];                 /* user name for the request header ("" = ours) */
} dg_files_crypto_sealed;

/* Server side: a request the provider decrypted and verified. */
typedef struct dg_files_crypto_request {
    uint32_t share_pkt; /* packet number of the offer */
    uint32_t file_id;
    int has_offset;
    uint64_t offset;
    dg_files_crypto_stream *stream; /* encrypts the answer, or NULL (NOENC_FILEBODY) */
    int verified;                   /* 1: signed by the requester's pinned key */
    char peer[256];                 /* verified: the requester's user@host key (no fingerprint) */
} dg_files_crypto_request;

typedef struct dg_files_crypto_hooks {
    uint32_t struct_size;
    /*
     * Client: before a download request to peer (the offer's sender,
     * user@host) for file file_id of offer share_pkt; req_pkt is the
     * request's packet number. has_offset: a GETFILEDATA from offset (a
     * regular file resumed), else a GETDIRFILES (a folder, or a regular file
     * from its start, as IP Messenger v4 asks). 1: the peer qualifies, *out
     * is filled; 0: send the plain request; -1: the download fails with err.
     */
    int (*seal_request)(void *user, const char *peer, uint32_t req_pkt, uint32_t share_pkt,
                        uint32_t file_id, int has_offset, uint64_t offset,
                        dg_files_crypto_sealed *out, char *err, size_t errlen);
    /*
     * Server: a request with ENCRYPTOPT. peer: user@host from its header;
     * address: "a.b.c.d" it came from; packet_no: the header's field as
     * received (the IV); command: the whole command word (GETFILEDATA or
     * GETDIRFILES with its options); extra[0..len).
     * 0 with *out filled, or -1 with the reason in err (refused: no answer).
     */
    int (*open_request)(void *user, const char *peer, const char *address, const char *packet_no,
                        size_t packet_no_len, uint32_t command, const char *extra, size_t len,
                        dg_files_crypto_request *out, char *err, size_t errlen);
    /* XORs the next len bytes of key stream into buf. 0 or -1. */
    int (*stream_apply)(dg_files_crypto_stream *s, uint8_t *buf, size_t len);
    void (*stream_free)(dg_files_crypto_stream *s);
} dg_files_crypto_hooks;

typedef struct dg_files_crypto_v1 {
    uint32_t struct_size;
    void *self; /* pass as the first argument of every function */
    /*
     * Installs the provider (hooks must stay valid until removed), or removes
     * it with NULL. Only one provider: -1 when another one is set.
     */
    int (*set_provider)(void *self, const dg_files_crypto_hooks *hooks, void *user);
} dg_files_crypto_v1;

/* True when the provider's hooks table (of size struct_size) has member and it is set. */
#define DG_FILES_CRYPTO_HAS(h, member)                                                             \
    ((h) != NULL &&                                                                                \
     offsetof(dg_files_crypto_hooks, member) + sizeof((h)->member) <= (size_t)(h)->struct_size &&  \
     (h)->member != NULL)

#endif
