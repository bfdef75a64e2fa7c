/*
 * What the plugin hears on the bus: presence.changed (the directory's input),
 * chat.message.sent/received (first exchange: low -> medium), changes of its
 * config keys, and overflow notices telling it that presence events were
 * dropped for it (then it resyncs from the transport).
 */
#include <stdlib.h>
#include <string.h>

#include "state.h"

/*
 * Presence arrives in bursts (a segment booting: thousands of entries). A
 * queue this deep absorbs one; beyond it events are dropped (drop_oldest) and
 * the overflow notice triggers a resync.
 */
#define PRESENCE_QUEUE 65536
/* Message topics never drop: a full queue makes the publisher retry later. */
#define MESSAGE_QUEUE 4096

static void on_presence(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    us_state *st = user;
    us_event ev;
    char err[256];
    if (us_event_parse(payload, &ev, err, sizeof err) != 0) {
        st->api->log(ctx, DG_LOG_WARN, "presence event ignored: %s", err);
        return;
    }
    us_applied r = us_dir_apply(&st->dir, &ev, us_now(st), us_new_level(st));
    if (r.change == US_CHANGE_ERROR) {
        st->api->log(ctx, DG_LOG_ERROR, "out of memory: %s@%s not recorded", ev.user, ev.host);
        return;
    }
    /* Delete before put: the merged row takes over the old row's UUID (UNIQUE). */
    if (r.merged_from) {
        st->api->log(ctx, DG_LOG_INFO, "%s is now %s (same identity %s): merged, no ghost",
                     r.merged_from, r.user->key, r.user->uuid[0] ? r.user->uuid : "(none)");
        us_unsave(st, r.merged_from);
    }
    us_save(st, r.user);
    static const char *const names[] = {
        [US_CHANGE_NEW] = "new", [US_CHANGE_UPDATED] = "updated", [US_CHANGE_MERGED] = "merged"};
    if (r.change != US_CHANGE_NONE)
        us_publish(st, r.user, names[r.change], r.merged_from);
    free(r.merged_from);
}

static void exchanged(us_state *st, const char *who)
{
    us_user *u;
    int rc = us_dir_exchange(&st->dir, who, us_now(st), &u);
    if (rc <= 0)
        return;
    us_save(st, u);
    if (rc == 2) {
        st->api->log(st->ctx, DG_LOG_DEBUG, "%s: low -> medium after the first exchange", u->key);
        us_publish(st, u, "promoted", NULL);
    }
}

static void on_message(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    us_state *st = user;
    /* Broadcasts and automatic replies are not an exchange with someone. */
    if (json_is_true(json_object_get(payload, "broadcast")) ||
        json_is_true(json_object_get(payload, "auto_reply")))
        return;
    if (strcmp(topic, "chat.message.received") == 0) {
        const char *from = json_string_value(json_object_get(payload, "from"));
        if (from)
            exchanged(st, from);
        return;
    }
    const json_t *to = json_object_get(payload, "to");
    if (json_is_string(to)) {
        exchanged(st, json_string_value(to));
        return;
    }
    size_t i;
    const json_t *t;
    json_array_foreach(to, i, t) if (json_is_string(t)) exchanged(st, json_string_value(t));
}

static void on_config(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    const char *key = json_string_value(json_object_get(payload, "key"));
    /* A shorter limit applies now, not tomorrow. */
    if (key && strcmp(key, "users.offline_days") == 0)
        json_decref(us_maintain(user));
}

static void on_resync(dg_ctx *ctx, dg_timer *timer, void *user)
{
    us_state *st = user;
    st->resync_queued = false;
    us_resync(st);
}

static void queue_resync(us_state *st)
{
    if (st->resync_queued)
        return;
    /* A one-shot on the next loop turn: one resync for a whole burst of notices. */
    st->resync_queued = st->api->timer_add(st->ctx, 0, 0, on_resync, st, NULL) != NULL;
}

static void on_overflow(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    us_state *st = user;
    const char *who = json_string_value(json_object_get(payload, "subscriber"));
    const char *lost = json_string_value(json_object_get(payload, "topic"));
    if (!who || !lost || strcmp(who, st->api->plugin_id(ctx)) != 0 ||
        strcmp(lost, "presence.changed") != 0)
        return;
    st->api->log(ctx, DG_LOG_WARN, "presence events were dropped; resyncing from the transport");
    queue_resync(st);
}

/* A transport that starts after us (plugin enabled later): take its current state. */
static void on_plugin_state(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    us_state *st = user;
    const char *state = json_string_value(json_object_get(payload, "state"));
    if (!st->transport && state && strcmp(state, "active") == 0 && us_transport(st))
        queue_resync(st);
}

int us_feed_subscribe(us_state *st)
{
    static const struct {
        const char *topic;
        size_t queue;
        dg_event_fn fn;
    } subs[] = {
        {"presence.changed", PRESENCE_QUEUE, on_presence},
        {"chat.message.sent", MESSAGE_QUEUE, on_message},
        {"chat.message.received", MESSAGE_QUEUE, on_message},
        {"core.config.changed", 0, on_config},
        {"core.bus.overflow", 0, on_overflow},
        {"core.plugin.state", 0, on_plugin_state},
    };
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (!st->api->subscribe(st->ctx, subs[i].topic, 0, subs[i].queue, subs[i].fn, st, NULL)) {
            st->api->log(st->ctx, DG_LOG_ERROR, "cannot subscribe to %s", subs[i].topic);
            return DG_ERR;
        }
    }
    return DG_OK;
}
