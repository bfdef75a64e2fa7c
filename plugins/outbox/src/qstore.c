#include "qstore.h"

#include "sqlite_db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION 1

struct qstore {
    sqlite3 *db;
};

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS queue("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " to_key TEXT NOT NULL, to_uuid TEXT, nickname TEXT NOT NULL, text TEXT NOT NULL,"
    " sealed INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0 CHECK(state BETWEEN 0 AND 3),"
    " attempts INTEGER NOT NULL DEFAULT 0, last_attempt INTEGER NOT NULL DEFAULT 0,"
    " error TEXT, finished INTEGER NOT NULL DEFAULT 0, message_id INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS queue_pending ON queue(state, to_key COLLATE NOCASE, id);";

const char *q_state_name(q_state s)
{
    static const char *const names[] = {"queued", "delivered", "failed", "discarded"};
    return (unsigned)s < 4 ? names[s] : "unknown";
}

const char *qstore_error(qstore *s)
{
    return s && s->db ? sqlite3_errmsg(s->db) : "no database";
}

static int exec(qstore *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int qstore_open(const char *path, qstore **out, char *err, size_t errlen)
{
    *out = NULL;
    qstore *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* FULL: the queue is small and rarely written; a queued message must survive a power cut. */
    s->db = dg_sqlite_open(path, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", 2000,
                           SCHEMA_VERSION, schema, err, errlen);
    if (!s->db) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void qstore_close(qstore *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s);
}

/* ---- helpers ---- */

static sqlite3_stmt *prep(qstore *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    return sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK ? st : NULL;
}

void qmsg_clear(qmsg *m)
{
    free(m->to_key);
    free(m->to_uuid);
    free(m->nickname);
    free(m->text);
    free(m->error);
    memset(m, 0, sizeof(*m));
}

void qmsgs_free(qmsg *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        qmsg_clear(&v[i]);
    free(v);
}

#define COLS                                                                                       \
    "id, to_key, to_uuid, nickname, text, sealed, created, state, attempts, last_attempt, error,"  \
    " finished, message_id"

/* One row of COLS; 0, or -1 when out of memory. */
static int row(sqlite3_stmt *st, qmsg *m)
{
    m->id = sqlite3_column_int64(st, 0);
    m->to_key = dg_sqlite_col_dup(st, 1);
    m->to_uuid = dg_sqlite_col_dup(st, 2);
    m->nickname = dg_sqlite_col_dup(st, 3);
    m->text = dg_sqlite_col_dup(st, 4);
    m->sealed = sqlite3_column_int(st, 5) != 0;
    m->created = sqlite3_column_int64(st, 6);
    m->state = (q_state)sqlite3_column_int(st, 7);
    m->attempts = sqlite3_column_int64(st, 8);
    m->last_attempt = sqlite3_column_int64(st, 9);
    m->error = dg_sqlite_col_dup(st, 10);
    m->finished = sqlite3_column_int64(st, 11);
    m->message_id = (uint32_t)sqlite3_column_int64(st, 12);
    return m->to_key && m->nickname && m->text ? 0 : -1;
}

/* Rows of st into *out; 0 or -1. Finalizes st. */
static int rows(sqlite3_stmt *st, qmsg **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!st)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            qmsg *v = realloc(*out, nc * sizeof(*v));
            if (!v)
                break;
            *out = v;
            cap = nc;
        }
        memset(&(*out)[*n], 0, sizeof(**out));
        int ok = row(st, &(*out)[*n]);
        (*n)++;
        if (ok != 0)
            break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        qmsgs_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

/* One row or none; 1, 0, -1. Finalizes st. */
static int one(sqlite3_stmt *st, qmsg *out)
{
    memset(out, 0, sizeof(*out));
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = row(st, out) == 0 ? 1 : -1;
    else
        rc = rc == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    if (rc < 0)
        qmsg_clear(out);
    return rc;
}

/* ---- queue ---- */

int qstore_add(qstore *s, qmsg *m)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO queue(to_key, to_uuid, nickname, text, sealed,"
                               " created) VALUES(?, ?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, m->to_key);
    dg_sqlite_bind_text(st, 2, m->to_uuid);
    dg_sqlite_bind_text(st, 3, m->nickname);
    dg_sqlite_bind_text(st, 4, m->text);
    sqlite3_bind_int(st, 5, m->sealed);
    sqlite3_bind_int64(st, 6, m->created);
    if (dg_sqlite_run(st) != 0)
        return -1;
    m->id = sqlite3_last_insert_rowid(s->db);
    m->state = Q_QUEUED;
    return 0;
}

int qstore_add_all(qstore *s, qmsg *v, size_t n)
{
    if (exec(s, "BEGIN IMMEDIATE") != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (qstore_add(s, &v[i]) != 0) {
            exec(s, "ROLLBACK");
            return -1;
        }
    }
    if (exec(s, "COMMIT") != 0) {
        exec(s, "ROLLBACK");
        return -1;
    }
    return 0;
}

int qstore_get(qstore *s, int64_t id, qmsg *out)
{
    sqlite3_stmt *st = prep(s, "SELECT " COLS " FROM queue WHERE id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, id);
    return one(st, out);
}

int qstore_oldest(qstore *s, const char *key, qmsg *out)
{
    sqlite3_stmt *st = prep(s, "SELECT " COLS " FROM queue WHERE state = 0 AND"
                               " to_key = ? COLLATE NOCASE ORDER BY id LIMIT 1");
    if (st)
        dg_sqlite_bind_text(st, 1, key);
    return one(st, out);
}

int qstore_list(qstore *s, bool all, qmsg **out, size_t *n)
{
    return rows(prep(s, all ? "SELECT " COLS " FROM queue ORDER BY id"
                            : "SELECT " COLS " FROM queue WHERE state = 0 ORDER BY id"),
                out, n);
}

void qstore_keys_free(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

int qstore_recipients(qstore *s, char ***keys, size_t *n)
{
    *keys = NULL;
    *n = 0;
    sqlite3_stmt *st = prep(s, "SELECT to_key FROM queue WHERE state = 0 GROUP BY to_key"
                               " COLLATE NOCASE ORDER BY min(id)");
    if (!st)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            char **v = realloc(*keys, nc * sizeof(*v));
            if (!v)
                break;
            *keys = v;
            cap = nc;
        }
        if (!((*keys)[*n] = dg_sqlite_col_dup(st, 0)))
            break;
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        qstore_keys_free(*keys, *n);
        *keys = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

int qstore_attempt(qstore *s, int64_t id, int64_t now)
{
    sqlite3_stmt *st =
        prep(s, "UPDATE queue SET attempts = attempts + 1, last_attempt = ? WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, id);
    return dg_sqlite_run(st);
}

int qstore_set_error(qstore *s, int64_t id, const char *error)
{
    sqlite3_stmt *st = prep(s, "UPDATE queue SET error = ? WHERE id = ?");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, error);
    sqlite3_bind_int64(st, 2, id);
    return dg_sqlite_run(st);
}

int qstore_finish(qstore *s, int64_t id, q_state state, const char *error, uint32_t message_id,
                  int64_t now)
{
    sqlite3_stmt *st = prep(s, "UPDATE queue SET state = ?, error = coalesce(?, error),"
                               " message_id = ?, finished = ? WHERE id = ? AND state = 0");
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, (int)state);
    dg_sqlite_bind_text(st, 2, error);
    sqlite3_bind_int64(st, 3, message_id);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, id);
    if (dg_sqlite_run(st) != 0)
        return -1;
    return sqlite3_changes(s->db) > 0;
}

int qstore_retarget(qstore *s, const char *old_key, const char *uuid, const char *new_key)
{
    sqlite3_stmt *st = prep(s, "UPDATE queue SET to_key = ?1 WHERE state = 0 AND"
                               " to_key <> ?1 COLLATE NOCASE AND"
                               " ((?2 IS NOT NULL AND to_key = ?2 COLLATE NOCASE) OR"
                               " (?3 IS NOT NULL AND to_uuid = ?3 COLLATE NOCASE))");
    if (!st)
        return -1;
    dg_sqlite_bind_text(st, 1, new_key);
    dg_sqlite_bind_text(st, 2, old_key);
    dg_sqlite_bind_text(st, 3, uuid);
    if (dg_sqlite_run(st) != 0)
        return -1;
    return sqlite3_changes(s->db);
}

int qstore_expired(qstore *s, int64_t before, qmsg **out, size_t *n)
{
    sqlite3_stmt *st =
        prep(s, "SELECT " COLS " FROM queue WHERE state = 0 AND created < ? ORDER BY id");
    if (st)
        sqlite3_bind_int64(st, 1, before);
    return rows(st, out, n);
}

int qstore_purge(qstore *s, int64_t before)
{
    sqlite3_stmt *st = prep(s, "DELETE FROM queue WHERE state <> 0 AND finished < ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, before);
    if (dg_sqlite_run(st) != 0)
        return -1;
    return sqlite3_changes(s->db);
}
