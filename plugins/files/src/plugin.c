/*
 * The files plugin: sending and receiving files and folders over IPMsg
 * (docs/protocol/files-plugin.md). Offers go out and come in through the
 * chat.transport service of the ipmsg plugin; the transfers themselves run
 * over TCP here (server.c serves, fetch.c downloads). This file wires config,
 * topics, subscriptions and RPC methods.
 */
#include <dengon/plugin.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fcrypto.h"
#include "ipmsg_proto.h"
#include "jobs.h"
#include "rpc_params.h"
#include "server.h"
#include "share.h"
#include "sockio.h"
#include "state.h"
#include "store.h"

int64_t fl_now(void)
{
    return (int64_t)time(NULL);
}

uint64_t fl_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void settings_free(fl_settings *s)
{
    free(s->blocked);
    free(s->allowed);
    free(s->download_dir);
    memset(s, 0, sizeof *s);
}

/* <home>/data/downloads: the plugin data dir is <home>/data/plugin-data/files. */
static char *default_download_dir(fl_state *st)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", st->api->data_dir(st->ctx));
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(buf, '/');
        if (slash && slash != buf)
            *slash = '\0';
    }
    size_t len = strlen(buf);
    snprintf(buf + len, sizeof buf - len, "/downloads");
    return strdup(buf);
}

static int settings_load(fl_state *st)
{
    fl_settings *s = &st->cfg;
    settings_free(s);
    int64_t max = st->api->config_get_int(st->ctx, "files.max_size", 0);
    int64_t exp = st->api->config_get_int(st->ctx, "files.share_expire_hours", 24);
    int64_t to = st->api->config_get_int(st->ctx, "files.timeout_s", 30);
    const char *dir = st->api->config_get(st->ctx, "files.download_dir", "");
    if (max < 0 || exp < 0 || to < 1 || to > 3600 || (*dir && dir[0] != '/')) {
        st->api->log(st->ctx, DG_LOG_ERROR,
                     "bad config: files.max_size >= 0, files.share_expire_hours >= 0, "
                     "files.timeout_s 1-3600, files.download_dir absolute");
        return -1;
    }
    s->max_size = (uint64_t)max;
    s->expire_s = exp * 3600;
    s->timeout_s = to;
    s->auto_accept = st->api->config_get_bool(st->ctx, "files.auto_accept", 0) != 0;
    s->blocked = strdup(st->api->config_get(st->ctx, "files.blocked_extensions", ""));
    s->allowed = strdup(st->api->config_get(st->ctx, "files.allowed_extensions", ""));
    s->download_dir = *dir ? strdup(dir) : default_download_dir(st);
    return s->blocked && s->allowed && s->download_dir ? 0 : -1;
}

/* ---- events ---- */

static void on_message(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    if (json_object_get(payload, "attachments"))
        jobs_on_message(user, payload);
}

static void on_released(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    const char *addr = json_string_value(json_object_get(payload, "address"));
    uint32_t ip = 0;
    uint16_t port;
    if (addr && fl_parse_addr(addr, &ip, &port) == 0)
        share_on_released(user, (uint32_t)json_integer_value(json_object_get(payload, "packet_no")),
                          json_string_value(json_object_get(payload, "from")), ip);
}

static void on_config(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    const char *key = json_string_value(json_object_get(payload, "key"));
    if (key && !strncmp(key, "files.", 6))
        settings_load(user);
}

static void reap_finished(void *user)
{
    fl_state *st = user;
    jobs_reap(st);
    server_reap(st);
}

/*
 * A download or serving thread is done (any thread): it is joined and its
 * end recorded on the loop. No timer polls for this, so an idle daemon
 * never wakes up for file transfers.
 */
void fl_thread_finished(fl_state *st)
{
    if (st->api->post(st->ctx, reap_finished, st) != DG_OK)
        st->api->log(st->ctx, DG_LOG_WARN,
                     "cannot hand a finished transfer to the loop: it is joined at stop");
}

/* Offers expire after hours (files.share_expire_hours): checked hourly, not polled. */
#define EXPIRE_CHECK_MS 3600000u

static void on_housekeeping(dg_ctx *ctx, dg_timer *timer, void *user)
{
    share_expire(user);
}

/* ---- RPC ---- */

static int64_t param_id(const json_t *params)
{
    json_t *v = json_object_get(params, "id");
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static void rpc_send(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    fl_state *st = user;
    static const char *const keys[] = {"to", "paths", "text", NULL};
    if (!dg_params_check(st->api, call, params, keys))
        return;
    json_t *text = json_object_get(params, "text");
    if (text && !json_is_string(text)) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'text' must be a string");
        return;
    }
    char err[512] = "";
    json_t *r = share_send(st, json_object_get(params, "to"), json_object_get(params, "paths"),
                           json_string_value(text), err, sizeof err);
    if (r)
        st->api->rpc_reply(call, r);
    else
        st->api->rpc_fail(call, DG_RPC_FAILED, "%s", err);
}

static void rpc_list(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    fl_state *st = user;
    static const char *const keys[] = {NULL};
    if (!dg_params_check(st->api, call, params, keys))
        return;
    jobs_reap(st);
    json_t *offers = store_list_json(st);
    jobs_mark_encryption(st, offers);
    st->api->rpc_reply(call, json_pack("{s:o, s:o, s:o}", "offers", offers, "downloads",
                                       jobs_json(st), "shares", share_list_json(st)));
}

typedef int (*offer_fn)(fl_state *st, int64_t id, char *err, size_t errlen);

static void offer_call(fl_state *st, dg_rpc_call *call, const json_t *params, offer_fn fn)
{
    static const char *const keys[] = {"id", NULL};
    if (!dg_params_check(st->api, call, params, keys))
        return;
    int64_t id = param_id(params);
    char err[512];
    if (id <= 0)
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'id' (an offer id) is required");
    else if (fn(st, id, err, sizeof err) != 0)
        st->api->rpc_fail(call, DG_RPC_FAILED, "%s", err);
    else
        st->api->rpc_reply(call, json_pack("{s:I}", "id", (json_int_t)id));
}

static void rpc_accept(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    fl_state *st = user;
    static const char *const keys[] = {"id", "to", NULL};
    if (!dg_params_check(st->api, call, params, keys))
        return;
    int64_t id = param_id(params);
    json_t *to = json_object_get(params, "to");
    char err[512];
    if (id <= 0 || (to && !json_is_string(to)))
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'id' (an offer id) is required, 'to' must be a folder path");
    else if (jobs_accept(st, id, json_string_value(to), err, sizeof err) != 0)
        st->api->rpc_fail(call, DG_RPC_FAILED, "%s", err);
    else
        st->api->rpc_reply(call, json_pack("{s:I}", "id", (json_int_t)id));
}

static void rpc_reject(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    offer_call(user, call, params, jobs_reject);
}

static void rpc_cancel(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    fl_state *st = user;
    json_t *share = json_object_get(params, "share");
    if (!share) {
        offer_call(st, call, params, jobs_cancel);
        return;
    }
    static const char *const keys[] = {"share", NULL};
    if (!dg_params_check(st->api, call, params, keys))
        return;
    uint32_t no = (uint32_t)json_integer_value(share);
    /* Withdrawn first, so a receiver that reconnects at once is refused. */
    if (!json_is_integer(share) || share_drop(st, no) != 0)
        st->api->rpc_fail(call, DG_RPC_FAILED, "no such share");
    else
        st->api->rpc_reply(
            call, json_pack("{s:O, s:i}", "share", share, "stopped", server_cancel_share(st, no)));
}

/* ---- start / stop ---- */

static void state_free(fl_state *st)
{
    share_free_all(st);
    store_close(st);
    settings_free(&st->cfg);
    json_decref(st->encrypted);
    pthread_cond_destroy(&st->fc_cond);
    pthread_mutex_destroy(&st->fc_lock);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static void wire_name(char *out, size_t cap, const char *v, const char *dflt)
{
    snprintf(out, cap, "%s", v && *v ? v : dflt);
    for (char *p = out; *p; p++)
        if (*p == ':' || *p == '\n' || *p == '\r' || *p == '\a' || *p == '\b')
            *p = ';';
}

static int fl_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    fl_state *st = calloc(1, sizeof(*st));
    if (!st)
        return DG_ENOMEM;
    st->ctx = ctx;
    st->api = api;
    pthread_mutex_init(&st->lock, NULL);
    pthread_mutex_init(&st->fc_lock, NULL);
    pthread_cond_init(&st->fc_cond, NULL);
    atomic_init(&st->req_no, (unsigned)time(NULL));
    st->t = api->service_require(ctx, DG_CHAT_TRANSPORT_SERVICE, 1, &st->tsize);
    if (!st->t || !DG_CHAT_TRANSPORT_HAS(st->t, st->tsize, set_capability)) {
        api->log(ctx, DG_LOG_ERROR, "chat.transport without file support (ipmsg too old)");
        state_free(st);
        return DG_ENOENT;
    }
    const json_t *id = api->identity(ctx);
    wire_name(st->user, sizeof st->user, json_string_value(json_object_get(id, "user")), "user");
    wire_name(st->host, sizeof st->host, json_string_value(json_object_get(id, "host")), "host");
    static const char *const topics[] = {"files.offer",  "files.progress",   "files.done",
                                         "files.failed", "files.cancelled",  "files.rejected",
                                         "files.sent",   "files.send_failed"};
    int rc = DG_OK;
    if (settings_load(st) != 0 || store_open(st) != 0)
        rc = DG_EINVAL;
    for (size_t i = 0; rc == DG_OK && i < sizeof topics / sizeof topics[0]; i++)
        /* Progress is droppable but not coalesced: coalescing keeps one event
         * of the topic per subscriber, so concurrent downloads would hide each
         * other. Each download publishes at most 4 a second, so the queues stay
         * short; a slow subscriber loses the oldest ones first. */
        rc = api->topic_declare(ctx, topics[i],
                                strcmp(topics[i], "files.progress") ? DG_OVERFLOW_BLOCK
                                                                    : DG_OVERFLOW_DROP_OLDEST);
    static const struct {
        const char *m, *summary;
        dg_rpc_fn fn;
    } rpcs[] = {
        {"files.send", "offer files and folders: {to, paths[], text?}", rpc_send},
        {"files.list", "received offers, running downloads, offers we sent", rpc_list},
        {"files.accept", "download an offer: {id, to?}", rpc_accept},
        {"files.reject", "decline an offer (RELEASEFILES): {id}", rpc_reject},
        {"files.cancel", "stop a download {id}, or withdraw an offer we sent {share}", rpc_cancel},
    };
    for (size_t i = 0; rc == DG_OK && i < sizeof rpcs / sizeof rpcs[0]; i++)
        rc = api->rpc_register(ctx, rpcs[i].m, rpcs[i].summary, rpcs[i].fn, st, NULL);
    if (rc == DG_OK && fcrypto_provide(st) != 0)
        rc = DG_ERR;
    if (rc == DG_OK &&
        (!api->subscribe(ctx, "chat.message.received", 0, 0, on_message, st, NULL) ||
         !api->subscribe(ctx, "chat.files.released", 0, 0, on_released, st, NULL) ||
         !api->subscribe(ctx, "core.config.changed", 0, 0, on_config, st, NULL) ||
         !api->timer_add(ctx, EXPIRE_CHECK_MS, EXPIRE_CHECK_MS, on_housekeeping, st, NULL)))
        rc = DG_ERR;
    if (rc != DG_OK) {
        state_free(st);
        return rc;
    }
    share_load(st); /* before listening: a receiver resuming at once finds its offer */
    if (st->t->endpoint(st->t->self, st->bind_addr, sizeof st->bind_addr, &st->port) == 0) {
        uint16_t unused;
        char a[80];
        snprintf(a, sizeof a, "%s:1", st->bind_addr);
        if (fl_parse_addr(a, &st->local_ip, &unused) != 0)
            st->local_ip = 0;
        server_start(st);
    }
    /* Peers offer files to us only while we can take them (§3.1 FILEATTACHOPT). */
    st->t->set_capability(st->t->self, IPMSG_FILEATTACHOPT, 1);
    jobs_resume(st);
    *state = st;
    return DG_OK;
}

static void fl_stop(dg_ctx *ctx, void *state)
{
    fl_state *st = state;
    atomic_store(&st->stopping, true);
    st->t->set_capability(st->t->self, IPMSG_FILEATTACHOPT, 0);
    jobs_stop(st);
    server_stop(st);
    state_free(st);
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD,
    .id = "files",
    .start = fl_start,
    .stop = fl_stop,
};

DG_PLUGIN_DEFINE(descriptor)
