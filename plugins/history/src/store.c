#include "store.h"

#include "recent.h"

#include <stdio.h>
#include <string.h>

/* A statement failed: if SQLite rolled the whole batch back, the batch is gone. */
static int fail(hist_db *h, sqlite3_stmt *s)
{
    hist_db_note_error(h);
    hist_db_done(s);
    if (h->in_batch && sqlite3_get_autocommit(h->db))
        hist_db_flush(h); /* counts the lost rows and closes the batch */
    return -1;
}

/* Runs a write statement to its end. */
static int step_done(hist_db *h, sqlite3_stmt *s)
{
    if (sqlite3_step(s) != SQLITE_DONE)
        return fail(h, s);
    hist_db_done(s);
    return 0;
}

/* After a message or an update: the batch is flushed once it holds HIST_BATCH_MAX rows. */
static int row_written(hist_db *h)
{
    if (hist_db_row_written(h))
        return hist_db_flush(h);
    return 0;
}

/* Links message row to peer for "with" queries. */
static int link_peer(hist_db *h, const char *peer, int64_t row)
{
    sqlite3_stmt *s = hist_db_stmt(h, HS_INSERT_LINK);
    if (!s)
        return -1;
    hist_bind_text(s, 1, peer);
    sqlite3_bind_int64(s, 2, row);
    return step_done(h, s);
}

static int upsert_peer(hist_db *h, const char *key, const char *nickname, const char *address,
                       int64_t time)
{
    if (hist_recent_peer_fresh(h->recent, key, nickname, address, time))
        return 0;
    sqlite3_stmt *s = hist_db_stmt(h, HS_UPSERT_PEER);
    if (!s)
        return -1;
    hist_bind_text(s, 1, key);
    hist_bind_text(s, 2, nickname);
    hist_bind_text(s, 3, address);
    sqlite3_bind_int64(s, 4, time);
    if (step_done(h, s) != 0)
        return -1;
    hist_recent_peer_written(h->recent, key, nickname, address, time);
    return 0;
}

int hist_store_message(hist_db *h, const hist_msg *m, int64_t *id)
{
    if (!m->text || !m->local || !m->transport || (!m->out && !m->peer)) {
        snprintf(h->last_error, sizeof h->last_error, "a message needs text, keys and transport");
        return -1;
    }
    if (hist_db_batch(h) != 0)
        return -1;
    sqlite3_stmt *s = hist_db_stmt(h, HS_INSERT_MESSAGE);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, m->out ? "out" : "in", -1, SQLITE_STATIC);
    hist_bind_text(s, 2, m->transport);
    sqlite3_bind_int64(s, 3, m->msg_id);
    if (m->packet_no >= 0)
        sqlite3_bind_int64(s, 4, m->packet_no);
    hist_bind_text(s, 5, m->local);
    hist_bind_text(s, 6, m->out ? NULL : m->peer);
    hist_bind_text(s, 7, m->out ? NULL : m->nickname);
    hist_bind_text(s, 8, m->out ? NULL : m->address);
    hist_bind_text(s, 9, m->room);
    sqlite3_bind_text(s, 10, m->text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 11, m->sealed);
    sqlite3_bind_int(s, 12, m->opened);
    sqlite3_bind_int(s, 13, m->broadcast);
    sqlite3_bind_int(s, 14, m->multicast);
    sqlite3_bind_int(s, 15, m->auto_reply);
    sqlite3_bind_int64(s, 16, m->time);
    if (step_done(h, s) != 0)
        return -1;
    int64_t row = sqlite3_last_insert_rowid(h->db);
    if (row > h->newest_id)
        h->newest_id = row; /* indexed for search when the batch commits */
    if (m->out)
        hist_recent_sent(h->recent, m->transport, m->msg_id, row);
    if (m->out) {
        for (size_t i = 0; i < m->n_to; i++) {
            sqlite3_stmt *r = hist_db_stmt(h, HS_INSERT_RECIPIENT);
            if (!r)
                return -1;
            sqlite3_bind_int64(r, 1, row);
            hist_bind_text(r, 2, m->to[i]);
            sqlite3_bind_int64(r, 3, (int64_t)i);
            sqlite3_bind_int64(r, 4, m->time);
            hist_bind_text(r, 5, m->rcpt_state ? m->rcpt_state : "sending");
            hist_bind_text(r, 6, m->n_to == 1 ? m->rcpt_nickname : NULL);
            hist_bind_text(r, 7, m->rcpt_reason);
            if (step_done(h, r) != 0 || link_peer(h, m->to[i], row) != 0 ||
                upsert_peer(h, m->to[i], m->n_to == 1 ? m->rcpt_nickname : NULL, NULL, m->time) !=
                    0)
                return -1;
        }
    } else if (link_peer(h, m->peer, row) != 0 ||
               upsert_peer(h, m->peer, m->nickname, m->address, m->time) != 0) {
        return -1;
    }
    if (id)
        *id = row;
    return row_written(h);
}

/* History id of the newest message with this transport id; 0 if none, -1 on error. */
static int64_t find_message(hist_db *h, hist_stmt_id which, const char *transport, int64_t msg_id)
{
    sqlite3_stmt *s = hist_db_stmt(h, which);
    if (!s)
        return -1;
    hist_bind_text(s, 1, transport);
    sqlite3_bind_int64(s, 2, msg_id);
    int rc = sqlite3_step(s);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : rc == SQLITE_DONE ? 0 : -1;
    if (id < 0)
        hist_db_note_error(h);
    hist_db_done(s);
    return id;
}

int hist_store_recipient(hist_db *h, const hist_rcpt_update *u)
{
    if (!u->transport || !u->peer)
        return -1;
    if (hist_db_batch(h) != 0)
        return -1;
    int64_t row = hist_recent_sent_row(h->recent, u->transport, u->msg_id);
    if (!row)
        row = find_message(h, HS_FIND_SENT, u->transport, u->msg_id);
    if (row <= 0)
        return row < 0 ? -1 : HIST_NO_MESSAGE;
    hist_stmt_id which = u->kind == HIST_DELIVERED ? HS_RCPT_DELIVERED
                         : u->kind == HIST_FAILED  ? HS_RCPT_FAILED
                                                   : HS_RCPT_OPENED;
    sqlite3_stmt *s = hist_db_stmt(h, which);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, row);
    hist_bind_text(s, 2, u->peer);
    hist_bind_text(s, 3, u->nickname);
    hist_bind_text(s, 4, u->address);
    sqlite3_bind_int64(s, 5, u->time);
    if (which == HS_RCPT_FAILED)
        hist_bind_text(s, 6, u->reason);
    if (step_done(h, s) != 0)
        return -1;
    int changed = sqlite3_changes(h->db) > 0;
    if (changed && upsert_peer(h, u->peer, u->nickname, u->address, u->time) != 0)
        return -1;
    if (row_written(h) != 0)
        return -1;
    return changed ? HIST_CHANGED : HIST_UNCHANGED;
}

int hist_store_mark_read(hist_db *h, const char *transport, int64_t msg_id, int64_t time)
{
    if (hist_db_batch(h) != 0)
        return -1;
    int64_t row = find_message(h, HS_FIND_RECEIVED, transport, msg_id);
    if (row <= 0)
        return row < 0 ? -1 : 0;
    sqlite3_stmt *s = hist_db_stmt(h, HS_MARK_READ);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, row);
    sqlite3_bind_int64(s, 2, time);
    if (step_done(h, s) != 0 || row_written(h) != 0)
        return -1;
    return 1;
}

int64_t hist_retention_cutoff(int64_t now, int64_t days)
{
    if (days <= 0)
        return INT64_MIN;
    /* Bounded so that absurd values cannot overflow: 100 years is "forever" enough. */
    if (days > 36500)
        days = 36500;
    return now - days * 86400;
}

int hist_store_delete_before(hist_db *h, int64_t cutoff, int max_rows, int64_t *deleted)
{
    *deleted = 0;
    if (cutoff == INT64_MIN)
        return 0;
    if (hist_db_flush(h) != 0 || hist_db_exec(h, "BEGIN IMMEDIATE") != 0)
        return -1;
    sqlite3_stmt *s = hist_db_stmt(h, HS_DELETE_OLD);
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, cutoff);
    sqlite3_bind_int(s, 2, max_rows);
    if (sqlite3_step(s) != SQLITE_DONE) {
        hist_db_note_error(h);
        hist_db_done(s);
        goto fail;
    }
    hist_db_done(s);
    *deleted = sqlite3_changes(h->db);
    int more = *deleted >= max_rows;
    hist_recent_clear(h->recent); /* rows and peers it remembers may be gone */
    if (!more) {
        s = hist_db_stmt(h, HS_DELETE_OLD_PEERS);
        if (!s)
            goto fail;
        sqlite3_bind_int64(s, 1, cutoff);
        if (sqlite3_step(s) != SQLITE_DONE) {
            hist_db_note_error(h);
            hist_db_done(s);
            goto fail;
        }
        hist_db_done(s);
    }
    if (hist_db_exec(h, "COMMIT") != 0)
        goto fail;
    return more;
fail:
    *deleted = 0;
    hist_recent_clear(h->recent);
    if (!sqlite3_get_autocommit(h->db))
        hist_db_exec(h, "ROLLBACK");
    return -1;
}
