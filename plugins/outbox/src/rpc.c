/*
 * RPC methods of the offline queue: queue.send, queue.list, queue.discard
 * (docs/protocol/rooms.md, section "Offline queue", lists params and results).
 */
#include "rpc.h"
#include "rpc_params.h"

#include <dengon/users_directory.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deliver.h"

/* Recipients of one queue.send (as many as chat.send takes). */
#define MAX_RECIPIENTS 256
/* Longest text: what fits one IPMsg datagram with room for the header and a legacy code page. */
#define TEXT_MAX 30000

static bool get_bool(outbox_state *st, dg_rpc_call *call, const json_t *params, const char *key,
                     bool *out)
{
    const json_t *v = params ? json_object_get(params, key) : NULL;
    if (!v)
        return true;
    const char *s = json_string_value(v);
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
    } else if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
        *out = strcmp(s, "true") == 0;
    } else {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'%s' must be true or false", key);
        return false;
    }
    return true;
}

/* CR LF and lone CR become LF, as chat.send does. */
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

/* ---- queue.send ---- */

/* user@host as IPMsg keys are: both parts non-empty, no ':' or control characters. */
static bool key_like(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strlen(s) > 256)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == ':')
            return false;
    return true;
}

/*
 * Someone the transport has not seen since it started (the daemon restarted,
 * they are offline): the users plugin's directory remembers them. Looked up
 * at each use, so the outbox keeps no pointer into a plugin that may stop.
 * NULL with the directory's reason in why, or with why empty without one.
 */
static json_t *directory_resolve(outbox_state *st, const char *who, char *why, size_t whylen)
{
    size_t size = 0;
    const dg_users_directory_v1 *d =
        st->api->service_require(st->ctx, DG_USERS_DIRECTORY_SERVICE, 1, &size);
    if (!d || size < offsetof(dg_users_directory_v1, resolve) + sizeof d->resolve || !d->resolve)
        return NULL;
    return d->resolve(d->self, who, why, whylen);
}

static void rpc_send(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    outbox_state *st = user;
    static const char *const keys[] = {"to", "text", "seal", NULL};
    bool seal = false;
    if (!dg_params_check(st->api, call, params, keys) || !get_bool(st, call, params, "seal", &seal))
        return;
    const json_t *to = params ? json_object_get(params, "to") : NULL;
    const json_t *text = params ? json_object_get(params, "text") : NULL;
    size_t count = json_is_array(to) ? json_array_size(to) : json_is_string(to) ? 1 : 0;
    if (count == 0 || count > MAX_RECIPIENTS) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'to' must name 1 to %d recipients (nickname or user@host of a user "
                          "seen on the LAN)",
                          MAX_RECIPIENTS);
        return;
    }
    if (!json_is_string(text) || json_string_length(text) == 0 ||
        memchr(json_string_value(text), '\0', json_string_length(text))) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'text' must be a non-empty string without NUL characters");
        return;
    }
    size_t len;
    char *body = normalize_text(json_string_value(text), json_string_length(text), &len);
    qmsg *v = calloc(count, sizeof(*v));
    size_t n = 0;
    if (!body || !v) {
        st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
        goto out;
    }
    if (len > TEXT_MAX) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "the text has %zu bytes; a queued message holds at most %d", len,
                          TEXT_MAX);
        goto out;
    }
    int64_t now = ob_now();
    for (size_t i = 0; i < count; i++) {
        const char *who = json_string_value(json_is_array(to) ? json_array_get(to, i) : to);
        json_t *u = who ? st->tp->user_get(st->tp->self, who) : NULL;
        char why[256] = "";
        if (!u && who)
            u = directory_resolve(st, who, why, sizeof why);
        const char *key = json_string_value(json_object_get(u, "key"));
        /*
         * The transport knows the users seen since it started; a user@host it
         * does not know (yet) is taken as written and gets the message when a
         * user with that key appears. A nickname must be known.
         */
        if (!key && who && key_like(who))
            key = who;
        if (!key) {
            json_decref(u);
            if (why[0]) /* the directory's reason: unknown there too, or ambiguous */
                st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                                  "%s; give a nickname of a user seen on the LAN or a user@host "
                                  "(see dengon users --all)",
                                  why);
            else
                st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                                  "unknown user '%s': give a nickname of a user seen on the LAN "
                                  "or a user@host (see dengon users --all)",
                                  who ? who : "(not a string)");
            goto out;
        }
        const char *me = json_string_value(json_object_get(st->api->identity(st->ctx), "lan_key"));
        if (me && strcasecmp(key, me) == 0) {
            json_decref(u);
            st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'%s' is this node: nothing to queue",
                              who);
            goto out;
        }
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcasecmp(v[k].to_key, key) == 0;
        if (!dup) {
            const char *uuid = json_string_value(json_object_get(u, "uuid"));
            const char *nick = json_string_value(json_object_get(u, "nickname"));
            v[n] = (qmsg){.to_key = strdup(key),
                          .to_uuid = uuid && *uuid ? strdup(uuid) : NULL,
                          .nickname = strdup(nick && *nick ? nick : key),
                          .text = strdup(body),
                          .sealed = seal,
                          .created = now};
            n++;
        }
        json_decref(u);
        if (!dup && (!v[n - 1].to_key || !v[n - 1].nickname || !v[n - 1].text)) {
            st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
            goto out;
        }
    }
    if (qstore_add_all(st->db, v, n) != 0) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "cannot queue: %s", qstore_error(st->db));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        deliver_publish(st, "queue.message.queued", deliver_entry_json(st, &v[i]));
        deliver_flush(st, v[i].to_key); /* online now: goes out at once, in order */
    }
    /* The entries as they are after the first attempt (sending, or still queued). */
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        qmsg m;
        if (qstore_get(st->db, v[i].id, &m) == 1) {
            json_array_append_new(list, deliver_entry_json(st, &m));
            qmsg_clear(&m);
        }
    }
    st->api->rpc_reply(call, json_pack("{s:o}", "messages", list));
out:
    qmsgs_free(v, n);
    free(body);
}

/* ---- queue.list ---- */

static void rpc_list(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    outbox_state *st = user;
    static const char *const keys[] = {"all", NULL};
    bool all = false;
    if (!dg_params_check(st->api, call, params, keys) || !get_bool(st, call, params, "all", &all))
        return;
    qmsg *v;
    size_t n;
    if (qstore_list(st->db, all, &v, &n) != 0) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "cannot read the queue: %s", qstore_error(st->db));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, deliver_entry_json(st, &v[i]));
    qmsgs_free(v, n);
    st->api->rpc_reply(call, list);
}

/* ---- queue.discard ---- */

static bool get_id(outbox_state *st, dg_rpc_call *call, const json_t *params, int64_t *out)
{
    const json_t *v = params ? json_object_get(params, "id") : NULL;
    long long n = -1;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (*s >= '0' && *s <= '9' && !*end && errno == 0)
            n = x;
    }
    if (n < 1) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'id' must be the number of a queued message (see dengon queue)");
        return false;
    }
    *out = n;
    return true;
}

static void rpc_discard(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    outbox_state *st = user;
    static const char *const keys[] = {"id", NULL};
    int64_t id;
    if (!dg_params_check(st->api, call, params, keys) || !get_id(st, call, params, &id))
        return;
    qmsg m;
    int rc = qstore_get(st->db, id, &m);
    if (rc <= 0) {
        if (rc < 0)
            st->api->rpc_fail(call, DG_RPC_FAILED, "cannot read the queue: %s",
                              qstore_error(st->db));
        else
            st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                              "no message %lld in the queue (see dengon queue)", (long long)id);
        return;
    }
    if (m.state != Q_QUEUED) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "message %lld is already %s", (long long)id,
                          q_state_name(m.state));
        qmsg_clear(&m);
        return;
    }
    qmsg_clear(&m);
    /* Sent and not yet acknowledged: the recipient may still get it; say so. */
    ob_inflight *f = deliver_inflight(st, id);
    bool in_flight = f != NULL;
    if (f)
        deliver_forget(st, f);
    if (qstore_finish(st->db, id, Q_DISCARDED, NULL, 0, ob_now()) != 1 ||
        qstore_get(st->db, id, &m) != 1) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "cannot discard: %s", qstore_error(st->db));
        return;
    }
    json_t *entry = deliver_entry_json(st, &m);
    qmsg_clear(&m);
    if (entry)
        json_object_set_new(entry, "in_flight", json_boolean(in_flight));
    deliver_publish(st, "queue.message.discarded", json_deep_copy(entry));
    st->api->rpc_reply(call, entry);
}

int outbox_rpc_register(outbox_state *st)
{
    static const struct {
        const char *name, *summary;
        dg_rpc_fn fn;
    } methods[] = {
        {"queue.send",
         "queue a message for users who may be offline; sent when they come online: "
         "{to, text, seal?}",
         rpc_send},
        {"queue.list", "messages waiting in the offline queue: {all?}", rpc_list},
        {"queue.discard", "drop a queued message: {id}", rpc_discard},
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
