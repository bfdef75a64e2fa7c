/*
 * The rooms plugin: persistent public and private chat rooms among dengon
 * peers, carried over IPMsg messages by the chat.transport service
 * (docs/protocol/rooms.md, docs/adr/0008-rooms-and-offline-queue.md).
 * This file wires the modules together: the interceptor that takes room
 * envelopes out of the normal message flow, presence, timers, RPC.
 */
#include <dengon/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peers.h"
#include "proto.h"
#include "rpc.h"
#include "state.h"

/* Runs before other interceptors of chat.message.received (docs/events.md). */
#define ROOMS_INTERCEPT_PRIORITY 100
#define SYNC_INTERVAL_DEFAULT_S 300

int64_t rooms_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rooms_now(void)
{
    return (int64_t)time(NULL);
}

/* ---- received envelopes: handled on the loop, outside the interceptor ---- */

static void drain(dg_ctx *ctx, dg_timer *timer, void *user)
{
    rooms_state *st = user;
    st->rx_posted = false; /* one-shot timer: the host removes it after this call */
    while (st->rx_head) {
        rooms_rx *it = st->rx_head;
        st->rx_head = it->next;
        if (!st->rx_head)
            st->rx_tail = NULL;
        proto_receive(st, it->text, it->sender);
        free(it->text);
        free(it->sender);
        free(it);
    }
}

/*
 * chat.message.received: a room envelope is vetoed (it is not a chat message:
 * inbox watchers and the history never see it as one) and queued for the
 * room engine. The engine runs later from a timer because an interceptor runs
 * inside the publisher's call, here the ipmsg plugin's receive path, and the
 * engine calls back into that plugin to send. Anything that merely looks like
 * an envelope but does not parse goes through as the ordinary message it is.
 */
static int on_message(dg_ctx *ctx, const char *topic, const json_t *payload, json_t **replacement,
                      void *user)
{
    rooms_state *st = user;
    const char *text = json_string_value(json_object_get(payload, "text"));
    const char *from = json_string_value(json_object_get(payload, "from"));
    if (!text || !from || strncmp(text, ROOM_MARKER, ROOM_MARKER_LEN) != 0)
        return DG_OK;
    room_env e;
    char err[256];
    if (room_env_parse(text, strlen(text), &e, err, sizeof err) != ROOM_ENV_OK) {
        st->stats.malformed++;
        st->api->log(st->ctx, DG_LOG_INFO,
                     "a message from %s starts like a room envelope but is not one (%s): "
                     "delivered as an ordinary message",
                     from, err);
        return DG_OK;
    }
    room_env_clear(&e);
    rooms_rx *it = calloc(1, sizeof(*it));
    if (!it || !(it->text = strdup(text)) || !(it->sender = strdup(from))) {
        if (it)
            free(it->text);
        free(it);
        st->api->log(st->ctx, DG_LOG_ERROR, "out of memory: room operation from %s lost", from);
        return DG_STOP;
    }
    if (st->rx_tail)
        st->rx_tail->next = it;
    else
        st->rx_head = it;
    st->rx_tail = it;
    if (!st->rx_posted)
        st->rx_posted = st->api->timer_add(st->ctx, 0, 0, drain, st, NULL) != NULL;
    return DG_STOP;
}

static void on_presence(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    rooms_state *st = user;
    rooms_peer *p = peers_update(st, payload);
    if (!p)
        return;
    const char *moved_from = json_string_value(json_object_get(payload, "moved_from"));
    if (moved_from && p->uuid[0] && rstore_members_rekey(st->db, p->uuid, p->key) != 0)
        st->api->log(st->ctx, DG_LOG_WARN, "cannot record that %s moved to %s: %s", moved_from,
                     p->key, rstore_error(st->db));
    if (p->online && p->uuid[0])
        proto_peer_online(st, p->key, p->uuid);
}

/*
 * The peers the transport knows now: when rooms is enabled after start, the
 * presence.changed events of the peers already online were published before
 * it subscribed.
 */
static void seed_peers(rooms_state *st)
{
    json_t *users = st->tp->list_users(st->tp->self);
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u)
    {
        rooms_peer *p = peers_update(st, u);
        if (p && p->online && p->uuid[0])
            proto_peer_online(st, p->key, p->uuid);
    }
    json_decref(users);
}

static void on_sync_timer(dg_ctx *ctx, dg_timer *timer, void *user)
{
    proto_sync_round(user);
}

static void arm_sync(rooms_state *st)
{
    int64_t every =
        st->api->config_get_int(st->ctx, "rooms.sync_interval_s", SYNC_INTERVAL_DEFAULT_S);
    if (every < 0 || every > 86400)
        every = SYNC_INTERVAL_DEFAULT_S;
    if (every == st->sync_every_s && (st->sync_timer || every == 0))
        return;
    if (st->sync_timer)
        st->api->timer_cancel(st->ctx, st->sync_timer);
    st->sync_timer = NULL;
    st->sync_every_s = every;
    if (every > 0)
        st->sync_timer = st->api->timer_add(st->ctx, (uint64_t)every * 1000, (uint64_t)every * 1000,
                                            on_sync_timer, st, NULL);
}

static void on_config(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    const char *key = json_string_value(json_object_get(payload, "key"));
    if (key && strcmp(key, "rooms.sync_interval_s") == 0)
        arm_sync(user);
}

/* ---- lifecycle ---- */

static void state_free(rooms_state *st)
{
    rooms_joins_free(st);
    while (st->rx_head) {
        rooms_rx *it = st->rx_head;
        st->rx_head = it->next;
        free(it->text);
        free(it->sender);
        free(it);
    }
    proto_free(st);
    peers_free(st);
    rstore_close(st->db);
    free(st);
}

static int start_fail(rooms_state *st, int rc)
{
    state_free(st);
    return rc;
}

static int rooms_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    rooms_state *st = calloc(1, sizeof(*st));
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
    const char *uuid = json_string_value(json_object_get(api->identity(ctx), "uuid"));
    if (!uuid || !room_uuid_valid(uuid)) {
        api->log(ctx, DG_LOG_ERROR, "this node has no identity UUID");
        return start_fail(st, DG_ERR);
    }
    memcpy(st->me, uuid, sizeof st->me);
    for (char *c = st->me; *c; c++)
        if (*c >= 'A' && *c <= 'F')
            *c = (char)(*c - 'A' + 'a');
    const char *dir = api->data_dir(ctx);
    char path[4096], err[4200];
    if (!dir || (size_t)snprintf(path, sizeof path, "%s/rooms.db", dir) >= sizeof path) {
        api->log(ctx, DG_LOG_ERROR, "no data folder");
        return start_fail(st, DG_ERR);
    }
    if (rstore_open(path, &st->db, err, sizeof err) != 0) {
        api->log(ctx, DG_LOG_ERROR, "%s", err);
        return start_fail(st, DG_ERR);
    }
    /* Never dropped: proto.c publishes them with publish_ordered. */
    int rc = api->topic_declare(ctx, "chat.room.message", DG_OVERFLOW_BLOCK);
    if (rc == DG_OK)
        rc = api->topic_declare(ctx, "chat.room.member", DG_OVERFLOW_BLOCK);
    if (rc != DG_OK) {
        api->log(ctx, DG_LOG_ERROR, "cannot declare the chat.room topics (%d)", rc);
        return start_fail(st, rc);
    }
    if (!api->intercept(ctx, "chat.message.received", ROOMS_INTERCEPT_PRIORITY, on_message, st,
                        NULL) ||
        !api->subscribe(ctx, "presence.changed", 0, 4096, on_presence, st, NULL) ||
        !api->subscribe(ctx, "core.config.changed", 0, 0, on_config, st, NULL)) {
        api->log(ctx, DG_LOG_ERROR, "cannot subscribe");
        return start_fail(st, DG_ERR);
    }
    rc = rooms_rpc_register(st);
    if (rc != DG_OK)
        return start_fail(st, rc);
    srand((unsigned)rooms_now_ms() ^ (unsigned)st->me[0]);
    arm_sync(st);
    seed_peers(st);
    *state = st;
    return DG_OK;
}

static void rooms_stop(dg_ctx *ctx, void *state)
{
    rooms_state *st = state;
    if (st)
        state_free(st);
}

static const dg_plugin_descriptor rooms_descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "rooms", rooms_start, rooms_stop, {NULL, NULL, NULL, NULL},
};

DG_PLUGIN_DEFINE(rooms_descriptor)
