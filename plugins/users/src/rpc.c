/*
 * RPC methods of the directory: users.list, users.get, users.priority,
 * users.forget, and in test builds only users.test_clock. Parameters are
 * checked strictly: unknown keys and wrong types are refused with a message
 * saying what is wrong.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_text.h"
#include "rpc_params.h"
#include "state.h"

/* Optional boolean; the CLI's default builder sends strings, so "true"/"false" count. */
static bool get_bool(us_state *st, dg_rpc_call *call, const json_t *params, const char *key,
                     bool *out)
{
    const json_t *v = params ? json_object_get(params, key) : NULL;
    const char *s = json_string_value(v);
    if (!v)
        return true;
    if (json_is_boolean(v))
        *out = json_is_true(v);
    else if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
        *out = strcmp(s, "true") == 0;
    else {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'%s' must be true or false", key);
        return false;
    }
    return true;
}

/* Required non-empty string. */
static const char *get_text(us_state *st, dg_rpc_call *call, const json_t *params, const char *key,
                            const char *what)
{
    const char *s = params ? json_string_value(json_object_get(params, key)) : NULL;
    if (!s || !*s)
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'%s' must be %s", key, what);
    return s && *s ? s : NULL;
}

/* The entry params.user names, or NULL after answering the call with why not. */
static us_user *named_user(us_state *st, dg_rpc_call *call, const json_t *params)
{
    const char *who = get_text(st, call, params, "user", "a user (nickname, user@host or address)");
    if (!who)
        return NULL;
    us_user *u;
    char err[1024];
    if (us_dir_resolve(&st->dir, who, &u, err, sizeof err) != US_RESOLVE_OK) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "%s", err);
        return NULL;
    }
    return u;
}

/* A host older than ABI 1.2 has no rpc_reply_json: hand it a tree. */
static void reply_parsed(us_state *st, dg_rpc_call *call, char *text, size_t len)
{
    json_t *list = json_loadb(text, len, 0, NULL);
    free(text);
    if (list)
        st->api->rpc_reply(call, list);
    else
        st->api->rpc_fail(call, DG_RPC_FAILED, "out of memory");
}

static void rpc_list(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    us_state *st = user;
    static const char *const keys[] = {"online", "hidden", "all", NULL};
    bool online = false, hidden = false, all = false;
    if (!dg_params_check(st->api, call, params, keys) ||
        !get_bool(st, call, params, "online", &online) ||
        !get_bool(st, call, params, "hidden", &hidden) || !get_bool(st, call, params, "all", &all))
        return;
    if (all && online) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'all' (offline users too) and 'online' exclude each other");
        return;
    }
    hidden |= all;
    us_user **v = us_dir_sorted(&st->dir);
    if (st->dir.n && !v) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "out of memory");
        return;
    }
    /* Written as text: 10,000 people as a tree cost more than the target of
     * the whole `dengon users --json` (issue 3: < 50 ms). */
    dg_jt w;
    dg_jt_init(&w, 256 * (st->dir.n + 1));
    dg_jt_begin_array(&w);
    for (size_t i = 0; i < st->dir.n; i++) {
        const us_user *u = v[i];
        /* The entries and their strings are scattered over the heap: fetch
         * those a few places ahead while this one is written, or each string
         * is a cache miss in turn (about half the time of a 10,000 list). */
        if (i + 4 < st->dir.n)
            __builtin_prefetch(v[i + 4]);
        if (i + 2 < st->dir.n)
            us_user_prefetch(v[i + 2]);
        if ((u->hidden && !hidden) || (online && u->status == US_OFFLINE))
            continue;
        us_user_write_json(u, &w);
    }
    dg_jt_end_array(&w);
    free(v);
    size_t len = 0;
    char *text = dg_jt_finish(&w, &len);
    if (!text)
        st->api->rpc_fail(call, DG_RPC_FAILED, "out of memory");
    else if (DG_API_HAS(st->api, rpc_reply_json))
        st->api->rpc_reply_json(call, text, len);
    else
        reply_parsed(st, call, text, len);
}

static void rpc_get(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    us_state *st = user;
    static const char *const keys[] = {"user", NULL};
    us_user *u;
    if (!dg_params_check(st->api, call, params, keys) || !(u = named_user(st, call, params)))
        return;
    st->api->rpc_reply(call, us_user_json(u));
}

static void rpc_priority(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    us_state *st = user;
    static const char *const keys[] = {"user", "level", NULL};
    static const char levels[] = "highest, high, medium, low or hidden";
    const char *level;
    us_user *u;
    if (!dg_params_check(st->api, call, params, keys) ||
        !(level = get_text(st, call, params, "level", levels)) ||
        !(u = named_user(st, call, params)))
        return;
    int rc = us_user_set_level(u, level);
    if (rc < 0) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'level' must be %s, not '%s'", levels,
                          level);
        return;
    }
    if (rc > 0) {
        us_save(st, u);
        us_publish(st, u, "priority", NULL);
    }
    st->api->rpc_reply(call, us_user_json(u));
}

static void rpc_forget(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    us_state *st = user;
    static const char *const keys[] = {"user", NULL};
    us_user *u;
    if (!dg_params_check(st->api, call, params, keys) || !(u = named_user(st, call, params)))
        return;
    us_dir_detach(&st->dir, u);
    us_unsave(st, u->key);
    us_publish(st, u, "forgotten", NULL);
    st->api->rpc_reply(call, us_user_json(u));
    us_user_free(u);
}

#ifdef DENGON_TESTING_BUILD
/*
 * Test builds only: moves the plugin's clock to params.now (Unix seconds)
 * and runs the daily upkeep at once, as the daily timer would.
 */
static void rpc_test_clock(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    us_state *st = user;
    static const char *const keys[] = {"now", NULL};
    const json_t *now = params ? json_object_get(params, "now") : NULL;
    if (!dg_params_check(st->api, call, params, keys))
        return;
    if (!json_is_integer(now) || json_integer_value(now) <= 0) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'now' must be Unix seconds");
        return;
    }
    st->clock_offset = (int64_t)json_integer_value(now) - (int64_t)time(NULL);
    st->api->log(ctx, DG_LOG_WARN, "test clock: now is %lld (%+lld s)",
                 (long long)json_integer_value(now), (long long)st->clock_offset);
    json_t *expired = us_maintain(st);
    st->api->rpc_reply(call, json_pack("{s:I, s:o}", "now", (json_int_t)us_now(st), "expired",
                                       expired ? expired : json_array()));
}
#endif

int us_rpc_register(us_state *st)
{
    static const struct {
        const char *name, *summary;
        dg_rpc_fn fn;
    } methods[] = {
        {"users.list",
         "users by priority, group, name, address: {online?, hidden?, all?}; hidden users "
         "only with hidden or all",
         rpc_list},
        {"users.get", "one user by nickname, user@host or address: {user}", rpc_get},
        {"users.priority", "set a user's priority: {user, level: highest|high|medium|low|hidden}",
         rpc_priority},
        {"users.forget", "remove a user from the directory now: {user}", rpc_forget},
#ifdef DENGON_TESTING_BUILD
        {"users.test_clock", "TEST BUILD ONLY: set the clock and run the daily upkeep: {now}",
         rpc_test_clock},
#endif
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        int rc = st->api->rpc_register(st->ctx, methods[i].name, methods[i].summary, methods[i].fn,
                                       st, NULL);
        if (rc != DG_OK) {
            st->api->log(st->ctx, DG_LOG_ERROR, "cannot register %s (%d)", methods[i].name, rc);
            return rc;
        }
    }
    return DG_OK;
}
