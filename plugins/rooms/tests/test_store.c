/*
 * Unit tests of the room store (plugins/rooms/src/store.c) on a real SQLite
 * file: de-duplication by (room, origin, seq), the log order by
 * (clock, origin, seq) whatever the arrival order, the "have" vector with
 * gaps, what a peer lacks, last-writer-wins membership, and persistence.
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

#include "store.h"

#define ROOM "0123456789abcdef0123456789abcdef"
#define A "11111111-1111-4111-8111-111111111111"
#define B "22222222-2222-4222-8222-222222222222"
#define C "33333333-3333-4333-8333-333333333333"

typedef struct fixture {
    char dir[64];
    char path[128];
    room_store *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof f->dir, "/tmp/dg-rooms-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/rooms.db", f->dir);
    char err[256];
    if (rstore_open(f->path, &f->s, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    room_info r = {.name = "General", .priv = false, .state = ROOM_MEMBER, .created = 100};
    memcpy(r.id, ROOM, sizeof r.id);
    if (rstore_room_add(f->s, &r) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rstore_close(f->s);
    char p[256];
    static const char *const files[] = {"rooms.db", "rooms.db-wal", "rooms.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", f->dir, files[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static int post(room_store *s, const char *origin, uint64_t seq, uint64_t clock, const char *text)
{
    room_logop op = {.seq = seq,
                     .clock = clock,
                     .op = ROOM_OP_POST,
                     .from = "u@h",
                     .time = (int64_t)clock,
                     .received = 1,
                     .text = (char *)text,
                     .wire = "wire"};
    memcpy(op.room, ROOM, sizeof op.room);
    memcpy(op.origin, origin, sizeof op.origin);
    int rc = rstore_op_insert(s, &op);
    if (rc == 1)
        assert_int_equal(rstore_room_see_clock(s, ROOM, clock), 0);
    return rc;
}

static void test_dedup_and_order(void **state)
{
    fixture *f = *state;
    /* Arrival order differs from the log order; two posts share clock 5 (ties by origin). */
    assert_int_equal(post(f->s, B, 2, 5, "b2"), 1);
    assert_int_equal(post(f->s, A, 1, 1, "a1"), 1);
    assert_int_equal(post(f->s, C, 1, 9, "c1"), 1);
    assert_int_equal(post(f->s, A, 2, 5, "a2"), 1);
    assert_int_equal(post(f->s, B, 1, 2, "b1"), 1);
    /* Duplicates (a replay, a relayed copy) are recognised by (origin, seq) alone. */
    assert_int_equal(post(f->s, B, 2, 5, "b2"), 0);
    assert_int_equal(post(f->s, A, 1, 99, "a1 again with another clock"), 0);

    room_logop *ops;
    size_t n;
    assert_int_equal(rstore_log(f->s, ROOM, 100, &ops, &n), 0);
    static const char *const want[] = {"a1", "b1", "a2", "b2", "c1"};
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(ops[i].text, want[i]);
        assert_int_equal(ops[i].op, ROOM_OP_POST);
        assert_string_equal(ops[i].wire, "wire");
    }
    room_logops_free(ops, n);

    /* limit keeps the newest, still in log order. */
    assert_int_equal(rstore_log(f->s, ROOM, 2, &ops, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ops[0].text, "b2");
    assert_string_equal(ops[1].text, "c1");
    room_logops_free(ops, n);

    room_info r;
    assert_int_equal(rstore_room_get(f->s, ROOM, &r), 1);
    assert_true(r.clock == 9);
    assert_int_equal(r.last, 9);
    room_info_clear(&r);
    assert_true(rstore_next_seq(f->s, ROOM, A) == 3);
    assert_true(rstore_next_seq(f->s, ROOM, "44444444-4444-4444-8444-444444444444") == 1);
}

static uint64_t have_of(const room_have *h, size_t n, const char *uuid)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i].uuid, uuid) == 0)
            return h[i].seq;
    return (uint64_t)-1;
}

static void test_have_and_missing(void **state)
{
    fixture *f = *state;
    /* A: 1 2 3 5 (gap at 4); B: 2 3 (1 missing); C: 1. */
    assert_int_equal(post(f->s, A, 1, 1, "a1"), 1);
    assert_int_equal(post(f->s, A, 2, 2, "a2"), 1);
    assert_int_equal(post(f->s, A, 3, 3, "a3"), 1);
    assert_int_equal(post(f->s, A, 5, 7, "a5"), 1);
    assert_int_equal(post(f->s, B, 2, 4, "b2"), 1);
    assert_int_equal(post(f->s, B, 3, 6, "b3"), 1);
    assert_int_equal(post(f->s, C, 1, 8, "c1"), 1);
    room_have *h;
    size_t n;
    assert_int_equal(rstore_have(f->s, ROOM, &h, &n), 0);
    assert_int_equal(n, 3);
    assert_true(have_of(h, n, A) == 3);
    assert_true(have_of(h, n, B) == 0);
    assert_true(have_of(h, n, C) == 1);
    free(h);

    /* A peer that has A up to 2 and nothing of B or C lacks a3, a5, b2, b3, c1 (log order). */
    room_have peer[1] = {{.seq = 2}};
    memcpy(peer[0].uuid, A, sizeof peer[0].uuid);
    room_logop *ops;
    assert_int_equal(rstore_ops_missing(f->s, ROOM, peer, 1, 100, &ops, &n), 0);
    static const char *const want[] = {"a3", "b2", "b3", "a5", "c1"};
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ops[i].text, want[i]);
    room_logops_free(ops, n);
    /* ... oldest first, bounded. */
    assert_int_equal(rstore_ops_missing(f->s, ROOM, peer, 1, 2, &ops, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ops[1].text, "b2");
    room_logops_free(ops, n);
    /* A peer that has everything lacks nothing; the temp table is reset between calls. */
    room_have all[3] = {{.seq = 5}, {.seq = 3}, {.seq = 1}};
    memcpy(all[0].uuid, A, sizeof all[0].uuid);
    memcpy(all[1].uuid, B, sizeof all[1].uuid);
    memcpy(all[2].uuid, C, sizeof all[2].uuid);
    assert_int_equal(rstore_ops_missing(f->s, ROOM, all, 3, 100, &ops, &n), 0);
    assert_int_equal(n, 0);
    room_logops_free(ops, n);
    assert_int_equal(rstore_ops_missing(f->s, ROOM, NULL, 0, 100, &ops, &n), 0);
    assert_int_equal(n, 7);
    room_logops_free(ops, n);
}

static bool present(fixture *f, const char *uuid)
{
    return rstore_member_present(f->s, ROOM, uuid, NULL) == 1;
}

static void test_membership_lww(void **state)
{
    fixture *f = *state;
    /* B joins at clock 5. */
    assert_int_equal(rstore_member_apply(f->s, ROOM, B, "bob@pc", "Bob", true, 5, B), 1);
    assert_true(present(f, B));
    /* An older leave arriving late changes nothing... */
    assert_int_equal(rstore_member_apply(f->s, ROOM, B, "bob@pc", NULL, false, 3, B), 0);
    assert_true(present(f, B));
    /* ...nor does a snapshot entry, even one saying "present". */
    assert_int_equal(rstore_member_apply(f->s, ROOM, B, "bob@pc", NULL, true, 0, ""), 0);
    /* A newer leave wins. */
    assert_int_equal(rstore_member_apply(f->s, ROOM, B, "bob@pc", NULL, false, 8, B), 1);
    assert_false(present(f, B));
    /* Same clock: the larger origin UUID wins (a tie every node breaks the same way). */
    assert_int_equal(rstore_member_apply(f->s, ROOM, B, "bob@pc", NULL, true, 8, A), 0);
    assert_false(present(f, B));
    assert_int_equal(rstore_member_apply(f->s, ROOM, B, "bob@pc", NULL, true, 8, C), 1);
    assert_true(present(f, B));
    assert_true(room_stamp_cmp(8, C, 8, B) > 0 && room_stamp_cmp(7, C, 8, A) < 0);
    assert_int_equal(room_stamp_cmp(8, A, 8, A), 0);

    /* Snapshot members are added when unknown, and any logged operation overrides them. */
    assert_int_equal(rstore_member_apply(f->s, ROOM, C, "carol@pc", "Carol", true, 0, ""), 1);
    assert_true(present(f, C));
    assert_int_equal(rstore_member_apply(f->s, ROOM, C, "carol@pc", NULL, false, 1, C), 1);
    assert_false(present(f, C));

    /* Found by key too (the IPMsg sender of a relayed operation), case-insensitively. */
    assert_int_equal(rstore_member_present(f->s, ROOM, NULL, "BOB@PC"), 1);
    assert_int_equal(rstore_member_present(f->s, ROOM, NULL, "carol@pc"), 0);

    /* Names follow the newest information; a move to a new PC re-keys every room. */
    assert_int_equal(rstore_member_touch(f->s, ROOM, B, NULL, "Bobby"), 0);
    assert_int_equal(rstore_members_rekey(f->s, B, "bob@newpc"), 0);
    room_member *m;
    size_t n;
    assert_int_equal(rstore_members(f->s, ROOM, true, &m, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].key, "bob@newpc");
    assert_string_equal(m[0].nick, "Bobby");
    room_members_free(m, n);
    assert_int_equal(rstore_members(f->s, ROOM, false, &m, &n), 0);
    assert_int_equal(n, 2);
    room_members_free(m, n);

    room_info r;
    assert_int_equal(rstore_room_get(f->s, ROOM, &r), 1);
    assert_int_equal(r.members, 1);
    room_info_clear(&r);
}

static void test_rooms_and_persistence(void **state)
{
    fixture *f = *state;
    room_info other = {.name = "general", .priv = true, .state = ROOM_AVAILABLE, .created = 50};
    memcpy(other.id, "fedcba9876543210fedcba9876543210", sizeof other.id);
    assert_int_equal(rstore_room_add(f->s, &other), 0);
    /* Adding again never changes name or privacy. */
    other.name = "renamed";
    assert_int_equal(rstore_room_add(f->s, &other), 0);
    room_info *v;
    size_t n;
    assert_int_equal(rstore_rooms(f->s, "GENERAL", &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].id, ROOM); /* the one we are a member of comes first */
    assert_int_equal(v[1].state, ROOM_AVAILABLE);
    room_infos_free(v, n);
    assert_int_equal(rstore_room_set_state(f->s, other.id, ROOM_LEFT), 0);
    assert_int_equal(post(f->s, A, 1, 3, "kept"), 1);

    /* Everything is on disk: close, reopen, read back. */
    rstore_close(f->s);
    char err[256];
    assert_int_equal(rstore_open(f->path, &f->s, err, sizeof err), 0);
    assert_int_equal(rstore_rooms(f->s, NULL, &v, &n), 0);
    assert_int_equal(n, 2);
    room_infos_free(v, n);
    room_info r;
    assert_int_equal(rstore_room_get(f->s, other.id, &r), 1);
    assert_int_equal(r.state, ROOM_LEFT);
    assert_string_equal(r.name, "general");
    assert_true(r.priv);
    room_info_clear(&r);
    assert_int_equal(rstore_room_get(f->s, "00000000000000000000000000000000", &r), 0);
    assert_int_equal(post(f->s, A, 1, 3, "kept"), 0);
    assert_string_equal(room_state_name(ROOM_LEFT), "left");

    /* A transaction that is rolled back leaves nothing. */
    assert_int_equal(rstore_begin(f->s), 0);
    assert_int_equal(post(f->s, A, 2, 4, "gone"), 1);
    rstore_rollback(f->s);
    assert_true(rstore_next_seq(f->s, ROOM, A) == 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dedup_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_have_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_membership_lww, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rooms_and_persistence, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
