#include "store.h"

#include "sqlite_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION 1

static const char *SCHEMA =
    "CREATE TABLE IF NOT EXISTS offers(id INTEGER PRIMARY KEY AUTOINCREMENT, sender TEXT NOT "
    "NULL, nickname TEXT, address TEXT NOT NULL, packet_no INTEGER NOT NULL, text TEXT, attach "
    "TEXT NOT NULL, state TEXT NOT NULL, dest TEXT, error TEXT, time INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS offers_pkt ON offers(sender, packet_no);"
    "CREATE TABLE IF NOT EXISTS items(offer INTEGER NOT NULL, file_id INTEGER NOT NULL, part "
    "TEXT, final TEXT, done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(offer, file_id));"
    "CREATE TABLE IF NOT EXISTS shares(packet_no INTEGER PRIMARY KEY, created INTEGER NOT NULL, "
    "def TEXT NOT NULL);";

int store_open(fl_state *st)
{
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/files.db", st->api->data_dir(st->ctx));
    /* FULL: offers and what was received are the resume state; rarely written. */
    st->db = dg_sqlite_open(path, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", 5000,
                            SCHEMA_VERSION, SCHEMA, err, sizeof err);
    if (!st->db) {
        st->api->log(st->ctx, DG_LOG_ERROR, "%s", err);
        return -1;
    }
    return 0;
}

void store_close(fl_state *st)
{
    if (st->db)
        sqlite3_close(st->db);
    st->db = NULL;
}

static sqlite3_stmt *prep(fl_state *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        st->api->log(st->ctx, DG_LOG_ERROR, "sql: %s", sqlite3_errmsg(st->db));
    return s;
}

int64_t store_add_offer(fl_state *st, const char *from, const char *nickname, const char *address,
                        uint32_t packet_no, const char *text, const char *attach)
{
    sqlite3_stmt *s = prep(st, "INSERT INTO offers(sender, nickname, address, packet_no, text, "
                               "attach, state, time) VALUES(?,?,?,?,?,?,'offered',?)");
    if (!s)
        return -1;
    dg_sqlite_bind_text(s, 1, from);
    dg_sqlite_bind_text(s, 2, nickname);
    dg_sqlite_bind_text(s, 3, address);
    sqlite3_bind_int64(s, 4, packet_no);
    dg_sqlite_bind_text(s, 5, text);
    dg_sqlite_bind_text(s, 6, attach);
    sqlite3_bind_int64(s, 7, fl_now());
    int64_t id = -1;
    sqlite3_mutex_enter(sqlite3_db_mutex(st->db)); /* insert and last_insert_rowid together */
    if (sqlite3_step(s) == SQLITE_DONE)
        id = sqlite3_last_insert_rowid(st->db);
    sqlite3_mutex_leave(sqlite3_db_mutex(st->db));
    sqlite3_finalize(s);
    return id;
}

bool store_has_offer(fl_state *st, const char *from, uint32_t packet_no)
{
    sqlite3_stmt *s = prep(st, "SELECT 1 FROM offers WHERE sender=? AND packet_no=?");
    if (!s)
        return false;
    dg_sqlite_bind_text(s, 1, from);
    sqlite3_bind_int64(s, 2, packet_no);
    bool has = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return has;
}

int store_get_offer(fl_state *st, int64_t id, fl_offer *o)
{
    memset(o, 0, sizeof *o);
    sqlite3_stmt *s = prep(st, "SELECT id, sender, nickname, address, packet_no, text, attach, "
                               "state, dest, error, time FROM offers WHERE id=?");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    int rc = -1;
    if (sqlite3_step(s) == SQLITE_ROW) {
        o->id = sqlite3_column_int64(s, 0);
        o->from = dg_sqlite_col_dup(s, 1);
        o->nickname = dg_sqlite_col_dup(s, 2);
        o->address = dg_sqlite_col_dup(s, 3);
        o->packet_no = (uint32_t)sqlite3_column_int64(s, 4);
        o->text = dg_sqlite_col_dup(s, 5);
        o->attach = dg_sqlite_col_dup(s, 6);
        o->state = dg_sqlite_col_dup(s, 7);
        o->dest = dg_sqlite_col_dup(s, 8);
        o->error = dg_sqlite_col_dup(s, 9);
        o->time = sqlite3_column_int64(s, 10);
        rc = o->from && o->address && o->attach && o->state ? 0 : -1;
        if (rc)
            store_offer_free(o);
    }
    sqlite3_finalize(s);
    return rc;
}

void store_offer_free(fl_offer *o)
{
    free(o->from);
    free(o->nickname);
    free(o->address);
    free(o->text);
    free(o->attach);
    free(o->state);
    free(o->dest);
    free(o->error);
    memset(o, 0, sizeof *o);
}

int store_set_state(fl_state *st, int64_t id, const char *state, const char *dest,
                    const char *error)
{
    sqlite3_stmt *s =
        prep(st, "UPDATE offers SET state=?, dest=COALESCE(?, dest), error=? WHERE id=?");
    if (!s)
        return -1;
    dg_sqlite_bind_text(s, 1, state);
    dg_sqlite_bind_text(s, 2, dest);
    dg_sqlite_bind_text(s, 3, error);
    sqlite3_bind_int64(s, 4, id);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(s);
    return rc;
}

json_t *store_ids_in_state(fl_state *st, const char *state)
{
    json_t *ids = json_array();
    sqlite3_stmt *s = prep(st, "SELECT id FROM offers WHERE state=? ORDER BY id");
    if (!s)
        return ids;
    dg_sqlite_bind_text(s, 1, state);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(ids, json_integer(sqlite3_column_int64(s, 0)));
    sqlite3_finalize(s);
    return ids;
}

int store_item_get(fl_state *st, int64_t offer, uint32_t file_id, char **part, char **final,
                   bool *done)
{
    *part = *final = NULL;
    *done = false;
    sqlite3_stmt *s = prep(st, "SELECT part, final, done FROM items WHERE offer=? AND file_id=?");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, offer);
    sqlite3_bind_int64(s, 2, file_id);
    if (sqlite3_step(s) == SQLITE_ROW) {
        *part = dg_sqlite_col_dup(s, 0);
        *final = dg_sqlite_col_dup(s, 1);
        *done = sqlite3_column_int(s, 2) != 0;
    }
    sqlite3_finalize(s);
    return 0;
}

int store_item_set(fl_state *st, int64_t offer, uint32_t file_id, const char *part,
                   const char *final, bool done)
{
    sqlite3_stmt *s = prep(st, "INSERT OR REPLACE INTO items(offer, file_id, part, final, done) "
                               "VALUES(?,?,?,?,?)");
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, offer);
    sqlite3_bind_int64(s, 2, file_id);
    dg_sqlite_bind_text(s, 3, part);
    dg_sqlite_bind_text(s, 4, final);
    sqlite3_bind_int(s, 5, done);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(s);
    return rc;
}

json_t *store_list_json(fl_state *st)
{
    json_t *out = json_array();
    sqlite3_stmt *s = prep(st, "SELECT id, sender, nickname, address, packet_no, text, attach, "
                               "state, dest, error, time FROM offers ORDER BY id DESC LIMIT 1000");
    if (!s)
        return out;
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *o =
            json_pack("{s:I, s:s, s:s?, s:s, s:I, s:s?, s:s, s:s, s:s?, s:s?, s:I}", "id",
                      (json_int_t)sqlite3_column_int64(s, 0), "from", sqlite3_column_text(s, 1),
                      "nickname", sqlite3_column_text(s, 2), "address", sqlite3_column_text(s, 3),
                      "packet_no", (json_int_t)sqlite3_column_int64(s, 4), "text",
                      sqlite3_column_text(s, 5), "attachments", sqlite3_column_text(s, 6), "state",
                      sqlite3_column_text(s, 7), "dest", sqlite3_column_text(s, 8), "error",
                      sqlite3_column_text(s, 9), "time", (json_int_t)sqlite3_column_int64(s, 10));
        if (o)
            json_array_append_new(out, o);
    }
    sqlite3_finalize(s);
    return out;
}

int store_share_put(fl_state *st, uint32_t packet_no, int64_t created, const json_t *def)
{
    char *text = json_dumps(def, JSON_COMPACT);
    sqlite3_stmt *s =
        text ? prep(st, "INSERT OR REPLACE INTO shares(packet_no, created, def) VALUES(?,?,?)")
             : NULL;
    int rc = -1;
    if (s) {
        sqlite3_bind_int64(s, 1, packet_no);
        sqlite3_bind_int64(s, 2, created);
        dg_sqlite_bind_text(s, 3, text);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
        sqlite3_finalize(s);
    }
    free(text);
    return rc;
}

void store_share_del(fl_state *st, uint32_t packet_no)
{
    sqlite3_stmt *s = prep(st, "DELETE FROM shares WHERE packet_no=?");
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, packet_no);
    sqlite3_step(s);
    sqlite3_finalize(s);
}

json_t *store_shares(fl_state *st)
{
    json_t *out = json_array();
    sqlite3_stmt *s = prep(st, "SELECT packet_no, created, def FROM shares ORDER BY packet_no");
    if (!s)
        return out;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(s, 2);
        json_t *def = text ? json_loads(text, 0, NULL) : NULL;
        if (def)
            json_array_append_new(out,
                                  json_pack("{s:I, s:I, s:o}", "packet_no",
                                            (json_int_t)sqlite3_column_int64(s, 0), "created",
                                            (json_int_t)sqlite3_column_int64(s, 1), "def", def));
    }
    sqlite3_finalize(s);
    return out;
}
