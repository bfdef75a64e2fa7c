/*
 * The crypto plugin's state (docs/protocol/ipmsg-crypto.md "Wiring"): our
 * key pairs, the peers' keys (pinned in SQLite, cached here) and the hooks
 * handed to the ipmsg plugin. Everything runs on the loop thread.
 */
#ifndef DG_CR_STATE_H
#define DG_CR_STATE_H

#include <dengon/chat_crypto.h>
#include <dengon/chat_transport.h>
#include <dengon/plugin.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipmc_keys.h"

struct cr_state;

/* A peer's key as we know it (one per user@host). */
typedef struct cr_peer {
    struct cr_peer *next;
    struct cr_state *st;
    char *key;         /* user@host */
    uint32_t capa;     /* from its ANSPUBKEY (0: never answered) */
    EVP_PKEY *pub;     /* the pinned key the user trusts, or NULL */
    EVP_PKEY *pending; /* a different key the peer now shows: not trusted until accepted */
    uint32_t pending_capa;
    bool asked;   /* GETPUBKEY sent during this run */
    bool waiting; /* messages held for its answer (timer running) */
    dg_timer *timer;
} cr_peer;

typedef struct cr_state {
    dg_ctx *ctx;
    const dg_host_api *api;
    const dg_chat_transport_v1 *t;
    size_t tsize;
    ipmc_keys keys; /* both set once ready */
    bool ready;     /* our keys are loaded: encryption is advertised */
    struct {        /* the worker making missing keys (keygen.c) */
        pthread_t th;
        bool running;   /* started and not joined */
        int rc;         /* written by the worker, read after the join */
        ipmc_keys keys; /* idem */
        char dir[PATH_MAX];
        char err[256];
    } gen;
    sqlite3 *db;
    cr_peer *peers;
    bool allow_plain_pinned; /* crypto.allow_plaintext_to_pinned */
    bool fingerprint_name;   /* crypto.fingerprint_name (read at start: the name is per run) */
    int64_t key_timeout_ms;  /* crypto.key_timeout_ms */
    dg_chat_crypto_hooks hooks;
    bool hooked;
} cr_state;

int64_t cr_now(void);

#endif
