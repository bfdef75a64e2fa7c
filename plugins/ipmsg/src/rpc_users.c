/*
 * RPC methods of presence and diagnostics: ipmsg.peers, ipmsg.peer (the live
 * peer table used for addressing), ipmsg.stats. The user-facing list, with
 * priorities and what is kept across restarts, is the users plugin's
 * users.list (ADR 0009).
 */
#include "rpc.h"

#include <stdlib.h>

#include "outbox.h"
#include "resolve.h"
#include "rpc_util.h"

static void rpc_list(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    ipm_state *st = user;
    static const char *const keys[] = {"online", NULL};
    bool online = false;
    if (!dg_params_check(st->api, call, params, keys) ||
        !rpc_get_bool(st, call, params, "online", &online))
        return;
    json_t *list = json_array();
    ipm_user **v = ipm_users_sorted(&st->users);
    for (size_t i = 0; v && i < st->users.n; i++)
        if (!online || v[i]->presence != IPM_OFFLINE)
            json_array_append_new(list, ipm_user_json(v[i]));
    free(v);
    st->api->rpc_reply(call, list);
}

static void rpc_get(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    ipm_state *st = user;
    static const char *const keys[] = {"user", NULL};
    if (!dg_params_check(st->api, call, params, keys))
        return;
    const char *who = params ? json_string_value(json_object_get(params, "user")) : NULL;
    if (!who) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'user' must name a user (user@host, address or nickname)");
        return;
    }
    ipm_user *u;
    ipm_addr a;
    char err[512];
    ipm_resolve_rc rc = ipm_resolve(&st->users, who, st->cfg.port, &u, &a, err, sizeof err);
    if (rc == IPM_RESOLVE_ADDR) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "nobody known at %s", who);
        return;
    }
    if (rc < 0) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "%s", err);
        return;
    }
    st->api->rpc_reply(call, ipm_user_json(u));
}

static size_t count_pending(const ipm_state *st)
{
    size_t n = 0;
    for (const ipm_pending *p = st->pending; p; p = p->next)
        n++;
    return n;
}

static void rpc_stats(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    ipm_state *st = user;
    static const char *const keys[] = {NULL};
    if (!dg_params_check(st->api, call, params, keys))
        return;
    const ipm_stats *s = &st->stats;
    char bind[IPM_ADDR_TEXT];
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
        "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
        "key", st->key, "bind", ipm_addr_format(st->cfg.bind, bind), "legacy_codepage",
        ipmsg_charset_name(st->cs), "rx_packets", (json_int_t)s->rx_packets, "rx_bytes",
        (json_int_t)s->rx_bytes, "tx_packets", (json_int_t)s->tx_packets, "tx_bytes",
        (json_int_t)s->tx_bytes, "tx_errors", (json_int_t)s->tx_errors, "malformed",
        (json_int_t)s->malformed, "oversize", (json_int_t)s->oversize, "unknown",
        (json_int_t)s->unknown, "unsupported", (json_int_t)s->unsupported, "own",
        (json_int_t)s->own, "duplicates", (json_int_t)s->duplicates, "acks_sent",
        (json_int_t)s->acks_sent, "retries", (json_int_t)s->retries, "delivered",
        (json_int_t)s->delivered, "failed", (json_int_t)s->failed, "opened", (json_int_t)s->opened,
        "received", (json_int_t)s->received, "consumed", (json_int_t)s->consumed, "users",
        (json_int_t)st->users.n, "inbox", (json_int_t)st->inbox.n, "pending",
        (json_int_t)count_pending(st), "user", st->user);
    st->api->rpc_reply(call, o);
}

int rpc_users_register(ipm_state *st)
{
    static const struct {
        const char *name, *summary;
        dg_rpc_fn fn;
    } methods[] = {
        {"ipmsg.peers", "live IPMsg peers sorted by group, nickname, address: {online?}", rpc_list},
        {"ipmsg.peer", "one live IPMsg peer by user@host, address or nickname: {user}", rpc_get},
        {"ipmsg.stats", "IPMsg packet counters (received, malformed, acks, retries...)", rpc_stats},
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
