#include "deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DAY_S 86400

json_t *deliver_entry_json(outbox_state *st, const qmsg *m)
{
    bool sending = m->state == Q_QUEUED && deliver_inflight(st, m->id) != NULL;
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:b, s:s, s:I, s:I}", "id", (json_int_t)m->id, "to",
                          m->to_key, "nickname", m->nickname, "text", m->text, "sealed", m->sealed,
                          "state", sending ? "sending" : q_state_name(m->state), "created",
                          (json_int_t)m->created, "attempts", (json_int_t)m->attempts);
    if (!o)
        return NULL;
    if (m->to_uuid)
        json_object_set_new(o, "uuid", json_string(m->to_uuid));
    if (m->last_attempt)
        json_object_set_new(o, "last_attempt", json_integer(m->last_attempt));
    if (m->error)
        json_object_set_new(o, "error", json_string(m->error));
    if (m->finished)
        json_object_set_new(o, "finished", json_integer(m->finished));
    if (m->message_id)
        json_object_set_new(o, "message_id", json_integer(m->message_id));
    return o;
}

void deliver_publish(outbox_state *st, const char *topic, json_t *payload)
{
    int rc = payload ? st->api->publish_ordered(st->ctx, topic, payload) : DG_ENOMEM;
    if (rc < 0)
        st->api->log(st->ctx, DG_LOG_WARN, "queue event %s lost (%d)", topic, rc);
}

/* Publishes topic with the current row of id (plus extra fields, stolen). */
static void publish_row(outbox_state *st, const char *topic, int64_t id, json_t *extra)
{
    qmsg m;
    json_t *ev = NULL;
    if (qstore_get(st->db, id, &m) == 1) {
        ev = deliver_entry_json(st, &m);
        qmsg_clear(&m);
    }
    if (ev && extra)
        json_object_update(ev, extra);
    json_decref(extra);
    if (ev)
        deliver_publish(st, topic, ev);
    else
        st->api->log(st->ctx, DG_LOG_WARN, "queue message %lld: event %s lost: %s", (long long)id,
                     topic, qstore_error(st->db));
}

ob_inflight *deliver_inflight(outbox_state *st, int64_t row)
{
    for (ob_inflight *f = st->inflight; f; f = f->next)
        if (f->row == row)
            return f;
    return NULL;
}

static ob_inflight *inflight_for_key(outbox_state *st, const char *key)
{
    for (ob_inflight *f = st->inflight; f; f = f->next)
        if (strcasecmp(f->key, key) == 0)
            return f;
    return NULL;
}

void deliver_forget(outbox_state *st, ob_inflight *f)
{
    for (ob_inflight **pp = &st->inflight; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            free(f->key);
            free(f);
            return;
        }
}

/* Is the recipient listed online or absent by the transport? */
static bool reachable(outbox_state *st, const char *key)
{
    json_t *u = st->tp->user_get(st->tp->self, key);
    const char *status = u ? json_string_value(json_object_get(u, "status")) : NULL;
    bool ok = status && strcmp(status, "offline") != 0;
    json_decref(u);
    return ok;
}

void deliver_flush(outbox_state *st, const char *key)
{
    if (inflight_for_key(st, key) || !reachable(st, key))
        return;
    for (;;) {
        qmsg m;
        int rc = qstore_oldest(st->db, key, &m);
        if (rc != 1) {
            if (rc < 0)
                st->api->log(st->ctx, DG_LOG_ERROR, "queue: %s", qstore_error(st->db));
            return;
        }
        ob_inflight *f = calloc(1, sizeof(*f));
        if (!f || !(f->key = strdup(m.to_key)) || qstore_attempt(st->db, m.id, ob_now()) != 0) {
            if (f)
                free(f->key);
            free(f);
            st->api->log(st->ctx, DG_LOG_ERROR, "queue message %lld not sent: %s", (long long)m.id,
                         qstore_error(st->db));
            qmsg_clear(&m);
            return;
        }
        char err[256] = "";
        const char *to[1] = {m.to_key};
        /* via: the history stores it from queue.message.delivered, not from these events. */
        uint32_t id =
            st->tp->send_ex(st->tp->self, to, 1, m.text, m.sealed ? DG_CHAT_SEND_SEALED : 0,
                            "outbox", err, sizeof err);
        if (id != 0) {
            f->row = m.id;
            f->message_id = id;
            f->next = st->inflight;
            st->inflight = f;
            st->api->log(st->ctx, DG_LOG_DEBUG, "queue message %lld sent to %s as %u",
                         (long long)m.id, m.to_key, (unsigned)id);
            qmsg_clear(&m);
            return;
        }
        /*
         * The recipient is reachable, so the transport refused the message
         * itself (it cannot fit a datagram in the recipient's encoding, ...):
         * retrying cannot help. Fail it and go on with the next one.
         */
        free(f->key);
        free(f);
        if (qstore_finish(st->db, m.id, Q_FAILED, err[0] ? err : "refused by the transport", 0,
                          ob_now()) == 1)
            publish_row(st, "queue.message.failed", m.id, json_pack("{s:b}", "final", 1));
        qmsg_clear(&m);
    }
}

void deliver_flush_all(outbox_state *st)
{
    char **keys;
    size_t n;
    if (qstore_recipients(st->db, &keys, &n) != 0) {
        st->api->log(st->ctx, DG_LOG_ERROR, "queue: %s", qstore_error(st->db));
        return;
    }
    for (size_t i = 0; i < n; i++)
        deliver_flush(st, keys[i]);
    qstore_keys_free(keys, n);
}

void deliver_on_result(outbox_state *st, const json_t *event, bool ok)
{
    json_int_t id = json_integer_value(json_object_get(event, "id"));
    const char *to = json_string_value(json_object_get(event, "to"));
    ob_inflight *f = st->inflight;
    while (f && !(f->message_id == (uint32_t)id && to && strcasecmp(f->key, to) == 0))
        f = f->next;
    if (!f || id <= 0)
        return; /* not ours: a chat.send or another plugin's message */
    int64_t row = f->row;
    char *key = strdup(f->key);
    deliver_forget(st, f);
    if (ok) {
        int rc = qstore_finish(st->db, row, Q_DELIVERED, NULL, (uint32_t)id, ob_now());
        if (rc == 1)
            publish_row(st, "queue.message.delivered", row, NULL);
        else if (rc < 0)
            st->api->log(st->ctx, DG_LOG_ERROR, "queue message %lld delivered but not recorded: %s",
                         (long long)row, qstore_error(st->db));
        if (key)
            deliver_flush(st, key); /* the next one, in order */
    } else {
        /* Stays queued: the next presence change or retry round tries again. */
        const char *reason = json_string_value(json_object_get(event, "reason"));
        qstore_set_error(st->db, row, reason ? reason : "not acknowledged");
        publish_row(st, "queue.message.failed", row, json_pack("{s:b}", "final", 0));
    }
    free(key);
}

void deliver_on_presence(outbox_state *st, const json_t *event)
{
    const char *key = json_string_value(json_object_get(event, "key"));
    const char *status = json_string_value(json_object_get(event, "status"));
    const char *uuid = json_string_value(json_object_get(event, "uuid"));
    const char *moved_from = json_string_value(json_object_get(event, "moved_from"));
    if (!key || !status)
        return;
    /* Same person on a new PC: queued messages follow them (by the old key or their UUID). */
    if (moved_from || (uuid && *uuid)) {
        int n = qstore_retarget(st->db, moved_from, uuid && *uuid ? uuid : NULL, key);
        if (n > 0)
            st->api->log(st->ctx, DG_LOG_INFO, "%d queued message(s) now go to %s (same identity)",
                         n, key);
    }
    if (strcmp(status, "offline") != 0)
        deliver_flush(st, key);
}

void deliver_housekeeping(outbox_state *st)
{
    int64_t now = ob_now();
    int64_t expire = st->api->config_get_int(st->ctx, "outbox.expire_days", 30);
    int64_t keep = st->api->config_get_int(st->ctx, "outbox.keep_days", 7);
    if (expire > 0 && expire <= 36500) {
        qmsg *v;
        size_t n;
        if (qstore_expired(st->db, now - expire * DAY_S, &v, &n) == 0) {
            for (size_t i = 0; i < n; i++) {
                char why[96];
                snprintf(why, sizeof why, "not delivered within %lld days (outbox.expire_days)",
                         (long long)expire);
                ob_inflight *f = deliver_inflight(st, v[i].id);
                if (f)
                    deliver_forget(st, f);
                if (qstore_finish(st->db, v[i].id, Q_FAILED, why, 0, now) == 1)
                    publish_row(st, "queue.message.failed", v[i].id,
                                json_pack("{s:b}", "final", 1));
            }
            qmsgs_free(v, n);
        }
    }
    if (keep >= 0 && keep <= 36500 && qstore_purge(st->db, now - keep * DAY_S) < 0)
        st->api->log(st->ctx, DG_LOG_WARN, "queue purge failed: %s", qstore_error(st->db));
}

void deliver_free(outbox_state *st)
{
    while (st->inflight)
        deliver_forget(st, st->inflight);
}
