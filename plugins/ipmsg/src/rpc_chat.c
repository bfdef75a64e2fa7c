/*
 * RPC methods of messages: chat.send, chat.inbox, chat.read
 * (docs/protocol/ipmsg-plugin.md lists params and results).
 */
#include "rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "absence.h"
#include "messages.h"
#include "resolve.h"
#include "rpc_util.h"

/* Most recipients of one chat.send (Windows' TO list limit is 30; a LAN tool needs more). */
#define MAX_RECIPIENTS 256

/* CR LF and lone CR become LF: IPMsg text has LF line ends only (§1.2). */
static char *normalize_text(const char *in, size_t len, size_t *out_len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\r') {
            out[o++] = '\n';
            if (i + 1 < len && in[i + 1] == '\n')
                i++;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* Resolves params.to into t[]; duplicates (same key) are sent once. */
static size_t resolve_all(ipm_state *st, dg_rpc_call *call, const json_t *to, ipm_target *t,
                          char (*addr_keys)[IPM_ADDR_TEXT])
{
    size_t n = 0, count = json_is_array(to) ? json_array_size(to) : 1;
    for (size_t i = 0; i < count; i++) {
        const json_t *item = json_is_array(to) ? json_array_get(to, i) : to;
        const char *name = json_string_value(item);
        if (!name) {
            st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'to' must be a string or strings");
            return 0;
        }
        ipm_user *u;
        ipm_addr a;
        char err[512];
        ipm_resolve_rc rc = ipm_resolve(&st->users, name, st->cfg.port, &u, &a, err, sizeof err);
        if (rc < 0) {
            st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "%s", err);
            return 0;
        }
        ipm_target x = {.addr = a};
        if (u) {
            x.key = u->key;
            x.nickname = u->nickname;
            x.utf8 = u->utf8;
        } else {
            /* A host that never announced itself: legacy encoding is what every client reads. */
            x.key = ipm_addr_format(a, addr_keys[n]);
            x.nickname = x.key;
        }
        bool dup = false;
        for (size_t j = 0; j < n && !dup; j++)
            dup = strcmp(t[j].key, x.key) == 0;
        if (!dup)
            t[n++] = x;
    }
    return n;
}

/* 'text': a non-empty string without NUL; answers the call and returns false otherwise. */
static bool check_text(ipm_state *st, dg_rpc_call *call, const json_t *text)
{
    if (!json_is_string(text) || json_string_length(text) == 0) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'text' must be a non-empty string");
        return false;
    }
    if (memchr(json_string_value(text), '\0', json_string_length(text))) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'text' must not contain NUL characters");
        return false;
    }
    return true;
}

static json_t *keys_of(const json_t *recipients)
{
    json_t *keys = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(recipients, i, r)
    {
        json_array_append(keys, json_object_get(r, "key"));
    }
    return keys;
}

/* chat.send {broadcast: true, text}: to everybody, never acknowledged (messages_broadcast). */
static void send_broadcast(ipm_state *st, dg_rpc_call *call, const json_t *params, bool seal)
{
    if (json_object_get(params, "to")) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'to' and 'broadcast' exclude each other: a broadcast goes to everybody");
        return;
    }
    if (seal) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "a broadcast message cannot be sealed");
        return;
    }
    const json_t *text = json_object_get(params, "text");
    if (!check_text(st, call, text))
        return;
    size_t len = 0;
    char *body = normalize_text(json_string_value(text), json_string_length(text), &len);
    if (!body) {
        st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    char err[256];
    json_t *r = messages_broadcast(st, body, len, err, sizeof err);
    if (!r) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "%s", err);
        free(body);
        return;
    }
    messages_publish(st, "chat.message.sent",
                     json_pack("{s:O, s:o, s:s, s:b, s:b, s:O}", "id", json_object_get(r, "id"),
                               "to", keys_of(json_object_get(r, "recipients")), "text", body,
                               "sealed", 0, "broadcast", 1, "time", json_object_get(r, "time")));
    st->api->rpc_reply(call, r);
    free(body);
}

static void rpc_send(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    ipm_state *st = user;
    static const char *const keys[] = {"to", "text", "seal", "wait", "broadcast", NULL};
    bool seal = false, wait = false, broadcast = false;
    if (!dg_params_check(st->api, call, params, keys) ||
        !rpc_get_bool(st, call, params, "seal", &seal) ||
        !rpc_get_bool(st, call, params, "wait", &wait) ||
        !rpc_get_bool(st, call, params, "broadcast", &broadcast))
        return;
    /* Sending is what the user does: it counts against auto-absence (absence.h). */
    away_activity(st);
    if (broadcast) {
        send_broadcast(st, call, params, seal);
        return;
    }
    const json_t *to = params ? json_object_get(params, "to") : NULL;
    const json_t *text = params ? json_object_get(params, "text") : NULL;
    size_t count = json_is_array(to) ? json_array_size(to) : 1;
    if (!to || (!json_is_string(to) && !json_is_array(to)) || count == 0 ||
        count > MAX_RECIPIENTS) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'to' must name 1 to %d recipients (user@host, address or nickname), "
                          "or set 'broadcast'",
                          MAX_RECIPIENTS);
        return;
    }
    if (!check_text(st, call, text))
        return;
    ipm_target *t = calloc(count, sizeof(*t));
    char(*addr_keys)[IPM_ADDR_TEXT] = calloc(count, IPM_ADDR_TEXT);
    size_t len = 0;
    char *body = normalize_text(json_string_value(text), json_string_length(text), &len);
    if (!t || !addr_keys || !body) {
        st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
        goto out;
    }
    size_t n = resolve_all(st, call, to, t, addr_keys);
    if (n == 0)
        goto out; /* answered */
    char err[160];
    ipm_sent *s = messages_send(st, t, n, body, len, seal, NULL, NULL, err, sizeof err);
    if (!s) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "%s", err);
        goto out;
    }
    json_t *keys_json = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(keys_json, json_string(s->r[i].key));
    messages_publish(st, "chat.message.sent",
                     json_pack("{s:I, s:o, s:s, s:b, s:I}", "id", (json_int_t)s->id, "to",
                               keys_json, "text", body, "sealed", seal, "time",
                               (json_int_t)s->time));
    if (wait && s->open > 0)
        s->wait = call; /* answered when the last recipient acks or fails */
    else
        messages_reply_sent(st, call, s);
out:
    free(body);
    free(addr_keys);
    free(t);
}

static void rpc_inbox(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    ipm_state *st = user;
    static const char *const keys[] = {"unread", NULL};
    bool unread = false;
    if (!dg_params_check(st->api, call, params, keys) ||
        !rpc_get_bool(st, call, params, "unread", &unread))
        return;
    json_t *list = json_array();
    for (size_t i = 0; i < st->inbox.n; i++) {
        const ipm_msg *m = st->inbox.v[i];
        if (unread && m->opened)
            continue;
        /* A sealed message shows its text only once opened with chat.read (§4.4). */
        json_array_append_new(list, ipm_msg_json(m, !m->sealed || m->opened));
    }
    st->api->rpc_reply(call, json_pack("{s:o, s:I, s:I}", "messages", list, "unread",
                                       (json_int_t)ipm_inbox_unread(&st->inbox), "evicted",
                                       (json_int_t)st->inbox.evicted));
}

static void rpc_read(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    ipm_state *st = user;
    static const char *const keys[] = {"id", NULL};
    uint32_t id;
    if (!dg_params_check(st->api, call, params, keys) || !rpc_get_id(st, call, params, "id", &id))
        return;
    ipm_msg *m = ipm_inbox_find(&st->inbox, id);
    if (!m) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "no message %u in the inbox (see chat.inbox)", (unsigned)id);
        return;
    }
    away_activity(st); /* reading is what the user does (absence.h) */
    messages_open(st, m);
    st->api->rpc_reply(call, ipm_msg_json(m, true));
}

int rpc_chat_register(ipm_state *st)
{
    static const struct {
        const char *name, *summary;
        dg_rpc_fn fn;
    } methods[] = {
        {"chat.send", "send a message: {to, text, seal?, wait?} or {broadcast: true, text}",
         rpc_send},
        {"chat.inbox", "received messages: {unread?}", rpc_inbox},
        {"chat.read", "open a received message (sends the opened notice if sealed): {id}",
         rpc_read},
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
