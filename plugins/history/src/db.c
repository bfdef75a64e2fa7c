#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cjk.h"
#include "recent.h"
#include "schema.h"

/* SQL of the cached statements, by hist_stmt_id. */
static const char *const stmt_sql[HS_COUNT] = {
    [HS_INSERT_MESSAGE] =
        "INSERT INTO messages (direction, transport, msg_id, packet_no, local, peer, nickname,"
        " address, room, text, sealed, opened, broadcast, multicast, auto_reply, time)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    [HS_INSERT_RECIPIENT] =
        "INSERT INTO recipients (message, peer, pos, updated, state, nickname, reason)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
    [HS_INSERT_LINK] = "INSERT INTO message_peers (peer, message) VALUES (?1, ?2)"
                       " ON CONFLICT DO NOTHING",
    [HS_UPSERT_PEER] = "INSERT INTO peers (key, nickname, address, last_time)"
                       " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET"
                       " nickname = coalesce(excluded.nickname, nickname),"
                       " address = coalesce(excluded.address, address),"
                       " last_time = max(last_time, excluded.last_time)",
    [HS_FIND_SENT] = "SELECT id FROM messages WHERE transport = ?1 AND msg_id = ?2"
                     " AND direction = 'out' ORDER BY id DESC LIMIT 1",
    [HS_FIND_RECEIVED] = "SELECT id FROM messages WHERE transport = ?1 AND msg_id = ?2"
                         " AND direction = 'in' ORDER BY id DESC LIMIT 1",
    /* ?1 message, ?2 peer, ?3 nickname, ?4 address, ?5 time, ?6 reason */
    [HS_RCPT_DELIVERED] = "UPDATE recipients SET state = 'delivered', reason = NULL,"
                          " nickname = coalesce(?3, nickname), address = coalesce(?4, address),"
                          " updated = ?5 WHERE message = ?1 AND peer = ?2",
    /* A late failure never undoes a delivery. */
    [HS_RCPT_FAILED] = "UPDATE recipients SET state = 'failed', reason = ?6,"
                       " nickname = coalesce(?3, nickname), address = coalesce(?4, address),"
                       " updated = ?5 WHERE message = ?1 AND peer = ?2 AND state <> 'delivered'",
    /*
     * Opened implies delivered (the ack may have been lost). After a restart
     * the sender names the reader by user@host even when the message went to
     * an address: the address then finds the row.
     */
    [HS_RCPT_OPENED] = "UPDATE recipients SET opened = 1, state = 'delivered', reason = NULL,"
                       " nickname = coalesce(?3, nickname), address = coalesce(?4, address),"
                       " updated = ?5 WHERE message = ?1 AND (peer = ?2 OR address = ?4)",
    [HS_MARK_READ] = "UPDATE messages SET opened = 1, opened_time = coalesce(opened_time, ?2)"
                     " WHERE id = ?1",
    [HS_RECIPIENTS_OF] = "SELECT peer, nickname, address, state, opened, reason, updated"
                         " FROM recipients WHERE message = ?1 ORDER BY pos",
    [HS_RESOLVE_PEER] = "SELECT key FROM peers WHERE key = ?1 OR nickname = ?1 COLLATE NOCASE"
                        " OR key LIKE ?2 ESCAPE '\\'",
    [HS_DELETE_OLD] = "DELETE FROM messages WHERE id IN"
                      " (SELECT id FROM messages WHERE time < ?1 ORDER BY time LIMIT ?2)",
    [HS_DELETE_OLD_PEERS] = "DELETE FROM peers WHERE last_time < ?1",
    [HS_INDEX_NEW] = "INSERT INTO messages_fts (rowid, text)"
                     " SELECT id, text FROM messages WHERE id > ?1 ORDER BY id",
    [HS_INDEX_NEW_CJK] = "INSERT INTO messages_cjk (rowid, text)"
                         " SELECT id, text FROM messages WHERE id > ?1 ORDER BY id",
};

void hist_db_note_error(hist_db *h)
{
    snprintf(h->last_error, sizeof h->last_error, "%s", sqlite3_errmsg(h->db));
}

const char *hist_db_error(const hist_db *h)
{
    if (!h || !h->db)
        return "no database";
    return h->last_error[0] ? h->last_error : sqlite3_errmsg(h->db);
}

int hist_db_exec(hist_db *h, const char *sql)
{
    if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    hist_db_note_error(h);
    return -1;
}

int hist_db_done(sqlite3_stmt *s)
{
    return s ? sqlite3_reset(s) : SQLITE_OK;
}

int hist_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

/* The version of a database opened read-only (it cannot be migrated). */
static int readonly_version(hist_db *h, char *err, size_t errlen)
{
    size_t n;
    const hist_migration *m = hist_schema_migrations(&n);
    sqlite3_stmt *s = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(h->db, "SELECT max(version) FROM schema_version", -1, &s, NULL) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (v != m[n - 1].version) {
        snprintf(err, errlen, "%s: schema version %d, expected %d", h->path, v, m[n - 1].version);
        return -1;
    }
    h->schema_version = v;
    return 0;
}

static int newest_message(hist_db *h, int64_t *id)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(h->db, "SELECT coalesce(max(id), 0) FROM messages", -1, &s, NULL);
    if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    else
        rc = SQLITE_ERROR;
    sqlite3_finalize(s);
    return rc == SQLITE_OK ? 0 : -1;
}

static int index_since(hist_db *h, hist_stmt_id id, int64_t since)
{
    sqlite3_stmt *s = hist_db_stmt(h, id);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, since);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE)
        hist_db_note_error(h);
    hist_db_done(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The batch's new messages into both full-text indexes: one statement, one FTS5 segment each. */
int hist_db_index_pending(hist_db *h)
{
    if (h->readonly || h->newest_id <= h->fts_indexed)
        return 0;
    if (index_since(h, HS_INDEX_NEW, h->fts_indexed) != 0 ||
        index_since(h, HS_INDEX_NEW_CJK, h->fts_indexed) != 0)
        return -1;
    h->fts_indexed = h->newest_id;
    return 0;
}

hist_db *hist_db_open(const char *path, bool readonly, char *err, size_t errlen)
{
    hist_db *h = calloc(1, sizeof *h);
    if (!h || !(h->path = strdup(path))) {
        free(h);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->readonly = readonly;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    /* NOMUTEX: each connection is used by one thread (the loop, or one export worker). */
    flags |= SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 h->db ? sqlite3_errmsg(h->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(h->db, 1);
    sqlite3_busy_timeout(h->db, HIST_BUSY_TIMEOUT_MS);
    /* Before anything touches messages_cjk (the migration builds it, queries read it). */
    if (hist_cjk_register(h->db) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot register the %s tokenizer: %s", path, HIST_CJK_TOKENIZER,
                 sqlite3_errmsg(h->db));
        goto fail;
    }
    /*
     * WAL: readers (an export worker) never block the writer. synchronous
     * NORMAL is safe with WAL (a power cut may lose the last commits, never
     * corrupt the file) and avoids an fsync per batch.
     */
    const char *pragmas = readonly ? "PRAGMA query_only = ON;"
                                   : "PRAGMA journal_mode = WAL;"
                                     "PRAGMA synchronous = NORMAL;"
                                     "PRAGMA foreign_keys = OFF;";
    if (hist_db_exec(h, pragmas) != 0) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(h->db));
        goto fail;
    }
    if (readonly) {
        if (readonly_version(h, err, errlen) != 0)
            goto fail;
    } else {
        size_t n;
        const hist_migration *m = hist_schema_migrations(&n);
        char why[400];
        if (hist_schema_migrate(h->db, m, n, &h->schema_version, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s: %s", path, why);
            goto fail;
        }
        if (newest_message(h, &h->newest_id) != 0) {
            snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(h->db));
            goto fail;
        }
        /* Every committed row was indexed with its batch. */
        h->fts_indexed = h->committed_id = h->newest_id;
        h->recent = hist_recent_new(); /* NULL only costs the shortcuts */
    }
    return h;
fail:
    hist_db_close(h);
    return NULL;
}

void hist_db_close(hist_db *h)
{
    if (!h)
        return;
    if (h->in_batch)
        hist_db_flush(h);
    for (size_t i = 0; i < HS_COUNT; i++)
        sqlite3_finalize(h->stmt[i]);
    for (size_t i = 0; i < HQ_VARIANTS; i++)
        sqlite3_finalize(h->query[i]);
    if (h->db && !h->readonly)
        sqlite3_exec(h->db, "PRAGMA optimize", NULL, NULL, NULL); /* keeps planner stats fresh */
    sqlite3_close_v2(h->db);
    hist_recent_free(h->recent);
    free(h->path);
    free(h);
}

int hist_db_batch(hist_db *h)
{
    if (h->in_batch)
        return 0;
    /* IMMEDIATE takes the write lock now, so no statement of the batch fails on BUSY later. */
    if (hist_db_exec(h, "BEGIN IMMEDIATE") != 0)
        return -1;
    h->in_batch = true;
    h->pending = 0;
    return 0;
}

bool hist_db_row_written(hist_db *h)
{
    return ++h->pending >= HIST_BATCH_MAX;
}

int hist_db_flush(hist_db *h)
{
    if (!h->in_batch)
        return 0;
    h->in_batch = false;
    size_t rows = h->pending;
    h->pending = 0;
    if (sqlite3_get_autocommit(h->db)) {
        /* SQLite rolled the batch back itself after an error (disk full, I/O). */
        h->rows_lost += rows;
        h->newest_id = h->fts_indexed = h->committed_id;
        hist_recent_clear(h->recent);
        snprintf(h->last_error, sizeof h->last_error,
                 "%zu rows lost: the write transaction was rolled back after an error", rows);
        return -1;
    }
    if (hist_db_index_pending(h) == 0 && hist_db_exec(h, "COMMIT") == 0) {
        h->committed_id = h->newest_id;
        return 0;
    }
    sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
    h->rows_lost += rows;
    h->newest_id = h->fts_indexed = h->committed_id;
    hist_recent_clear(h->recent);
    return -1;
}

sqlite3_stmt *hist_db_stmt(hist_db *h, hist_stmt_id id)
{
    if (id >= HS_COUNT)
        return NULL;
    sqlite3_stmt *s = h->stmt[id];
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return s;
    }
    if (sqlite3_prepare_v3(h->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
        SQLITE_OK) {
        hist_db_note_error(h);
        return NULL;
    }
    return h->stmt[id] = s;
}

sqlite3_stmt *hist_db_query(hist_db *h, unsigned variant, const char *sql)
{
    if (variant >= HQ_VARIANTS)
        return NULL;
    sqlite3_stmt *s = h->query[variant];
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return s;
    }
    if (sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        hist_db_note_error(h);
        return NULL;
    }
    return h->query[variant] = s;
}
