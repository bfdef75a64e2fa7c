/* The outbox plugin's state, shared by its modules. */
#ifndef DG_OUTBOX_STATE_H
#define DG_OUTBOX_STATE_H

#include <dengon/chat_transport.h>
#include <dengon/plugin.h>

#include <stdbool.h>
#include <stdint.h>

#include "qstore.h"

/* A queued message handed to the transport, waiting for its delivered/failed event. */
typedef struct ob_inflight {
    struct ob_inflight *next;
    int64_t row;         /* queue id */
    uint32_t message_id; /* transport id */
    char *key;           /* recipient */
} ob_inflight;

typedef struct outbox_state {
    dg_ctx *ctx;
    const dg_host_api *api;
    const dg_chat_transport_v1 *tp;
    qstore *db;
    ob_inflight *inflight;
    dg_timer *retry_timer;
    int64_t retry_every_s;
} outbox_state;

int64_t ob_now(void);

#endif
