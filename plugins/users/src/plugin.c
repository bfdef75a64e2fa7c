/*
 * The users plugin: the persistent user directory (ADR 0009). It listens to
 * presence.changed from the chat transport, keeps every user it has seen in
 * <data_dir>/users.sqlite with the local user's priorities, merges the same
 * identity seen on a new PC, and removes users not seen for
 * users.offline_days. This file wires the modules together.
 */
#include <dengon/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state.h"

int64_t us_now(const us_state *st)
{
    return (int64_t)time(NULL) + st->clock_offset;
}

void us_save(us_state *st, const us_user *u)
{
    if (us_writer_put(st->writer, u) != 0)
        st->api->log(st->ctx, DG_LOG_ERROR, "out of memory: %s not saved", u->key);
}

void us_unsave(us_state *st, const char *key)
{
    if (us_writer_delete(st->writer, key) != 0)
        st->api->log(st->ctx, DG_LOG_ERROR, "out of memory: removal of %s not saved", key);
}

void us_publish(us_state *st, const us_user *u, const char *change, const char *merged_from)
{
    json_t *o = us_user_json(u);
    if (!o)
        return;
    json_object_set_new(o, "change", json_string(change));
    if (merged_from)
        json_object_set_new(o, "merged_from", json_string(merged_from));
    /* drop_oldest (docs/events.md): a lagging reader resyncs with users.list. */
    st->api->publish(st->ctx, US_TOPIC_CHANGED, o);
}

int64_t us_max_age(const us_state *st)
{
    int64_t days = st->api->config_get_int(st->ctx, "users.offline_days", 7);
    if (days < 0 || days > 36500) {
        st->api->log(st->ctx, DG_LOG_WARN,
                     "users.offline_days %lld is out of range 0-36500; using 7", (long long)days);
        days = 7;
    }
    return days * US_DAY_S;
}

us_level us_new_level(const us_state *st)
{
    const char *s = st->api->config_get(st->ctx, "users.new_priority", "medium");
    us_level l;
    if (us_level_parse(s, &l) == 0)
        return l;
    st->api->log(st->ctx, DG_LOG_WARN,
                 "users.new_priority '%s' is not highest, high, medium or low; using medium", s);
    return US_MEDIUM;
}

/* Writer thread -> loop thread: log what could not be saved. */
static void on_writer_error(void *user)
{
    us_state *st = user;
    char why[512];
    size_t n = us_writer_take_errors(st->writer, why, sizeof why);
    if (n)
        st->api->log(st->ctx, DG_LOG_ERROR, "%zu save error(s), last: %s", n, why);
}

static void notify_writer_error(void *user)
{
    us_state *st = user;
    /* post() is thread-safe; the callback never runs once the plugin stopped. */
    st->api->post(st->ctx, on_writer_error, st);
}

static void on_daily(dg_ctx *ctx, dg_timer *timer, void *user)
{
    json_decref(us_maintain(user));
}

static void state_free(us_state *st)
{
    us_writer_stop(st->writer); /* writes what is queued */
    us_store_close(st->store);
    us_dir_free(&st->dir);
    free(st);
}

static int open_store(us_state *st)
{
    const char *dir = st->api->data_dir(st->ctx);
    if (!dir) {
        st->api->log(st->ctx, DG_LOG_ERROR, "no data folder");
        return DG_ERR;
    }
    char path[4096], err[1024];
    if (snprintf(path, sizeof path, "%s/users.sqlite", dir) >= (int)sizeof path) {
        st->api->log(st->ctx, DG_LOG_ERROR, "data folder path too long");
        return DG_ERR;
    }
    size_t skipped = 0;
    if (us_store_open(path, &st->store, err, sizeof err) != 0 ||
        us_store_load(st->store, &st->dir, &skipped, err, sizeof err) != 0) {
        /* Refusing to start keeps the file as it is for a newer dengon or for repair. */
        st->api->log(st->ctx, DG_LOG_ERROR, "%s", err);
        return DG_ERR;
    }
    if (skipped)
        st->api->log(st->ctx, DG_LOG_WARN, "%s: %zu unusable rows left in the file", path, skipped);
    st->writer = us_writer_start(st->store, notify_writer_error, st);
    if (!st->writer) {
        st->api->log(st->ctx, DG_LOG_ERROR, "cannot start the writer thread");
        return DG_ERR;
    }
    st->api->log(st->ctx, DG_LOG_INFO, "%zu known users in %s", st->dir.n, path);
    return DG_OK;
}

static int users_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    us_state *st = calloc(1, sizeof(*st));
    if (!st)
        return DG_ENOMEM;
    st->ctx = ctx;
    st->api = api;
    us_dir_init(&st->dir);
    int rc = open_store(st);
    if (rc != DG_OK)
        goto fail;
    /* Nobody is known to be present until live presence says so. */
    for (size_t i = 0; i < st->dir.n; i++)
        st->dir.v[i]->status = US_OFFLINE;
    if ((rc = api->topic_declare(ctx, US_TOPIC_CHANGED, DG_OVERFLOW_DROP_OLDEST)) != DG_OK ||
        (rc = us_feed_subscribe(st)) != DG_OK || (rc = us_rpc_register(st)) != DG_OK ||
        (rc = us_service_provide(st)) != DG_OK) {
        api->log(ctx, DG_LOG_ERROR, "cannot register (%d)", rc);
        goto fail;
    }
    /* The start-up check: who is present now (if the transport runs already), then expiry. */
    json_decref(us_maintain(st));
    st->daily = api->timer_add(ctx, (uint64_t)US_DAY_S * 1000u, (uint64_t)US_DAY_S * 1000u,
                               on_daily, st, NULL);
    if (!st->daily) {
        rc = DG_ERR;
        goto fail;
    }
    *state = st;
    return DG_OK;
fail:
    state_free(st);
    return rc;
}

static void users_stop(dg_ctx *ctx, void *state)
{
    us_state *st = state;
    if (!st)
        return;
    /* Present users were seen until now. */
    int64_t now = us_now(st);
    for (size_t i = 0; i < st->dir.n; i++) {
        us_user *u = st->dir.v[i];
        if (u->status != US_OFFLINE && u->last_seen < now) {
            u->last_seen = now;
            us_save(st, u);
        }
    }
    state_free(st);
}

static const dg_plugin_descriptor users_descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "users", users_start, users_stop, {NULL, NULL, NULL, NULL},
};

DG_PLUGIN_DEFINE(users_descriptor)
