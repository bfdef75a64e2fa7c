/*
 * Unit tests of the plugin's pure logic (plugins/ipmsg/src): address lists
 * with wildcards, duplicate suppression, the user table's UUID merge and
 * sorting, recipient resolution, and the bounded inbox.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addrlist.h"
#include "dedup.h"
#include "inbox.h"
#include "ipmsg_proto.h"
#include "resolve.h"
#include "users.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* ---- addrlist ---- */

static void test_addr_parse(void **state)
{
    (void)state;
    ipm_addr a;
    char buf[IPM_ADDR_TEXT];
    assert_int_equal(ipm_addr_parse("127.0.0.3", 9, 2425, &a), 0);
    assert_int_equal(a.ip, IP(127, 0, 0, 3));
    assert_int_equal(a.port, 2425);
    assert_string_equal(ipm_addr_format(a, buf), "127.0.0.3:2425");
    assert_int_equal(ipm_addr_parse("10.1.2.3:24250", 14, 2425, &a), 0);
    assert_int_equal(a.port, 24250);
    static const char *const bad[] = {"",         "1.2.3",     "1.2.3.4.5",     "256.1.1.1",
                                      "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "01.2.3.4",
                                      "a.b.c.d",  "1.2.3.*",   " 1.2.3.4",      "host.example"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ipm_addr_parse(bad[i], strlen(bad[i]), 2425, &a), -1);
    assert_true(ipm_ip_is_loopback(IP(127, 9, 9, 9)));
    assert_false(ipm_ip_is_loopback(IP(128, 0, 0, 1)));
}

static void test_addrlist_hosts(void **state)
{
    (void)state;
    ipm_addr_list l;
    char err[128];
    assert_int_equal(ipm_addrlist_parse(" 127.0.0.3, 127.0.0.4:9000;127.0.0.3\n", 24250, false, &l,
                                        err, sizeof err),
                     0);
    assert_int_equal(l.n, 2); /* the duplicate is kept once */
    assert_int_equal(l.v[0].ip, IP(127, 0, 0, 3));
    assert_int_equal(l.v[0].port, 24250);
    assert_int_equal(l.v[1].port, 9000);
    ipm_addrlist_free(&l);
    assert_int_equal(ipm_addrlist_parse("", 1, false, &l, err, sizeof err), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(ipm_addrlist_parse("127.0.0.3, bogus", 1, false, &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "'bogus'"));
    assert_int_equal(l.n, 0);
    /* wildcards only where allowed */
    assert_int_equal(ipm_addrlist_parse("192.168.*.255", 1, false, &l, err, sizeof err), -1);
}

static void test_addrlist_wildcards(void **state)
{
    (void)state;
    ipm_addr_list l;
    char err[128];
    assert_int_equal(ipm_addrlist_parse("192.168.*.255", 2425, true, &l, err, sizeof err), 0);
    assert_int_equal(l.n, 256);
    assert_int_equal(l.v[0].ip, IP(192, 168, 0, 255));
    assert_int_equal(l.v[255].ip, IP(192, 168, 255, 255));
    assert_true(ipm_addrlist_has(&l, (ipm_addr){IP(192, 168, 7, 255), 2425}));
    ipm_addrlist_free(&l);
    /* two wildcards are 65536 addresses: over the limit, refused with a reason */
    assert_int_equal(ipm_addrlist_parse("10.*.*.255", 2425, true, &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "longer than"));
    assert_int_equal(ipm_addrlist_parse("*.*.*.*", 2425, true, &l, err, sizeof err), -1);
}

/* ---- dedup ---- */

static void test_dedup(void **state)
{
    (void)state;
    ipm_dedup d;
    assert_int_equal(ipm_dedup_init(&d, 4), 0);
    assert_false(ipm_dedup_check(&d, 100, "alice", 5, "pc1", 3));
    assert_true(ipm_dedup_check(&d, 100, "alice", 5, "pc1", 3));
    /* same number from someone else, or another number: not a duplicate */
    assert_false(ipm_dedup_check(&d, 100, "bob", 3, "pc1", 3));
    assert_false(ipm_dedup_check(&d, 101, "alice", 5, "pc1", 3));
    /* the user/host boundary matters: "ab"+"c" is not "a"+"bc" */
    assert_false(ipm_dedup_check(&d, 7, "ab", 2, "c", 1));
    assert_false(ipm_dedup_check(&d, 7, "a", 1, "bc", 2));
    /* bounded: after cap new triples the oldest is forgotten */
    assert_false(ipm_dedup_check(&d, 100, "alice", 5, "pc1", 3));
    ipm_dedup_free(&d);
}

/* Growing keeps what the ring remembers; a burst-sized window still forgets the oldest. */
static void test_dedup_reserve_burst(void **state)
{
    (void)state;
    ipm_dedup d;
    assert_int_equal(ipm_dedup_init(&d, 4), 0);
    for (uint32_t i = 0; i < 6; i++) /* wraps: 0 and 1 are forgotten */
        assert_false(ipm_dedup_check(&d, i, "alice", 5, "pc1", 3));
    assert_int_equal(ipm_dedup_reserve(&d, 3), 0); /* smaller: no change */
    assert_int_equal(d.cap, 4);
    assert_int_equal(ipm_dedup_reserve(&d, 5000), 0);
    assert_int_equal(d.cap, 5000);
    for (uint32_t i = 2; i < 6; i++)
        assert_true(ipm_dedup_check(&d, i, "alice", 5, "pc1", 3));
    /* 4,996 new triples fill the grown ring exactly: 2..5 are still there. */
    for (uint32_t i = 1000; i < 5996; i++)
        assert_false(ipm_dedup_check(&d, i, "bob", 3, "pc2", 3));
    assert_true(ipm_dedup_check(&d, 2, "alice", 5, "pc1", 3));
    assert_true(ipm_dedup_check(&d, 5995, "bob", 3, "pc2", 3));
    /* One more evicts the oldest (alice 2); the chains stay consistent after evictions. */
    assert_false(ipm_dedup_check(&d, 9999, "bob", 3, "pc2", 3));
    assert_false(ipm_dedup_check(&d, 2, "alice", 5, "pc1", 3));
    assert_true(ipm_dedup_check(&d, 1000 + 4000, "bob", 3, "pc2", 3));
    ipm_dedup_free(&d);
}

/* ---- users ---- */

static ipm_user_info info(const char *user, const char *host, const char *nick, uint32_t ip,
                          const char *uuid)
{
    ipm_user_info i = {.user = user,
                       .host = host,
                       .nickname = nick,
                       .group = "",
                       .uuid = uuid,
                       .addr = {ip, 2425},
                       .status = IPMSG_CAPUTF8OPT,
                       .presence = IPM_ONLINE};
    return i;
}

#define UUID_A "0b7e4d32-3b4e-4c55-9d0c-5f0e7a1b2c3d"
#define UUID_B "1c8f5e43-4c5f-4d66-8e1d-6a1f8b2c3d4e"

static void test_users_upsert(void **state)
{
    (void)state;
    ipm_users t;
    ipm_users_init(&t);
    ipm_user *u;
    char *moved;
    ipm_user_info a = info("alice", "pc1", "Alice", IP(127, 0, 0, 2), UUID_A);
    assert_int_equal(ipm_users_upsert(&t, &a, 1000, &u, &moved), IPM_UPSERT_NEW);
    assert_string_equal(u->key, "alice@pc1");
    assert_true(u->utf8);
    assert_int_equal(ipm_users_upsert(&t, &a, 1001, &u, &moved), IPM_UPSERT_SAME);
    assert_int_equal(u->last_seen, 1001);
    assert_int_equal(u->first_seen, 1000);
    /* case-insensitive key, like Windows' IsSameHost */
    assert_ptr_equal(ipm_users_find(&t, "ALICE", "Pc1"), u);
    assert_ptr_equal(ipm_users_find_key(&t, "Alice@PC1"), u);
    a.presence = IPM_ABSENT;
    assert_int_equal(ipm_users_upsert(&t, &a, 1002, &u, &moved), IPM_UPSERT_CHANGED);
    assert_int_equal(u->presence, IPM_ABSENT);
    a.nickname = "Alice W.";
    assert_int_equal(ipm_users_upsert(&t, &a, 1003, &u, &moved), IPM_UPSERT_CHANGED);
    assert_string_equal(u->nickname, "Alice W.");
    ipm_user_info bad = info("", "pc1", "x", 1, NULL);
    assert_int_equal(ipm_users_upsert(&t, &bad, 1, &u, &moved), IPM_UPSERT_ERROR);
    ipm_users_free(&t);
}

static void test_users_uuid_merge(void **state)
{
    (void)state;
    ipm_users t;
    ipm_users_init(&t);
    ipm_user *u;
    char *moved = NULL;
    ipm_user_info old = info("alice", "oldpc", "Alice", IP(127, 0, 0, 2), UUID_A);
    ipm_user_info other = info("bob", "pc2", "Bob", IP(127, 0, 0, 3), UUID_B);
    ipm_user_info plain = info("carol", "pc3", "Carol", IP(127, 0, 0, 4), NULL);
    assert_int_equal(ipm_users_upsert(&t, &old, 500, NULL, NULL), IPM_UPSERT_NEW);
    assert_int_equal(ipm_users_upsert(&t, &other, 600, NULL, NULL), IPM_UPSERT_NEW);
    assert_int_equal(ipm_users_upsert(&t, &plain, 700, NULL, NULL), IPM_UPSERT_NEW);
    /* Same identity, new PC: the old entry is replaced, not kept as a ghost. */
    ipm_user_info moved_in = info("alice", "newpc", "Alice", IP(127, 0, 0, 9), UUID_A);
    assert_int_equal(ipm_users_upsert(&t, &moved_in, 900, &u, &moved), IPM_UPSERT_MOVED);
    assert_string_equal(moved, "alice@oldpc");
    free(moved);
    assert_int_equal(t.n, 3);
    assert_null(ipm_users_find(&t, "alice", "oldpc"));
    assert_ptr_equal(ipm_users_find_uuid(&t, UUID_A), u);
    assert_int_equal(u->first_seen, 500); /* history of the person kept */
    assert_int_equal(u->last_seen, 900);
    /* Without a UUID nothing merges (other IPMsg clients). */
    ipm_user_info plain2 = info("carol", "pc4", "Carol", IP(127, 0, 0, 5), NULL);
    assert_int_equal(ipm_users_upsert(&t, &plain2, 950, NULL, &moved), IPM_UPSERT_NEW);
    assert_null(moved);
    assert_int_equal(t.n, 4);
    ipm_users_free(&t);
}

static void test_users_sorted(void **state)
{
    (void)state;
    ipm_users t;
    ipm_users_init(&t);
    ipm_user_info v[] = {
        info("u1", "h", "zed", IP(10, 0, 0, 1), NULL),
        info("u2", "h", "Amy", IP(10, 0, 0, 9), NULL),
        info("u3", "h", "amy", IP(10, 0, 0, 2), NULL),
        info("u4", "h", "Bob", IP(10, 0, 0, 3), NULL),
    };
    v[0].group = "Admin";
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(ipm_users_upsert(&t, &v[i], 1, NULL, NULL), IPM_UPSERT_NEW);
    ipm_user **s = ipm_users_sorted(&t);
    assert_non_null(s);
    /* group "" first, then nickname case-insensitively, then address */
    assert_string_equal(s[0]->key, "u3@h");
    assert_string_equal(s[1]->key, "u2@h");
    assert_string_equal(s[2]->key, "u4@h");
    assert_string_equal(s[3]->key, "u1@h");
    free(s);
    json_t *j = ipm_user_json(t.v[0]);
    assert_string_equal(json_string_value(json_object_get(j, "address")), "10.0.0.1:2425");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "online");
    json_decref(j);
    ipm_users_free(&t);
}

/* ---- resolve ---- */

static void test_resolve(void **state)
{
    (void)state;
    ipm_users t;
    ipm_users_init(&t);
    ipm_user_info v[] = {
        info("alice", "pc1", "Alice", IP(127, 0, 0, 2), NULL),
        info("bob", "pc2", "Bob", IP(127, 0, 0, 3), NULL),
        info("bob", "pc3", "Robert", IP(127, 0, 0, 4), NULL),
        info("dan", "pc5", "Sam", IP(127, 0, 0, 6), NULL),
        info("eve", "pc6", "Sam", IP(127, 0, 0, 7), NULL),
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        ipm_users_upsert(&t, &v[i], 1, NULL, NULL);
    ipm_user *u;
    ipm_addr a;
    char err[256];
    assert_int_equal(ipm_resolve(&t, "ALICE@pc1", 2425, &u, &a, err, sizeof err), IPM_RESOLVE_USER);
    assert_string_equal(u->key, "alice@pc1");
    assert_int_equal(ipm_resolve(&t, "127.0.0.3", 2425, &u, &a, err, sizeof err), IPM_RESOLVE_USER);
    assert_string_equal(u->key, "bob@pc2");
    assert_int_equal(ipm_resolve(&t, "127.0.0.3:9", 2425, &u, &a, err, sizeof err),
                     IPM_RESOLVE_ADDR);
    assert_null(u);
    assert_int_equal(a.port, 9);
    assert_int_equal(ipm_resolve(&t, "Robert", 2425, &u, &a, err, sizeof err), IPM_RESOLVE_USER);
    assert_string_equal(u->key, "bob@pc3");
    assert_int_equal(ipm_resolve(&t, "alice", 2425, &u, &a, err, sizeof err), IPM_RESOLVE_USER);
    /* two users share the nickname / logon name: refused, with the keys to choose from */
    assert_int_equal(ipm_resolve(&t, "Sam", 2425, &u, &a, err, sizeof err), IPM_RESOLVE_AMBIGUOUS);
    assert_non_null(strstr(err, "dan@pc5"));
    assert_non_null(strstr(err, "eve@pc6"));
    assert_int_equal(ipm_resolve(&t, "bob", 2425, &u, &a, err, sizeof err),
                     IPM_RESOLVE_USER); /* nickname "Bob" wins before logon names */
    assert_string_equal(u->key, "bob@pc2");
    assert_int_equal(ipm_resolve(&t, "nobody", 2425, &u, &a, err, sizeof err), IPM_RESOLVE_UNKNOWN);
    assert_non_null(strstr(err, "nobody"));
    assert_int_equal(ipm_resolve(&t, "x@y", 2425, &u, &a, err, sizeof err), IPM_RESOLVE_UNKNOWN);
    assert_int_equal(ipm_resolve(&t, "", 2425, &u, &a, err, sizeof err), IPM_RESOLVE_UNKNOWN);
    ipm_users_free(&t);
}

/* Fingerprinted names (§6.4): keys leave the field out, lookups accept it or not. */
static void test_resolve_fingerprinted(void **state)
{
    (void)state;
    ipm_users t;
    ipm_users_init(&t);
    ipm_user_info v[] = {
        info("carol-<0123456789abcdef>", "pc1", "Carol", IP(127, 0, 0, 2), NULL),
        info("erin", "pc3", "E", IP(127, 0, 0, 5), NULL),
        info("frank-<0123>", "pc4", "F", IP(127, 0, 0, 7), NULL),
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        ipm_users_upsert(&t, &v[i], 1, NULL, NULL);
    ipm_user *u;
    ipm_addr a;
    char err[256];
    assert_int_equal(ipm_resolve(&t, "carol@pc1", 2425, &u, &a, err, sizeof err), IPM_RESOLVE_USER);
    assert_string_equal(u->key, "carol@pc1");
    assert_string_equal(u->user, "carol-<0123456789abcdef>");
    assert_int_equal(ipm_resolve(&t, "CAROL@PC1", 2425, &u, &a, err, sizeof err), IPM_RESOLVE_USER);
    assert_int_equal(ipm_resolve(&t, "carol-<0123456789ABCDEF>@pc1", 2425, &u, &a, err, sizeof err),
                     IPM_RESOLVE_USER);
    assert_int_equal(ipm_resolve(&t, "carol-<fedcba9876543210>@pc1", 2425, &u, &a, err, sizeof err),
                     IPM_RESOLVE_USER);
    assert_int_equal(ipm_resolve(&t, "carol", 2425, &u, &a, err, sizeof err), IPM_RESOLVE_USER);
    assert_string_equal(u->key, "carol@pc1");
    assert_int_equal(ipm_resolve(&t, "carol@pc9", 2425, &u, &a, err, sizeof err),
                     IPM_RESOLVE_UNKNOWN);
    assert_non_null(ipm_users_find(&t, "carol", "PC1"));
    assert_non_null(ipm_users_find(&t, "carol-<0123456789abcdef>", "pc1"));
    /* Not a fingerprint field: part of the name. */
    assert_int_equal(ipm_resolve(&t, "frank@pc4", 2425, &u, &a, err, sizeof err),
                     IPM_RESOLVE_UNKNOWN);
    assert_int_equal(ipm_resolve(&t, "frank-<0123>@pc4", 2425, &u, &a, err, sizeof err),
                     IPM_RESOLVE_USER);
    /* The same person turning encryption on (or a new key pair): one entry,
     * the name on the wire follows. */
    ipm_user_info again[] = {
        info("erin-<0123456789abcdef>", "pc3", "E", IP(127, 0, 0, 5), NULL),
        info("carol-<fedcba9876543210>", "pc1", "Carol", IP(127, 0, 0, 2), NULL),
    };
    assert_int_equal(ipm_users_upsert(&t, &again[0], 2, &u, NULL), IPM_UPSERT_CHANGED);
    assert_string_equal(u->key, "erin@pc3");
    assert_string_equal(u->user, "erin-<0123456789abcdef>");
    assert_int_equal(ipm_users_upsert(&t, &again[1], 2, &u, NULL), IPM_UPSERT_CHANGED);
    assert_string_equal(u->user, "carol-<fedcba9876543210>");
    assert_int_equal(t.n, 3);
    assert_ptr_equal(ipm_users_find_key(&t, "erin@pc3"), ipm_users_find(&t, "erin", "pc3"));
    char *k = ipm_key_make("dave-<0123456789abcdef>", "pc2");
    assert_string_equal(k, "dave@pc2");
    free(k);
    ipm_users_free(&t);
}

/* ---- inbox ---- */

static ipm_msg *msg(uint32_t id, const char *text)
{
    ipm_msg *m = calloc(1, sizeof(*m));
    m->id = id;
    m->from = strdup("alice@pc1");
    m->nickname = strdup("Alice");
    m->text = strdup(text);
    return m;
}

static void test_inbox(void **state)
{
    (void)state;
    ipm_inbox b;
    ipm_inbox_init(&b, 3);
    for (uint32_t i = 1; i <= 5; i++)
        assert_non_null(ipm_inbox_add(&b, msg(i, "hi")));
    assert_int_equal(b.n, 3);
    assert_int_equal(b.evicted, 2);
    assert_null(ipm_inbox_find(&b, 2)); /* oldest left first */
    ipm_msg *m = ipm_inbox_find(&b, 4);
    assert_non_null(m);
    assert_int_equal(ipm_inbox_unread(&b), 3);
    m->opened = true;
    m->sealed = true;
    assert_int_equal(ipm_inbox_unread(&b), 2);
    json_t *j = ipm_msg_json(m, false);
    assert_null(json_object_get(j, "text"));
    assert_true(json_is_true(json_object_get(j, "sealed")));
    json_decref(j);
    j = ipm_msg_json(m, true);
    assert_string_equal(json_string_value(json_object_get(j, "text")), "hi");
    json_decref(j);
    ipm_inbox_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_addrlist_hosts),
        cmocka_unit_test(test_addrlist_wildcards),
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_dedup_reserve_burst),
        cmocka_unit_test(test_users_upsert),
        cmocka_unit_test(test_users_uuid_merge),
        cmocka_unit_test(test_users_sorted),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_resolve_fingerprinted),
        cmocka_unit_test(test_inbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
