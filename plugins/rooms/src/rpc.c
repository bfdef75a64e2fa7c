/*
 * RPC methods of the rooms plugin (docs/protocol/rooms.md lists params and
 * results). ROOM is a room id (32 hex digits) or a name, with or without a
 * leading '#'.
 */
#include "rpc.h"
#include "rpc_params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "proto.h"

/* room.join waits this long for the first answer, then SETTLE_MS for the others. */
#define JOIN_TIMEOUT_DEFAULT_MS 2000
#define JOIN_SETTLE_MS 300
#define LOG_LIMIT_DEFAULT 200
#define LOG_LIMIT_MAX 100000

/* A required non-empty string param. */
static const char *get_str(rooms_state *st, dg_rpc_call *call, const json_t *params,
                           const char *key)
{
    const char *s = params ? json_string_value(json_object_get(params, key)) : NULL;
    if (!s || !*s) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'%s' must be a non-empty string", key);
        return NULL;
    }
    return s;
}

/* Optional boolean (the CLI's default builder sends "true"/"false" strings). */
static bool get_bool(rooms_state *st, dg_rpc_call *call, const json_t *params, const char *key,
                     bool *out)
{
    const json_t *v = params ? json_object_get(params, key) : NULL;
    if (!v)
        return true;
    const char *s = json_string_value(v);
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

/* "#general" -> "general" */
static const char *strip_hash(const char *ref)
{
    return ref[0] == '#' ? ref + 1 : ref;
}

/*
 * The room ref names: an id, else a name (rooms this node is a member of
 * first). 1 found (*out), 0 unknown, -1 ambiguous or error (err says).
 */
static int find_room(rooms_state *st, const char *ref, room_info *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    ref = strip_hash(ref);
    if (room_id_valid(ref)) {
        int rc = rstore_room_get(st->db, ref, out);
        if (rc < 0)
            snprintf(err, errlen, "database error: %s", rstore_error(st->db));
        return rc;
    }
    room_info *v = NULL;
    size_t n = 0;
    if (rstore_rooms(st->db, ref, &v, &n) != 0) {
        snprintf(err, errlen, "database error: %s", rstore_error(st->db));
        return -1;
    }
    size_t members = 0, pick = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].state == ROOM_MEMBER && members++ == 0)
            pick = i;
    int rc = 1;
    if (n == 0) {
        rc = 0;
    } else if (members > 1 || (members == 0 && n > 1)) {
        size_t used = (size_t)snprintf(err, errlen, "several rooms are named '%s':", ref);
        for (size_t i = 0; i < n && used < errlen; i++)
            used += (size_t)snprintf(err + used, errlen - used, "%s %s (%s)", i ? "," : "", v[i].id,
                                     room_state_name(v[i].state));
        if (used < errlen)
            snprintf(err + used, errlen - used, "; name it by its id");
        rc = -1;
    } else {
        *out = v[pick];
        v[pick].name = NULL; /* moved to *out */
    }
    room_infos_free(v, n);
    return rc;
}

/* find_room, answering the call on failure; member: the node must be a member. */
static bool room_arg(rooms_state *st, dg_rpc_call *call, const json_t *params, bool member,
                     room_info *r)
{
    const char *ref = get_str(st, call, params, "room");
    if (!ref)
        return false;
    char err[1024];
    int rc = find_room(st, ref, r, err, sizeof err);
    if (rc == 0)
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "no room '%s' here (see dengon room list)",
                          ref);
    else if (rc < 0)
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "%s", err);
    else if (member && r->state != ROOM_MEMBER)
        st->api->rpc_fail(call, DG_RPC_FAILED, "you are not a member of #%s (%s)", r->name,
                          r->priv ? "private: a member must invite you"
                                  : "public: dengon room join joins it");
    if (rc == 1 && (!member || r->state == ROOM_MEMBER))
        return true;
    room_info_clear(r);
    return false;
}

static void reply_room(rooms_state *st, dg_rpc_call *call, const char *id)
{
    room_info r;
    if (rstore_room_get(st->db, id, &r) != 1) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "database error: %s", rstore_error(st->db));
        return;
    }
    st->api->rpc_reply(call, proto_room_json(st, &r));
    room_info_clear(&r);
}

static room_env new_env(room_op op)
{
    room_env e;
    memset(&e, 0, sizeof e);
    e.op = op;
    e.priv = -1;
    return e;
}

/* ---- room.create ---- */

static void rpc_create(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    rooms_state *st = user;
    static const char *const keys[] = {"name", "private", NULL};
    bool priv = false;
    const char *name;
    if (!dg_params_check(st->api, call, params, keys) ||
        !(name = get_str(st, call, params, "name")) ||
        !get_bool(st, call, params, "private", &priv))
        return;
    name = strip_hash(name);
    if (!room_name_valid(name)) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'%s' is not a room name: 1 to %d bytes without spaces or control "
                          "characters, not 32 hex digits",
                          name, ROOM_NAME_MAX);
        return;
    }
    room_info *v = NULL;
    size_t n = 0;
    if (rstore_rooms(st->db, name, &v, &n) != 0) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "database error: %s", rstore_error(st->db));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        /* Public names must be unique (join finds rooms by name); private ones may repeat. */
        if (!priv && !v[i].priv) {
            st->api->rpc_fail(call, DG_RPC_FAILED,
                              "a public room named #%s already exists (%s, %s)%s", v[i].name,
                              v[i].id, room_state_name(v[i].state),
                              v[i].state == ROOM_MEMBER ? "" : ": dengon room join joins it");
            room_infos_free(v, n);
            return;
        }
    }
    room_infos_free(v, n);
    unsigned char raw[16];
    room_info r = {
        .name = (char *)name, .priv = priv, .state = ROOM_AVAILABLE, .created = rooms_now()};
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "no random bytes for a room id: %s",
                          strerror(errno));
        return;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(r.id + 2 * i, 3, "%02x", raw[i]);
    if (rstore_room_add(st->db, &r) != 0) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "database error: %s", rstore_error(st->db));
        return;
    }
    /* The creator joins with the room's first logged operation. */
    room_env e = new_env(ROOM_OP_JOIN);
    char err[256];
    int rc = proto_emit(st, &r, &e, NULL, err, sizeof err);
    room_env_clear(&e);
    if (rc != 0) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "%s", err);
        return;
    }
    st->api->log(st->ctx, DG_LOG_INFO, "created %s room #%s (%s)", priv ? "private" : "public",
                 name, r.id);
    if (!priv) {
        room_info cur;
        if (rstore_room_get(st->db, r.id, &cur) == 1) {
            proto_announce(st, &cur, NULL);
            room_info_clear(&cur);
        }
    }
    reply_room(st, call, r.id);
}

/* ---- room.invite ---- */

static void rpc_invite(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    rooms_state *st = user;
    static const char *const keys[] = {"room", "users", NULL};
    room_info r;
    if (!dg_params_check(st->api, call, params, keys) || !room_arg(st, call, params, true, &r))
        return;
    const json_t *users = json_object_get(params, "users");
    size_t count = json_is_array(users) ? json_array_size(users) : json_is_string(users) ? 1 : 0;
    if (count == 0 || count > ROOM_INVITED_MAX) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'users' must name 1 to %d users (nickname, user@host or address)",
                          ROOM_INVITED_MAX);
        room_info_clear(&r);
        return;
    }
    room_env e = new_env(ROOM_OP_INVITE);
    json_t *already = json_array();
    e.invited = calloc(count, sizeof(*e.invited));
    if (!e.invited || !already) {
        st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        const char *who =
            json_string_value(json_is_array(users) ? json_array_get(users, i) : users);
        json_t *u = who ? st->tp->user_get(st->tp->self, who) : NULL;
        const char *key = json_string_value(json_object_get(u, "key"));
        const char *uuid = json_string_value(json_object_get(u, "uuid"));
        const char *nick = json_string_value(json_object_get(u, "nickname"));
        if (!who || !u || !key) {
            st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                              "unknown user '%s' (see dengon users --all)", who ? who : "?");
        } else if (!uuid || !room_uuid_valid(uuid)) {
            st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                              "%s does not run dengon (no identity UUID): rooms are only among "
                              "dengon peers",
                              key);
        } else {
            room_ref ref = {.key = strdup(key), .nick = nick && *nick ? strdup(nick) : NULL};
            memcpy(ref.uuid, uuid, sizeof ref.uuid);
            for (char *c = ref.uuid; *c; c++)
                if (*c >= 'A' && *c <= 'F')
                    *c = (char)(*c - 'A' + 'a');
            json_decref(u);
            if (!ref.key) {
                free(ref.nick);
                st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
                goto out;
            }
            bool dup = false;
            for (size_t k = 0; k < e.n_invited && !dup; k++)
                dup = strcmp(e.invited[k].uuid, ref.uuid) == 0;
            if (dup || strcmp(ref.uuid, st->me) == 0 ||
                rstore_member_present(st->db, r.id, ref.uuid, NULL) == 1) {
                if (!dup)
                    json_array_append_new(already, json_string(ref.key));
                free(ref.key);
                free(ref.nick);
            } else {
                e.invited[e.n_invited++] = ref;
            }
            continue;
        }
        json_decref(u);
        goto out;
    }
    if (e.n_invited == 0) {
        st->api->rpc_reply(call, json_pack("{s:o, s:[], s:O, s:I, s:I}", "room",
                                           proto_room_json(st, &r), "invited", "already", already,
                                           "sent", (json_int_t)0, "unreachable", (json_int_t)0));
        goto out;
    }
    /* Our view of the members goes along, so the new ones know whom to talk to. */
    room_member *m = NULL;
    size_t n = 0;
    if (rstore_members(st->db, r.id, true, &m, &n) == 0) {
        e.members = calloc(n ? n : 1, sizeof(*e.members));
        for (size_t i = 0; e.members && i < n && e.n_members < ROOM_MEMBERS_MAX; i++) {
            room_ref *x = &e.members[e.n_members];
            memcpy(x->uuid, m[i].uuid, sizeof x->uuid);
            x->key = strdup(m[i].key);
            x->nick = m[i].nick ? strdup(m[i].nick) : NULL;
            if (x->key)
                e.n_members++;
        }
        room_members_free(m, n);
    }
    proto_emitted res;
    char err[256];
    if (proto_emit(st, &r, &e, &res, err, sizeof err) != 0) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "%s", err);
        goto out;
    }
    json_t *invited = json_array();
    for (size_t i = 0; i < e.n_invited; i++) {
        json_t *x = json_pack("{s:s, s:s}", "uuid", e.invited[i].uuid, "key", e.invited[i].key);
        if (x && e.invited[i].nick)
            json_object_set_new(x, "nickname", json_string(e.invited[i].nick));
        json_array_append_new(invited, x);
    }
    st->api->rpc_reply(call,
                       json_pack("{s:o, s:o, s:O, s:I, s:I}", "room", proto_room_json(st, &r),
                                 "invited", invited, "already", already, "sent",
                                 (json_int_t)res.sent, "unreachable", (json_int_t)res.unreachable));
out:
    json_decref(already);
    room_env_clear(&e);
    room_info_clear(&r);
}

/* ---- room.join ---- */

static void join_unlink(rooms_state *st, rooms_join *j)
{
    for (rooms_join **pp = &st->joins; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    if (j->timer)
        st->api->timer_cancel(st->ctx, j->timer);
    free(j->ref);
    free(j->other);
    free(j);
}

/* Emits our join of room id and answers the call. */
static void join_now(rooms_state *st, dg_rpc_call *call, const char *id)
{
    room_info r;
    if (rstore_room_get(st->db, id, &r) != 1) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "room %s vanished: %s", id, rstore_error(st->db));
        return;
    }
    if (r.priv) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "#%s is private: a member must invite you", r.name);
    } else if (r.state == ROOM_MEMBER) {
        st->api->rpc_reply(call, proto_room_json(st, &r));
    } else {
        room_env e = new_env(ROOM_OP_JOIN);
        char err[256];
        int rc = proto_emit(st, &r, &e, NULL, err, sizeof err);
        room_env_clear(&e);
        if (rc != 0) {
            st->api->rpc_fail(call, DG_RPC_FAILED, "%s", err);
        } else {
            st->api->log(st->ctx, DG_LOG_INFO, "joined room #%s (%s)", r.name, r.id);
            /* The history and every membership change so far, from one member. */
            proto_sync_one(st, r.id);
            reply_room(st, call, r.id);
        }
    }
    room_info_clear(&r);
}

static void join_finish(rooms_state *st, rooms_join *j)
{
    dg_rpc_call *call = j->call;
    if (j->other)
        st->api->rpc_fail(call, DG_RPC_FAILED,
                          "several public rooms are named '%s': %s and %s; join one by its id",
                          j->ref, j->room, j->other);
    else if (!j->room[0])
        st->api->rpc_fail(call, DG_RPC_FAILED,
                          "no online dengon peer knows a public room '%s' (private rooms need an "
                          "invitation)",
                          j->ref);
    else
        join_now(st, call, j->room);
    join_unlink(st, j);
}

static void join_timer(dg_ctx *ctx, dg_timer *timer, void *user)
{
    rooms_join *j = user;
    j->timer = NULL; /* one-shot: the host removes it after this call */
    join_finish(j->st, j);
}

void rooms_join_settle(rooms_state *st, rooms_join *j)
{
    if (j->settling)
        return;
    j->settling = true;
    if (j->timer)
        st->api->timer_cancel(st->ctx, j->timer);
    j->timer = st->api->timer_add(st->ctx, JOIN_SETTLE_MS, 0, join_timer, j, NULL);
}

static void rpc_join(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    rooms_state *st = user;
    static const char *const keys[] = {"room", NULL};
    const char *ref;
    if (!dg_params_check(st->api, call, params, keys) || !(ref = get_str(st, call, params, "room")))
        return;
    ref = strip_hash(ref);
    if (!room_id_valid(ref) && !room_name_valid(ref)) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'%s' is neither a room name nor an id",
                          ref);
        return;
    }
    room_info r;
    char err[1024];
    int found = find_room(st, ref, &r, err, sizeof err);
    if (found < 0) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "%s", err);
        return;
    }
    if (found && (r.state == ROOM_MEMBER || r.priv)) {
        if (r.state == ROOM_MEMBER)
            st->api->rpc_fail(call, DG_RPC_FAILED, "you are already a member of #%s (%s)", r.name,
                              r.id);
        else
            st->api->rpc_fail(call, DG_RPC_FAILED, "#%s is private: a member must invite you",
                              r.name);
        room_info_clear(&r);
        return;
    }
    rooms_join *j = calloc(1, sizeof(*j));
    if (!j || !(j->ref = strdup(ref))) {
        free(j);
        room_info_clear(&r);
        st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    j->st = st;
    j->call = call;
    if (found)
        memcpy(j->room, r.id, sizeof j->room);
    j->next = st->joins;
    st->joins = j;
    /* Ask even when the room is known here: the answers bring its current members. */
    size_t asked = proto_query(st, room_id_valid(ref) ? NULL : ref,
                               room_id_valid(ref) ? ref
                               : found            ? r.id
                                                  : NULL);
    room_info_clear(&r);
    if (asked == 0) {
        join_finish(st, j); /* nobody to ask: join what we know, or say we know nothing */
        return;
    }
    int64_t wait =
        st->api->config_get_int(st->ctx, "rooms.join_timeout_ms", JOIN_TIMEOUT_DEFAULT_MS);
    if (wait < 100 || wait > 60000)
        wait = JOIN_TIMEOUT_DEFAULT_MS;
    j->timer = st->api->timer_add(st->ctx, (uint64_t)wait, 0, join_timer, j, NULL);
    if (!j->timer)
        join_finish(st, j);
}

/* ---- room.leave ---- */

static void rpc_leave(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    rooms_state *st = user;
    static const char *const keys[] = {"room", NULL};
    room_info r;
    if (!dg_params_check(st->api, call, params, keys) || !room_arg(st, call, params, true, &r))
        return;
    room_env e = new_env(ROOM_OP_LEAVE);
    char err[256];
    int rc = proto_emit(st, &r, &e, NULL, err, sizeof err);
    room_env_clear(&e);
    if (rc != 0)
        st->api->rpc_fail(call, DG_RPC_FAILED, "%s", err);
    else
        reply_room(st, call, r.id);
    room_info_clear(&r);
}

/* ---- room.list ---- */

static void rpc_list(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    rooms_state *st = user;
    static const char *const keys[] = {NULL};
    if (!dg_params_check(st->api, call, params, keys))
        return;
    room_info *v = NULL;
    size_t n = 0;
    if (rstore_rooms(st->db, NULL, &v, &n) != 0) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "database error: %s", rstore_error(st->db));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, proto_room_json(st, &v[i]));
    room_infos_free(v, n);
    st->api->rpc_reply(call, list);
}

/* ---- room.say ---- */

/* CR LF and lone CR become LF, as chat.send does (IPMsg text has LF line ends). */
static char *normalize_text(const char *in, size_t *out_len)
{
    size_t len = strlen(in), o = 0;
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\r') {
            out[o++] = '\n';
            if (in[i + 1] == '\n')
                i++;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static void rpc_say(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    rooms_state *st = user;
    static const char *const keys[] = {"room", "text", NULL};
    room_info r;
    const json_t *text = params ? json_object_get(params, "text") : NULL;
    if (!dg_params_check(st->api, call, params, keys))
        return;
    if (!json_is_string(text) || json_string_length(text) == 0 ||
        memchr(json_string_value(text), '\0', json_string_length(text))) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'text' must be a non-empty string without NUL characters");
        return;
    }
    if (!room_arg(st, call, params, true, &r))
        return;
    room_env e = new_env(ROOM_OP_POST);
    e.text = normalize_text(json_string_value(text), &e.text_len);
    if (!e.text) {
        st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
    } else if (e.text_len > ROOM_TEXT_MAX) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "the text has %zu bytes; a room message holds at most %d", e.text_len,
                          ROOM_TEXT_MAX);
    } else {
        proto_emitted res;
        char err[256];
        if (proto_emit(st, &r, &e, &res, err, sizeof err) != 0)
            st->api->rpc_fail(call, DG_RPC_FAILED, "%s", err);
        else
            st->api->rpc_reply(call,
                               json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "room", r.id,
                                         "room_name", r.name, "id", (json_int_t)res.id, "seq",
                                         (json_int_t)e.seq, "clock", (json_int_t)e.clock, "time",
                                         (json_int_t)e.time, "sent", (json_int_t)res.sent,
                                         "unreachable", (json_int_t)res.unreachable));
    }
    room_env_clear(&e);
    room_info_clear(&r);
}

/* ---- room.log ---- */

static void rpc_log(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    rooms_state *st = user;
    static const char *const keys[] = {"room", "limit", NULL};
    room_info r;
    if (!dg_params_check(st->api, call, params, keys))
        return;
    const json_t *lv = params ? json_object_get(params, "limit") : NULL;
    json_int_t limit = LOG_LIMIT_DEFAULT;
    if (lv) {
        char *end = NULL;
        const char *s = json_string_value(lv);
        limit = json_is_integer(lv) ? json_integer_value(lv)
                : s                 ? (json_int_t)strtoll(s, &end, 10)
                                    : 0;
        if ((s && (!*s || *end)) || limit < 1 || limit > LOG_LIMIT_MAX) {
            st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'limit' must be 1 to %d",
                              LOG_LIMIT_MAX);
            return;
        }
    }
    if (!room_arg(st, call, params, false, &r))
        return;
    room_logop *ops = NULL;
    size_t n = 0;
    if (rstore_log(st->db, r.id, (size_t)limit, &ops, &n) != 0) {
        st->api->rpc_fail(call, DG_RPC_FAILED, "database error: %s", rstore_error(st->db));
        room_info_clear(&r);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, proto_op_json(&ops[i]));
    room_logops_free(ops, n);
    st->api->rpc_reply(call,
                       json_pack("{s:o, s:o}", "room", proto_room_json(st, &r), "messages", list));
    room_info_clear(&r);
}

/* ---- room.stats ---- */

static void rpc_stats(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    rooms_state *st = user;
    const rooms_stats *s = &st->stats;
    st->api->rpc_reply(
        call,
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "received",
                  (json_int_t)s->received, "malformed", (json_int_t)s->malformed, "duplicates",
                  (json_int_t)s->duplicates, "held", (json_int_t)s->held, "held_now",
                  (json_int_t)st->n_held, "held_dropped", (json_int_t)s->held_dropped, "ignored",
                  (json_int_t)s->ignored, "sent", (json_int_t)s->sent, "send_failed",
                  (json_int_t)s->send_failed, "syncs_sent", (json_int_t)s->syncs_sent,
                  "syncs_answered", (json_int_t)s->syncs_answered, "ops_resent",
                  (json_int_t)s->ops_resent, "peers", (json_int_t)st->n_peers));
}

void rooms_joins_free(rooms_state *st)
{
    while (st->joins) {
        st->api->rpc_fail(st->joins->call, DG_RPC_FAILED, "the rooms plugin stopped");
        join_unlink(st, st->joins);
    }
}

int rooms_rpc_register(rooms_state *st)
{
    static const struct {
        const char *name, *summary;
        dg_rpc_fn fn;
    } methods[] = {
        {"room.create", "create a room and join it: {name, private?}", rpc_create},
        {"room.invite", "add dengon users to a room: {room, users}", rpc_invite},
        {"room.join", "join a public room by name or id: {room}", rpc_join},
        {"room.leave", "leave a room: {room}", rpc_leave},
        {"room.list", "rooms known here, with members and state", rpc_list},
        {"room.say", "post a message to a room: {room, text}", rpc_say},
        {"room.log", "a room's messages and membership changes, in order: {room, limit?}", rpc_log},
        {"room.stats", "counters of the rooms plugin", rpc_stats},
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
