/*
 * Unit tests of the SQLite store and its writer thread on real files in a
 * temporary folder: schema creation (WAL, version, application id), a full
 * round trip of every field, the UNIQUE identity, refusal of newer, foreign
 * and corrupt files without touching them, unusable rows left in place, and
 * ordered batched writes through the writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "dir.h"
#include "store.h"
#include "writer.h"

#define UUID_A "6f1c2a9e-8b1d-4c3e-9f7a-2b4c6d8e0f12"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof f->dir, "/tmp/dg-users-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/users.sqlite", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char p[200];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void sql(const char *path, const char *stmt)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, stmt, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", stmt, msg);
    sqlite3_close(db);
}

static long long sql_int(const char *path, const char *query)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, query, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static us_user *full_user(void)
{
    us_user *u = us_user_new("bob", "PC");
    us_set_str(&u->nickname, "ボブ");
    us_set_str(&u->group, "開発");
    us_user_set_address(u, "10.0.0.9:2425");
    us_user_set_address(u, "10.0.0.2:2425");
    u->status = US_ABSENT;
    us_set_opt(&u->absence, "昼休み");
    json_array_append_new(u->caps, json_string("utf8"));
    json_array_append_new(u->caps, json_string("file"));
    snprintf(u->uuid, sizeof u->uuid, "%s", UUID_A);
    us_set_opt(&u->version, "dengon 0.1.0 (Linux)");
    u->first_seen = 1000;
    u->last_seen = 2000;
    u->first_exchange = 1500;
    u->priority = US_HIGH;
    u->hidden = true;
    return u;
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    us_store *s;
    char err[512];
    assert_int_equal(us_store_open(f->path, &s, err, sizeof err), 0);
    us_user *u = full_user();
    us_user *plain = us_user_new("ann", "pc2");
    plain->first_seen = plain->last_seen = 5;
    assert_int_equal(us_store_begin(s, err, sizeof err), 0);
    assert_int_equal(us_store_put(s, u, err, sizeof err), 0);
    assert_int_equal(us_store_put(s, plain, err, sizeof err), 0);
    assert_int_equal(us_store_commit(s, err, sizeof err), 0);
    /* Put again (an update, key in another case): still one row. */
    us_set_str(&u->nickname, "Bob");
    us_set_str(&u->key, "BOB@pc");
    assert_int_equal(us_store_put(s, u, err, sizeof err), 0);
    us_store_close(s);

    assert_int_equal(sql_int(f->path, "PRAGMA user_version"), US_SCHEMA_VERSION);
    assert_int_equal(sql_int(f->path, "PRAGMA application_id"), US_APPLICATION_ID);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM users"), 2);

    assert_int_equal(us_store_open(f->path, &s, err, sizeof err), 0);
    us_dir d;
    us_dir_init(&d);
    size_t skipped = 9;
    assert_int_equal(us_store_load(s, &d, &skipped, err, sizeof err), 0);
    assert_int_equal(skipped, 0);
    assert_int_equal(d.n, 2);
    us_user *got = us_dir_find_key(&d, "bob@pc");
    assert_non_null(got);
    assert_string_equal(got->key, "BOB@pc");
    assert_string_equal(got->nickname, "Bob");
    assert_string_equal(got->group, "開発");
    assert_string_equal(got->address, "10.0.0.2:2425");
    assert_true(got->has_addr);
    assert_true(json_equal(got->addresses, u->addresses));
    assert_true(json_equal(got->caps, u->caps));
    assert_int_equal(got->status, US_ABSENT);
    assert_string_equal(got->absence, "昼休み");
    assert_string_equal(got->uuid, UUID_A);
    assert_ptr_equal(us_dir_find_uuid(&d, UUID_A), got);
    assert_string_equal(got->version, "dengon 0.1.0 (Linux)");
    assert_int_equal(got->first_seen, 1000);
    assert_int_equal(got->last_seen, 2000);
    assert_int_equal(got->first_exchange, 1500);
    assert_int_equal(got->priority, US_HIGH);
    assert_true(got->hidden);
    us_user *ann = us_dir_find_key(&d, "ann@pc2");
    assert_non_null(ann);
    assert_null(ann->absence);
    assert_null(ann->version);
    assert_string_equal(ann->uuid, "");

    /* Delete is case-insensitive; a missing key is fine. */
    assert_int_equal(us_store_delete(s, "ANN@PC2", err, sizeof err), 0);
    assert_int_equal(us_store_delete(s, "ghost@nowhere", err, sizeof err), 0);
    /* The database refuses a second row with the same identity. */
    us_user *twin = us_user_new("bob", "other");
    twin->first_seen = twin->last_seen = 1;
    snprintf(twin->uuid, sizeof twin->uuid, "%s", UUID_A);
    assert_int_equal(us_store_put(s, twin, err, sizeof err), -1);
    assert_non_null(strstr(err, "UNIQUE"));
    assert_non_null(strstr(err, "bob@other"));
    us_store_close(s);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM users"), 1);
    us_user_free(twin);
    us_dir_free(&d);
    us_user_free(u);
    us_user_free(plain);
}

static void test_wal_and_refusals(void **state)
{
    fixture *f = *state;
    us_store *s;
    char err[512];
    assert_int_equal(us_store_open(f->path, &s, err, sizeof err), 0);
    us_store_close(s);
    {
        sqlite3 *db;
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        sqlite3_close(db);
    }

    /* A newer schema: refused, the file left as it is. */
    sql(f->path, "PRAGMA user_version = 7");
    assert_int_equal(us_store_open(f->path, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "schema version 7 is newer"));
    assert_non_null(strstr(err, f->path));
    assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 7);

    /* Someone else's database. */
    sql(f->path, "PRAGMA user_version = 1; PRAGMA application_id = 1234");
    assert_int_equal(us_store_open(f->path, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a dengon user directory"));
    teardown(state);
    setup(state);
    f = *state;

    /* Not a database at all. */
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs("this is not SQLite, but somebody's precious notes\n", fp);
    fclose(fp);
    assert_int_equal(us_store_open(f->path, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, f->path));
    fp = fopen(f->path, "r");
    char line[128];
    assert_non_null(fgets(line, sizeof line, fp));
    fclose(fp);
    assert_string_equal(line, "this is not SQLite, but somebody's precious notes\n");
}

static void test_unusable_rows_stay(void **state)
{
    fixture *f = *state;
    us_store *s;
    char err[512];
    assert_int_equal(us_store_open(f->path, &s, err, sizeof err), 0);
    us_store_close(s);
    sql(f->path, "INSERT INTO users (key, user, host, first_seen, last_seen, addresses, "
                 "capabilities, uuid) VALUES "
                 "('good@pc', 'good', 'pc', 1, 2, 'not json', '[1,2]', 'bad-uuid'),"
                 "('x@y', '', 'y', 1, 2, '[]', '[]', NULL),"
                 "('mismatch@pc', 'other', 'pc', 1, 2, '[]', '[]', NULL)");
    assert_int_equal(us_store_open(f->path, &s, err, sizeof err), 0);
    us_dir d;
    us_dir_init(&d);
    size_t skipped = 0;
    assert_int_equal(us_store_load(s, &d, &skipped, err, sizeof err), 0);
    assert_int_equal(skipped, 2);
    assert_int_equal(d.n, 1);
    us_user *u = us_dir_find_key(&d, "good@pc");
    assert_non_null(u);
    assert_int_equal(json_array_size(u->addresses), 0); /* bad JSON read as empty */
    assert_int_equal(json_array_size(u->caps), 0);
    assert_string_equal(u->uuid, "");
    us_store_close(s);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM users"), 3); /* nothing lost */
    us_dir_free(&d);
}

static int notified;
static void on_notify(void *user)
{
    (void)user;
    notified++;
}

static void test_writer(void **state)
{
    fixture *f = *state;
    us_store *s;
    char err[512];
    assert_int_equal(us_store_open(f->path, &s, err, sizeof err), 0);
    us_writer *w = us_writer_start(s, on_notify, NULL);
    assert_non_null(w);
    char user[32];
    /* A burst: many puts, some replaced, some deleted, all in order. */
    for (int i = 0; i < 2000; i++) {
        snprintf(user, sizeof user, "u%d", i % 500);
        us_user *u = us_user_new(user, "pc");
        u->first_seen = 1;
        u->last_seen = i;
        assert_int_equal(us_writer_put(w, u), 0);
        us_user_free(u);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(user, sizeof user, "u%d@pc", i);
        assert_int_equal(us_writer_delete(w, user), 0);
    }
    /* The merge order: delete the old key, then the new row takes its UUID. */
    us_user *old = us_user_new("dave", "old");
    old->first_seen = old->last_seen = 1;
    snprintf(old->uuid, sizeof old->uuid, "%s", UUID_A);
    us_writer_put(w, old);
    us_writer_delete(w, "dave@old");
    us_set_str(&old->key, "dave@new");
    us_set_str(&old->host, "new");
    us_writer_put(w, old);
    us_user_free(old);
    us_writer_flush(w);
    assert_int_equal(us_writer_take_errors(w, err, sizeof err), 0);
    assert_int_equal(notified, 0);

    /* A row the database refuses: counted, reported, the rest of the batch saved. */
    us_user *twin = us_user_new("twin", "pc");
    twin->first_seen = twin->last_seen = 1;
    snprintf(twin->uuid, sizeof twin->uuid, "%s", UUID_A);
    us_user *fine = us_user_new("fine", "pc");
    fine->first_seen = fine->last_seen = 1;
    us_writer_put(w, twin);
    us_writer_put(w, fine);
    us_user_free(twin);
    us_user_free(fine);
    us_writer_stop(w); /* writes what is queued */
    assert_true(notified >= 1);
    us_store_close(s);

    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM users WHERE key LIKE 'u%'"), 400);
    assert_int_equal(sql_int(f->path, "SELECT max(last_seen) FROM users WHERE key = 'u499@pc'"),
                     1999);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM users WHERE key = 'dave@new'"), 1);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM users WHERE key = 'dave@old'"), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM users WHERE key = 'fine@pc'"), 1);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM users WHERE key = 'twin@pc'"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_and_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unusable_rows_stay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
