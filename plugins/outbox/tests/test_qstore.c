/*
 * Unit tests of the offline queue store (plugins/outbox/src/qstore.c) on a
 * real SQLite file: order, one oldest message per recipient, attempts,
 * finishing exactly once, following a user to a new PC, expiry and purge
 * with injected times, and persistence across close/reopen.
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

#include "qstore.h"

typedef struct fixture {
    char dir[64];
    char path[128];
    qstore *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof f->dir, "/tmp/dg-outbox-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/outbox.db", f->dir);
    char err[256];
    if (qstore_open(f->path, &f->s, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    qstore_close(f->s);
    static const char *const files[] = {"outbox.db", "outbox.db-wal", "outbox.db-shm"};
    char p[256];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", f->dir, files[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static int64_t add(fixture *f, const char *key, const char *uuid, const char *text, int64_t now)
{
    qmsg m = {.to_key = (char *)key,
              .to_uuid = (char *)uuid,
              .nickname = "Nick",
              .text = (char *)text,
              .created = now};
    assert_int_equal(qstore_add(f->s, &m), 0);
    assert_true(m.id > 0);
    return m.id;
}

static void test_order_and_finish(void **state)
{
    fixture *f = *state;
    int64_t b1 = add(f, "bob@pc", NULL, "b1", 100);
    int64_t c1 = add(f, "carol@pc", NULL, "c1", 101);
    int64_t b2 = add(f, "bob@pc", NULL, "b2", 102);

    qmsg m;
    assert_int_equal(qstore_oldest(f->s, "BOB@PC", &m), 1); /* keys compare case-insensitively */
    assert_true(m.id == b1);
    assert_string_equal(m.text, "b1");
    assert_int_equal(m.state, Q_QUEUED);
    qmsg_clear(&m);

    char **keys;
    size_t n;
    assert_int_equal(qstore_recipients(f->s, &keys, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(keys[0], "bob@pc");
    assert_string_equal(keys[1], "carol@pc");
    qstore_keys_free(keys, n);

    /* An attempt that fails leaves it queued with the reason; delivery finishes it once. */
    assert_int_equal(qstore_attempt(f->s, b1, 200), 0);
    assert_int_equal(qstore_set_error(f->s, b1, "no answer after 5 tries"), 0);
    assert_int_equal(qstore_attempt(f->s, b1, 300), 0);
    assert_int_equal(qstore_finish(f->s, b1, Q_DELIVERED, NULL, 4242, 301), 1);
    assert_int_equal(qstore_finish(f->s, b1, Q_DISCARDED, NULL, 0, 302), 0);
    assert_int_equal(qstore_get(f->s, b1, &m), 1);
    assert_int_equal(m.state, Q_DELIVERED);
    assert_true(m.attempts == 2 && m.last_attempt == 300 && m.finished == 301);
    assert_true(m.message_id == 4242);
    assert_string_equal(m.error, "no answer after 5 tries");
    qmsg_clear(&m);

    /* Next in line for bob is b2. */
    assert_int_equal(qstore_oldest(f->s, "bob@pc", &m), 1);
    assert_true(m.id == b2);
    qmsg_clear(&m);

    qmsg *v;
    assert_int_equal(qstore_list(f->s, false, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_true(v[0].id == c1 && v[1].id == b2);
    qmsgs_free(v, n);
    assert_int_equal(qstore_list(f->s, true, &v, &n), 0);
    assert_int_equal(n, 3);
    qmsgs_free(v, n);
    assert_int_equal(qstore_get(f->s, 9999, &m), 0);
    assert_string_equal(q_state_name(Q_DISCARDED), "discarded");
}

static void test_retarget(void **state)
{
    fixture *f = *state;
    int64_t a = add(f, "bob@oldpc", "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "by uuid", 1);
    int64_t b = add(f, "bob@oldpc", NULL, "by key", 2);
    int64_t c = add(f, "carol@pc", NULL, "other", 3);
    /* A move reported with the old key takes every queued row for that key. */
    assert_int_equal(qstore_retarget(f->s, "bob@oldpc", NULL, "bob@newpc"), 2);
    qmsg m;
    assert_int_equal(qstore_get(f->s, b, &m), 1);
    assert_string_equal(m.to_key, "bob@newpc");
    qmsg_clear(&m);
    /* The same UUID seen under yet another key (moved while we were down). */
    assert_int_equal(qstore_retarget(f->s, NULL, "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE", "bob@pc3"),
                     1);
    assert_int_equal(qstore_get(f->s, a, &m), 1);
    assert_string_equal(m.to_key, "bob@pc3");
    qmsg_clear(&m);
    /* Nothing to do is 0; finished rows never move. */
    assert_int_equal(qstore_retarget(f->s, NULL, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "bob@pc3"),
                     0);
    assert_int_equal(qstore_finish(f->s, c, Q_DISCARDED, NULL, 0, 10), 1);
    assert_int_equal(qstore_retarget(f->s, "carol@pc", NULL, "carol@new"), 0);
}

static void test_expire_purge_persist(void **state)
{
    fixture *f = *state;
    int64_t old = add(f, "bob@pc", NULL, "old", 1000);
    int64_t young = add(f, "bob@pc", NULL, "young", 5000);
    qmsg *v;
    size_t n;
    assert_int_equal(qstore_expired(f->s, 2000, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_true(v[0].id == old);
    qmsgs_free(v, n);
    assert_int_equal(qstore_finish(f->s, old, Q_FAILED, "expired", 0, 2000), 1);
    /* Finished rows are purged after keep_days, queued ones never. */
    assert_int_equal(qstore_purge(f->s, 1999), 0);
    assert_int_equal(qstore_purge(f->s, 2001), 1);
    assert_int_equal(qstore_list(f->s, true, &v, &n), 0);
    assert_int_equal(n, 1);
    qmsgs_free(v, n);

    /* Sealed flag, UTF-8 text and the queue itself survive a reopen. */
    qmsg m = {
        .to_key = "山田@pc", .nickname = "山田", .text = "未読 🎌", .sealed = true, .created = 6000};
    assert_int_equal(qstore_add_all(f->s, &m, 1), 0);
    qstore_close(f->s);
    char err[256];
    assert_int_equal(qstore_open(f->path, &f->s, err, sizeof err), 0);
    assert_int_equal(qstore_list(f->s, false, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_true(v[0].id == young);
    assert_string_equal(v[1].text, "未読 🎌");
    assert_true(v[1].sealed);
    assert_true(v[1].id > young); /* ids are never reused */
    qmsgs_free(v, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_and_finish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retarget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_purge_persist, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
