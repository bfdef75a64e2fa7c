#include "schema.h"

#include "cjk.h"

#include <stdio.h>

/*
 * Version 1.
 *
 * messages: one row per message, sent ("out") or received ("in"). msg_id is
 * the transport's id (ipmsg: the packet number of a sent message, the local
 * inbox id of a received one), not unique on its own: state updates look up
 * the newest row with it. peer is the sender of a received message; the
 * recipients of a sent one are in recipients (pos: their order in the
 * message), each with its own delivery state ("sent" for broadcasts, which
 * are never acknowledged). room is NULL for direct messages (the rooms plugin fills it).
 * local is our own key when the message was stored (a home folder copied to
 * a new PC keeps the old key on old messages).
 *
 * messages_fts indexes the text with the trigram tokenizer (CJK has no
 * spaces for unicode61 to split on), as an external-content table kept in
 * step by triggers (and, from version 2, by the commit for new rows). message_peers links each
 * message to the other side (the sender of a received message, every recipient of a sent one):
 * ordered by (peer, message), it lists a conversation newest first without sorting. peers: every
 * key we exchanged messages with, and its latest nickname, to resolve "--with NAME" without
 * scanning the messages.
 */
static const char schema_v1[] =
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),"
    " transport TEXT NOT NULL,"
    " msg_id INTEGER NOT NULL,"
    " packet_no INTEGER,"
    " local TEXT NOT NULL COLLATE NOCASE,"
    " peer TEXT COLLATE NOCASE,"
    " nickname TEXT,"
    " address TEXT,"
    " room TEXT,"
    " text TEXT NOT NULL,"
    " sealed INTEGER NOT NULL DEFAULT 0,"
    " opened INTEGER NOT NULL DEFAULT 0,"
    " opened_time INTEGER,"
    " broadcast INTEGER NOT NULL DEFAULT 0,"
    " multicast INTEGER NOT NULL DEFAULT 0,"
    " auto_reply INTEGER NOT NULL DEFAULT 0,"
    " time INTEGER NOT NULL);"
    "CREATE INDEX messages_msg ON messages (transport, msg_id);"
    "CREATE INDEX messages_room ON messages (room) WHERE room IS NOT NULL;"
    "CREATE INDEX messages_time ON messages (time);"
    "CREATE TABLE recipients ("
    " message INTEGER NOT NULL,"
    " peer TEXT NOT NULL COLLATE NOCASE,"
    " pos INTEGER NOT NULL DEFAULT 0,"
    " nickname TEXT,"
    " address TEXT,"
    " state TEXT NOT NULL DEFAULT 'sending' CHECK (state IN ('sending', 'sent', 'delivered', "
    "'failed')),"
    " opened INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT,"
    " updated INTEGER,"
    " PRIMARY KEY (message, peer)) WITHOUT ROWID;"
    "CREATE TABLE message_peers ("
    " peer TEXT NOT NULL COLLATE NOCASE,"
    " message INTEGER NOT NULL,"
    " PRIMARY KEY (peer, message)) WITHOUT ROWID;"
    "CREATE INDEX message_peers_message ON message_peers (message);"
    "CREATE TABLE peers ("
    " key TEXT PRIMARY KEY COLLATE NOCASE,"
    " nickname TEXT,"
    " address TEXT,"
    " last_time INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE VIRTUAL TABLE messages_fts USING fts5 ("
    " text, content='messages', content_rowid='id', tokenize='trigram');"
    "CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN"
    " INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);"
    " END;"
    "CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN"
    " INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);"
    " DELETE FROM recipients WHERE message = old.id;"
    " DELETE FROM message_peers WHERE message = old.id;"
    " END;"
    "CREATE TRIGGER messages_au AFTER UPDATE OF text ON messages BEGIN"
    " INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);"
    " END;";

/*
 * Version 2: new messages are indexed once per write transaction by
 * hist_db_flush (one INSERT ... SELECT of the rows not yet indexed), not by a
 * trigger per row. Under the trigger, every INSERT INTO messages was a
 * statement with a savepoint, and SQLite 3.40's FTS5 flushes its pending
 * terms to a new index segment at each savepoint: one segment per message,
 * merged again and again (most of the cost of storing a message).
 */
static const char schema_v2[] = "DROP TRIGGER messages_ai;";

/*
 * Version 3: messages_cjk, a second external-content index with the
 * dengon_cjk tokenizer (cjk.h: pairs of CJK characters), for search terms of
 * 1 or 2 CJK characters that trigrams cannot answer. Built from the existing
 * rows here ('rebuild': only CJK text gives tokens), then kept in step like
 * messages_fts: new rows by the commit, deletes and text updates by the
 * triggers, which are recreated to cover both indexes. detail=none: every
 * query on it is a single token (a pair, or a prefix), so positions are not
 * needed, and without them the index costs next to nothing to write (with
 * them, storing Japanese-heavy text was 4 times slower).
 */
static const char schema_v3[] =
    "CREATE VIRTUAL TABLE messages_cjk USING fts5 ("
    " text, content='messages', content_rowid='id', tokenize='" HIST_CJK_TOKENIZER "',"
    " detail=none, columnsize=0);"
    "INSERT INTO messages_cjk (messages_cjk) VALUES ('rebuild');"
    "DROP TRIGGER messages_ad;"
    "DROP TRIGGER messages_au;"
    "CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN"
    " INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO messages_cjk (messages_cjk, rowid, text) VALUES ('delete', old.id, old.text);"
    " DELETE FROM recipients WHERE message = old.id;"
    " DELETE FROM message_peers WHERE message = old.id;"
    " END;"
    "CREATE TRIGGER messages_au AFTER UPDATE OF text ON messages BEGIN"
    " INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);"
    " INSERT INTO messages_cjk (messages_cjk, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO messages_cjk (rowid, text) VALUES (new.id, new.text);"
    " END;";

/*
 * Version 4: recipients without its CHECK on state. SQLite 3.40 updates a
 * column that has a CHECK constraint in two passes, through a temporary
 * b-tree opened (a pager, its page cache) for every statement: each
 * "delivered" acknowledgement paid for one. The states are only ever set by
 * this plugin's own statements (db.c), from fixed strings. SQLite cannot drop
 * a constraint, so the table is copied; the delete trigger names it and is
 * recreated around the rename.
 */
static const char schema_v4[] =
    "DROP TRIGGER messages_ad;"
    "CREATE TABLE recipients_v4 ("
    " message INTEGER NOT NULL,"
    " peer TEXT NOT NULL COLLATE NOCASE,"
    " pos INTEGER NOT NULL DEFAULT 0,"
    " nickname TEXT,"
    " address TEXT,"
    " state TEXT NOT NULL DEFAULT 'sending',"
    " opened INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT,"
    " updated INTEGER,"
    " PRIMARY KEY (message, peer)) WITHOUT ROWID;"
    "INSERT INTO recipients_v4 (message, peer, pos, nickname, address, state, opened, reason,"
    " updated) SELECT message, peer, pos, nickname, address, state, opened, reason, updated"
    " FROM recipients;"
    "DROP TABLE recipients;"
    "ALTER TABLE recipients_v4 RENAME TO recipients;"
    "CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN"
    " INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO messages_cjk (messages_cjk, rowid, text) VALUES ('delete', old.id, old.text);"
    " DELETE FROM recipients WHERE message = old.id;"
    " DELETE FROM message_peers WHERE message = old.id;"
    " END;";

static const hist_migration migrations[] = {
    {1, schema_v1},
    {2, schema_v2},
    {3, schema_v3},
    {4, schema_v4},
};

const hist_migration *hist_schema_migrations(size_t *n)
{
    *n = sizeof migrations / sizeof migrations[0];
    return migrations;
}

/* Highest version applied, 0 for a new database; -1 on error. */
static int current_version(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_version", -1, &s,
                           NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

static int record_version(sqlite3 *db, int version)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO schema_version (version, applied)"
                                " VALUES (?1, CAST(strftime('%s', 'now') AS INTEGER))",
                                -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(s, 1, version);
        rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_OK ? 0 : -1;
}

int hist_schema_migrate(sqlite3 *db, const hist_migration *list, size_t n, int *version, char *err,
                        size_t errlen)
{
    int latest = n ? list[n - 1].version : 0;
    /* IMMEDIATE: a second process opening the same file waits instead of migrating twice. */
    if (sqlite3_exec(db,
                     "BEGIN IMMEDIATE;"
                     "CREATE TABLE IF NOT EXISTS schema_version ("
                     " version INTEGER PRIMARY KEY, applied INTEGER NOT NULL);",
                     NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    int v = current_version(db);
    if (v < 0) {
        snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
        goto fail;
    }
    if (v > latest) {
        snprintf(err, errlen,
                 "the database has schema version %d, newer than this plugin knows (%d): "
                 "use a newer dengon",
                 v, latest);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        if (list[i].version <= v)
            continue;
        if (sqlite3_exec(db, list[i].sql, NULL, NULL, NULL) != SQLITE_OK ||
            record_version(db, list[i].version) != 0) {
            snprintf(err, errlen, "migration to schema version %d failed: %s", list[i].version,
                     sqlite3_errmsg(db));
            goto fail;
        }
        v = list[i].version;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot commit the schema: %s", sqlite3_errmsg(db));
        goto fail;
    }
    *version = v;
    return 0;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}
