/*
 * Unit tests of the history store against real SQLite files: open and
 * migrations, messages and their states, search (Japanese, emoji, English,
 * 1-2 character fallback), sealed messages, peers, paging, retention with an
 * injected clock, group commit, export formats, escaping and paths, and
 * chat events applied to the store (apply.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "buf.h"
#include "db.h"
#include "export.h"
#include "format.h"
#include "query.h"
#include "recent.h"
#include "schema.h"
#include "store.h"

#define T0 1700000000LL /* the injected "now" */
#define DAY 86400LL

typedef struct fixture {
    char dir[256];
    char path[300];
    hist_db *h;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/dengon-hist-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/history.sqlite", f->dir);
    char err[512] = "";
    f->h = hist_db_open(f->path, false, err, sizeof err);
    if (!f->h)
        fail_msg("open: %s", err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hist_db_close(f->h);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static int64_t received(hist_db *h, int64_t msg_id, const char *from, const char *nick,
                        const char *text, int64_t time, bool sealed)
{
    hist_msg m = {.transport = "chat",
                  .msg_id = msg_id,
                  .packet_no = msg_id + 1000,
                  .local = "me@pc",
                  .peer = from,
                  .nickname = nick,
                  .address = "127.0.0.3:2425",
                  .text = text,
                  .sealed = sealed,
                  .time = time};
    int64_t id = 0;
    assert_int_equal(hist_store_message(h, &m, &id), 0);
    assert_true(id > 0);
    return id;
}

static int64_t sent(hist_db *h, int64_t msg_id, const char *const *to, size_t n, const char *text,
                    int64_t time, bool sealed)
{
    hist_msg m = {.out = true,
                  .transport = "chat",
                  .msg_id = msg_id,
                  .packet_no = -1,
                  .local = "me@pc",
                  .text = text,
                  .sealed = sealed,
                  .multicast = n > 1,
                  .time = time,
                  .to = to,
                  .n_to = n};
    int64_t id = 0;
    assert_int_equal(hist_store_message(h, &m, &id), 0);
    return id;
}

static int update(hist_db *h, hist_rcpt_kind kind, int64_t msg_id, const char *peer,
                  const char *nick)
{
    hist_rcpt_update u = {.kind = kind,
                          .transport = "chat",
                          .msg_id = msg_id,
                          .peer = peer,
                          .nickname = nick,
                          .address = "127.0.0.3:2425",
                          .reason = kind == HIST_FAILED ? "no answer after 5 tries" : NULL,
                          .time = T0};
    return hist_store_recipient(h, &u);
}

/* The page for a query; fails the test on error. */
static json_t *page(hist_db *h, const hist_query *q)
{
    json_t *p = hist_query_page(h, q);
    if (!p)
        fail_msg("query: %s", hist_db_error(h));
    return p;
}

/* Texts of the messages found by a search, oldest first, joined by "|". */
static char *search(hist_db *h, const char *text)
{
    hist_terms t;
    char err[256];
    if (hist_terms_parse(text, &t, err, sizeof err) != 0)
        fail_msg("terms '%s': %s", text, err);
    hist_query q = {.terms = &t, .limit = 100};
    json_t *p = page(h, &q);
    hist_buf b = {0};
    hist_buf_adds(&b, "");
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(p, "messages"), i, m)
    {
        if (i)
            hist_buf_adds(&b, "|");
        hist_buf_adds(&b, json_string_value(json_object_get(m, "text")));
    }
    json_decref(p);
    hist_terms_free(&t);
    return b.data;
}

static void assert_search(hist_db *h, const char *text, const char *expected)
{
    char *got = search(h, text);
    if (strcmp(got, expected) != 0)
        fail_msg("search '%s': got '%s', expected '%s'", text, got, expected);
    free(got);
}

static int64_t scalar(hist_db *h, const char *sql)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(h->db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* ---- open and migrations ---- */

static void test_open_and_reopen(void **state)
{
    fixture *f = *state;
    assert_int_equal(f->h->schema_version, 4);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(f->h->db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    received(f->h, 1, "bob@pc2", "Bob", "hello", T0, false);
    hist_db_close(f->h);

    char err[512];
    f->h = hist_db_open(f->path, false, err, sizeof err);
    assert_non_null(f->h);
    assert_int_equal(f->h->schema_version, 4);
    /* One row per migration, not one per open. */
    assert_int_equal(scalar(f->h, "SELECT count(*) FROM schema_version"), 4);
    assert_int_equal(scalar(f->h, "SELECT count(*) FROM messages"), 1);

    /* Read-only connections (export workers) see the same database. */
    hist_db *ro = hist_db_open(f->path, true, err, sizeof err);
    assert_non_null(ro);
    assert_int_equal(scalar(ro, "SELECT count(*) FROM messages"), 1);
    hist_db_close(ro);
}

static void test_newer_schema_refused(void **state)
{
    fixture *f = *state;
    assert_int_equal(hist_db_exec(f->h, "INSERT INTO schema_version VALUES (99, 0)"), 0);
    hist_db_close(f->h);
    char err[512] = "";
    f->h = hist_db_open(f->path, false, err, sizeof err);
    assert_null(f->h);
    assert_non_null(strstr(err, "schema version 99, newer than this plugin knows (4)"));
    /* Nothing was changed by the refused open. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 99);
    sqlite3_finalize(s);
    sqlite3_close(db);
    f->h = hist_db_open(f->path, true, err, sizeof err); /* read-only refuses it too */
    assert_null(f->h);
}

static void test_migration_steps(void **state)
{
    fixture *f = *state;
    size_t n;
    const hist_migration *v1 = hist_schema_migrations(&n);
    assert_int_equal(n, 4);
    char path[400];
    snprintf(path, sizeof path, "%s/migrate.sqlite", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    int version = -1;
    char err[400];
    assert_int_equal(hist_schema_migrate(db, v1, 1, &version, err, sizeof err), 0);
    assert_int_equal(version, 1);

    /* A later version adds a column; a broken one rolls back whole. */
    hist_migration next[] = {v1[0],
                             {2, "ALTER TABLE messages ADD COLUMN edited INTEGER;"},
                             {3, "CREATE TABLE t3 (x); THIS IS NOT SQL;"}};
    assert_int_equal(hist_schema_migrate(db, next, 2, &version, err, sizeof err), 0);
    assert_int_equal(version, 2);
    assert_int_equal(hist_schema_migrate(db, next, 3, &version, err, sizeof err), -1);
    assert_non_null(strstr(err, "migration to schema version 3 failed"));
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 't3'",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 0); /* t3 rolled back with the failed step */
    sqlite3_finalize(s);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 2);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* ---- messages and states ---- */

static void test_sent_states(void **state)
{
    fixture *f = *state;
    const char *one[] = {"bob@pc2"};
    const char *three[] = {"bob@pc2", "carol@pc3", "127.0.0.9:2425"};
    sent(f->h, 500, one, 1, "to bob", T0, false);
    sent(f->h, 501, three, 3, "to three", T0 + 1, true);
    assert_int_equal(update(f->h, HIST_DELIVERED, 500, "bob@pc2", "Bob"), HIST_CHANGED);
    assert_int_equal(update(f->h, HIST_DELIVERED, 501, "BOB@PC2", NULL), HIST_CHANGED);
    assert_int_equal(update(f->h, HIST_FAILED, 501, "carol@pc3", "Carol"), HIST_CHANGED);
    /* A failure after delivery changes nothing; unknown ids and recipients are told apart. */
    assert_int_equal(update(f->h, HIST_FAILED, 500, "bob@pc2", NULL), HIST_UNCHANGED);
    assert_int_equal(update(f->h, HIST_DELIVERED, 777, "bob@pc2", NULL), HIST_NO_MESSAGE);
    assert_int_equal(update(f->h, HIST_DELIVERED, 501, "dave@pc4", NULL), HIST_UNCHANGED);
    /* Opened names the reader by key; the address finds a recipient sent to by address. */
    hist_rcpt_update o = {.kind = HIST_OPENED,
                          .transport = "chat",
                          .msg_id = 501,
                          .peer = "erin@pc9",
                          .address = "127.0.0.9:2425",
                          .time = T0 + 5};
    assert_int_equal(hist_store_recipient(f->h, &o), HIST_UNCHANGED); /* no address stored yet */
    hist_rcpt_update d = o;
    d.kind = HIST_DELIVERED;
    d.peer = "127.0.0.9:2425";
    assert_int_equal(hist_store_recipient(f->h, &d), HIST_CHANGED);
    assert_int_equal(hist_store_recipient(f->h, &o), HIST_CHANGED);

    hist_query q = {.limit = 10};
    json_t *p = page(f->h, &q);
    json_t *msgs = json_object_get(p, "messages");
    assert_int_equal(json_array_size(msgs), 2);
    assert_false(json_is_true(json_object_get(p, "more")));
    json_t *m0 = json_array_get(msgs, 0), *m1 = json_array_get(msgs, 1);
    assert_string_equal(json_string_value(json_object_get(m0, "direction")), "out");
    assert_string_equal(json_string_value(json_object_get(m0, "from")), "me@pc");
    assert_string_equal(json_string_value(json_object_get(m0, "state")), "delivered");
    assert_string_equal(json_string_value(json_object_get(m0, "text")), "to bob");
    json_t *r0 = json_array_get(json_object_get(m0, "recipients"), 0);
    assert_string_equal(json_string_value(json_object_get(r0, "nickname")), "Bob");
    assert_string_equal(json_string_value(json_object_get(m1, "state")), "partial");
    assert_true(json_is_true(json_object_get(m1, "sealed")));
    assert_true(json_is_true(json_object_get(m1, "opened")));
    assert_true(json_is_true(json_object_get(m1, "multicast")));
    assert_string_equal(json_string_value(json_object_get(m1, "text")), "to three"); /* ours */
    json_t *rs = json_object_get(m1, "recipients");
    assert_int_equal(json_array_size(rs), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 1), "state")),
                        "failed");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 1), "reason")),
                        "no answer after 5 tries");
    assert_true(json_is_true(json_object_get(json_array_get(rs, 2), "opened")));
    assert_false(json_is_true(json_object_get(json_array_get(rs, 0), "opened")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(m1, "to"), 2)),
                        "127.0.0.9:2425");
    json_decref(p);
}

static void test_sealed_received(void **state)
{
    fixture *f = *state;
    received(f->h, 42, "bob@pc2", "Bob", "秘密の会議は明日", T0, true);
    received(f->h, 43, "bob@pc2", "Bob", "普通の会議", T0 + 1, false);
    hist_query q = {.limit = 10};
    json_t *p = page(f->h, &q);
    json_t *m = json_array_get(json_object_get(p, "messages"), 0);
    assert_null(json_object_get(m, "text")); /* not opened: no text */
    assert_true(json_is_true(json_object_get(m, "sealed")));
    assert_false(json_is_true(json_object_get(m, "opened")));
    json_decref(p);
    /* Search does not reveal it either, by trigram or by LIKE. */
    assert_search(f->h, "秘密の", "");
    assert_search(f->h, "会議", "普通の会議");

    assert_int_equal(hist_store_mark_read(f->h, "chat", 42, T0 + 60), 1);
    assert_int_equal(hist_store_mark_read(f->h, "chat", 9999, T0 + 60), 0);
    p = page(f->h, &q);
    m = json_array_get(json_object_get(p, "messages"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "text")), "秘密の会議は明日");
    assert_int_equal(json_integer_value(json_object_get(m, "opened_time")), T0 + 60);
    json_decref(p);
    assert_search(f->h, "秘密の", "秘密の会議は明日");
    assert_search(f->h, "会議", "秘密の会議は明日|普通の会議");
}

/* ---- search ---- */

static void test_search_scripts(void **state)
{
    fixture *f = *state;
    received(f->h, 1, "bob@pc2", "Bob", "明日の会議は10時です", T0, false);
    received(f->h, 2, "bob@pc2", "Bob", "東京タワーで待ち合わせ", T0 + 1, false);
    const char *to[] = {"bob@pc2"};
    sent(f->h, 3, to, 1, "Meeting moved to Friday 🎉🍣", T0 + 2, false);
    sent(f->h, 4, to, 1, "100% sure_thing \"quoted\" C:\\path", T0 + 3, false);
    received(f->h, 5, "carol@pc3", "Carol", "京都と東京\n二行目", T0 + 4, false);

    /* 2 characters: too short for trigrams, found by the CJK pair index. */
    assert_search(f->h, "会議", "明日の会議は10時です");
    assert_search(f->h, "東京", "東京タワーで待ち合わせ|京都と東京\n二行目");
    /* 3+ characters: the trigram index, anywhere inside a run of CJK text. */
    assert_search(f->h, "会議は", "明日の会議は10時です");
    assert_search(f->h, "タワー", "東京タワーで待ち合わせ");
    assert_search(f->h, "10時です", "明日の会議は10時です");
    assert_search(f->h, "二行目", "京都と東京\n二行目");
    assert_search(f->h, "大阪城", "");
    /* Emoji: one character (LIKE) and a run (trigram). */
    assert_search(f->h, "🎉", "Meeting moved to Friday 🎉🍣");
    assert_search(f->h, "y 🎉🍣", "Meeting moved to Friday 🎉🍣");
    /* English, case-insensitive in both paths. */
    assert_search(f->h, "MEETING", "Meeting moved to Friday 🎉🍣");
    assert_search(f->h, "friday meeting", "Meeting moved to Friday 🎉🍣");
    assert_search(f->h, "to", "Meeting moved to Friday 🎉🍣");
    /* Mixed: every word must match, short and long. */
    assert_search(f->h, "会議 10時", "明日の会議は10時です");
    assert_search(f->h, "東京　京都", "京都と東京\n二行目"); /* U+3000 separates words */
    assert_search(f->h, "東京 タワー", "東京タワーで待ち合わせ");
    /* Wildcards and quotes are text, not syntax. */
    assert_search(f->h, "%", "100% sure_thing \"quoted\" C:\\path");
    assert_search(f->h, "_", "100% sure_thing \"quoted\" C:\\path");
    assert_search(f->h, "\"quoted\"", "100% sure_thing \"quoted\" C:\\path");
    assert_search(f->h, "C:\\path", "100% sure_thing \"quoted\" C:\\path");
    assert_search(f->h, "OR", "");
    assert_search(f->h, "e*", "");

    hist_terms t;
    char err[256];
    assert_int_equal(hist_terms_parse(" \t　", &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "nothing to search"));
    assert_int_equal(hist_terms_parse("a b c d e f g h i j k l m n o p q", &t, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "more than 16 words"));
    char big[HIST_SEARCH_MAX_BYTES + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(hist_terms_parse(big, &t, err, sizeof err), -1);
    assert_int_equal(hist_terms_parse("会議 東京タワー ok 鱧 a鱧", &t, err, sizeof err), 0);
    assert_string_equal(t.match, "\"東京タワー\"");
    assert_string_equal(t.cjk, "\"会議\" \"鱧\"*");
    assert_int_equal(json_array_size(t.like), 2); /* "ok" and "a鱧" (not all CJK) */
    hist_terms_free(&t);
}

/* FTS5's own consistency check of both indexes against the messages. */
static void assert_indexes_sound(hist_db *h)
{
    assert_int_equal(hist_db_index_pending(h), 0);
    assert_int_equal(hist_db_exec(h, "INSERT INTO messages_fts (messages_fts) VALUES"
                                     " ('integrity-check');"
                                     "INSERT INTO messages_cjk (messages_cjk) VALUES"
                                     " ('integrity-check');"),
                     0);
}

static void test_search_cjk_short_terms(void **state)
{
    fixture *f = *state;
    received(f->h, 1, "bob@pc2", "Bob", "今日は鱧", T0, false);             /* at a run's end */
    received(f->h, 2, "bob@pc2", "Bob", "鱧料理の店", T0 + 1, false);       /* at its start */
    received(f->h, 3, "bob@pc2", "Bob", "lunch: 鱧 or 鮎?", T0 + 2, false); /* runs of one */
    received(f->h, 4, "bob@pc2", "Bob", "会議。議題は予算", T0 + 3, false); /* 。 ends a run */
    received(f->h, 5, "bob@pc2", "Bob", "회의는 내일", T0 + 4, false);      /* hangul */
    received(f->h, 6, "bob@pc2", "Bob", "ＡＢＣ社とｶﾀｶﾅ", T0 + 5, false);   /* full/halfwidth */
    /* A run longer than the tokenizer's 64-character window: pairs across the cut. */
    char longrun[400] = "";
    for (int i = 0; i < 70; i++)
        strcat(longrun, i == 63 ? "鯛" : i == 64 ? "鮪" : "あ");
    received(f->h, 7, "bob@pc2", "Bob", longrun, T0 + 6, false);
    const char *to[] = {"bob@pc2"};
    sent(f->h, 8, to, 1, "plain ASCII only", T0 + 7, false);

    assert_search(f->h, "鱧", "今日は鱧|鱧料理の店|lunch: 鱧 or 鮎?");
    assert_search(f->h, "鮎", "lunch: 鱧 or 鮎?");
    assert_search(f->h, "料理", "鱧料理の店");
    assert_search(f->h, "会議", "会議。議題は予算");
    assert_search(f->h, "議題", "会議。議題は予算");
    assert_search(f->h, "議。", "会議。議題は予算"); /* punctuation: LIKE */
    assert_search(f->h, "회의", "회의는 내일");
    assert_search(f->h, "ＡＢ", "ＡＢＣ社とｶﾀｶﾅ");
    assert_search(f->h, "ｶﾀ", "ＡＢＣ社とｶﾀｶﾅ");
    assert_search(f->h, "鯛鮪", longrun);
    assert_search(f->h, "鮪", longrun);
    assert_search(f->h, "鱒", "");
    assert_search(f->h, "料", "鱧料理の店"); /* a 1-character term in the middle of a run */
    /* Mixed with a trigram term, with LIKE, and with one peer. */
    assert_search(f->h, "鱧 料理の", "鱧料理の店");
    assert_search(f->h, "鱧 or", "lunch: 鱧 or 鮎?");
    hist_terms t;
    char err[256];
    assert_int_equal(hist_terms_parse("鱧", &t, err, sizeof err), 0);
    json_t *peers = json_pack("[s]", "bob@pc2");
    hist_query q = {.peers = peers, .terms = &t, .limit = 10};
    json_t *p = page(f->h, &q);
    assert_int_equal(json_array_size(json_object_get(p, "messages")), 3);
    json_decref(p);
    json_decref(peers);
    hist_terms_free(&t);

    /* Retention deletes keep both indexes consistent. */
    int64_t deleted = 0;
    assert_int_equal(hist_store_delete_before(f->h, T0 + 2, 10, &deleted), 0);
    assert_int_equal(deleted, 2);
    assert_search(f->h, "鱧", "lunch: 鱧 or 鮎?");
    assert_indexes_sound(f->h);
}

/* A version 2 database (before the CJK index) is indexed by the migration. */
static void test_cjk_index_built_by_migration(void **state)
{
    fixture *f = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/v2.sqlite", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    size_t n;
    const hist_migration *all = hist_schema_migrations(&n);
    int version = -1;
    char err[400];
    assert_int_equal(hist_schema_migrate(db, all, 2, &version, err, sizeof err), 0);
    assert_int_equal(version, 2);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO messages (direction, transport, msg_id, local, peer,"
                                  " text, time) VALUES ('in', 'chat', 1, 'me@pc', 'bob@pc2',"
                                  " '古い会議の記録', 1);"
                                  "INSERT INTO messages_fts (rowid, text)"
                                  " SELECT id, text FROM messages;"
                                  "INSERT INTO recipients (message, peer, state, reason)"
                                  " VALUES (1, 'bob@pc2', 'failed', 'no answer');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    hist_db *h = hist_db_open(path, false, err, sizeof err);
    if (!h)
        fail_msg("open: %s", err);
    assert_search(h, "会議", "古い会議の記録");
    assert_search(h, "記", "古い会議の記録");
    assert_indexes_sound(h);
    /* Version 4 copied the recipients, and the delete trigger still reaches them. */
    assert_int_equal(scalar(h, "SELECT count(*) FROM recipients WHERE state = 'failed'"
                               " AND reason = 'no answer'"),
                     1);
    assert_int_equal(hist_db_exec(h, "DELETE FROM messages"), 0);
    assert_int_equal(scalar(h, "SELECT count(*) FROM recipients"), 0);
    hist_db_close(h);
}

/* Every acknowledgement runs this UPDATE: it must not build a temporary b-tree (schema 4). */
static void test_delivered_update_is_one_pass(void **state)
{
    fixture *f = *state;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(f->h->db,
                                        "EXPLAIN UPDATE recipients SET state = 'delivered',"
                                        " updated = 1 WHERE message = 1 AND peer = 'a'",
                                        -1, &s, NULL),
                     SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW)
        assert_string_not_equal((const char *)sqlite3_column_text(s, 1), "OpenEphemeral");
    sqlite3_finalize(s);
}

/* ---- peers, paging ---- */

static void test_with_and_paging(void **state)
{
    fixture *f = *state;
    const char *bob[] = {"bob@pc2"}, *carol[] = {"carol@pc3"};
    received(f->h, 1, "bob@pc2", "ボブ", "from bob 1", T0, false);
    sent(f->h, 2, bob, 1, "to bob 2", T0 + 1, false);
    received(f->h, 3, "carol@pc3", "Carol", "from carol", T0 + 2, false);
    sent(f->h, 4, carol, 1, "to carol", T0 + 3, false);
    sent(f->h, 5, bob, 1, "to bob 5", T0 + 4, false);

    json_t *keys = hist_resolve_peers(f->h, "ボブ");
    assert_int_equal(json_array_size(keys), 1);
    assert_string_equal(json_string_value(json_array_get(keys, 0)), "bob@pc2");
    json_decref(keys);
    keys = hist_resolve_peers(f->h, "CAROL"); /* nickname, any case */
    assert_int_equal(json_array_size(keys), 1);
    json_decref(keys);
    keys = hist_resolve_peers(f->h, "bob"); /* logon name */
    assert_int_equal(json_array_size(keys), 1);
    json_decref(keys);
    keys = hist_resolve_peers(f->h, "b%"); /* a LIKE wildcard is a character here */
    assert_int_equal(json_array_size(keys), 0);
    json_decref(keys);

    keys = hist_resolve_peers(f->h, "Bob@PC2");
    hist_query q = {.peers = keys, .limit = 2};
    json_t *p = page(f->h, &q);
    json_t *msgs = json_object_get(p, "messages");
    assert_int_equal(json_array_size(msgs), 2);
    assert_true(json_is_true(json_object_get(p, "more")));
    /* The newest two, oldest first. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "text")),
                        "to bob 2");
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 1), "text")),
                        "to bob 5");
    q.before = json_integer_value(json_object_get(json_array_get(msgs, 0), "id"));
    json_decref(p);
    p = page(f->h, &q);
    msgs = json_object_get(p, "messages");
    assert_int_equal(json_array_size(msgs), 1);
    assert_false(json_is_true(json_object_get(p, "more")));
    json_t *m = json_array_get(msgs, 0);
    assert_string_equal(json_string_value(json_object_get(m, "text")), "from bob 1");
    assert_string_equal(json_string_value(json_object_get(m, "nickname")), "ボブ");
    assert_string_equal(json_string_value(json_array_get(json_object_get(m, "to"), 0)), "me@pc");
    assert_int_equal(json_integer_value(json_object_get(m, "packet_no")), 1001);
    json_decref(p);
    json_decref(keys);

    /* No peers at all: nothing, not everything. */
    json_t *none = json_array();
    hist_query qn = {.peers = none, .limit = 10};
    p = page(f->h, &qn);
    assert_int_equal(json_array_size(json_object_get(p, "messages")), 0);
    json_decref(p);
    json_decref(none);
}

static void test_rooms_column(void **state)
{
    fixture *f = *state;
    hist_msg m = {.transport = "chat",
                  .msg_id = 7,
                  .packet_no = -1,
                  .local = "me@pc",
                  .peer = "bob@pc2",
                  .room = "r-1234",
                  .text = "room post",
                  .time = T0};
    assert_int_equal(hist_store_message(f->h, &m, NULL), 0);
    received(f->h, 8, "bob@pc2", "Bob", "direct", T0 + 1, false);
    hist_query q = {.room = "r-1234", .limit = 10};
    json_t *p = page(f->h, &q);
    json_t *msgs = json_object_get(p, "messages");
    assert_int_equal(json_array_size(msgs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "room")),
                        "r-1234");
    json_decref(p);
    json_t *st = hist_stats(f->h);
    assert_int_equal(json_integer_value(json_object_get(st, "rooms")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "messages")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "peers")), 1);
    json_decref(st);
}

/* ---- retention ---- */

static void test_retention_injected_clock(void **state)
{
    fixture *f = *state;
    const char *bob[] = {"bob@pc2"};
    sent(f->h, 1, bob, 1, "ten days old 会議", T0 - 10 * DAY, false);
    received(f->h, 2, "old@pc9", "Old", "nine days old 会議", T0 - 9 * DAY, false);
    received(f->h, 3, "bob@pc2", "Bob", "yesterday 会議", T0 - DAY, false);
    sent(f->h, 4, bob, 1, "now 会議", T0, false);
    assert_int_equal(hist_db_flush(f->h), 0);

    assert_int_equal(hist_retention_cutoff(T0, 0), INT64_MIN);
    int64_t deleted = -1;
    assert_int_equal(hist_store_delete_before(f->h, hist_retention_cutoff(T0, 0), 1, &deleted), 0);
    assert_int_equal(deleted, 0);

    /* 7 days at T0: the two old ones go, one row per transaction here. */
    int64_t cutoff = hist_retention_cutoff(T0, 7);
    assert_int_equal(cutoff, T0 - 7 * DAY);
    assert_int_equal(hist_store_delete_before(f->h, cutoff, 1, &deleted), 1);
    assert_int_equal(deleted, 1);
    assert_int_equal(hist_store_delete_before(f->h, cutoff, 1, &deleted), 1);
    assert_int_equal(deleted, 1);
    assert_int_equal(hist_store_delete_before(f->h, cutoff, 1, &deleted), 0);
    assert_int_equal(deleted, 0);
    assert_int_equal(scalar(f->h, "SELECT count(*) FROM messages"), 2);
    /* Their recipients, index entries and the peer heard from only then are gone too. */
    assert_int_equal(scalar(f->h, "SELECT count(*) FROM recipients"), 1);
    assert_int_equal(scalar(f->h, "SELECT count(*) FROM peers WHERE key = 'old@pc9'"), 0);
    assert_int_equal(scalar(f->h, "SELECT count(*) FROM peers WHERE key = 'bob@pc2'"), 1);
    assert_search(f->h, "days old", "");
    assert_search(f->h, "会議", "yesterday 会議|now 会議");
    assert_int_equal(
        scalar(f->h, "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"
                     " RETURNING 0"),
        0);
}

/* ---- group commit ---- */

static void test_batch_visible_after_flush(void **state)
{
    fixture *f = *state;
    char err[512];
    hist_db *ro = hist_db_open(f->path, true, err, sizeof err);
    assert_non_null(ro);
    received(f->h, 1, "bob@pc2", "Bob", "pending", T0, false);
    assert_true(f->h->in_batch);
    assert_int_equal(scalar(ro, "SELECT count(*) FROM messages"), 0);
    assert_int_equal(hist_db_flush(f->h), 0);
    assert_false(f->h->in_batch);
    assert_int_equal(scalar(ro, "SELECT count(*) FROM messages"), 1);
    /* A full batch commits by itself. */
    for (int i = 0; i < HIST_BATCH_MAX; i++)
        received(f->h, 100 + i, "bob@pc2", "Bob", "bulk", T0, false);
    assert_false(f->h->in_batch);
    assert_int_equal(scalar(ro, "SELECT count(*) FROM messages"), 1 + HIST_BATCH_MAX);
    hist_db_close(ro);
}

/*
 * Search indexing per commit (schema 2): a database made under version 1
 * (indexed by a trigger) keeps its rows searchable after the upgrade, new
 * rows are found before and after their batch commits, a rolled-back batch
 * leaves neither rows nor index entries, and the index stays consistent.
 */
static void test_index_per_commit(void **state)
{
    fixture *f = *state;
    hist_db_close(f->h);
    f->h = NULL;
    char path[400], err[512];
    snprintf(path, sizeof path, "%s/v1.sqlite", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    size_t n;
    const hist_migration *all = hist_schema_migrations(&n);
    int version = 0;
    assert_int_equal(hist_schema_migrate(db, all, 1, &version, err, sizeof err), 0);
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO messages (direction, transport, msg_id, local, peer, text, time)"
                     " VALUES ('in', 'chat', 1, 'me@pc', 'bob@pc2', 'old v1 会議', 1)",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    f->h = hist_db_open(path, false, err, sizeof err);
    assert_non_null(f->h);
    assert_int_equal(f->h->schema_version, 4);
    assert_int_equal(scalar(f->h, "SELECT count(*) FROM sqlite_master WHERE name = 'messages_ai'"),
                     0);
    received(f->h, 2, "bob@pc2", "Bob", "new v2 会議", T0, false);
    assert_true(f->h->in_batch);
    assert_search(f->h, "会議", "old v1 会議|new v2 会議"); /* before the commit */
    assert_int_equal(hist_db_flush(f->h), 0);
    assert_search(f->h, "v2 会議", "new v2 会議");

    /* A batch rolled back by SQLite: its row and its index entries go together. */
    received(f->h, 3, "bob@pc2", "Bob", "lost 会議", T0, false);
    assert_search(f->h, "lost", "lost 会議");
    assert_int_equal(hist_db_exec(f->h, "ROLLBACK"), 0);
    assert_int_equal(hist_db_flush(f->h), -1);
    assert_search(f->h, "lost", "");
    received(f->h, 4, "bob@pc2", "Bob", "after 会議", T0, false);
    assert_int_equal(hist_db_flush(f->h), 0);
    assert_search(f->h, "会議", "old v1 会議|new v2 会議|after 会議");
    assert_int_equal(
        scalar(f->h, "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"
                     " RETURNING 0"),
        0);
}

/*
 * The writer's shortcuts (recent.h): a delivery finds its message without a
 * lookup, yet never a row of a rolled-back batch; a peer written moments ago
 * with the same names is not rewritten, a new nickname is.
 */
static void test_recent_shortcuts(void **state)
{
    fixture *f = *state;
    const char *bob[] = {"bob@pc2"};
    int64_t row = sent(f->h, 700, bob, 1, "to bob", T0, false);
    assert_int_equal(hist_recent_sent_row(f->h->recent, "chat", 700), row);
    assert_int_equal(update(f->h, HIST_DELIVERED, 700, "bob@pc2", "Bob"), HIST_CHANGED);
    assert_int_equal(hist_db_flush(f->h), 0);
    assert_int_equal(
        scalar(f->h,
               "SELECT count(*) FROM recipients WHERE message = (SELECT max(id) FROM messages)"
               " AND state = 'delivered'"),
        1);

    /* Rolled back: forgotten with the batch. */
    sent(f->h, 701, bob, 1, "lost", T0, false);
    assert_int_equal(hist_db_exec(f->h, "ROLLBACK"), 0);
    assert_int_equal(hist_db_flush(f->h), -1);
    assert_int_equal(hist_recent_sent_row(f->h->recent, "chat", 701), 0);
    assert_int_equal(update(f->h, HIST_DELIVERED, 701, "bob@pc2", "Bob"), HIST_NO_MESSAGE);

    /* Peers: same names within the refresh time are skipped, a new nickname is written. */
    received(f->h, 1, "carol@pc3", "Carol", "hi", T0, false);
    assert_int_equal(hist_db_flush(f->h), 0);
    assert_true(hist_recent_peer_fresh(f->h->recent, "CAROL@pc3", "Carol", "127.0.0.3:2425",
                                       T0 + HIST_PEER_REFRESH_S));
    assert_false(hist_recent_peer_fresh(f->h->recent, "carol@pc3", "Carol", "127.0.0.3:2425",
                                        T0 + HIST_PEER_REFRESH_S + 1));
    received(f->h, 2, "carol@pc3", "Caroline", "renamed", T0 + 1, false);
    assert_int_equal(hist_db_flush(f->h), 0);
    assert_int_equal(scalar(f->h, "SELECT count(*) FROM peers WHERE nickname = 'Caroline'"), 1);
    received(f->h, 3, "carol@pc3", "Caroline", "later", T0 + 2 * HIST_PEER_REFRESH_S, false);
    assert_int_equal(hist_db_flush(f->h), 0);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT last_time = %lld FROM peers WHERE key = 'carol@pc3'",
             (long long)(T0 + 2 * HIST_PEER_REFRESH_S));
    assert_int_equal(scalar(f->h, sql), 1);
}

/* ---- export ---- */

static void test_escape_and_text_line(void **state)
{
    (void)state;
    hist_buf b = {0};
    hist_escape_line(&b, "a\\b\nc\rd\te\x01"
                         "f\x7f"
                         "g\xc2\x85h\xe2\x80\xa8i\xe2\x80\xa9j 日本🎉");
    assert_string_equal(b.data, "a\\\\b\\nc\\rd\\te\\x01f\\x7fg\\u0085h\\u2028i\\u2029j 日本🎉");
    hist_buf_free(&b);

    json_t *m = json_pack("{s:I, s:s, s:[s,s], s:s}", "time", (json_int_t)T0, "from", "me@pc", "to",
                          "bob@pc2", "carol@pc3", "text", "行1\n行2");
    hist_text_line(&b, m);
    assert_string_equal(
        b.data, "2023-11-14 22:13:20 +0000 me@pc \xe2\x86\x92 bob@pc2, carol@pc3: 行1\\n行2\n");
    hist_buf_free(&b);
    json_object_del(m, "text"); /* a sealed message not opened */
    json_object_set_new(m, "room", json_string("r1"));
    hist_text_line(&b, m);
    assert_string_equal(
        b.data,
        "2023-11-14 22:13:20 +0000 me@pc \xe2\x86\x92 bob@pc2, carol@pc3 [room r1]: [sealed, not "
        "opened]\n");
    hist_buf_free(&b);
    json_decref(m);
}

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    hist_buf b = {0};
    hist_buf_adds(&b, "");
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        hist_buf_add(&b, chunk, n);
    fclose(fp);
    return b.data;
}

static void test_export_files(void **state)
{
    fixture *f = *state;
    const char *bob[] = {"bob@pc2"};
    received(f->h, 1, "bob@pc2", "Bob", "明日の会議\nは10時", T0, false);
    sent(f->h, 2, bob, 1, "了解 👍 \"ok\"", T0 + 1, false);
    received(f->h, 3, "bob@pc2", "Bob", "sealed secret", T0 + 2, true);
    assert_int_equal(hist_db_flush(f->h), 0);

    char target[600], err[512];
    /* Paths: absolute, or a plain name in <data_dir>/exports; nothing else. */
    assert_int_equal(hist_export_path(f->dir, "out.json", target, sizeof target, err, sizeof err),
                     0);
    char expect[600];
    snprintf(expect, sizeof expect, "%s/exports/out.json", f->dir);
    assert_string_equal(target, expect);
    struct stat st;
    assert_int_equal(stat(expect, &st), -1); /* only the folder is made */
    snprintf(expect, sizeof expect, "%s/exports", f->dir);
    assert_int_equal(stat(expect, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    static const struct {
        const char *path, *why;
    } bad[] = {{"sub/out.json", "must be absolute"},
               {"../out.json", "'..'"},
               {"/tmp/../etc/passwd", "'..'"},
               {"..", "'..'"},
               {".", "must name a file"},
               {"/tmp/", "names a folder"},
               {"", "must not be empty"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(
            hist_export_path(f->dir, bad[i].path, target, sizeof target, err, sizeof err), -1);
        if (!strstr(err, bad[i].why))
            fail_msg("path '%s': %s", bad[i].path, err);
    }

    /* JSON: an array, oldest first, the sealed text left out. */
    snprintf(target, sizeof target, "%s/all.json", f->dir);
    hist_query q = {0};
    json_t *r = hist_export_file(f->h, &q, HIST_FMT_JSON, target, false, err, sizeof err);
    if (!r)
        fail_msg("export: %s", err);
    assert_int_equal(json_integer_value(json_object_get(r, "count")), 3);
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(json_integer_value(json_object_get(r, "bytes")), st.st_size);
    json_decref(r);
    json_error_t jerr;
    json_t *arr = json_load_file(target, 0, &jerr);
    assert_non_null(arr);
    assert_int_equal(json_array_size(arr), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "text")),
                        "明日の会議\nは10時");
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "text")),
                        "了解 👍 \"ok\"");
    assert_null(json_object_get(json_array_get(arr, 2), "text"));
    json_decref(arr);

    /* An existing file is kept unless overwrite; no temporary file is left behind. */
    r = hist_export_file(f->h, &q, HIST_FMT_TEXT, target, false, err, sizeof err);
    assert_null(r);
    assert_non_null(strstr(err, "already exists"));
    r = hist_export_file(f->h, &q, HIST_FMT_TEXT, target, true, err, sizeof err);
    assert_non_null(r);
    json_decref(r);
    char *text = read_file(target);
    assert_string_equal(text, "2023-11-14 22:13:20 +0000 bob@pc2 \xe2\x86\x92 me@pc: "
                              "明日の会議\\nは10時\n"
                              "2023-11-14 22:13:21 +0000 me@pc \xe2\x86\x92 bob@pc2: "
                              "了解 👍 \"ok\"\n"
                              "2023-11-14 22:13:22 +0000 bob@pc2 \xe2\x86\x92 me@pc: "
                              "[sealed, not opened]\n");
    free(text);
    snprintf(expect, sizeof expect, "ls -a '%s' | grep -q tmp", f->dir);
    assert_int_not_equal(system(expect), 0); /* grep found nothing */

    /* A folder that does not exist: an error, nothing written. */
    snprintf(target, sizeof target, "%s/missing/x.json", f->dir);
    assert_null(hist_export_file(f->h, &q, HIST_FMT_JSON, target, false, err, sizeof err));
    assert_non_null(strstr(err, "cannot create"));
}

static void test_export_result(void **state)
{
    fixture *f = *state;
    received(f->h, 1, "bob@pc2", "Bob", "first", T0, false);
    received(f->h, 2, "carol@pc3", "Carol", "second", T0 + 1, false);
    char err[512];
    json_t *keys = hist_resolve_peers(f->h, "carol");
    hist_query q = {.peers = keys};
    json_t *r =
        hist_export_result(f->h, &q, HIST_FMT_JSON, HIST_EXPORT_MAX_RESULT, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "count")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "messages"), 0), "text")),
                        "second");
    json_decref(r);
    json_decref(keys);
    hist_query all = {0};
    r = hist_export_result(f->h, &all, HIST_FMT_TEXT, HIST_EXPORT_MAX_RESULT, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "count")), 2);
    assert_non_null(strstr(json_string_value(json_object_get(r, "text")), ": first\n"));
    json_decref(r);
    /* Too big for a result: refused with the way out. */
    assert_null(hist_export_result(f->h, &all, HIST_FMT_TEXT, 40, err, sizeof err));
    assert_non_null(strstr(err, "give a 'path'"));
    assert_null(hist_export_result(f->h, &all, HIST_FMT_JSON, 400, err, sizeof err));
    assert_non_null(strstr(err, "give a 'path'"));

    hist_format fmt;
    assert_int_equal(hist_format_parse("json", &fmt), 0);
    assert_int_equal(fmt, HIST_FMT_JSON);
    assert_int_equal(hist_format_parse("text", &fmt), 0);
    assert_int_equal(fmt, HIST_FMT_TEXT);
    assert_int_equal(hist_format_parse("csv", &fmt), -1);
    assert_int_equal(hist_format_parse(NULL, &fmt), -1);
}

/* ---- events (apply.c) ---- */

static char logged[2048];

static void collect_log(void *user, int level, const char *msg)
{
    (void)user;
    size_t used = strlen(logged);
    snprintf(logged + used, sizeof logged - used, "%d:%s\n", level, msg);
}

static void event(hist_apply *a, hist_db *h, const char *topic, const char *json, int64_t now)
{
    json_error_t jerr;
    json_t *p = json_loads(json, 0, &jerr);
    if (!p)
        fail_msg("bad test JSON %s: %s", json, jerr.text);
    hist_apply_event(a, h, topic, p, now);
    json_decref(p);
}

static json_t *last_message(hist_db *h)
{
    hist_query q = {.limit = 1};
    json_t *p = page(h, &q);
    json_t *m = json_incref(json_array_get(json_object_get(p, "messages"), 0));
    json_decref(p);
    return m;
}

static void test_apply_events(void **state)
{
    fixture *f = *state;
    hist_counters c = {0};
    hist_apply a = {.counters = &c, .log = collect_log};
    logged[0] = '\0';
    assert_int_equal(hist_apply_set_local(&a, "alice@test"), 0);

    /* Sent, then delivered and opened. */
    event(&a, f->h, "chat.message.sent",
          "{\"id\":10,\"to\":[\"bob@test\"],\"text\":\"会議の件\",\"sealed\":true,\"time\":100}",
          T0);
    event(&a, f->h, "chat.message.delivered",
          "{\"id\":10,\"to\":\"bob@test\",\"nickname\":\"Bob\",\"address\":\"127.0.0.3:2425\","
          "\"time\":101}",
          T0);
    event(&a, f->h, "chat.message.opened", "{\"id\":10,\"to\":\"bob@test\",\"time\":150}", T0);
    json_t *m = last_message(f->h);
    assert_string_equal(json_string_value(json_object_get(m, "from")), "alice@test");
    assert_int_equal(json_integer_value(json_object_get(m, "time")), 100);
    assert_string_equal(json_string_value(json_object_get(m, "state")), "delivered");
    assert_true(json_is_true(json_object_get(m, "opened")));
    assert_string_equal(json_string_value(json_object_get(m, "transport")), "chat");
    json_decref(m);

    /* A failure published before its message (ipmsg does so when it cannot send at all). */
    event(&a, f->h, "chat.message.failed",
          "{\"id\":11,\"to\":\"carol@test\",\"reason\":\"no route\",\"time\":200}", T0);
    assert_int_equal(atomic_load(&c.deferred), 1);
    event(&a, f->h, "chat.message.sent",
          "{\"id\":11,\"to\":[\"carol@test\",\"bob@test\"],\"text\":\"to both\",\"time\":199}", T0);
    m = last_message(f->h);
    json_t *rs = json_object_get(m, "recipients");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 0), "state")),
                        "failed");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 0), "reason")),
                        "no route");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 1), "state")),
                        "sending");
    assert_true(json_is_true(json_object_get(m, "multicast")));
    json_decref(m);

    /* A held update for a message that never comes expires, counted as unmatched. */
    event(&a, f->h, "chat.message.delivered", "{\"id\":99,\"to\":\"x@y\"}", T0);
    event(&a, f->h, "chat.message.delivered", "{\"id\":98,\"to\":\"x@y\"}",
          T0 + HIST_ORPHAN_TTL_S + 1);
    assert_int_equal(a.n_orphans, 1);
    assert_int_equal(atomic_load(&c.unmatched), 1);
    /* Another plugin's message (send_ex's "via": rooms, outbox) is not held at all. */
    event(&a, f->h, "chat.message.delivered", "{\"id\":97,\"to\":\"x@y\",\"via\":\"rooms\"}",
          T0 + HIST_ORPHAN_TTL_S + 1);
    event(&a, f->h, "chat.message.failed", "{\"id\":96,\"to\":\"x@y\",\"via\":\"outbox\"}",
          T0 + HIST_ORPHAN_TTL_S + 1);
    assert_int_equal(a.n_orphans, 1);
    assert_int_equal(atomic_load(&c.unmatched), 3);

    /* Received: sealed (hidden until read), from a room, a broadcast we sent. */
    event(&a, f->h, "chat.message.received",
          "{\"id\":500,\"packet_no\":77,\"from\":\"bob@test\",\"nickname\":\"Bob\","
          "\"text\":\"秘密\",\"sealed\":true,\"opened\":false,\"time\":300}",
          T0);
    m = last_message(f->h);
    assert_null(json_object_get(m, "text"));
    json_decref(m);
    event(&a, f->h, "chat.message.read", "{\"id\":500,\"time\":310}", T0);
    m = last_message(f->h);
    assert_string_equal(json_string_value(json_object_get(m, "text")), "秘密");
    json_decref(m);
    event(&a, f->h, "chat.message.received",
          "{\"id\":501,\"from\":\"bob@test\",\"text\":\"in the room\",\"room\":\"r-9\"}", T0);
    m = last_message(f->h);
    assert_string_equal(json_string_value(json_object_get(m, "room")), "r-9");
    assert_int_equal(json_integer_value(json_object_get(m, "time")), T0); /* no time: now */
    json_decref(m);
    event(
        &a, f->h, "chat.message.sent",
        "{\"id\":12,\"to\":[\"bob@test\",\"127.0.0.9:2425\"],\"text\":\"all\",\"broadcast\":true}",
        T0);
    m = last_message(f->h);
    assert_string_equal(json_string_value(json_object_get(m, "state")), "sent");
    assert_false(json_is_true(json_object_get(m, "multicast")));
    json_decref(m);

    /* A room post, ours and someone's: stored with the room, "sent" (never acknowledged). */
    event(&a, f->h, "chat.room.message",
          "{\"room\":\"r-1\",\"id\":7,\"transport\":\"rooms\",\"from\":\"alice@test\","
          "\"text\":\"hello room\",\"direction\":\"out\",\"to\":[\"bob@test\",\"carol@test\"],"
          "\"time\":400}",
          T0);
    m = last_message(f->h);
    assert_string_equal(json_string_value(json_object_get(m, "room")), "r-1");
    assert_string_equal(json_string_value(json_object_get(m, "state")), "sent");
    assert_string_equal(json_string_value(json_object_get(m, "transport")), "rooms");
    assert_false(json_is_true(json_object_get(m, "multicast")));
    json_decref(m);
    event(&a, f->h, "chat.room.message",
          "{\"room\":\"r-1\",\"id\":8,\"transport\":\"rooms\",\"from\":\"carol@test\","
          "\"nickname\":\"Carol\",\"text\":\"hi all\",\"direction\":\"in\",\"time\":401}",
          T0);
    event(&a, f->h, "chat.room.message",
          "{\"room\":\"r-1\",\"id\":9,\"from\":\"alice@test\",\"text\":\"alone\","
          "\"direction\":\"out\",\"to\":[]}",
          T0);
    hist_query rq = {.room = "r-1", .limit = 10};
    json_t *rp = page(f->h, &rq);
    json_t *posts = json_object_get(rp, "messages");
    assert_int_equal(json_array_size(posts), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(posts, 1), "from")),
                        "carol@test");
    assert_int_equal(json_array_size(json_object_get(json_array_get(posts, 2), "to")), 0);
    json_decref(rp);

    /* The offline queue: delivered (its transport ack came first and was held), failed. */
    event(&a, f->h, "chat.message.delivered",
          "{\"id\":4242,\"to\":\"dave@test\",\"address\":\"127.0.0.5:2425\",\"time\":500}", T0);
    event(&a, f->h, "queue.message.delivered",
          "{\"id\":3,\"to\":\"dave@test\",\"nickname\":\"Dave\",\"text\":\"while you were out\","
          "\"sealed\":false,\"state\":\"delivered\",\"created\":450,\"message_id\":4242}",
          T0);
    m = last_message(f->h);
    rs = json_object_get(m, "recipients");
    assert_string_equal(json_string_value(json_object_get(m, "state")), "delivered");
    assert_int_equal(json_integer_value(json_object_get(m, "time")), 450);
    assert_int_equal(json_integer_value(json_object_get(m, "msg_id")), 4242);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 0), "nickname")),
                        "Dave");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 0), "address")),
                        "127.0.0.5:2425");
    json_decref(m);
    event(&a, f->h, "queue.message.failed",
          "{\"id\":4,\"to\":\"dave@test\",\"text\":\"retrying\",\"final\":false,\"error\":\"x\"}",
          T0);
    event(&a, f->h, "queue.message.failed",
          "{\"id\":5,\"to\":\"dave@test\",\"text\":\"too late\",\"final\":true,"
          "\"error\":\"expired after 7 days\",\"created\":460}",
          T0);
    m = last_message(f->h);
    rs = json_object_get(m, "recipients");
    assert_string_equal(json_string_value(json_object_get(m, "text")), "too late");
    assert_string_equal(json_string_value(json_object_get(m, "state")), "failed");
    assert_string_equal(json_string_value(json_object_get(m, "transport")), "queue");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 0), "reason")),
                        "expired after 7 days");
    json_decref(m);

    /* A new key after an identity change. */
    assert_int_equal(hist_apply_set_local(&a, "alice@newpc"), 0);
    event(&a, f->h, "chat.message.sent", "{\"id\":13,\"to\":\"bob@test\",\"text\":\"x\"}", T0);
    m = last_message(f->h);
    assert_string_equal(json_string_value(json_object_get(m, "from")), "alice@newpc");
    json_decref(m);

    /* Bad events are counted and logged without their text; other topics are ignored. */
    size_t before = atomic_load(&c.stored);
    event(&a, f->h, "chat.message.sent", "{\"to\":[\"bob@test\"],\"text\":\"no id 内緒\"}", T0);
    event(&a, f->h, "chat.message.sent", "{\"id\":14,\"to\":[1],\"text\":\"内緒\"}", T0);
    event(&a, f->h, "chat.message.sent", "{\"id\":15,\"to\":[],\"text\":\"内緒\"}", T0);
    event(&a, f->h, "chat.message.received", "{\"id\":-1,\"from\":\"b@t\",\"text\":\"内緒\"}", T0);
    event(&a, f->h, "chat.message.delivered", "{\"id\":10}", T0);
    event(&a, f->h, "chat.message.received", "[1,2]", T0);
    event(&a, f->h, "chat.room.message", "{\"room\":\"r\",\"direction\":\"up\"}", T0);
    event(&a, f->h, "queue.message.delivered", "{\"id\":6,\"to\":\"d@t\",\"text\":\"内緒\"}", T0);
    event(&a, f->h, "queue.message.discarded", "{\"id\":6}", T0);
    event(&a, f->h, "chat.message.typing", "{\"id\":1}", T0);
    event(&a, f->h, "presence.changed", "{\"id\":1}", T0);
    assert_int_equal(atomic_load(&c.stored), before);
    assert_int_equal(atomic_load(&c.invalid), 8);
    assert_null(strstr(logged, "内緒"));
    assert_non_null(strstr(logged, "1:chat.message.sent ignored: needs 'id', 'to' and 'text'"));
    assert_int_equal(atomic_load(&c.errors), 0);
    hist_apply_free(&a);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sent_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_received, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_scripts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_with_and_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rooms_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_injected_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_cjk_short_terms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cjk_index_built_by_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivered_update_is_one_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_visible_after_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_per_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recent_shortcuts, setup, teardown),
        cmocka_unit_test(test_escape_and_text_line),
        cmocka_unit_test_setup_teardown(test_export_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_events, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
