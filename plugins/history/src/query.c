#include "query.h"

#include "cjk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- search terms ---- */

/* Length of the white space at p (ASCII, U+00A0, U+3000), 0 if none. */
static size_t space_len(const unsigned char *p)
{
    if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        return 1;
    if (p[0] == 0xC2 && p[1] == 0xA0)
        return 2;
    if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
        return 3;
    return 0;
}

/* Characters (code points) in len bytes of UTF-8. */
static size_t char_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Appends term as an FTS5 string ("" doubles a quote): a substring for trigrams. */
static void append_fts_string(char *out, size_t *o, const char *term, size_t len)
{
    if (*o)
        out[(*o)++] = ' '; /* implicit AND */
    out[(*o)++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (term[i] == '"')
            out[(*o)++] = '"';
        out[(*o)++] = term[i];
    }
    out[(*o)++] = '"';
    out[*o] = '\0';
}

/* term with LIKE's wildcards and the escape character escaped by '\'. New string. */
static char *like_escape(const char *term, size_t len)
{
    char *out = malloc(2 * len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (term[i] == '%' || term[i] == '_' || term[i] == '\\')
            out[o++] = '\\';
        out[o++] = term[i];
    }
    out[o] = '\0';
    return out;
}

/* Appends term to a JSON array of LIKE patterns. 0 or -1 (out of memory). */
static int append_like(json_t *list, const char *term, size_t len)
{
    char *pat = like_escape(term, len);
    int rc = pat ? json_array_append_new(list, json_string(pat)) : -1;
    free(pat);
    return rc;
}

int hist_terms_parse(const char *text, hist_terms *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(text);
    if (len > HIST_SEARCH_MAX_BYTES) {
        snprintf(err, errlen, "the search text is longer than %d bytes", HIST_SEARCH_MAX_BYTES);
        return -1;
    }
    /* Worst case every byte is a quote (doubled) plus quotes and spaces per term. */
    char *match = malloc(2 * len + 4 * HIST_SEARCH_MAX_TERMS + 1);
    char *cjk = malloc(2 * len + 4 * HIST_SEARCH_MAX_TERMS + 1);
    json_t *like = json_array(), *cjk_like = json_array();
    size_t m = 0, c = 0, terms = 0;
    if (!match || !cjk || !like || !cjk_like) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    match[0] = cjk[0] = '\0';
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        size_t sp = space_len(p);
        if (sp) {
            p += sp;
            continue;
        }
        const unsigned char *start = p;
        while (*p && !space_len(p))
            p++;
        size_t tlen = (size_t)(p - start);
        if (++terms > HIST_SEARCH_MAX_TERMS) {
            snprintf(err, errlen, "the search text has more than %d words", HIST_SEARCH_MAX_TERMS);
            goto fail;
        }
        size_t chars = char_count((const char *)start, tlen);
        if (chars >= 3) {
            append_fts_string(match, &m, (const char *)start, tlen);
        } else if (hist_cjk_short_term((const char *)start, tlen)) {
            /* One pair token; one character: the pairs starting with it (a prefix). */
            append_fts_string(cjk, &c, (const char *)start, tlen);
            if (chars == 1) {
                cjk[c++] = '*';
                cjk[c] = '\0';
            }
            if (append_like(cjk_like, (const char *)start, tlen) != 0) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
        } else {
            if (append_like(like, (const char *)start, tlen) != 0) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
        }
    }
    if (terms == 0) {
        snprintf(err, errlen, "the search text has nothing to search for");
        goto fail;
    }
    if (m) {
        out->match = match;
    } else {
        free(match);
    }
    if (c) {
        out->cjk = cjk;
        out->cjk_like = cjk_like;
    } else {
        free(cjk);
        json_decref(cjk_like);
    }
    if (json_array_size(like)) {
        out->like = like;
    } else {
        json_decref(like);
    }
    return 0;
fail:
    free(match);
    free(cjk);
    json_decref(like);
    json_decref(cjk_like);
    return -1;
}

void hist_terms_free(hist_terms *t)
{
    free(t->match);
    free(t->cjk);
    json_decref(t->cjk_like);
    json_decref(t->like);
    memset(t, 0, sizeof *t);
}

/* ---- messages ---- */

enum {
    C_ID,
    C_DIRECTION,
    C_TRANSPORT,
    C_MSG_ID,
    C_PACKET_NO,
    C_LOCAL,
    C_PEER,
    C_NICKNAME,
    C_ADDRESS,
    C_ROOM,
    C_TEXT,
    C_SEALED,
    C_OPENED,
    C_OPENED_TIME,
    C_BROADCAST,
    C_MULTICAST,
    C_AUTO_REPLY,
    C_TIME
};

#define MESSAGE_COLUMNS                                                                            \
    "m.id, m.direction, m.transport, m.msg_id, m.packet_no, m.local, m.peer, m.nickname,"          \
    " m.address, m.room, m.text, m.sealed, m.opened, m.opened_time, m.broadcast, m.multicast,"     \
    " m.auto_reply, m.time"

/*
 * The SQL of a query variant (HQ_* bits). The first table of the FROM drives
 * the scan in id order, so that LIMIT stops it early (CROSS JOIN keeps that
 * order: SQLite never reorders it): the trigram index when there is a MATCH,
 * else the conversation with one peer (message_peers, ordered by message),
 * else the messages themselves. The other conditions filter the rows found.
 */
static void variant_sql(unsigned v, char *sql, size_t len)
{
    const char *from, *key, *driver_cond = "";
    if (v & HQ_MATCH) {
        from = "messages_fts f CROSS JOIN messages m ON m.id = f.rowid";
        key = "f.rowid";
        driver_cond = " AND messages_fts MATCH :match";
    } else if (v & HQ_CJK) {
        from = "messages_cjk c CROSS JOIN messages m ON m.id = c.rowid";
        key = "c.rowid";
        driver_cond = " AND messages_cjk MATCH :cjk";
    } else if (v & HQ_WITH) {
        from = "message_peers p CROSS JOIN messages m ON m.id = p.message";
        key = "p.message";
        driver_cond = " AND p.peer = :peer";
    } else {
        from = "messages m";
        key = "m.id";
    }
    const char *with = "";
    if ((v & HQ_WITH) && (v & (HQ_MATCH | HQ_CJK)))
        with = " AND EXISTS (SELECT 1 FROM message_peers p WHERE p.peer = :peer"
               " AND p.message = m.id)";
    else if (v & HQ_WITHS)
        with = " AND EXISTS (SELECT 1 FROM message_peers p WHERE p.message = m.id"
               " AND p.peer IN (SELECT value FROM json_each(:with)))";
    /* On the driving key, so that the scan starts there instead of filtering up to it. */
    char before[64] = "";
    if (v & HQ_BEFORE)
        snprintf(before, sizeof before, " AND %s < :before", key);
    snprintf(sql, len,
             "SELECT " MESSAGE_COLUMNS " FROM %s WHERE 1%s%s%s%s%s%s ORDER BY %s %s LIMIT :limit",
             from, driver_cond, with,
             (v & HQ_LIKE) ? " AND NOT EXISTS (SELECT 1 FROM json_each(:like)"
                             " WHERE m.text NOT LIKE '%' || value || '%' ESCAPE '\\')"
                           : "",
             /* A search never matches a received sealed message that was not opened. */
             (v & (HQ_MATCH | HQ_LIKE | HQ_CJK))
                 ? " AND NOT (m.direction = 'in' AND m.sealed = 1 AND m.opened = 0)"
                 : "",
             (v & HQ_ROOM) ? " AND m.room = :room" : "", before, key,
             (v & HQ_ASC) ? "ASC" : "DESC");
}

static int bind_named_text(sqlite3_stmt *s, const char *name, const char *v)
{
    int i = sqlite3_bind_parameter_index(s, name);
    return i ? hist_bind_text(s, i, v) : SQLITE_OK;
}

/* The statement for q, bound; NULL on error. */
static sqlite3_stmt *prepare(hist_db *h, const hist_query *q, bool oldest_first, int64_t limit)
{
    h->last_error[0] = '\0'; /* errors of this query only */
    unsigned v = 0;
    /* One peer (the usual case) can drive the scan; several are a filter. */
    const char *peer = NULL;
    if (q->peers && json_array_size(q->peers) == 1 &&
        (peer = json_string_value(json_array_get(q->peers, 0))))
        v |= HQ_WITH;
    else if (q->peers)
        v |= HQ_WITHS;
    if (q->terms && q->terms->match)
        v |= HQ_MATCH;
    /*
     * Short CJK terms drive the scan through their index when there is no
     * trigram term; beside one, they are LIKE checks on the rows the trigram
     * index found (an FTS5 MATCH per row, even by rowid, cost 50 ms a page).
     */
    json_t *like_all = NULL;
    bool cjk_as_like = q->terms && q->terms->cjk && q->terms->match;
    if (q->terms && q->terms->cjk && !q->terms->match)
        v |= HQ_CJK;
    if (cjk_as_like || (q->terms && q->terms->like)) {
        like_all = json_array();
        if (!like_all || (cjk_as_like && json_array_extend(like_all, q->terms->cjk_like) != 0) ||
            (q->terms->like && json_array_extend(like_all, q->terms->like) != 0)) {
            json_decref(like_all);
            snprintf(h->last_error, sizeof h->last_error, "out of memory");
            return NULL;
        }
        v |= HQ_LIKE;
    }
    if (q->room)
        v |= HQ_ROOM;
    if (q->before > 0)
        v |= HQ_BEFORE;
    if (oldest_first)
        v |= HQ_ASC;
    if ((v & (HQ_MATCH | HQ_CJK)) && hist_db_index_pending(h) != 0) {
        json_decref(like_all);
        return NULL;
    }
    char sql[2048];
    variant_sql(v, sql, sizeof sql);
    sqlite3_stmt *s = hist_db_query(h, v, sql);
    if (!s) {
        json_decref(like_all);
        return NULL;
    }
    char *with = (v & HQ_WITHS) ? json_dumps(q->peers, JSON_COMPACT) : NULL;
    char *like = (v & HQ_LIKE) ? json_dumps(like_all, JSON_COMPACT) : NULL;
    json_decref(like_all);
    int rc = SQLITE_OK;
    if (((v & HQ_WITHS) && !with) || ((v & HQ_LIKE) && !like))
        rc = SQLITE_NOMEM;
    if (rc == SQLITE_OK) {
        bind_named_text(s, ":peer", peer);
        bind_named_text(s, ":with", with);
        bind_named_text(s, ":match", q->terms ? q->terms->match : NULL);
        bind_named_text(s, ":cjk", q->terms ? q->terms->cjk : NULL);
        bind_named_text(s, ":like", like);
        bind_named_text(s, ":room", q->room);
        if (v & HQ_BEFORE)
            sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":before"), q->before);
        sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":limit"), limit);
    }
    free(with);
    free(like);
    if (rc != SQLITE_OK) {
        snprintf(h->last_error, sizeof h->last_error, "out of memory");
        return NULL;
    }
    return s;
}

static const char *column_text(sqlite3_stmt *s, int c)
{
    return (const char *)sqlite3_column_text(s, c);
}

static void set_text(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

/*
 * "sending" while any recipient is; else "delivered", "failed", "partial"
 * (some of each), or "sent" (a broadcast: never acknowledged).
 */
static const char *summary_state(size_t sending, size_t sent, size_t delivered, size_t failed)
{
    if (sending)
        return "sending";
    if (!failed)
        return delivered || !sent ? "delivered" : "sent";
    return delivered || sent ? "partial" : "failed";
}

/* Adds "to", "recipients", "opened" and "state" of a sent message. -1 on error. */
static int add_recipients(hist_db *h, json_t *o, int64_t id)
{
    sqlite3_stmt *s = hist_db_stmt(h, HS_RECIPIENTS_OF);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    json_t *to = json_array(), *rs = json_array();
    size_t sending = 0, sent = 0, delivered = 0, failed = 0;
    bool opened = false;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *state = column_text(s, 3);
        json_t *r = json_pack("{s:s, s:s, s:b}", "key", column_text(s, 0), "state",
                              state ? state : "sending", "opened", sqlite3_column_int(s, 4));
        if (!r)
            continue;
        set_text(r, "nickname", column_text(s, 1));
        set_text(r, "address", column_text(s, 2));
        set_text(r, "reason", column_text(s, 5));
        if (sqlite3_column_type(s, 6) != SQLITE_NULL)
            json_object_set_new(r, "time", json_integer(sqlite3_column_int64(s, 6)));
        opened |= sqlite3_column_int(s, 4) != 0;
        if (state && strcmp(state, "delivered") == 0)
            delivered++;
        else if (state && strcmp(state, "failed") == 0)
            failed++;
        else if (state && strcmp(state, "sent") == 0)
            sent++;
        else
            sending++;
        json_array_append_new(to, json_string(column_text(s, 0)));
        json_array_append_new(rs, r);
    }
    if (rc != SQLITE_DONE)
        hist_db_note_error(h);
    hist_db_done(s);
    json_object_set_new(o, "to", to);
    json_object_set_new(o, "recipients", rs);
    json_object_set_new(o, "opened", json_boolean(opened));
    json_object_set_new(o, "state", json_string(summary_state(sending, sent, delivered, failed)));
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The message at the current row of s (MESSAGE_COLUMNS). New reference; NULL on error. */
static json_t *row_json(hist_db *h, sqlite3_stmt *s)
{
    bool out = strcmp(column_text(s, C_DIRECTION), "out") == 0;
    int64_t id = sqlite3_column_int64(s, C_ID);
    bool sealed = sqlite3_column_int(s, C_SEALED), opened = sqlite3_column_int(s, C_OPENED);
    json_t *o = json_pack(
        "{s:I, s:s, s:I, s:s, s:I, s:s, s:b, s:b, s:b, s:b}", "id", (json_int_t)id, "direction",
        out ? "out" : "in", "time", (json_int_t)sqlite3_column_int64(s, C_TIME), "transport",
        column_text(s, C_TRANSPORT), "msg_id", (json_int_t)sqlite3_column_int64(s, C_MSG_ID),
        "from", out ? column_text(s, C_LOCAL) : column_text(s, C_PEER), "sealed", sealed,
        "broadcast", sqlite3_column_int(s, C_BROADCAST), "multicast",
        sqlite3_column_int(s, C_MULTICAST), "auto_reply", sqlite3_column_int(s, C_AUTO_REPLY));
    if (!o)
        return NULL;
    set_text(o, "room", column_text(s, C_ROOM));
    if (out) {
        if (add_recipients(h, o, id) != 0) {
            json_decref(o);
            return NULL;
        }
    } else {
        set_text(o, "nickname", column_text(s, C_NICKNAME));
        set_text(o, "address", column_text(s, C_ADDRESS));
        if (sqlite3_column_type(s, C_PACKET_NO) != SQLITE_NULL)
            json_object_set_new(o, "packet_no", json_integer(sqlite3_column_int64(s, C_PACKET_NO)));
        json_object_set_new(o, "to", json_pack("[s]", column_text(s, C_LOCAL)));
        json_object_set_new(o, "opened", json_boolean(opened));
        json_object_set_new(o, "state", json_string("received"));
    }
    if (sqlite3_column_type(s, C_OPENED_TIME) != SQLITE_NULL)
        json_object_set_new(o, "opened_time", json_integer(sqlite3_column_int64(s, C_OPENED_TIME)));
    /* A received sealed message shows its text only once the local user opened it. */
    if (out || !sealed || opened)
        json_object_set_new(o, "text", json_string(column_text(s, C_TEXT)));
    return o;
}

json_t *hist_query_page(hist_db *h, const hist_query *q)
{
    int64_t limit = q->limit > 0 ? q->limit : 50;
    /* One more than asked: it tells whether older messages match too. */
    sqlite3_stmt *s = prepare(h, q, false, limit + 1);
    if (!s)
        return NULL;
    json_t *list = json_array();
    bool more = false;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (q->cancel && atomic_load(q->cancel)) {
            snprintf(h->last_error, sizeof h->last_error, "cancelled: the plugin is stopping");
            rc = SQLITE_ERROR;
            break;
        }
        if ((int64_t)json_array_size(list) == limit) {
            more = true;
            break;
        }
        json_t *m = row_json(h, s);
        if (!m) {
            rc = SQLITE_ERROR;
            break;
        }
        /* Newest come first from SQL; the page is shown oldest first. */
        json_array_insert_new(list, 0, m);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        if (rc != SQLITE_ERROR || !h->last_error[0])
            hist_db_note_error(h);
        hist_db_done(s);
        json_decref(list);
        return NULL;
    }
    hist_db_done(s);
    return json_pack("{s:o, s:b}", "messages", list, "more", more);
}

int64_t hist_query_each(hist_db *h, const hist_query *q, hist_row_fn fn, void *user)
{
    sqlite3_stmt *s = prepare(h, q, true, -1);
    if (!s)
        return -1;
    int64_t n = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (q->cancel && atomic_load(q->cancel)) {
            snprintf(h->last_error, sizeof h->last_error, "cancelled: the plugin is stopping");
            hist_db_done(s);
            return -1;
        }
        json_t *m = row_json(h, s);
        int stop = m ? fn(m, user) : -1;
        json_decref(m);
        if (stop != 0) {
            hist_db_done(s);
            return -1;
        }
        n++;
    }
    if (rc != SQLITE_DONE)
        hist_db_note_error(h);
    hist_db_done(s);
    return rc == SQLITE_DONE ? n : -1;
}

/* ---- peers and counters ---- */

json_t *hist_resolve_peers(hist_db *h, const char *who)
{
    sqlite3_stmt *s = hist_db_stmt(h, HS_RESOLVE_PEER);
    if (!s)
        return NULL;
    size_t len = strlen(who);
    char *user = like_escape(who, len);
    char *pattern = user ? malloc(strlen(user) + 3) : NULL;
    if (!pattern) {
        free(user);
        snprintf(h->last_error, sizeof h->last_error, "out of memory");
        return NULL;
    }
    /* "bob" finds bob@anyhost: the logon name alone, as IPMsg users know each other. */
    snprintf(pattern, strlen(user) + 3, "%s@%%", user);
    free(user);
    sqlite3_bind_text(s, 1, who, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, pattern, -1, SQLITE_TRANSIENT);
    free(pattern);
    json_t *keys = json_array();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        json_array_append_new(keys, json_string(column_text(s, 0)));
    if (rc != SQLITE_DONE) {
        hist_db_note_error(h);
        json_decref(keys);
        keys = NULL;
    }
    hist_db_done(s);
    return keys;
}

/* One integer from a query, or -1. */
static int64_t count(hist_db *h, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(h->db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_type(s, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 0);
    else
        hist_db_note_error(h);
    sqlite3_finalize(s);
    return n;
}

json_t *hist_stats(hist_db *h)
{
    static const struct {
        const char *key, *sql;
    } counters[] = {
        {"messages", "SELECT count(*) FROM messages"},
        {"sent", "SELECT count(*) FROM messages WHERE direction = 'out'"},
        {"received", "SELECT count(*) FROM messages WHERE direction = 'in'"},
        {"sealed", "SELECT count(*) FROM messages WHERE sealed = 1"},
        {"rooms", "SELECT count(DISTINCT room) FROM messages WHERE room IS NOT NULL"},
        {"peers", "SELECT count(*) FROM peers"},
        {"oldest", "SELECT min(time) FROM messages"},
        {"newest", "SELECT max(time) FROM messages"},
        {"db_bytes", "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size"},
    };
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        int64_t n = count(h, counters[i].sql);
        if (n < 0) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, counters[i].key, json_integer(n));
    }
    json_object_set_new(o, "schema_version", json_integer(h->schema_version));
    return o;
}
