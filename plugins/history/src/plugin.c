/*
 * The history plugin: stores every chat message sent and received, with its
 * delivery and opened state, in <data_dir>/history.sqlite (SQLite, WAL, FTS5
 * trigram index), and answers history.* RPC calls. This file wires the
 * modules together: the writer thread (writer.h) stores the chat events,
 * read jobs (jobs.h) answer the calls; the loop thread never waits for
 * SQLite. Decisions are in docs/adr/0006-history-store.md.
 */
#include <dengon/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs.h"
#include "rpc.h"
#include "state.h"
#include "writer.h"

/* The daily retention run; the first one a minute after start. */
#define DAILY_MS ((uint64_t)24 * 3600 * 1000)
#define FIRST_PRUNE_MS ((uint64_t)60 * 1000)

/* Room for the events of a burst: the subscriber's queue, then the writer's (unbounded). */
#define QUEUE_CAPACITY 16384

int64_t hist_now(void)
{
    return (int64_t)time(NULL);
}

/* ---- bus ---- */

static void on_chat(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    writer_event(user, topic, payload);
}

static void on_identity(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    const char *key = json_string_value(json_object_get(payload, "lan_key"));
    if (key && *key)
        writer_identity(user, key);
}

static void on_daily(dg_ctx *ctx, dg_timer *timer, void *user)
{
    hist_state *st = user;
    int64_t days = st->api->config_get_int(ctx, "history.delete_days", 0);
    if (days > 0)
        writer_prune(st, NULL, days, hist_now());
}

static int subscribe_all(hist_state *st)
{
    /* What apply.h stores: messages, room posts, queued messages once delivered or given up. */
    static const char *const topics[] = {"chat.message.*", "chat.room.message",
                                         "queue.message.delivered", "queue.message.failed"};
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++) {
        if (!st->api->subscribe(st->ctx, topics[i], 0, QUEUE_CAPACITY, on_chat, st, NULL)) {
            st->api->log(st->ctx, DG_LOG_ERROR, "cannot subscribe to %s", topics[i]);
            return DG_ERR;
        }
    }
    if (!st->api->subscribe(st->ctx, "core.identity.changed", 0, 0, on_identity, st, NULL)) {
        st->api->log(st->ctx, DG_LOG_ERROR, "cannot subscribe to core.identity.changed");
        return DG_ERR;
    }
    if (!st->api->timer_add(st->ctx, FIRST_PRUNE_MS, DAILY_MS, on_daily, st, NULL)) {
        st->api->log(st->ctx, DG_LOG_ERROR, "cannot start the daily retention timer");
        return DG_ERR;
    }
    return DG_OK;
}

/* ---- lifecycle ---- */

static int open_db(hist_state *st, hist_db **db)
{
    const char *dir = st->api->data_dir(st->ctx);
    if (!dir) {
        st->api->log(st->ctx, DG_LOG_ERROR, "no data folder for history.sqlite");
        return DG_ERR;
    }
    size_t len = strlen(dir) + sizeof "/history.sqlite";
    st->data_dir = strdup(dir);
    st->db_path = malloc(len);
    if (!st->data_dir || !st->db_path)
        return DG_ENOMEM;
    snprintf(st->db_path, len, "%s/history.sqlite", dir);
    char err[512];
    /* Opened and migrated here, so that a bad database fails the start with its reason. */
    *db = hist_db_open(st->db_path, false, err, sizeof err);
    if (!*db) {
        st->api->log(st->ctx, DG_LOG_ERROR, "%s", err);
        return DG_ERR;
    }
    st->schema_version = (*db)->schema_version;
    return DG_OK;
}

/* Ends the threads in an order that answers every call (jobs.h, writer.h, mailbox.h). */
static void state_free(hist_state *st)
{
    st->stopping = true;
    jobs_cancel_all(st);
    writer_stop(st);
    jobs_stop_all(st);
    mailbox_destroy(&st->mailbox);
    free(st->db_path);
    free(st->data_dir);
    free(st);
}

static int hist_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    hist_state *st = calloc(1, sizeof *st);
    if (!st)
        return DG_ENOMEM;
    st->ctx = ctx;
    st->api = api;
    if (mailbox_init(&st->mailbox) != 0) {
        free(st);
        return DG_ENOMEM;
    }
    const char *key = json_string_value(json_object_get(api->identity(ctx), "lan_key"));
    hist_db *db = NULL;
    int rc = open_db(st, &db);
    if (rc == DG_OK)
        rc = writer_start(st, db, key && *key ? key : "local"); /* takes db */
    if (rc == DG_OK)
        rc = subscribe_all(st);
    if (rc == DG_OK)
        rc = rpc_register_all(st);
    if (rc != DG_OK) {
        state_free(st);
        return rc;
    }
    api->log(ctx, DG_LOG_INFO, "history in %s (schema version %d)", st->db_path,
             st->schema_version);
    *state = st;
    return DG_OK;
}

static void hist_stop(dg_ctx *ctx, void *state)
{
    if (state)
        state_free(state);
}

static const dg_plugin_descriptor hist_descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "history", hist_start, hist_stop, {NULL, NULL, NULL, NULL},
};

DG_PLUGIN_DEFINE(hist_descriptor)
