/*
 * The history database connection: opening <data_dir>/history.sqlite with the
 * pragmas the plugin relies on (WAL, busy timeout), the schema migrations,
 * a cache of prepared statements, and group commit.
 *
 * Group commit: writes go into one open transaction (a batch) that the
 * caller commits with hist_db_flush once it has written what it had (the
 * writer thread: everything queued at once), or that commits itself when
 * HIST_BATCH_MAX rows are pending. Transactions stay short, and FTS5 writes
 * one index segment per batch instead of one per message
 * (docs/adr/0006-history-store.md). A connection is used by one thread.
 *
 * No host API here: the store is plain C + SQLite, unit-tested on its own.
 */
#ifndef DG_HIST_DB_H
#define DG_HIST_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Rows written in one batch before it is committed without waiting for the timer. */
#define HIST_BATCH_MAX 2048

/* Milliseconds a statement waits for a lock held by another connection. */
#define HIST_BUSY_TIMEOUT_MS 1000

/* Prepared statements kept for the life of the connection (store.c, query.c). */
typedef enum hist_stmt_id {
    HS_INSERT_MESSAGE,
    HS_INSERT_RECIPIENT,
    HS_UPSERT_PEER,
    HS_INSERT_LINK,
    HS_FIND_SENT,
    HS_FIND_RECEIVED,
    HS_RCPT_DELIVERED,
    HS_RCPT_FAILED,
    HS_RCPT_OPENED,
    HS_MARK_READ,
    HS_RECIPIENTS_OF,
    HS_RESOLVE_PEER,
    HS_DELETE_OLD,
    HS_DELETE_OLD_PEERS,
    HS_INDEX_NEW,
    HS_INDEX_NEW_CJK,
    HS_COUNT
} hist_stmt_id;

/* Query variants (query.c): one cached statement per combination of these bits. */
enum {
    HQ_WITH = 1,    /* messages exchanged with one peer */
    HQ_MATCH = 2,   /* FTS5 MATCH on the trigram index */
    HQ_LIKE = 4,    /* LIKE for terms too short for trigrams */
    HQ_ROOM = 8,    /* one room */
    HQ_BEFORE = 16, /* ids below a given one */
    HQ_ASC = 32,    /* oldest first (exports); else newest first */
    HQ_WITHS = 64,  /* messages exchanged with any of several peers */
    HQ_CJK = 128    /* FTS5 MATCH on the CJK pair index (terms of 1-2 CJK characters) */
};
#define HQ_VARIANTS 256

typedef struct hist_db {
    sqlite3 *db;
    char *path;
    bool readonly;
    bool in_batch;  /* a write transaction is open */
    size_t pending; /* rows written in the open batch */
    sqlite3_stmt *stmt[HS_COUNT];
    sqlite3_stmt *query[HQ_VARIANTS];
    int schema_version;
    int64_t newest_id;          /* highest messages.id written (committed or in the open batch) */
    int64_t fts_indexed;        /* highest messages.id in messages_fts (in the open batch too) */
    int64_t committed_id;       /* highest messages.id committed: both go back to it on rollback */
    struct hist_recent *recent; /* writes skipped as redundant (recent.h); NULL read-only */
    uint64_t rows_lost;         /* rows of batches SQLite rolled back after an error */
    char last_error[256];       /* the reason of the last failure (a ROLLBACK clears SQLite's) */
} hist_db;

/*
 * Opens (creating it when missing, unless readonly) and migrates the
 * database at path. Returns NULL with a one-line reason in err.
 */
hist_db *hist_db_open(const char *path, bool readonly, char *err, size_t errlen);
/* Commits a pending batch, finalizes the statements and closes. NULL is fine. */
void hist_db_close(hist_db *h);

/*
 * Starts the batch if none is open. Every write of store.c calls it; the
 * rows are durable once hist_db_flush returned 0.
 */
int hist_db_batch(hist_db *h);
/*
 * Commits the open batch (if any), indexing its new messages for full-text
 * search in the same transaction. 0, or -1 when the commit failed (rolled back).
 */
int hist_db_flush(hist_db *h);
/*
 * Indexes the open batch's new messages for full-text search now (the
 * commit does it otherwise): a search on the writing connection must see them.
 */
int hist_db_index_pending(hist_db *h);
/* Counts a written row; true when the batch is full and should be flushed now. */
bool hist_db_row_written(hist_db *h);

/*
 * The cached statement (reset, bindings cleared), prepared on first use;
 * NULL on error. Callers reset it when done (hist_db_done) so that no read
 * stays open and holds back WAL checkpoints.
 */
sqlite3_stmt *hist_db_stmt(hist_db *h, hist_stmt_id id);
/* The cached query variant, prepared from sql on first use; NULL on error. */
sqlite3_stmt *hist_db_query(hist_db *h, unsigned variant, const char *sql);

/* sqlite3_reset: ends the statement's read; returns s's last error code. */
int hist_db_done(sqlite3_stmt *s);

/* Runs SQL without results; 0 or -1 (the reason is sqlite3_errmsg). */
int hist_db_exec(hist_db *h, const char *sql);
/* Keeps SQLite's current error message as the reason of the failure. */
void hist_db_note_error(hist_db *h);
/* The reason of the last failure. */
const char *hist_db_error(const hist_db *h);

/* Text binding of a possibly NULL string. */
int hist_bind_text(sqlite3_stmt *s, int i, const char *v);

#endif
