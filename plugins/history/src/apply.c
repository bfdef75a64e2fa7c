#include "apply.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* Messages published by a chat transport that does not name itself. */
#define DEFAULT_TRANSPORT "chat"

struct hist_orphan {
    hist_rcpt_kind kind;
    json_t *payload;
    int64_t held_at;
};

static void logf_(hist_apply *a, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_(hist_apply *a, int level, const char *fmt, ...)
{
    if (!a->log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    a->log(a->log_user, level, msg);
}

static void count(atomic_uint_fast64_t *c)
{
    atomic_fetch_add(c, 1);
}

/* ---- payload fields ---- */

static const char *str(const json_t *p, const char *key)
{
    return json_string_value(json_object_get(p, key));
}

static bool flag(const json_t *p, const char *key)
{
    return json_is_true(json_object_get(p, key));
}

/* An integer field >= 0 into *out; false when missing or mistyped. */
static bool integer(const json_t *p, const char *key, int64_t *out)
{
    const json_t *v = json_object_get(p, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = json_integer_value(v);
    return true;
}

static const char *transport_of(const json_t *p)
{
    const char *t = str(p, "transport");
    return t && *t ? t : DEFAULT_TRANSPORT;
}

static int64_t time_of(const json_t *p, int64_t now)
{
    int64_t t;
    return integer(p, "time", &t) ? t : now;
}

static void invalid(hist_apply *a, const char *topic, const char *why)
{
    count(&a->counters->invalid);
    /* Never the payload: it holds message text (plugin-guide §6.1). */
    logf_(a, 1, "%s ignored: %s", topic, why);
}

static void db_error(hist_apply *a, hist_db *db, const char *topic)
{
    count(&a->counters->errors);
    logf_(a, 0, "%s not stored: %s", topic, hist_db_error(db));
}

/* ---- state updates ---- */

static int apply_update(hist_db *db, hist_rcpt_kind kind, const json_t *p, int64_t msg_id,
                        int64_t now)
{
    hist_rcpt_update u = {
        .kind = kind,
        .transport = transport_of(p),
        .msg_id = msg_id,
        .peer = str(p, "to"),
        .nickname = str(p, "nickname"),
        .address = str(p, "address"),
        .reason = str(p, "reason"),
        .time = time_of(p, now),
    };
    return hist_store_recipient(db, &u);
}

static void orphan_drop(hist_apply *a, size_t i)
{
    json_decref(a->orphans[i].payload);
    memmove(&a->orphans[i], &a->orphans[i + 1], (a->n_orphans - i - 1) * sizeof *a->orphans);
    a->n_orphans--;
}

/* Keeps an update whose message is not stored yet. */
static void orphan_hold(hist_apply *a, hist_rcpt_kind kind, const json_t *p, int64_t now)
{
    while (a->n_orphans &&
           (a->n_orphans == HIST_ORPHANS_MAX || now - a->orphans[0].held_at > HIST_ORPHAN_TTL_S)) {
        count(&a->counters->unmatched);
        orphan_drop(a, 0);
    }
    if (!a->orphans && !(a->orphans = calloc(HIST_ORPHANS_MAX, sizeof *a->orphans))) {
        count(&a->counters->unmatched);
        return;
    }
    a->orphans[a->n_orphans++] =
        (hist_orphan){.kind = kind, .payload = json_incref((json_t *)p), .held_at = now};
    count(&a->counters->deferred);
}

/* A message was stored: the updates that waited for it now apply. */
static void orphans_apply(hist_apply *a, hist_db *db, const char *transport, int64_t msg_id,
                          int64_t now)
{
    for (size_t i = 0; i < a->n_orphans;) {
        const json_t *p = a->orphans[i].payload;
        int64_t id;
        if (!integer(p, "id", &id) || id != msg_id || strcmp(transport_of(p), transport) != 0) {
            i++;
            continue;
        }
        int rc = apply_update(db, a->orphans[i].kind, p, msg_id, now);
        if (rc < 0)
            db_error(a, db, "held state event");
        else
            count(rc == HIST_CHANGED ? &a->counters->updates : &a->counters->unmatched);
        orphan_drop(a, i);
    }
}

static void on_update(hist_apply *a, hist_db *db, const char *topic, hist_rcpt_kind kind,
                      const json_t *p, int64_t now)
{
    int64_t msg_id;
    if (!integer(p, "id", &msg_id) || !str(p, "to")) {
        invalid(a, topic, "needs 'id' and 'to'");
        return;
    }
    int rc = apply_update(db, kind, p, msg_id, now);
    if (rc < 0)
        db_error(a, db, topic);
    else if (rc == HIST_CHANGED)
        count(&a->counters->updates);
    else if (rc == HIST_UNCHANGED)
        count(&a->counters->unmatched);
    else if (json_is_string(json_object_get(p, "via")))
        count(&a->counters->unmatched); /* another plugin's message (rooms, outbox): no
                                             chat.message.sent will come for it */
    else
        orphan_hold(a, kind, p, now);
}

/* ---- messages ---- */

static void on_sent(hist_apply *a, hist_db *db, const char *topic, const json_t *p, int64_t now)
{
    const json_t *to = json_object_get(p, "to");
    const char *text = str(p, "text"), *room = str(p, "room");
    int64_t msg_id;
    size_t n = json_is_string(to) ? 1 : json_array_size(to);
    /* A room post may have gone to nobody (alone in the room); a message may not. */
    if (!integer(p, "id", &msg_id) || !text || (n == 0 && !room) ||
        (to && !json_is_string(to) && !json_is_array(to))) {
        invalid(a, topic, "needs 'id', 'to' and 'text'");
        return;
    }
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    if (!keys) {
        db_error(a, db, topic);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        keys[i] = json_string_value(json_is_string(to) ? to : json_array_get(to, i));
        if (!keys[i]) {
            free(keys);
            invalid(a, topic, "'to' must hold strings");
            return;
        }
    }
    hist_msg m = {
        .out = true,
        .transport = transport_of(p),
        .msg_id = msg_id,
        .packet_no = -1,
        .local = a->local,
        .room = room,
        .text = text,
        .sealed = flag(p, "sealed"),
        .broadcast = flag(p, "broadcast"),
        .multicast = n > 1 && !flag(p, "broadcast") && !room,
        .time = time_of(p, now),
        .to = keys,
        .n_to = n,
        /* Broadcasts and room posts are never acknowledged: "sent" is final for them. */
        .rcpt_state = flag(p, "broadcast") || room ? "sent" : NULL,
    };
    if (hist_store_message(db, &m, NULL) != 0) {
        db_error(a, db, topic);
    } else {
        count(&a->counters->stored);
        orphans_apply(a, db, m.transport, msg_id, now);
    }
    free(keys);
}

static void on_received(hist_apply *a, hist_db *db, const char *topic, const json_t *p, int64_t now)
{
    int64_t msg_id, packet_no = -1;
    const char *text = str(p, "text"), *from = str(p, "from");
    if (!integer(p, "id", &msg_id) || !text || !from) {
        invalid(a, topic, "needs 'id', 'from' and 'text'");
        return;
    }
    if (!integer(p, "packet_no", &packet_no))
        packet_no = -1;
    hist_msg m = {
        .transport = transport_of(p),
        .msg_id = msg_id,
        .packet_no = packet_no,
        .local = a->local,
        .peer = from,
        .nickname = str(p, "nickname"),
        .address = str(p, "address"),
        .room = str(p, "room"),
        .text = text,
        .sealed = flag(p, "sealed"),
        .opened = flag(p, "opened"),
        .broadcast = flag(p, "broadcast"),
        .multicast = flag(p, "multicast"),
        .auto_reply = flag(p, "auto_reply"),
        .time = time_of(p, now),
    };
    if (hist_store_message(db, &m, NULL) != 0)
        db_error(a, db, topic);
    else
        count(&a->counters->stored);
}

/* The local user read a received message (a sealed one shows its text from now on). */
static void on_read(hist_apply *a, hist_db *db, const char *topic, const json_t *p, int64_t now)
{
    int64_t msg_id;
    if (!integer(p, "id", &msg_id)) {
        invalid(a, topic, "needs 'id'");
        return;
    }
    int rc = hist_store_mark_read(db, transport_of(p), msg_id, time_of(p, now));
    if (rc < 0)
        db_error(a, db, topic);
    else
        count(rc > 0 ? &a->counters->updates : &a->counters->unmatched);
}

/* chat.room.message: a room post, received ("in") or ours ("out"). */
static void on_room(hist_apply *a, hist_db *db, const char *topic, const json_t *p, int64_t now)
{
    const char *direction = str(p, "direction");
    if (!str(p, "room") || !direction) {
        invalid(a, topic, "needs 'room' and 'direction'");
        return;
    }
    if (strcmp(direction, "out") == 0)
        on_sent(a, db, topic, p, now);
    else if (strcmp(direction, "in") == 0)
        on_received(a, db, topic, p, now);
    else
        invalid(a, topic, "'direction' must be \"in\" or \"out\"");
}

/*
 * queue.message.delivered / .failed (final): a message of the offline queue.
 * The transport does not publish chat.message.sent for it, so it is stored
 * here as sent, already delivered (under the transport's id, so that a later
 * "opened" finds it) or failed (under the queue's id: it never had another).
 */
static void on_queued(hist_apply *a, hist_db *db, const char *topic, const json_t *p, bool ok,
                      int64_t now)
{
    int64_t queue_id, msg_id = -1, created;
    const char *to = str(p, "to"), *text = str(p, "text");
    if (!integer(p, "id", &queue_id) || !to || !text ||
        (ok && !integer(p, "message_id", &msg_id))) {
        invalid(a, topic,
                ok ? "needs 'id', 'to', 'text' and 'message_id'" : "needs 'id', 'to' and 'text'");
        return;
    }
    hist_msg m = {
        .out = true,
        .transport = ok ? transport_of(p) : "queue",
        .msg_id = ok ? msg_id : queue_id,
        .packet_no = -1,
        .local = a->local,
        .text = text,
        .sealed = flag(p, "sealed"),
        /* When it was written: the message of the user, whenever it went out. */
        .time = integer(p, "created", &created) ? created : now,
        .to = &to,
        .n_to = 1,
        .rcpt_state = ok ? "delivered" : "failed",
        .rcpt_nickname = str(p, "nickname"),
        .rcpt_reason = ok                ? NULL
                       : str(p, "error") ? str(p, "error")
                                         : "not sent",
    };
    if (hist_store_message(db, &m, NULL) != 0) {
        db_error(a, db, topic);
        return;
    }
    count(&a->counters->stored);
    if (ok)
        orphans_apply(a, db, m.transport, msg_id, now); /* its chat.message.delivered came first */
}

int hist_apply_set_local(hist_apply *a, const char *local)
{
    char *copy = strdup(local);
    if (!copy)
        return -1;
    free(a->local);
    a->local = copy;
    return 0;
}

void hist_apply_event(hist_apply *a, hist_db *db, const char *topic, const json_t *payload,
                      int64_t now)
{
    static const char prefix[] = "chat.message.";
    bool chat = strncmp(topic, prefix, sizeof prefix - 1) == 0;
    bool room = strcmp(topic, "chat.room.message") == 0;
    bool queue_ok = strcmp(topic, "queue.message.delivered") == 0;
    bool queue_failed = strcmp(topic, "queue.message.failed") == 0;
    if (!chat && !room && !queue_ok && !queue_failed)
        return;
    if (!json_is_object(payload)) {
        invalid(a, topic, "the payload is not an object");
        return;
    }
    if (!a->local) {
        count(&a->counters->errors);
        return;
    }
    const char *what = chat ? topic + sizeof prefix - 1 : "";
    if (room)
        on_room(a, db, topic, payload, now);
    else if (queue_ok)
        on_queued(a, db, topic, payload, true, now);
    else if (queue_failed && flag(payload, "final"))
        on_queued(a, db, topic, payload, false, now);
    else if (strcmp(what, "sent") == 0)
        on_sent(a, db, topic, payload, now);
    else if (strcmp(what, "received") == 0)
        on_received(a, db, topic, payload, now);
    else if (strcmp(what, "delivered") == 0)
        on_update(a, db, topic, HIST_DELIVERED, payload, now);
    else if (strcmp(what, "failed") == 0)
        on_update(a, db, topic, HIST_FAILED, payload, now);
    else if (strcmp(what, "opened") == 0)
        on_update(a, db, topic, HIST_OPENED, payload, now);
    else if (strcmp(what, "read") == 0)
        on_read(a, db, topic, payload, now);
}

void hist_apply_free(hist_apply *a)
{
    while (a->n_orphans)
        orphan_drop(a, a->n_orphans - 1);
    free(a->orphans);
    free(a->local);
    a->orphans = NULL;
    a->local = NULL;
}
