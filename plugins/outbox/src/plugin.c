/*
 * The outbox plugin: the offline queue. Messages for users who are offline
 * wait in <data_dir>/outbox.db and go out, in order, through the
 * chat.transport service when their recipient comes online
 * (docs/protocol/rooms.md "Offline queue", docs/adr/0008-rooms-and-offline-queue.md).
 * This file wires the modules together: subscriptions, timers, RPC.
 */
#include <dengon/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deliver.h"
#include "rpc.h"
#include "state.h"

#define RETRY_DEFAULT_S 300
/* Expiry and purge are in days: once an hour is often enough. */
#define HOUSEKEEPING_MS (3600u * 1000u)

int64_t ob_now(void)
{
    return (int64_t)time(NULL);
}

static void on_delivered(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    deliver_on_result(user, payload, true);
}

static void on_failed(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    deliver_on_result(user, payload, false);
}

static void on_presence(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    deliver_on_presence(user, payload);
}

static void on_retry(dg_ctx *ctx, dg_timer *timer, void *user)
{
    deliver_flush_all(user);
}

static void on_housekeeping(dg_ctx *ctx, dg_timer *timer, void *user)
{
    deliver_housekeeping(user);
}

/* (Re)arms the retry round from outbox.retry_interval_s (0 = presence changes only). */
static void arm_retry(outbox_state *st)
{
    int64_t every = st->api->config_get_int(st->ctx, "outbox.retry_interval_s", RETRY_DEFAULT_S);
    if (every < 0 || every > 86400)
        every = RETRY_DEFAULT_S;
    if (every == st->retry_every_s && (st->retry_timer || every == 0))
        return;
    if (st->retry_timer)
        st->api->timer_cancel(st->ctx, st->retry_timer);
    st->retry_timer = NULL;
    st->retry_every_s = every;
    if (every > 0)
        st->retry_timer = st->api->timer_add(st->ctx, (uint64_t)every * 1000,
                                             (uint64_t)every * 1000, on_retry, st, NULL);
}

static void on_config(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    const char *key = json_string_value(json_object_get(payload, "key"));
    if (key && strcmp(key, "outbox.retry_interval_s") == 0)
        arm_retry(user);
    else if (key &&
             (strcmp(key, "outbox.expire_days") == 0 || strcmp(key, "outbox.keep_days") == 0))
        deliver_housekeeping(user);
}

/* The queue.message.* topics: never dropped (published with deliver_publish). */
static int declare_topics(outbox_state *st)
{
    static const char *const topics[] = {"queue.message.queued", "queue.message.delivered",
                                         "queue.message.failed", "queue.message.discarded"};
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++) {
        int rc = st->api->topic_declare(st->ctx, topics[i], DG_OVERFLOW_BLOCK);
        if (rc != DG_OK) {
            st->api->log(st->ctx, DG_LOG_ERROR, "cannot declare topic %s (%d)", topics[i], rc);
            return rc;
        }
    }
    return DG_OK;
}

static void state_free(outbox_state *st)
{
    deliver_free(st);
    qstore_close(st->db);
    free(st);
}

static int start_fail(outbox_state *st, int rc)
{
    state_free(st);
    return rc;
}

static int outbox_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    outbox_state *st = calloc(1, sizeof(*st));
    if (!st)
        return DG_ENOMEM;
    st->ctx = ctx;
    st->api = api;
    size_t size = 0;
    st->tp = api->service_require(ctx, DG_CHAT_TRANSPORT_SERVICE, 1, &size);
    if (!st->tp || size < sizeof(dg_chat_transport_v1)) {
        api->log(ctx, DG_LOG_ERROR, "needs the %s@1 service (the ipmsg plugin)",
                 DG_CHAT_TRANSPORT_SERVICE);
        return start_fail(st, DG_ENOENT);
    }
    const char *dir = api->data_dir(ctx);
    char path[4096], err[4200];
    if (!dir || (size_t)snprintf(path, sizeof path, "%s/outbox.db", dir) >= sizeof path) {
        api->log(ctx, DG_LOG_ERROR, "no data folder");
        return start_fail(st, DG_ERR);
    }
    if (qstore_open(path, &st->db, err, sizeof err) != 0) {
        api->log(ctx, DG_LOG_ERROR, "%s", err);
        return start_fail(st, DG_ERR);
    }
    int rc = declare_topics(st);
    if (rc != DG_OK)
        return start_fail(st, rc);
    /* Deep queues: these events must not make the ipmsg plugin wait. */
    if (!api->subscribe(ctx, "chat.message.delivered", 0, 65536, on_delivered, st, NULL) ||
        !api->subscribe(ctx, "chat.message.failed", 0, 65536, on_failed, st, NULL) ||
        !api->subscribe(ctx, "presence.changed", 0, 4096, on_presence, st, NULL) ||
        !api->subscribe(ctx, "core.config.changed", 0, 0, on_config, st, NULL) ||
        !api->timer_add(ctx, HOUSEKEEPING_MS, HOUSEKEEPING_MS, on_housekeeping, st, NULL)) {
        api->log(ctx, DG_LOG_ERROR, "cannot subscribe");
        return start_fail(st, DG_ERR);
    }
    rc = outbox_rpc_register(st);
    if (rc != DG_OK)
        return start_fail(st, rc);
    arm_retry(st);
    deliver_housekeeping(st);
    /* Recipients the transport already lists (after a plugin restart) get their messages now. */
    deliver_flush_all(st);
    *state = st;
    return DG_OK;
}

static void outbox_stop(dg_ctx *ctx, void *state)
{
    outbox_state *st = state;
    if (st)
        state_free(st);
}

static const dg_plugin_descriptor outbox_descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "outbox", outbox_start, outbox_stop, {NULL, NULL, NULL, NULL},
};

DG_PLUGIN_DEFINE(outbox_descriptor)
