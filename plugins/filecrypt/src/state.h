/*
 * The filecrypt plugin's state (docs/protocol/files-encryption.md). The
 * files.crypto hooks run on the files plugin's transfer threads; what needs
 * the loop thread (the crypto.keys and chat.transport services, events) is
 * handed there and waited for (onloop.h). The cipher streams are used by one
 * transfer thread each.
 */
#ifndef DG_FC_STATE_H
#define DG_FC_STATE_H

#include <dengon/chat_transport.h>
#include <dengon/crypto_keys.h>
#include <dengon/files_crypto.h>
#include <dengon/plugin.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct fc_call;

typedef struct fc_state {
    dg_ctx *ctx;
    const dg_host_api *api;
    const dg_chat_transport_v1 *t;
    size_t tsize;
    const dg_crypto_keys_v1 *keys;
    size_t ksize;
    const dg_files_crypto_v1 *files;
    size_t fsize;
    dg_files_crypto_hooks hooks;
    bool installed, capability;
    char user[128]; /* our identity's user name (before the fingerprint) */

    /* Calls handed to the loop thread (onloop.c). */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct fc_call *queue;
    bool stopping;

    /* Replay guard (loop thread): the last request number accepted per peer. */
    json_t *last_req;
} fc_state;

#endif
