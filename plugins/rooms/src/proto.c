#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "peers.h"
#include "rpc.h"

/* How often held operations are checked for expiry. */
#define HOLD_CHECK_MS 5000

/* ---- identity ---- */

const char *proto_my_key(rooms_state *st, char *buf, size_t len)
{
    const char *k = json_string_value(json_object_get(st->api->identity(st->ctx), "lan_key"));
    snprintf(buf, len, "%s", k ? k : "");
    /* As the ipmsg plugin puts it on the wire: ':' and controls cannot travel in names. */
    for (char *p = buf; *p; p++)
        if (*p == ':' || (unsigned char)*p < 0x20)
            *p = ';';
    return buf;
}

const char *proto_my_nick(rooms_state *st)
{
    const char *n = json_string_value(json_object_get(st->api->identity(st->ctx), "nickname"));
    return n && *n ? n : NULL;
}

/* ---- sending ---- */

/* Sends text to key if the transport knows key as online or absent. */
static bool send_text(rooms_state *st, const char *key, const char *text)
{
    json_t *u = st->tp->user_get(st->tp->self, key);
    const char *status = u ? json_string_value(json_object_get(u, "status")) : NULL;
    bool reachable = status && strcmp(status, "offline") != 0;
    json_decref(u);
    if (!reachable)
        return false;
    char err[256] = "";
    const char *to[1] = {key};
    /* via: its delivered/failed events are not chat.send's (the history skips them). */
    if (st->tp->send_ex(st->tp->self, to, 1, text, 0, "rooms", err, sizeof err) == 0) {
        st->stats.send_failed++;
        st->api->log(st->ctx, DG_LOG_WARN, "cannot send a room operation to %s: %s", key, err);
        return false;
    }
    st->stats.sent++;
    return true;
}

static bool refs_have(const room_ref *r, size_t n, const char *uuid)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].uuid, uuid) == 0)
            return true;
    return false;
}

/* Fills origin, from and nick of a control envelope; the strings are borrowed by e. */
static void control_head(rooms_state *st, room_env *e, char *keybuf, size_t keylen)
{
    memcpy(e->origin, st->me, sizeof e->origin);
    e->from = (char *)proto_my_key(st, keybuf, keylen);
    e->nick = (char *)proto_my_nick(st);
}

/* ---- JSON views and events ---- */

static json_t *refs_json(const room_ref *r, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_pack("{s:s, s:s}", "uuid", r[i].uuid, "key", r[i].key);
        if (m && r[i].nick)
            json_object_set_new(m, "nickname", json_string(r[i].nick));
        json_array_append_new(a, m);
    }
    return a;
}

json_t *proto_room_json(rooms_state *st, const room_info *r)
{
    json_t *o =
        json_pack("{s:s, s:s, s:b, s:s, s:I}", "id", r->id, "name", r->name, "private", r->priv,
                  "state", room_state_name(r->state), "created", (json_int_t)r->created);
    if (!o)
        return NULL;
    if (r->last)
        json_object_set_new(o, "last", json_integer(r->last));
    room_member *m = NULL;
    size_t n = 0;
    json_t *list = json_array();
    if (rstore_members(st->db, r->id, true, &m, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            json_t *x = json_pack("{s:s, s:s, s:b}", "uuid", m[i].uuid, "key", m[i].key, "me",
                                  strcmp(m[i].uuid, st->me) == 0);
            if (x && m[i].nick)
                json_object_set_new(x, "nickname", json_string(m[i].nick));
            json_array_append_new(list, x);
        }
        room_members_free(m, n);
    }
    json_object_set_new(o, "members", list);
    return o;
}

json_t *proto_op_json(const room_logop *op)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I}", "id", (json_int_t)op->id, "kind",
                          room_op_name(op->op) ? room_op_name(op->op) : "?", "origin", op->origin,
                          "from", op->from ? op->from : "", "seq", (json_int_t)op->seq, "clock",
                          (json_int_t)op->clock, "time", (json_int_t)op->time);
    if (!o)
        return NULL;
    if (op->nick)
        json_object_set_new(o, "nickname", json_string(op->nick));
    if (op->text)
        json_object_set_new(o, "text", json_string(op->text));
    if (op->detail) {
        json_t *d = json_loads(op->detail, 0, NULL);
        if (d)
            json_object_set_new(o, "invited", d);
    }
    return o;
}

/*
 * chat.room.message: the fields of chat.message.received (in) or
 * chat.message.sent (out, with "to") plus the room, so the history plugin can
 * store a post like a message; "transport": "rooms" keeps its ids apart.
 */
static json_t *message_event(const room_info *r, const room_logop *op, bool out, json_t *to)
{
    json_t *ev = json_pack("{s:s, s:s, s:b, s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s}",
                           "room", r->id, "room_name", r->name, "private", r->priv, "id",
                           (json_int_t)op->id, "transport", "rooms", "origin", op->origin, "from",
                           op->from, "seq", (json_int_t)op->seq, "clock", (json_int_t)op->clock,
                           "time", (json_int_t)op->time, "received", (json_int_t)op->received,
                           "text", op->text ? op->text : "", "direction", out ? "out" : "in");
    if (ev) {
        json_object_set_new(ev, "nickname", json_string(op->nick ? op->nick : op->from));
        if (to)
            json_object_set_new(ev, "to", json_incref(to));
    }
    json_decref(to);
    return ev;
}

/* ---- applying a logged operation ---- */

typedef struct change {
    char uuid[ROOM_UUID_LEN + 1];
    const char *key, *nick; /* borrowed from the envelope */
    bool joined;
} change;

typedef struct applied {
    change ch[ROOM_INVITED_MAX + 1];
    size_t n_ch;
    bool snapshot; /* members were added from a snapshot (no events for those) */
    room_state before, after;
} applied;

static int member_change(rooms_state *st, applied *a, const char *room, const char *uuid,
                         const char *key, const char *nick, bool present, uint64_t clock,
                         const char *origin)
{
    int rc = rstore_member_apply(st->db, room, uuid, key, nick, present, clock, origin);
    if (rc == 1 && clock == 0)
        a->snapshot = true; /* someone's view, not an event of the room */
    else if (rc == 1 && a->n_ch < sizeof a->ch / sizeof a->ch[0]) {
        change *c = &a->ch[a->n_ch++];
        memcpy(c->uuid, uuid, sizeof c->uuid);
        c->key = key;
        c->nick = nick;
        c->joined = present;
    }
    return rc < 0 ? -1 : 0;
}

/* Membership effect of e, inside the caller's transaction. */
static int apply_members(rooms_state *st, const room_env *e, applied *a)
{
    switch (e->op) {
    case ROOM_OP_JOIN:
    case ROOM_OP_LEAVE:
        return member_change(st, a, e->room, e->origin, e->from, e->nick, e->op == ROOM_OP_JOIN,
                             e->clock, e->origin);
    case ROOM_OP_INVITE:
        for (size_t i = 0; i < e->n_invited; i++)
            if (member_change(st, a, e->room, e->invited[i].uuid, e->invited[i].key,
                              e->invited[i].nick, true, e->clock, e->origin) != 0)
                return -1;
        /* The inviter's view of the members: a snapshot that any logged operation overrides. */
        for (size_t i = 0; i < e->n_members; i++)
            if (member_change(st, a, e->room, e->members[i].uuid, e->members[i].key,
                              e->members[i].nick, true, 0, "") != 0)
                return -1;
        return rstore_member_touch(st->db, e->room, e->origin, e->from, e->nick);
    default:
        return rstore_member_touch(st->db, e->room, e->origin, e->from, e->nick);
    }
}

/*
 * Stores e (wire: its envelope) and applies it in one transaction. 1 stored,
 * 0 duplicate, -1 error. *op gets the stored row (borrowing e's strings).
 */
static int apply_logged(rooms_state *st, const room_info *r, const room_env *e, const char *wire,
                        room_logop *op, applied *a)
{
    char *detail = NULL;
    if (e->op == ROOM_OP_INVITE) {
        json_t *d = refs_json(e->invited, e->n_invited);
        detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
        json_decref(d);
        if (!detail)
            return -1;
    }
    *op = (room_logop){.seq = e->seq,
                       .clock = e->clock,
                       .op = e->op,
                       .from = e->from,
                       .nick = e->nick,
                       .time = e->time,
                       .received = rooms_now(),
                       .text = e->text,
                       .detail = detail,
                       .wire = (char *)wire};
    memcpy(op->room, e->room, sizeof op->room);
    memcpy(op->origin, e->origin, sizeof op->origin);
    memset(a, 0, sizeof(*a));
    a->before = a->after = r->state;
    int rc = -1;
    if (rstore_begin(st->db) != 0)
        goto out;
    rc = rstore_op_insert(st->db, op);
    if (rc == 1 &&
        (rstore_room_see_clock(st->db, e->room, e->clock) != 0 || apply_members(st, e, a) != 0))
        rc = -1;
    if (rc == 1) {
        int me = rstore_member_present(st->db, e->room, st->me, NULL);
        a->after = me == 1 ? ROOM_MEMBER : r->state == ROOM_MEMBER ? ROOM_LEFT : r->state;
        if (me < 0 || (a->after != r->state && rstore_room_set_state(st->db, e->room, a->after)))
            rc = -1;
    }
    if (rc < 0) {
        rstore_rollback(st->db);
        st->api->log(st->ctx, DG_LOG_ERROR, "room %s: cannot store %s %s#%llu: %s", e->room,
                     room_op_name(e->op), e->origin, (unsigned long long)e->seq,
                     rstore_error(st->db));
    } else if (rstore_commit(st->db) != 0) {
        st->api->log(st->ctx, DG_LOG_ERROR, "room %s: commit failed: %s", e->room,
                     rstore_error(st->db));
        rc = -1;
    }
out:
    free(detail);
    op->detail = NULL;
    return rc;
}

/*
 * payload (stolen; NULL: it could not be built) through the host's
 * publish_ordered: never dropped and in order, kept while a subscriber is full.
 */
static void publish_event(rooms_state *st, const char *topic, json_t *payload)
{
    int rc = payload ? st->api->publish_ordered(st->ctx, topic, payload) : DG_ENOMEM;
    if (rc < 0)
        st->api->log(st->ctx, DG_LOG_WARN, "room event %s lost (%d)", topic, rc);
}

/* Events of an applied operation; to (stolen, may be NULL): the members an own post goes to. */
static void publish_applied(rooms_state *st, const room_info *r, const room_logop *op,
                            const applied *a, bool out, json_t *to)
{
    if (op->op == ROOM_OP_POST)
        publish_event(st, "chat.room.message", message_event(r, op, out, json_incref(to)));
    json_decref(to);
    for (size_t i = 0; i < a->n_ch; i++) {
        const change *c = &a->ch[i];
        json_t *ev = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "room", r->id,
                               "room_name", r->name, "private", r->priv, "uuid", c->uuid, "member",
                               c->key ? c->key : "", "change", c->joined ? "joined" : "left", "by",
                               op->from, "by_uuid", op->origin, "clock", (json_int_t)op->clock,
                               "time", (json_int_t)op->time);
        if (ev && c->nick)
            json_object_set_new(ev, "nickname", json_string(c->nick));
        publish_event(st, "chat.room.member", ev);
    }
}

/* ---- held operations ---- */

static void hold_timer(dg_ctx *ctx, dg_timer *timer, void *user)
{
    proto_hold_expire(user);
}

static void hold(rooms_state *st, const char *room, const char *text, const char *sender)
{
    if (st->n_held >= ROOMS_HOLD_MAX) {
        rooms_rx *old = st->held;
        st->held = old->next;
        st->n_held--;
        st->stats.held_dropped++;
        free(old->text);
        free(old->sender);
        free(old);
    }
    rooms_rx *it = calloc(1, sizeof(*it));
    if (!it || !(it->text = strdup(text)) || !(it->sender = strdup(sender))) {
        if (it)
            free(it->text);
        free(it);
        st->stats.held_dropped++;
        return;
    }
    memcpy(it->room, room, sizeof it->room);
    it->until = rooms_now_ms() + ROOMS_HOLD_MS;
    rooms_rx **pp = &st->held;
    while (*pp)
        pp = &(*pp)->next;
    *pp = it;
    st->n_held++;
    st->stats.held++;
    if (!st->hold_timer)
        st->hold_timer =
            st->api->timer_add(st->ctx, HOLD_CHECK_MS, HOLD_CHECK_MS, hold_timer, st, NULL);
}

void proto_hold_expire(rooms_state *st)
{
    int64_t now = rooms_now_ms();
    for (rooms_rx **pp = &st->held; *pp;) {
        rooms_rx *it = *pp;
        if (it->until <= now) {
            *pp = it->next;
            st->n_held--;
            st->stats.held_dropped++;
            st->api->log(st->ctx, DG_LOG_INFO,
                         "room %s: dropped an operation from %s, who never became a member",
                         it->room, it->sender);
            free(it->text);
            free(it->sender);
            free(it);
        } else {
            pp = &it->next;
        }
    }
    if (!st->held && st->hold_timer) {
        st->api->timer_cancel(st->ctx, st->hold_timer);
        st->hold_timer = NULL;
    }
}

/* Membership of room changed: held operations may be acceptable now. */
static void release_held(rooms_state *st, const char *room)
{
    rooms_rx *mine = NULL, **tail = &mine;
    for (rooms_rx **pp = &st->held; *pp;) {
        rooms_rx *it = *pp;
        if (strcmp(it->room, room) == 0) {
            *pp = it->next;
            st->n_held--;
            it->next = NULL;
            *tail = it;
            tail = &it->next;
        } else {
            pp = &it->next;
        }
    }
    while (mine) {
        rooms_rx *it = mine;
        mine = it->next;
        proto_receive(st, it->text, it->sender);
        free(it->text);
        free(it->sender);
        free(it);
    }
}

/* ---- receiving ---- */

static void sync_soon(rooms_state *st, const char *room, const char *key);
static void followup(rooms_state *st, const char *room, const char *key);
static rooms_sync *sync_rec(rooms_state *st, const char *room);

static void on_logged(rooms_state *st, const room_env *e, const char *text, const char *sender)
{
    room_info r;
    int found = rstore_room_get(st->db, e->room, &r);
    if (found < 0) {
        st->api->log(st->ctx, DG_LOG_ERROR, "room %s: %s", e->room, rstore_error(st->db));
        return;
    }
    bool invites_me = e->op == ROOM_OP_INVITE && refs_have(e->invited, e->n_invited, st->me);
    if (!found) {
        if (!invites_me) {
            st->stats.ignored++; /* a room we were never invited to */
            return;
        }
        room_info nr = {
            .name = e->name, .priv = e->priv == 1, .state = ROOM_AVAILABLE, .created = e->time};
        memcpy(nr.id, e->room, sizeof nr.id);
        if (rstore_room_add(st->db, &nr) != 0 || rstore_room_get(st->db, e->room, &r) != 1) {
            st->api->log(st->ctx, DG_LOG_ERROR, "room %s: %s", e->room, rstore_error(st->db));
            return;
        }
    } else if (r.state != ROOM_MEMBER && !invites_me) {
        st->stats.ignored++; /* we left, or only know it from an announce */
        room_info_clear(&r);
        return;
    } else if (r.state == ROOM_MEMBER && r.priv &&
               rstore_member_present(st->db, e->room, e->origin, sender) != 1) {
        /* Private: only members speak. The invite that makes them one may still be on its way. */
        hold(st, e->room, text, sender);
        room_info_clear(&r);
        return;
    }
    room_logop op;
    applied a;
    int rc = apply_logged(st, &r, e, text, &op, &a);
    if (rc == 0)
        st->stats.duplicates++;
    if (rc == 1) {
        publish_applied(st, &r, &op, &a, false, NULL);
        if (a.before != ROOM_MEMBER && a.after == ROOM_MEMBER) {
            st->api->log(st->ctx, DG_LOG_INFO, "invited to room %s (%s) by %s", r.name, r.id,
                         e->from);
            /* The history and the membership, from the inviter (who has them all). */
            proto_sync(st, e->room, sender);
        } else if (e->from && strcasecmp(e->from, sender) != 0) {
            /* A relayed operation: a sync answer, maybe cut at ROOMS_SYNC_MAX. Ask for more. */
            followup(st, e->room, sender);
        }
        if (a.n_ch > 0 || a.snapshot)
            release_held(st, e->room);
    }
    room_info_clear(&r);
}

static void on_query(rooms_state *st, const room_env *e, const char *sender)
{
    room_info *v = NULL;
    size_t n = 0;
    if (e->room[0]) {
        v = calloc(1, sizeof(*v));
        if (v && rstore_room_get(st->db, e->room, v) == 1)
            n = 1;
    } else if (rstore_rooms(st->db, e->name, &v, &n) != 0) {
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!v[i].priv && v[i].state == ROOM_MEMBER)
            proto_announce(st, &v[i], sender);
    room_infos_free(v, n);
}

static void on_announce(rooms_state *st, const room_env *e)
{
    room_info r;
    int found = rstore_room_get(st->db, e->room, &r);
    if (found < 0)
        return;
    if (e->priv == 1 || (found && r.priv)) {
        /* Private rooms are never announced: a forgery, or a clash of ids. */
        st->stats.ignored++;
        room_info_clear(&r);
        return;
    }
    for (rooms_join *j = st->joins; j; j = j->next) {
        if (strcmp(j->ref, e->room) != 0 && strcasecmp(j->ref, e->name) != 0)
            continue;
        if (!j->room[0]) {
            memcpy(j->room, e->room, sizeof j->room);
        } else if (strcmp(j->room, e->room) != 0) {
            if (!j->other)
                j->other = strdup(e->room);
            continue;
        }
        rooms_join_settle(st, j);
    }
    if (rstore_begin(st->db) != 0) {
        room_info_clear(&r);
        return;
    }
    int rc = 0;
    if (!found) {
        room_info nr = {.name = e->name, .state = ROOM_AVAILABLE, .created = e->created};
        memcpy(nr.id, e->room, sizeof nr.id);
        rc = rstore_room_add(st->db, &nr);
    }
    /*
     * The announcer's members join ours as a snapshot (stamp 0): new names are
     * added, and anything a logged operation said about a member wins.
     */
    for (size_t i = 0; i < e->n_members && rc == 0; i++)
        if (rstore_member_apply(st->db, e->room, e->members[i].uuid, e->members[i].key,
                                e->members[i].nick, true, 0, "") < 0)
            rc = -1;
    if (rc != 0 || rstore_commit(st->db) != 0) {
        rstore_rollback(st->db);
        st->api->log(st->ctx, DG_LOG_WARN, "room %s: cannot record an announce: %s", e->room,
                     rstore_error(st->db));
    }
    room_info_clear(&r);
}

static void on_sync(rooms_state *st, const room_env *e, const char *sender)
{
    room_info r;
    int found = rstore_room_get(st->db, e->room, &r);
    if (found < 0)
        return;
    if ((!found || r.state == ROOM_AVAILABLE) && e->n_have == 0) {
        /* Neither side holds anything: nothing to ask (this also ends any ping-pong). */
        st->stats.ignored++;
        room_info_clear(&r);
        return;
    }
    if (!found || r.state == ROOM_AVAILABLE) {
        /*
         * The asker counts us as a member of a room we do not hold: most
         * likely an invitation sent while we were offline. Asking back with
         * an empty "have" brings every operation, the invitation among them.
         */
        if (!proto_sync(st, e->room, sender)) {
            /* The asker is not listed yet (its entry is still on the way): ask once it is. */
            rooms_sync *rec = sync_rec(st, e->room);
            if (rec && !rec->want)
                rec->want = strdup(sender);
        }
        room_info_clear(&r);
        return;
    }
    /* A room we left still answers: the asker may lack our leave. */
    if (r.priv && rstore_member_present(st->db, e->room, e->origin, sender) != 1) {
        st->stats.ignored++;
        room_info_clear(&r);
        return;
    }
    room_logop *ops = NULL;
    size_t n = 0;
    if (rstore_ops_missing(st->db, e->room, e->have, e->n_have, ROOMS_SYNC_MAX, &ops, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            st->stats.ops_resent += send_text(st, sender, ops[i].wire);
        room_logops_free(ops, n);
    }
    st->stats.syncs_answered++;
    /* The asker may know operations we lack: ask back (at most once a second). */
    room_have *mine = NULL;
    size_t n_mine = 0;
    bool lacking = false;
    if (rstore_have(st->db, e->room, &mine, &n_mine) == 0) {
        for (size_t i = 0; i < e->n_have && !lacking; i++) {
            uint64_t have = 0;
            for (size_t k = 0; k < n_mine; k++)
                if (strcmp(mine[k].uuid, e->have[i].uuid) == 0)
                    have = mine[k].seq;
            lacking = e->have[i].seq > have;
        }
        free(mine);
    }
    if (lacking && r.state == ROOM_MEMBER)
        sync_soon(st, e->room, sender);
    room_info_clear(&r);
}

void proto_receive(rooms_state *st, const char *text, const char *sender)
{
    room_env e;
    char err[256];
    if (room_env_parse(text, strlen(text), &e, err, sizeof err) != ROOM_ENV_OK) {
        st->stats.malformed++;
        st->api->log(st->ctx, DG_LOG_DEBUG, "room envelope from %s dropped: %s", sender, err);
        return;
    }
    st->stats.received++;
    switch (e.op) {
    case ROOM_OP_QUERY:
        on_query(st, &e, sender);
        break;
    case ROOM_OP_ANNOUNCE:
        on_announce(st, &e);
        break;
    case ROOM_OP_SYNC:
        on_sync(st, &e, sender);
        break;
    default:
        on_logged(st, &e, text, sender);
        break;
    }
    room_env_clear(&e);
}

/* ---- emitting ---- */

int proto_emit(rooms_state *st, const room_info *r, room_env *e, proto_emitted *res, char *err,
               size_t errlen)
{
    char key[ROOM_KEY_MAX + 1];
    room_info cur;
    if (rstore_room_get(st->db, r->id, &cur) != 1) {
        snprintf(err, errlen, "room %s: %s", r->id, rstore_error(st->db));
        return -1;
    }
    memcpy(e->room, cur.id, sizeof e->room);
    memcpy(e->origin, st->me, sizeof e->origin);
    free(e->name);
    e->name = strdup(cur.name);
    e->priv = cur.priv;
    free(e->from);
    e->from = strdup(proto_my_key(st, key, sizeof key));
    free(e->nick);
    e->nick = proto_my_nick(st) ? strdup(proto_my_nick(st)) : NULL;
    e->seq = rstore_next_seq(st->db, cur.id, st->me);
    e->clock = cur.clock + 1;
    e->time = rooms_now();
    size_t len;
    char *wire = e->name && e->from && e->seq ? room_env_build(e, &len, err, errlen) : NULL;
    if (!wire) {
        if (!e->name || !e->from || !e->seq)
            snprintf(err, errlen, "out of memory or database error");
        room_info_clear(&cur);
        return -1;
    }
    room_logop op;
    applied a;
    int rc = apply_logged(st, &cur, e, wire, &op, &a);
    if (rc != 1) {
        snprintf(err, errlen, "cannot store the operation: %s", rstore_error(st->db));
        free(wire);
        room_info_clear(&cur);
        return -1;
    }
    room_member *m = NULL;
    size_t n = 0, ok = 0, missed = 0;
    if (rstore_members(st->db, cur.id, true, &m, &n) != 0)
        n = 0;
    json_t *to = json_array();
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].uuid, st->me) != 0)
            json_array_append_new(to, json_string(m[i].key));
    publish_applied(st, &cur, &op, &a, true, to);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(m[i].uuid, st->me) == 0)
            continue;
        if (send_text(st, m[i].key, wire))
            ok++;
        else
            missed++;
    }
    room_members_free(m, n);
    if (res)
        *res = (proto_emitted){.id = op.id, .sent = ok, .unreachable = missed};
    if (a.n_ch > 0 || a.snapshot)
        release_held(st, cur.id);
    free(wire);
    room_info_clear(&cur);
    return 0;
}

/* ---- control operations ---- */

/* The sync record of room, created when missing; NULL when out of memory. */
static rooms_sync *sync_rec(rooms_state *st, const char *room)
{
    for (size_t i = 0; i < st->n_syncs; i++)
        if (strcmp(st->syncs[i].room, room) == 0)
            return &st->syncs[i];
    if (st->n_syncs == st->cap_syncs) {
        size_t cap = st->cap_syncs ? st->cap_syncs * 2 : 16;
        rooms_sync *v = realloc(st->syncs, cap * sizeof(*v));
        if (!v)
            return NULL;
        st->syncs = v;
        st->cap_syncs = cap;
    }
    rooms_sync *r = &st->syncs[st->n_syncs++];
    memset(r, 0, sizeof(*r));
    memcpy(r->room, room, sizeof r->room);
    return r;
}

bool proto_sync(rooms_state *st, const char *room, const char *key)
{
    room_env e;
    memset(&e, 0, sizeof e);
    e.priv = -1;
    e.op = ROOM_OP_SYNC;
    memcpy(e.room, room, sizeof e.room);
    char me[ROOM_KEY_MAX + 1], err[256];
    control_head(st, &e, me, sizeof me);
    if (rstore_have(st->db, room, &e.have, &e.n_have) != 0)
        return false;
    if (e.n_have > ROOM_HAVE_MAX)
        e.n_have = ROOM_HAVE_MAX; /* the rest count as 0: re-sent, then dropped as duplicates */
    size_t len;
    char *wire = room_env_build(&e, &len, err, sizeof err);
    free(e.have);
    if (!wire) {
        st->api->log(st->ctx, DG_LOG_WARN, "room %s: cannot build a sync: %s", room, err);
        return false;
    }
    bool sent = send_text(st, key, wire);
    if (sent) {
        st->stats.syncs_sent++;
        rooms_sync *r = sync_rec(st, room);
        if (r)
            r->last_ms = rooms_now_ms();
    }
    free(wire);
    return sent;
}

/* proto_sync unless the room was synced within ROOMS_SYNC_ROOM_GAP_MS. */
static void sync_soon(rooms_state *st, const char *room, const char *key)
{
    rooms_sync *r = sync_rec(st, room);
    if (r && r->last_ms && rooms_now_ms() - r->last_ms < ROOMS_SYNC_ROOM_GAP_MS)
        return;
    proto_sync(st, room, key);
}

static void followup_timer(dg_ctx *ctx, dg_timer *timer, void *user)
{
    rooms_state *st = user;
    st->followup_timer = NULL; /* one-shot: the host removes it after this call */
    for (size_t i = 0; i < st->n_syncs; i++) {
        char *key = st->syncs[i].followup;
        if (!key)
            continue;
        st->syncs[i].followup = NULL;
        proto_sync(st, st->syncs[i].room, key);
        free(key);
    }
}

static void followup(rooms_state *st, const char *room, const char *key)
{
    rooms_sync *r = sync_rec(st, room);
    if (!r || r->followup)
        return;
    r->followup = strdup(key);
    if (r->followup && !st->followup_timer)
        st->followup_timer =
            st->api->timer_add(st->ctx, ROOMS_FOLLOWUP_MS, 0, followup_timer, st, NULL);
}

/* A present member other than us that the transport lists online, at random; NULL if none. */
static char *pick_online(rooms_state *st, const char *room)
{
    room_member *m = NULL;
    size_t n = 0, online = 0;
    char *pick = NULL;
    if (rstore_members(st->db, room, true, &m, &n) != 0)
        return NULL;
    for (size_t k = 0; k < n; k++) {
        rooms_peer *p = peers_find(st, m[k].key);
        if (strcmp(m[k].uuid, st->me) == 0 || !p || !p->online)
            continue;
        /* Reservoir sampling: each online member is picked with probability 1/online. */
        if ((size_t)rand() % ++online == 0) {
            free(pick);
            pick = strdup(m[k].key);
        }
    }
    room_members_free(m, n);
    return pick;
}

void proto_sync_one(rooms_state *st, const char *room)
{
    char *key = pick_online(st, room);
    if (key)
        proto_sync(st, room, key);
    free(key);
}

void proto_sync_round(rooms_state *st)
{
    room_info *v = NULL;
    size_t n = 0;
    if (rstore_rooms(st->db, NULL, &v, &n) != 0)
        return;
    /* One online member per room and round, picked at random, spreads the load. */
    for (size_t i = 0; i < n; i++)
        if (v[i].state == ROOM_MEMBER)
            proto_sync_one(st, v[i].id);
    room_infos_free(v, n);
}

void proto_peer_online(rooms_state *st, const char *key, const char *uuid)
{
    for (size_t i = 0; i < st->n_syncs; i++) {
        char *want = st->syncs[i].want;
        if (want && strcasecmp(want, key) == 0) {
            st->syncs[i].want = NULL;
            proto_sync(st, st->syncs[i].room, key);
            free(want);
        }
    }
    room_info *v = NULL;
    size_t n = 0;
    if (rstore_rooms(st->db, NULL, &v, &n) != 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (v[i].state == ROOM_MEMBER &&
            rstore_member_present(st->db, v[i].id, uuid && *uuid ? uuid : NULL, key) == 1)
            sync_soon(st, v[i].id, key);
    room_infos_free(v, n);
}

void proto_announce(rooms_state *st, const room_info *r, const char *key)
{
    room_env e;
    memset(&e, 0, sizeof e);
    e.op = ROOM_OP_ANNOUNCE;
    memcpy(e.room, r->id, sizeof e.room);
    e.name = r->name;
    e.priv = 0;
    e.created = r->created > 0 ? r->created : 0;
    char me[ROOM_KEY_MAX + 1], err[256];
    control_head(st, &e, me, sizeof me);
    room_member *m = NULL;
    size_t n = 0;
    if (rstore_members(st->db, r->id, true, &m, &n) != 0)
        return;
    room_ref *refs = calloc(n ? n : 1, sizeof(*refs));
    if (!refs) {
        room_members_free(m, n);
        return;
    }
    for (size_t i = 0; i < n && e.n_members < ROOM_MEMBERS_MAX; i++) {
        memcpy(refs[e.n_members].uuid, m[i].uuid, sizeof refs[0].uuid);
        refs[e.n_members].key = m[i].key;
        refs[e.n_members].nick = m[i].nick;
        e.n_members++;
    }
    e.members = refs;
    size_t len;
    char *wire = room_env_build(&e, &len, err, sizeof err);
    if (!wire) {
        st->api->log(st->ctx, DG_LOG_WARN, "room %s: cannot build an announce: %s", r->id, err);
    } else if (key) {
        send_text(st, key, wire);
    } else {
        for (size_t i = 0; i < st->n_peers; i++)
            if (st->peers[i].online && st->peers[i].uuid[0] && strcmp(st->peers[i].uuid, st->me))
                send_text(st, st->peers[i].key, wire);
    }
    free(wire);
    free(refs);
    room_members_free(m, n);
}

size_t proto_query(rooms_state *st, const char *name, const char *id)
{
    room_env e;
    memset(&e, 0, sizeof e);
    e.priv = -1;
    e.op = ROOM_OP_QUERY;
    if (id)
        memcpy(e.room, id, sizeof e.room);
    e.name = (char *)name;
    char me[ROOM_KEY_MAX + 1], err[256];
    control_head(st, &e, me, sizeof me);
    size_t len, sent = 0;
    char *wire = room_env_build(&e, &len, err, sizeof err);
    if (!wire) {
        st->api->log(st->ctx, DG_LOG_WARN, "cannot build a room query: %s", err);
        return 0;
    }
    /* Every online dengon peer, plus the members we know of that room (maybe stale). */
    for (size_t i = 0; i < st->n_peers; i++)
        if (st->peers[i].online && st->peers[i].uuid[0] && strcmp(st->peers[i].uuid, st->me))
            sent += send_text(st, st->peers[i].key, wire);
    if (id) {
        room_member *m = NULL;
        size_t n = 0;
        if (rstore_members(st->db, id, true, &m, &n) == 0) {
            for (size_t i = 0; i < n; i++) {
                rooms_peer *p = peers_find(st, m[i].key);
                if (strcmp(m[i].uuid, st->me) != 0 && !(p && p->online && p->uuid[0]))
                    sent += send_text(st, m[i].key, wire);
            }
            room_members_free(m, n);
        }
    }
    free(wire);
    return sent;
}

void proto_free(rooms_state *st)
{
    while (st->held) {
        rooms_rx *it = st->held;
        st->held = it->next;
        free(it->text);
        free(it->sender);
        free(it);
    }
    st->n_held = 0;
    for (size_t i = 0; i < st->n_syncs; i++) {
        free(st->syncs[i].followup);
        free(st->syncs[i].want);
    }
    free(st->syncs);
    st->syncs = NULL;
    st->n_syncs = st->cap_syncs = 0;
}
