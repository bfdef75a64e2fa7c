#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct us_store {
    sqlite3 *db;
    sqlite3_stmt *put, *del, *begin, *commit, *rollback;
    char *path;
};

/*
 * Version 1. uuid is UNIQUE (NULL for clients without one): the database
 * itself refuses a ghost duplicate of an identity. priority holds the level
 * kept while a user is hidden.
 */
static const char schema_v1[] =
    "CREATE TABLE users ("
    " key TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,"
    " user TEXT NOT NULL,"
    " host TEXT NOT NULL,"
    " nickname TEXT NOT NULL DEFAULT '',"
    " grp TEXT NOT NULL DEFAULT '',"
    " address TEXT NOT NULL DEFAULT '',"
    " addresses TEXT NOT NULL DEFAULT '[]',"
    " status TEXT NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'absent', 'offline')),"
    " absence TEXT,"
    " capabilities TEXT NOT NULL DEFAULT '[]',"
    " uuid TEXT UNIQUE,"
    " version TEXT,"
    " first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL,"
    " first_exchange INTEGER NOT NULL DEFAULT 0,"
    " priority TEXT NOT NULL DEFAULT 'medium'"
    "  CHECK (priority IN ('highest', 'high', 'medium', 'low')),"
    " hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)));";

#define COLUMNS                                                                                    \
    "key, user, host, nickname, grp, address, addresses, status, absence, capabilities, uuid, "    \
    "version, first_seen, last_seen, first_exchange, priority, hidden"

static int fail(const us_store *s, sqlite3 *db, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s: %s: %s", s && s->path ? s->path : "users.sqlite", what,
             db ? sqlite3_errmsg(db) : "out of memory");
    return -1;
}

static int exec(us_store *s, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    snprintf(err, errlen, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return -1;
}

/* A PRAGMA or query whose first column of the first row is an integer. */
static int query_int(us_store *s, const char *sql, sqlite3_int64 *out, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, s->db, err, errlen, "cannot read");
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(s, s->db, err, errlen, "cannot read");
    return 0;
}

/* Creates or checks the schema. */
static int check_schema(us_store *s, char *err, size_t errlen)
{
    sqlite3_int64 app, version, tables;
    if (query_int(s, "PRAGMA application_id", &app, err, errlen) ||
        query_int(s, "PRAGMA user_version", &version, err, errlen) ||
        query_int(s, "SELECT count(*) FROM sqlite_schema", &tables, err, errlen))
        return -1;
    if (app == 0 && version == 0 && tables == 0) {
        char sql[2048];
        snprintf(sql, sizeof sql,
                 "BEGIN; %s PRAGMA application_id = %d; PRAGMA user_version = %d; COMMIT;",
                 schema_v1, US_APPLICATION_ID, US_SCHEMA_VERSION);
        if (exec(s, sql, err, errlen) != 0) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        return 0;
    }
    if (app != US_APPLICATION_ID) {
        snprintf(err, errlen, "%s: not a dengon user directory (application id %lld); left as is",
                 s->path, (long long)app);
        return -1;
    }
    if (version > US_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "%s: schema version %lld is newer than this plugin's %d (written by a newer "
                 "dengon?); left as is",
                 s->path, (long long)version, US_SCHEMA_VERSION);
        return -1;
    }
    if (version < 1) {
        snprintf(err, errlen, "%s: schema version %lld is unknown; left as is", s->path,
                 (long long)version);
        return -1;
    }
    /* Version 1 is the first: later versions migrate here, step by step, in one transaction. */
    return 0;
}

static int prepare(us_store *s, const char *sql, sqlite3_stmt **st, char *err, size_t errlen)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return fail(s, s->db, err, errlen, "cannot prepare");
    return 0;
}

int us_store_open(const char *path, us_store **out, char *err, size_t errlen)
{
    *out = NULL;
    us_store *s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    /* NOMUTEX: one thread at a time (store.h), so SQLite's own locking is not needed. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        fail(s, s->db, err, errlen, "cannot open");
        us_store_close(s);
        return -1;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, 5000);
    char mode[16] = "";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    if (strcasecmp(mode, "wal") != 0) {
        /* Not a database, locked, or read-only: sqlite3_errmsg says which. */
        fail(s, s->db, err, errlen, "cannot use the WAL journal");
        us_store_close(s);
        return -1;
    }
    if (exec(s, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;", err, errlen) != 0 ||
        check_schema(s, err, errlen) != 0 ||
        prepare(s,
                "INSERT INTO users (" COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) ON CONFLICT (key) DO UPDATE SET "
                "key = ?1, user = ?2, host = ?3, nickname = ?4, grp = ?5, address = ?6, "
                "addresses = ?7, status = ?8, absence = ?9, capabilities = ?10, uuid = ?11, "
                "version = ?12, first_seen = ?13, last_seen = ?14, first_exchange = ?15, "
                "priority = ?16, hidden = ?17",
                &s->put, err, errlen) != 0 ||
        prepare(s, "DELETE FROM users WHERE key = ?1", &s->del, err, errlen) != 0 ||
        prepare(s, "BEGIN IMMEDIATE", &s->begin, err, errlen) != 0 ||
        prepare(s, "COMMIT", &s->commit, err, errlen) != 0 ||
        prepare(s, "ROLLBACK", &s->rollback, err, errlen) != 0) {
        us_store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void us_store_close(us_store *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->put);
    sqlite3_finalize(s->del);
    sqlite3_finalize(s->begin);
    sqlite3_finalize(s->commit);
    sqlite3_finalize(s->rollback);
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

/* ---- loading ---- */

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : NULL;
}

/* A JSON array of strings from a column, or an empty array when it is not one. */
static json_t *col_strings(sqlite3_stmt *st, int i)
{
    const char *t = col_text(st, i);
    json_t *a = t ? json_loads(t, JSON_REJECT_DUPLICATES, NULL) : NULL;
    size_t k;
    json_t *v;
    bool ok = json_is_array(a);
    json_array_foreach(a, k, v) ok = ok && json_is_string(v);
    if (!ok) {
        json_decref(a);
        a = json_array();
    }
    return a;
}

/* The user of one row, or NULL when the row cannot be used. */
static us_user *row_user(sqlite3_stmt *st)
{
    const char *key = col_text(st, 0);
    us_user *u = us_user_new(col_text(st, 1), col_text(st, 2));
    if (!u || !key || strcasecmp(u->key, key) != 0) {
        us_user_free(u);
        return NULL;
    }
    bool ok = us_set_str(&u->key, key) >= 0 && us_set_str(&u->nickname, col_text(st, 3)) >= 0 &&
              us_set_str(&u->group, col_text(st, 4)) >= 0 &&
              us_set_opt(&u->absence, col_text(st, 8)) >= 0 &&
              us_set_opt(&u->version, col_text(st, 11)) >= 0;
    const char *addr = col_text(st, 5);
    uint32_t ip;
    uint16_t port;
    bool has_port;
    if (addr && us_addr_parse(addr, &ip, &port, &has_port) == 0) /* a bad one is dropped */
        ok = ok && us_user_set_address(u, addr) >= 0;
    json_decref(u->addresses);
    u->addresses = col_strings(st, 6);
    json_decref(u->caps);
    u->caps = col_strings(st, 9);
    if (us_status_parse(col_text(st, 7), &u->status) != 0)
        u->status = US_OFFLINE;
    const char *uuid = col_text(st, 10);
    if (uuid && us_uuid_valid(uuid))
        snprintf(u->uuid, sizeof u->uuid, "%s", uuid);
    u->first_seen = sqlite3_column_int64(st, 12);
    u->last_seen = sqlite3_column_int64(st, 13);
    u->first_exchange = sqlite3_column_int64(st, 14);
    if (us_level_parse(col_text(st, 15), &u->priority) != 0)
        u->priority = US_MEDIUM;
    u->hidden = sqlite3_column_int(st, 16) != 0;
    if (!ok || !u->addresses || !u->caps) {
        us_user_free(u);
        return NULL;
    }
    return u;
}

int us_store_load(us_store *s, us_dir *d, size_t *skipped, char *err, size_t errlen)
{
    *skipped = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT " COLUMNS " FROM users", -1, &st, NULL) != SQLITE_OK)
        return fail(s, s->db, err, errlen, "cannot read users");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        us_user *u = row_user(st);
        if (u) {
            /* The UUID goes in after the key, so a clash can only drop the UUID. */
            char uuid[sizeof u->uuid];
            memcpy(uuid, u->uuid, sizeof uuid);
            u->uuid[0] = '\0';
            if (us_dir_add(d, u) != 0) {
                us_user_free(u);
                u = NULL;
            } else if (uuid[0]) {
                us_dir_set_uuid(d, u, uuid);
            }
        }
        if (!u)
            (*skipped)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(s, s->db, err, errlen, "cannot read users");
    return 0;
}

/* ---- writing ---- */

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

static int step_reset(us_store *s, sqlite3_stmt *st, char *err, size_t errlen, const char *what)
{
    int rc = sqlite3_step(st);
    int out = rc == SQLITE_DONE ? 0 : fail(s, s->db, err, errlen, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return out;
}

int us_store_put(us_store *s, const us_user *u, char *err, size_t errlen)
{
    char *addrs = json_dumps(u->addresses, JSON_COMPACT);
    char *caps = json_dumps(u->caps, JSON_COMPACT);
    sqlite3_stmt *st = s->put;
    int rc = !addrs || !caps;
    rc |= bind_text(st, 1, u->key) | bind_text(st, 2, u->user) | bind_text(st, 3, u->host) |
          bind_text(st, 4, u->nickname) | bind_text(st, 5, u->group) |
          bind_text(st, 6, u->address) | bind_text(st, 7, addrs ? addrs : "[]") |
          bind_text(st, 8, us_status_name(u->status)) | bind_text(st, 9, u->absence) |
          bind_text(st, 10, caps ? caps : "[]") | bind_text(st, 11, u->uuid[0] ? u->uuid : NULL) |
          bind_text(st, 12, u->version) | sqlite3_bind_int64(st, 13, u->first_seen) |
          sqlite3_bind_int64(st, 14, u->last_seen) | sqlite3_bind_int64(st, 15, u->first_exchange) |
          bind_text(st, 16, us_level_name(u->priority)) | sqlite3_bind_int(st, 17, u->hidden);
    free(addrs);
    free(caps);
    if (rc != SQLITE_OK) {
        sqlite3_clear_bindings(st);
        return fail(s, s->db, err, errlen, "cannot save a user");
    }
    char what[600];
    snprintf(what, sizeof what, "cannot save %.500s", u->key);
    return step_reset(s, st, err, errlen, what);
}

int us_store_delete(us_store *s, const char *key, char *err, size_t errlen)
{
    if (bind_text(s->del, 1, key) != SQLITE_OK)
        return fail(s, s->db, err, errlen, "cannot delete a user");
    char what[600];
    snprintf(what, sizeof what, "cannot delete %.500s", key);
    return step_reset(s, s->del, err, errlen, what);
}

int us_store_begin(us_store *s, char *err, size_t errlen)
{
    return step_reset(s, s->begin, err, errlen, "cannot begin a transaction");
}

int us_store_commit(us_store *s, char *err, size_t errlen)
{
    return step_reset(s, s->commit, err, errlen, "cannot commit");
}

void us_store_rollback(us_store *s)
{
    if (sqlite3_get_autocommit(s->db))
        return; /* SQLite already rolled back (an I/O error does that) */
    sqlite3_step(s->rollback);
    sqlite3_reset(s->rollback);
}
