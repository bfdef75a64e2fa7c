#include "store.h"

#include "sqlite_db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION 1

struct room_store {
    sqlite3 *db;
};

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS rooms("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, private INTEGER NOT NULL,"
    " state INTEGER NOT NULL, created INTEGER NOT NULL, clock INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS members("
    " room TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE, uuid TEXT NOT NULL,"
    " key TEXT NOT NULL, nick TEXT, present INTEGER NOT NULL, stamp_clock INTEGER NOT NULL,"
    " stamp_origin TEXT NOT NULL, PRIMARY KEY(room, uuid));"
    "CREATE TABLE IF NOT EXISTS ops("
    " id INTEGER PRIMARY KEY, room TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
    " origin TEXT NOT NULL, seq INTEGER NOT NULL, clock INTEGER NOT NULL, op TEXT NOT NULL,"
    " from_key TEXT NOT NULL, nick TEXT, time INTEGER NOT NULL, received INTEGER NOT NULL,"
    " text TEXT, detail TEXT, wire TEXT NOT NULL, UNIQUE(room, origin, seq));"
    "CREATE INDEX IF NOT EXISTS ops_order ON ops(room, clock, origin, seq);";

const char *room_state_name(room_state s)
{
    return s == ROOM_MEMBER ? "member" : s == ROOM_LEFT ? "left" : "available";
}

int room_stamp_cmp(uint64_t clock_a, const char *origin_a, uint64_t clock_b, const char *origin_b)
{
    if (clock_a != clock_b)
        return clock_a < clock_b ? -1 : 1;
    int c = strcmp(origin_a ? origin_a : "", origin_b ? origin_b : "");
    return c < 0 ? -1 : c > 0;
}

const char *rstore_error(room_store *s)
{
    return s && s->db ? sqlite3_errmsg(s->db) : "no database";
}

static int exec(room_store *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int rstore_open(const char *path, room_store **out, char *err, size_t errlen)
{
    *out = NULL;
    room_store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* WAL + FULL: a committed room operation survives a crash or power cut. */
    s->db = dg_sqlite_open(
        path, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", 2000,
        SCHEMA_VERSION, schema, err, errlen);
    if (!s->db) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void rstore_close(room_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s);
}

int rstore_begin(room_store *s)
{
    return exec(s, "BEGIN IMMEDIATE");
}

int rstore_commit(room_store *s)
{
    if (exec(s, "COMMIT") == 0)
        return 0;
    exec(s, "ROLLBACK");
    return -1;
}

void rstore_rollback(room_store *s)
{
    exec(s, "ROLLBACK");
}

/* ---- statement helpers ---- */

static sqlite3_stmt *prep(room_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

static void col_fixed(sqlite3_stmt *st, int i, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, size, "%s", t ? (const char *)t : "");
}

/* Grows *v (of elem bytes each) to hold n + 1 entries; -1 when out of memory. */
static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*v, nc * elem);
    if (!p)
        return -1;
    memset((char *)p + *cap * elem, 0, (nc - *cap) * elem);
    *v = p;
    *cap = nc;
    return 0;
}

/* ---- rooms ---- */

void room_info_clear(room_info *r)
{
    free(r->name);
    memset(r, 0, sizeof(*r));
}

void room_infos_free(room_info *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        room_info_clear(&v[i]);
    free(v);
}

#define ROOM_COLS                                                                                  \
    "r.id, r.name, r.private, r.state, r.created, r.clock,"                                        \
    " (SELECT count(*) FROM members m WHERE m.room = r.id AND m.present),"                         \
    " (SELECT max(time) FROM ops o WHERE o.room = r.id AND o.op = 'post')"

static void room_row(sqlite3_stmt *st, room_info *r)
{
    col_fixed(st, 0, r->id, sizeof r->id);
    r->name = dg_sqlite_col_dup(st, 1);
    r->priv = sqlite3_column_int(st, 2) != 0;
    r->state = (room_state)sqlite3_column_int(st, 3);
    r->created = sqlite3_column_int64(st, 4);
    r->clock = (uint64_t)sqlite3_column_int64(st, 5);
    r->members = (size_t)sqlite3_column_int64(st, 6);
    r->last = sqlite3_column_int64(st, 7);
}

int rstore_room_get(room_store *s, const char *id, room_info *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = prep(s, "SELECT " ROOM_COLS " FROM rooms r WHERE r.id = ?");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        room_row(st, out);
        rc = out->name ? 1 : -1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

int rstore_room_add(room_store *s, const room_info *r)
{
    sqlite3_stmt *st = prep(s, "INSERT OR IGNORE INTO rooms(id, name, private, state, created,"
                               " clock) VALUES(?, ?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, r->id);
    dg_sqlite_bind_text(st, 2, r->name);
    sqlite3_bind_int(st, 3, r->priv);
    sqlite3_bind_int(st, 4, (int)r->state);
    sqlite3_bind_int64(st, 5, r->created);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)r->clock);
    return dg_sqlite_run(st);
}

int rstore_room_set_state(room_store *s, const char *id, room_state state)
{
    sqlite3_stmt *st = prep(s, "UPDATE rooms SET state = ? WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, (int)state);
    dg_sqlite_bind_text(st, 2, id);
    return dg_sqlite_run(st);
}

int rstore_room_see_clock(room_store *s, const char *id, uint64_t seen)
{
    sqlite3_stmt *st = prep(s, "UPDATE rooms SET clock = max(clock, ?) WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seen);
    dg_sqlite_bind_text(st, 2, id);
    return dg_sqlite_run(st);
}

int rstore_rooms(room_store *s, const char *name, room_info **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st =
        prep(s, name ? "SELECT " ROOM_COLS " FROM rooms r WHERE r.name = ? COLLATE NOCASE"
                       " ORDER BY r.state = 1 DESC, r.created, r.id"
                     : "SELECT " ROOM_COLS " FROM rooms r ORDER BY r.name COLLATE NOCASE, r.id");
    if (!st)
        return -1;
    if (name)
        dg_sqlite_bind_text(st, 1, name);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, &cap, *n, sizeof(**out)) != 0)
            break;
        room_row(st, &(*out)[*n]);
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        room_infos_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

/* ---- members ---- */

void room_members_free(room_member *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].nick);
    }
    free(v);
}

int rstore_member_apply(room_store *s, const char *room, const char *uuid, const char *key,
                        const char *nick, bool present, uint64_t clock, const char *origin)
{
    sqlite3_stmt *st = prep(s, "SELECT present, stamp_clock, stamp_origin FROM members"
                               " WHERE room = ? AND uuid = ?");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, room);
    dg_sqlite_bind_text(st, 2, uuid);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_finalize(st);
        return -1;
    }
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        if (!key)
            return 0; /* a leave of someone we never knew: nothing to record */
        st = prep(s, "INSERT INTO members(room, uuid, key, nick, present, stamp_clock,"
                     " stamp_origin) VALUES(?, ?, ?, ?, ?, ?, ?)");
        if (!st)
            return -1;
        dg_sqlite_bind_text(st, 1, room);
        dg_sqlite_bind_text(st, 2, uuid);
        dg_sqlite_bind_text(st, 3, key);
        dg_sqlite_bind_text(st, 4, nick);
        sqlite3_bind_int(st, 5, present);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)clock);
        dg_sqlite_bind_text(st, 7, origin ? origin : "");
        return dg_sqlite_run(st) == 0 ? present : -1;
    }
    bool was = sqlite3_column_int(st, 0) != 0;
    uint64_t sc = (uint64_t)sqlite3_column_int64(st, 1);
    char so[ROOM_UUID_LEN + 1];
    col_fixed(st, 2, so, sizeof so);
    sqlite3_finalize(st);
    if (rstore_member_touch(s, room, uuid, key, nick) != 0)
        return -1;
    if (room_stamp_cmp(clock, origin, sc, so) <= 0)
        return 0; /* older news than what we know */
    st = prep(s, "UPDATE members SET present = ?, stamp_clock = ?, stamp_origin = ?"
                 " WHERE room = ? AND uuid = ?");
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, present);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)clock);
    dg_sqlite_bind_text(st, 3, origin ? origin : "");
    dg_sqlite_bind_text(st, 4, room);
    dg_sqlite_bind_text(st, 5, uuid);
    if (dg_sqlite_run(st) != 0)
        return -1;
    return was != present;
}

int rstore_member_touch(room_store *s, const char *room, const char *uuid, const char *key,
                        const char *nick)
{
    if (!key && !nick)
        return 0;
    sqlite3_stmt *st = prep(s, "UPDATE members SET key = coalesce(?, key), nick = coalesce(?,"
                               " nick) WHERE room = ? AND uuid = ?");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, key);
    dg_sqlite_bind_text(st, 2, nick);
    dg_sqlite_bind_text(st, 3, room);
    dg_sqlite_bind_text(st, 4, uuid);
    return dg_sqlite_run(st);
}

int rstore_members(room_store *s, const char *room, bool present_only, room_member **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st =
        prep(s, present_only ? "SELECT uuid, key, nick, present, stamp_clock, stamp_origin FROM"
                               " members WHERE room = ? AND present"
                               " ORDER BY coalesce(nick, key) COLLATE NOCASE, key"
                             : "SELECT uuid, key, nick, present, stamp_clock, stamp_origin FROM"
                               " members WHERE room = ?"
                               " ORDER BY coalesce(nick, key) COLLATE NOCASE, key");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, room);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, &cap, *n, sizeof(**out)) != 0)
            break;
        room_member *m = &(*out)[*n];
        col_fixed(st, 0, m->uuid, sizeof m->uuid);
        m->key = dg_sqlite_col_dup(st, 1);
        m->nick = dg_sqlite_col_dup(st, 2);
        m->present = sqlite3_column_int(st, 3) != 0;
        m->stamp_clock = (uint64_t)sqlite3_column_int64(st, 4);
        col_fixed(st, 5, m->stamp_origin, sizeof m->stamp_origin);
        (*n)++;
        if (!m->key)
            break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        room_members_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int rstore_member_present(room_store *s, const char *room, const char *uuid, const char *key)
{
    sqlite3_stmt *st = prep(s, "SELECT 1 FROM members WHERE room = ? AND present AND"
                               " (uuid = ? OR key = ? COLLATE NOCASE)");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, room);
    dg_sqlite_bind_text(st, 2, uuid ? uuid : "");
    dg_sqlite_bind_text(st, 3, key ? key : "");
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int rstore_members_rekey(room_store *s, const char *uuid, const char *key)
{
    sqlite3_stmt *st = prep(s, "UPDATE members SET key = ? WHERE uuid = ?");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, key);
    dg_sqlite_bind_text(st, 2, uuid);
    return dg_sqlite_run(st);
}

/* ---- log ---- */

void room_logop_clear(room_logop *op)
{
    free(op->from);
    free(op->nick);
    free(op->text);
    free(op->detail);
    free(op->wire);
    memset(op, 0, sizeof(*op));
}

void room_logops_free(room_logop *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        room_logop_clear(&v[i]);
    free(v);
}

static room_op op_parse(const char *name)
{
    static const room_op logged[] = {ROOM_OP_POST, ROOM_OP_JOIN, ROOM_OP_LEAVE, ROOM_OP_INVITE};
    for (size_t i = 0; name && i < sizeof logged / sizeof logged[0]; i++)
        if (strcmp(name, room_op_name(logged[i])) == 0)
            return logged[i];
    return ROOM_OP_NONE;
}

int rstore_op_insert(room_store *s, room_logop *op)
{
    sqlite3_stmt *st = prep(s, "INSERT OR IGNORE INTO ops(room, origin, seq, clock, op,"
                               " from_key, nick, time, received, text, detail, wire)"
                               " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, op->room);
    dg_sqlite_bind_text(st, 2, op->origin);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)op->seq);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)op->clock);
    dg_sqlite_bind_text(st, 5, room_op_name(op->op));
    dg_sqlite_bind_text(st, 6, op->from);
    dg_sqlite_bind_text(st, 7, op->nick);
    sqlite3_bind_int64(st, 8, op->time);
    sqlite3_bind_int64(st, 9, op->received);
    dg_sqlite_bind_text(st, 10, op->text);
    dg_sqlite_bind_text(st, 11, op->detail);
    dg_sqlite_bind_text(st, 12, op->wire);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    if (sqlite3_changes(s->db) == 0)
        return 0;
    op->id = sqlite3_last_insert_rowid(s->db);
    return 1;
}

uint64_t rstore_next_seq(room_store *s, const char *room, const char *origin)
{
    sqlite3_stmt *st =
        prep(s, "SELECT coalesce(max(seq), 0) + 1 FROM ops WHERE room = ? AND origin = ?");
    if (!st)
        return 0;
    dg_sqlite_bind_text(st, 1, room);
    dg_sqlite_bind_text(st, 2, origin);
    uint64_t next = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return next;
}

/* First gap of origin's sequence: the lowest stored seq whose successor is missing. */
static int first_gap(room_store *s, const char *room, const char *origin, uint64_t *out)
{
    sqlite3_stmt *st = prep(s, "SELECT min(a.seq) FROM ops a WHERE a.room = ?1 AND a.origin = ?2"
                               " AND NOT EXISTS (SELECT 1 FROM ops b WHERE b.room = ?1 AND"
                               " b.origin = ?2 AND b.seq = a.seq + 1)");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, room);
    dg_sqlite_bind_text(st, 2, origin);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int rstore_have(room_store *s, const char *room, room_have **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = prep(s, "SELECT origin, count(*), min(seq), max(seq) FROM ops"
                               " WHERE room = ? GROUP BY origin ORDER BY origin");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, room);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, &cap, *n, sizeof(**out)) != 0)
            break;
        room_have *h = &(*out)[*n];
        col_fixed(st, 0, h->uuid, sizeof h->uuid);
        uint64_t count = (uint64_t)sqlite3_column_int64(st, 1);
        uint64_t min = (uint64_t)sqlite3_column_int64(st, 2);
        uint64_t max = (uint64_t)sqlite3_column_int64(st, 3);
        if (min != 1)
            h->seq = 0;
        else if (count == max)
            h->seq = max; /* 1..max, no gap */
        else if (first_gap(s, room, h->uuid, &h->seq) != 0)
            break;
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

#define OP_COLS                                                                                    \
    "o.id, o.room, o.origin, o.seq, o.clock, o.op, o.from_key, o.nick, o.time, o.received,"        \
    " o.text, o.detail, o.wire"

/* Reads rows of OP_COLS into *out; 0 or -1. Finalizes st. */
static int read_ops(sqlite3_stmt *st, room_logop **out, size_t *n)
{
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)out, &cap, *n, sizeof(**out)) != 0)
            break;
        room_logop *op = &(*out)[*n];
        op->id = sqlite3_column_int64(st, 0);
        col_fixed(st, 1, op->room, sizeof op->room);
        col_fixed(st, 2, op->origin, sizeof op->origin);
        op->seq = (uint64_t)sqlite3_column_int64(st, 3);
        op->clock = (uint64_t)sqlite3_column_int64(st, 4);
        op->op = op_parse((const char *)sqlite3_column_text(st, 5));
        op->from = dg_sqlite_col_dup(st, 6);
        op->nick = dg_sqlite_col_dup(st, 7);
        op->time = sqlite3_column_int64(st, 8);
        op->received = sqlite3_column_int64(st, 9);
        op->text = dg_sqlite_col_dup(st, 10);
        op->detail = dg_sqlite_col_dup(st, 11);
        op->wire = dg_sqlite_col_dup(st, 12);
        (*n)++;
        if (!op->from || !op->wire)
            break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        room_logops_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int rstore_ops_missing(room_store *s, const char *room, const room_have *have, size_t n_have,
                       size_t limit, room_logop **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (exec(s, "CREATE TEMP TABLE IF NOT EXISTS peer_have(origin TEXT PRIMARY KEY,"
                " seq INTEGER NOT NULL); DELETE FROM temp.peer_have;") != 0)
        return -1;
    for (size_t i = 0; i < n_have; i++) {
        sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO temp.peer_have VALUES(?, ?)");
        if (!st)
            return -1;
        dg_sqlite_bind_text(st, 1, have[i].uuid);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)have[i].seq);
        if (dg_sqlite_run(st) != 0)
            return -1;
    }
    sqlite3_stmt *st = prep(s, "SELECT " OP_COLS " FROM ops o LEFT JOIN temp.peer_have h"
                               " ON h.origin = o.origin WHERE o.room = ? AND"
                               " o.seq > coalesce(h.seq, 0) ORDER BY o.clock, o.origin, o.seq"
                               " LIMIT ?");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, room);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    return read_ops(st, out, n);
}

int rstore_log(room_store *s, const char *room, size_t limit, room_logop **out, size_t *n)
{
    sqlite3_stmt *st = prep(s, "SELECT * FROM (SELECT " OP_COLS " FROM ops o WHERE o.room = ?"
                               " ORDER BY o.clock DESC, o.origin DESC, o.seq DESC LIMIT ?)"
                               " ORDER BY clock, origin, seq");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, room);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    return read_ops(st, out, n);
}
