#include "rpc.h"
#include "rpc_params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <dengon/chat_transport.h>

#include "jobs.h"
#include "writer.h"

/* ---- params ---- */

/* params must be absent or an object with only allowed keys. */
static bool check_keys(hist_state *st, dg_rpc_call *call, const json_t *params,
                       const char *const *allowed)
{
#ifndef DENGON_TESTING_BUILD
    /* Say why rather than "unknown parameter": the test clock exists only in test builds. */
    if (json_is_object(params) && json_object_get(params, "now")) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'now' is accepted only by test builds (DENGON_TESTING_BUILD)");
        return false;
    }
#endif
    return dg_params_check(st->api, call, params, allowed);
}

/* Optional non-empty string without NUL; *out stays NULL when absent. */
static bool get_string(hist_state *st, dg_rpc_call *call, const json_t *params, const char *key,
                       const char **out)
{
    const json_t *v = params ? json_object_get(params, key) : NULL;
    *out = NULL;
    if (!v)
        return true;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'%s' must be a non-empty string without NUL characters", key);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

/* Optional integer in [min, max] (a JSON integer or a decimal string); *out keeps its default. */
static bool get_int(hist_state *st, dg_rpc_call *call, const json_t *params, const char *key,
                    int64_t min, int64_t max, int64_t *out)
{
    const json_t *v = params ? json_object_get(params, key) : NULL;
    if (!v)
        return true;
    int64_t n = 0;
    bool ok = false;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
        ok = true;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        ok = ((*s >= '0' && *s <= '9') || *s == '-') && !*end && errno == 0;
        n = x;
    }
    if (!ok || n < min || n > max) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'%s' must be an integer from %lld to %lld",
                          key, (long long)min, (long long)max);
        return false;
    }
    *out = n;
    return true;
}

static bool get_bool(hist_state *st, dg_rpc_call *call, const json_t *params, const char *key,
                     bool *out)
{
    const json_t *v = params ? json_object_get(params, key) : NULL;
    if (!v)
        return true;
    if (!json_is_boolean(v)) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'%s' must be true or false", key);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

/* ---- with: who the messages were exchanged with ---- */

/*
 * Sets req->with, and in req->peers the keys the history alone cannot know:
 * who itself when it is a key (user@host), and the key the chat transport
 * resolves it to now (a current nickname, an address). The worker adds the
 * keys the history knows (jobs.c). False after answering the call.
 */
static bool with_peers(hist_state *st, dg_rpc_call *call, const char *who, hist_job_req *req)
{
    if (!who)
        return true;
    req->with = strdup(who);
    req->peers = json_array();
    if (!req->with || !req->peers) {
        st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
        return false;
    }
    if (strchr(who, '@'))
        json_array_append_new(req->peers, json_string(who));
    size_t size = 0;
    const dg_chat_transport_v1 *t = st->api->service_require(st->ctx, DG_CHAT_TRANSPORT_SERVICE,
                                                             DG_CHAT_TRANSPORT_VERSION, &size);
    if (t && size >= offsetof(dg_chat_transport_v1, user_get) + sizeof t->user_get && t->user_get) {
        json_t *u = t->user_get(t->self, who);
        const char *key = json_string_value(json_object_get(u, "key"));
        if (key && (!strchr(who, '@') || strcasecmp(key, who) != 0))
            json_array_append_new(req->peers, json_string(key));
        json_decref(u);
    }
    return true;
}

/* ---- history.log / history.search ---- */

static void query_common(hist_state *st, dg_rpc_call *call, const json_t *params, const char *text)
{
    const char *with = NULL, *room = NULL;
    hist_job_req req = {.kind = JOB_PAGE, .limit = HIST_LIMIT_DEFAULT};
    if (!get_string(st, call, params, "with", &with) ||
        !get_string(st, call, params, "room", &room) ||
        !get_int(st, call, params, "limit", 1, HIST_LIMIT_MAX, &req.limit) ||
        !get_int(st, call, params, "before", 1, INT64_MAX, &req.before))
        return;
    char err[256];
    if (text && hist_terms_parse(text, &req.terms, err, sizeof err) != 0) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'text': %s", err);
        return;
    }
    if (!with_peers(st, call, with, &req)) {
        jobs_req_free(&req);
        return;
    }
    if (room && !(req.room = strdup(room))) {
        jobs_req_free(&req);
        st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    jobs_start(st, call, &req);
}

static void rpc_log(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    static const char *const keys[] = {"with", "limit", "before", "room", NULL};
    if (check_keys(user, call, params, keys))
        query_common(user, call, params, NULL);
}

static void rpc_search(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    hist_state *st = user;
    static const char *const keys[] = {"text", "with", "limit", "before", "room", NULL};
    const char *text = NULL;
    if (!check_keys(st, call, params, keys) || !get_string(st, call, params, "text", &text))
        return;
    if (!text) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'text' is required: what to search for");
        return;
    }
    query_common(st, call, params, text);
}

/* ---- history.export ---- */

static void rpc_export(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    hist_state *st = user;
    static const char *const keys[] = {"format", "with", "room", "path", "overwrite", NULL};
    const char *format = NULL, *with = NULL, *room = NULL, *path = NULL;
    hist_job_req req = {.kind = JOB_EXPORT};
    if (!check_keys(st, call, params, keys) || !get_string(st, call, params, "format", &format) ||
        !get_string(st, call, params, "with", &with) ||
        !get_string(st, call, params, "room", &room) ||
        !get_string(st, call, params, "path", &path) ||
        !get_bool(st, call, params, "overwrite", &req.overwrite))
        return;
    if (hist_format_parse(format, &req.fmt) != 0) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'format' must be \"json\" or \"text\"");
        return;
    }
    char target[4096], err[512];
    if (path && hist_export_path(st->data_dir, path, target, sizeof target, err, sizeof err) != 0) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "%s", err);
        return;
    }
    if (!with_peers(st, call, with, &req)) {
        jobs_req_free(&req);
        return;
    }
    req.room = room ? strdup(room) : NULL;
    req.target = path ? strdup(target) : NULL;
    if ((room && !req.room) || (path && !req.target)) {
        jobs_req_free(&req);
        st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    jobs_start(st, call, &req);
}

/* ---- history.delete_old ---- */

static void rpc_delete_old(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    hist_state *st = user;
#ifdef DENGON_TESTING_BUILD
    /* Test builds accept the clock ("now", Unix seconds) to age rows without waiting days. */
    static const char *const keys[] = {"days", "now", NULL};
#else
    static const char *const keys[] = {"days", NULL};
#endif
    int64_t days = st->api->config_get_int(ctx, "history.delete_days", 0), now = hist_now();
    if (!check_keys(st, call, params, keys) ||
        !get_int(st, call, params, "days", 0, 36500, &days) ||
        !get_int(st, call, params, "now", 0, INT64_MAX / 2, &now))
        return;
    writer_prune(st, call, days, now); /* a negative config value keeps everything, like 0 */
}

/* ---- history.stats ---- */

static void rpc_stats(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    hist_state *st = user;
    static const char *const keys[] = {NULL};
    hist_job_req req = {.kind = JOB_STATS};
    if (check_keys(st, call, params, keys))
        jobs_start(st, call, &req);
}

int rpc_register_all(hist_state *st)
{
    static const struct {
        const char *name, *summary;
        dg_rpc_fn fn;
    } methods[] = {
        {"history.log", "messages sent and received, newest last: {with?, limit?, before?, room?}",
         rpc_log},
        {"history.search",
         "full-text search (any script; 1-2 character words too): {text, with?, limit?, before?, "
         "room?}",
         rpc_search},
        {"history.export",
         "export as JSON or text lines: {format: json|text, with?, room?, path?, overwrite?}",
         rpc_export},
        {"history.delete_old",
         "delete messages older than history.delete_days (or {days}): {days?}", rpc_delete_old},
        {"history.stats", "counts, database size and event counters", rpc_stats},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        int rc = st->api->rpc_register(st->ctx, methods[i].name, methods[i].summary, methods[i].fn,
                                       st, NULL);
        if (rc != DG_OK) {
            st->api->log(st->ctx, DG_LOG_ERROR, "cannot register %s (%d)", methods[i].name, rc);
            return rc;
        }
    }
    return DG_OK;
}
