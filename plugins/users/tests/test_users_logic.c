/*
 * Unit tests of the directory's pure logic (plugins/users/src): entries and
 * addresses, the hash-indexed directory and its invariants, the display
 * order, name resolution, presence events (new, update, the UUID merge with
 * no ghost), priority and hiding, the low -> medium promotion, expiry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_text.h"

#include "dir.h"
#include "rules.h"
#include "user.h"

#define UUID_A "6f1c2a9e-8b1d-4c3e-9f7a-2b4c6d8e0f12"
#define UUID_B "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

/* Applies a presence payload given as JSON text; fails the test on a parse error. */
static us_applied apply_json(us_dir *d, const char *text, int64_t now, us_level level)
{
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    if (!o)
        fail_msg("bad test JSON: %s: %s", jerr.text, text);
    us_event ev;
    char err[256];
    if (us_event_parse(o, &ev, err, sizeof err) != 0)
        fail_msg("event refused: %s: %s", err, text);
    us_applied r = us_dir_apply(d, &ev, now, level);
    json_decref(o);
    return r;
}

static void applied_free(us_applied *r)
{
    free(r->merged_from);
    r->merged_from = NULL;
}

/* Every entry is found by its key and UUID; no two share either. */
static void check_invariants(const us_dir *d)
{
    for (size_t i = 0; i < d->n; i++) {
        const us_user *u = d->v[i];
        assert_int_equal(u->index, i);
        assert_ptr_equal(us_dir_find_key(d, u->key), u);
        if (u->uuid[0])
            assert_ptr_equal(us_dir_find_uuid(d, u->uuid), u);
        for (size_t j = i + 1; j < d->n; j++) {
            assert_true(strcasecmp(u->key, d->v[j]->key) != 0);
            if (u->uuid[0])
                assert_true(strcmp(u->uuid, d->v[j]->uuid) != 0);
        }
    }
}

/* ---- user.c ---- */

static void test_names_and_parsing(void **state)
{
    (void)state;
    us_level l;
    us_status s;
    assert_int_equal(us_level_parse("highest", &l), 0);
    assert_int_equal(l, US_HIGHEST);
    assert_int_equal(us_level_parse("low", &l), 0);
    assert_int_equal(l, US_LOW);
    assert_int_equal(us_level_parse("hidden", &l), -1);
    assert_int_equal(us_level_parse("Medium", &l), -1);
    assert_int_equal(us_level_parse(NULL, &l), -1);
    assert_string_equal(us_level_name(US_HIGH), "high");
    assert_int_equal(us_status_parse("absent", &s), 0);
    assert_int_equal(s, US_ABSENT);
    assert_int_equal(us_status_parse("away", &s), -1);
    assert_string_equal(us_status_name(US_OFFLINE), "offline");
    assert_true(us_uuid_valid(UUID_A));
    assert_true(us_uuid_valid("6F1C2A9E-8B1D-4C3E-9F7A-2B4C6D8E0F12"));
    assert_false(us_uuid_valid("6f1c2a9e8b1d4c3e9f7a2b4c6d8e0f12"));
    assert_false(us_uuid_valid("6f1c2a9e-8b1d-4c3e-9f7a-2b4c6d8e0f1g"));
    assert_false(us_uuid_valid(""));

    uint32_t ip;
    uint16_t port;
    bool has_port;
    assert_int_equal(us_addr_parse("127.0.0.3:24250", &ip, &port, &has_port), 0);
    assert_int_equal(ip, 0x7f000003u);
    assert_int_equal(port, 24250);
    assert_true(has_port);
    assert_int_equal(us_addr_parse("10.0.0.1", &ip, &port, &has_port), 0);
    assert_false(has_port);
    static const char *const bad[] = {"",         "1.2.3",     "1.2.3.4.5",     "256.1.1.1",
                                      "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "01.2.3.4",
                                      "a.b.c.d",  " 1.2.3.4",  "bob@host"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(us_addr_parse(bad[i], &ip, &port, &has_port), -1);
}

static void test_address_history(void **state)
{
    (void)state;
    us_user *u = us_user_new("bob", "pc");
    assert_non_null(u);
    assert_string_equal(u->key, "bob@pc");
    assert_null(us_user_new("", "pc"));
    assert_int_equal(us_user_set_address(u, "10.0.0.1:2425"), 1);
    assert_int_equal(us_user_set_address(u, "10.0.0.1:2425"), 0);
    assert_int_equal(us_user_set_address(u, "not an address"), -1);
    assert_string_equal(u->address, "10.0.0.1:2425"); /* kept */
    char a[32];
    for (int i = 2; i <= 12; i++) {
        snprintf(a, sizeof a, "10.0.0.%d:2425", i);
        assert_int_equal(us_user_set_address(u, a), 1);
    }
    assert_int_equal(json_array_size(u->addresses), US_MAX_ADDRS);
    assert_string_equal(json_string_value(json_array_get(u->addresses, 0)), "10.0.0.12:2425");
    /* An address seen before moves to the front, once. */
    assert_int_equal(us_user_set_address(u, "10.0.0.8:2425"), 1);
    assert_string_equal(json_string_value(json_array_get(u->addresses, 0)), "10.0.0.8:2425");
    assert_int_equal(json_array_size(u->addresses), US_MAX_ADDRS);

    us_user *c = us_user_clone(u);
    assert_non_null(c);
    assert_ptr_not_equal(c->addresses, u->addresses);
    assert_true(json_equal(c->addresses, u->addresses));
    json_t *j = us_user_json(u);
    assert_string_equal(json_string_value(json_object_get(j, "priority")), "medium");
    assert_false(json_is_true(json_object_get(j, "hidden")));
    assert_null(json_object_get(j, "uuid"));
    /* The JSON is a copy: later changes to the entry do not show in it. */
    us_user_set_address(u, "10.9.9.9:1");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "addresses"), 0)),
                        "10.0.0.8:2425");
    json_decref(j);
    us_user_free(c);
    us_user_free(u);
}

/* users.list writes entries as text (us_user_write_json): it must say what us_user_json says. */
static void assert_text_matches_tree(const us_user *u)
{
    dg_jt w;
    dg_jt_init(&w, 0);
    us_user_write_json(u, &w);
    size_t len = 0;
    char *text = dg_jt_finish(&w, &len);
    assert_non_null(text);
    json_t *parsed = json_loadb(text, len, 0, NULL);
    json_t *tree = us_user_json(u);
    assert_non_null(parsed);
    if (!json_equal(parsed, tree)) {
        char *want = json_dumps(tree, JSON_COMPACT);
        fail_msg("text %s\ntree %s", text, want);
    }
    json_decref(parsed);
    json_decref(tree);
    free(text);
}

static void test_list_text_matches_json(void **state)
{
    (void)state;
    us_user *u = us_user_new("bob", "pc");
    assert_non_null(u);
    assert_text_matches_tree(u); /* fresh: empty strings and arrays, no optional keys */
    assert_int_equal(us_user_set_address(u, "10.0.0.1:2425"), 1);
    assert_int_equal(us_user_set_address(u, "10.0.0.2:2425"), 1);
    assert_int_equal(us_set_str(&u->nickname, "ボブ \"the\" \\ builder\n"), 1);
    assert_int_equal(us_set_str(&u->group, "営業部"), 1);
    assert_int_equal(us_set_opt(&u->version, "1_iptux 0.8.3"), 1);
    assert_int_equal(us_set_opt(&u->absence, "lunch\tbreak"), 1);
    json_array_append_new(u->caps, json_string("utf8"));
    json_array_append_new(u->caps, json_string("encrypt"));
    snprintf(u->uuid, sizeof u->uuid, "%s", "597ba628-43d8-4ea4-82cc-371768191656");
    u->status = US_ABSENT;
    u->priority = US_HIGHEST;
    u->hidden = true;
    u->first_seen = 1;
    u->last_seen = 1795273662;
    u->first_exchange = 1795273000;
    assert_text_matches_tree(u);
    us_user_free(u);
}

/* ---- dir.c ---- */

static void test_dir_index(void **state)
{
    (void)state;
    us_dir d;
    us_dir_init(&d);
    char user[32];
    /* Enough entries to rehash several times. */
    for (int i = 0; i < 1000; i++) {
        snprintf(user, sizeof user, "user%d", i);
        us_user *u = us_user_new(user, "Host");
        assert_int_equal(us_dir_add(&d, u), 0);
        if (i % 3 == 0) {
            char uuid[40];
            snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", i);
            assert_int_equal(us_dir_set_uuid(&d, u, uuid), 0);
        }
    }
    check_invariants(&d);
    assert_non_null(us_dir_find_key(&d, "USER7@host"));
    assert_null(us_dir_find_key(&d, "user7@other"));
    assert_non_null(us_dir_find_uuid(&d, "00000000-0000-4000-8000-000000000999"));

    /* A key or UUID already there is refused. */
    us_user *dup = us_user_new("USER1", "HOST");
    assert_int_equal(us_dir_add(&d, dup), -1);
    us_user_free(dup);
    us_user *u3 = us_dir_find_key(&d, "user3@host");
    us_user *u6 = us_dir_find_key(&d, "user6@host");
    assert_int_equal(us_dir_set_uuid(&d, u3, u6->uuid), -1);
    assert_int_equal(us_dir_set_uuid(&d, u3, "nonsense"), -1);
    assert_int_equal(us_dir_set_uuid(&d, u3, "00000000-0000-4000-8000-ABCDEF000000"), 0);
    assert_string_equal(u3->uuid, "00000000-0000-4000-8000-abcdef000000"); /* lowercase */
    assert_ptr_equal(us_dir_find_uuid(&d, "00000000-0000-4000-8000-ABCDEF000000"), u3);

    /* Rekey: found under the new key only; a taken key is refused. */
    assert_int_equal(us_dir_rekey(&d, u3, "user4", "host"), -1);
    assert_int_equal(us_dir_rekey(&d, u3, "user3", "newpc"), 0);
    assert_null(us_dir_find_key(&d, "user3@host"));
    assert_ptr_equal(us_dir_find_key(&d, "user3@NEWPC"), u3);

    /* Detach keeps the others findable (swap removal). */
    for (int i = 0; i < 1000; i += 2) {
        snprintf(user, sizeof user, "user%d@host", i);
        us_user *u = us_dir_find_key(&d, user);
        if (u)
            us_user_free(us_dir_detach(&d, u));
    }
    assert_int_equal(d.n, 500);
    check_invariants(&d);
    us_dir_free(&d);
}

static us_user *add_user(us_dir *d, const char *user, const char *nick, const char *group,
                         const char *addr, us_level level)
{
    us_user *u = us_user_new(user, "pc");
    us_set_str(&u->nickname, nick);
    us_set_str(&u->group, group);
    if (addr)
        us_user_set_address(u, addr);
    u->priority = level;
    assert_int_equal(us_dir_add(d, u), 0);
    return u;
}

static void test_sort_order(void **state)
{
    (void)state;
    us_dir d;
    us_dir_init(&d);
    add_user(&d, "g", "Zed", "", "10.0.0.9:2425", US_LOW);
    add_user(&d, "f", "amy", "sales", "10.0.0.2:2425", US_MEDIUM);
    add_user(&d, "e", "Amy", "sales", "10.0.0.10:2425", US_MEDIUM); /* numeric: .2 < .10 */
    add_user(&d, "d", "bob", "Dev", NULL, US_MEDIUM);
    add_user(&d, "c", "", "dev", "10.0.0.1:2425", US_MEDIUM); /* no nickname: logon name "c" */
    add_user(&d, "b", "Yves", "zzz", NULL, US_HIGH);
    add_user(&d, "a", "Xia", "zzz", NULL, US_HIGHEST);
    us_user **v = us_dir_sorted(&d);
    const char *want[] = {"a@pc", "b@pc", "d@pc", "c@pc", "f@pc", "e@pc", "g@pc"};
    for (size_t i = 0; i < d.n; i++)
        assert_string_equal(v[i]->key, want[i]);
    free(v);
    us_dir_free(&d);
    us_dir_init(&d);
    assert_null(us_dir_sorted(&d));
}

static void test_resolve(void **state)
{
    (void)state;
    us_dir d;
    us_dir_init(&d);
    us_user *bob = add_user(&d, "bob", "Bob", "", "10.0.0.2:2425", US_MEDIUM);
    us_user *bob2 = us_user_new("bob", "laptop");
    us_set_str(&bob2->nickname, "Robert");
    us_user_set_address(bob2, "10.0.0.3:2425");
    assert_int_equal(us_dir_add(&d, bob2), 0);
    us_user *ann = add_user(&d, "ann", "Ann", "", "10.0.0.4:2425", US_MEDIUM);
    us_user *ann2 = add_user(&d, "ann2", "ann", "", "10.0.0.4:2426", US_MEDIUM);
    us_user *u;
    char err[512];
    assert_int_equal(us_dir_resolve(&d, "BOB@PC", &u, err, sizeof err), US_RESOLVE_OK);
    assert_ptr_equal(u, bob);
    assert_int_equal(us_dir_resolve(&d, "10.0.0.3", &u, err, sizeof err), US_RESOLVE_OK);
    assert_ptr_equal(u, bob2);
    assert_int_equal(us_dir_resolve(&d, "10.0.0.4:2426", &u, err, sizeof err), US_RESOLVE_OK);
    assert_ptr_equal(u, ann2);
    assert_int_equal(us_dir_resolve(&d, "10.0.0.4", &u, err, sizeof err), US_RESOLVE_AMBIGUOUS);
    assert_non_null(strstr(err, "ann@pc"));
    assert_non_null(strstr(err, "ann2@pc"));
    assert_int_equal(us_dir_resolve(&d, "10.0.0.99", &u, err, sizeof err), US_RESOLVE_UNKNOWN);
    assert_non_null(strstr(err, "nobody known at 10.0.0.99"));
    /* Exact nickname before case-insensitive. */
    assert_int_equal(us_dir_resolve(&d, "Ann", &u, err, sizeof err), US_RESOLVE_OK);
    assert_ptr_equal(u, ann);
    assert_int_equal(us_dir_resolve(&d, "robert", &u, err, sizeof err), US_RESOLVE_OK);
    assert_ptr_equal(u, bob2);
    /* Logon name shared by two users: ambiguous, both keys listed. */
    assert_int_equal(us_dir_resolve(&d, "bob", &u, err, sizeof err), US_RESOLVE_OK);
    assert_ptr_equal(u, bob); /* "bob" is Bob's nickname, case-insensitively */
    us_set_str(&bob->nickname, "B.");
    assert_int_equal(us_dir_resolve(&d, "bob", &u, err, sizeof err), US_RESOLVE_AMBIGUOUS);
    assert_non_null(strstr(err, "matches 2 users"));
    assert_non_null(strstr(err, "bob@laptop"));
    assert_int_equal(us_dir_resolve(&d, "nobody", &u, err, sizeof err), US_RESOLVE_UNKNOWN);
    assert_non_null(strstr(err, "unknown user 'nobody'"));
    assert_int_equal(us_dir_resolve(&d, "", &u, err, sizeof err), US_RESOLVE_UNKNOWN);
    us_dir_free(&d);
}

/* ---- rules.c: events ---- */

static void test_event_parse_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "[]",
        "{}",
        "{\"user\":\"\",\"host\":\"h\"}",
        "{\"user\":\"u\",\"host\":\"a@b\"}",
        "{\"user\":\"u\",\"host\":\"h\",\"key\":\"x@h\"}",
        "{\"user\":\"u\",\"host\":\"h\",\"status\":\"away\"}",
        "{\"user\":\"u\",\"host\":\"h\",\"nickname\":5}",
        "{\"user\":\"u\",\"host\":\"h\",\"address\":\"999.1.1.1:1\"}",
        "{\"user\":\"u\",\"host\":\"h\",\"uuid\":\"not-a-uuid\"}",
        "{\"user\":\"u\",\"host\":\"h\",\"capabilities\":\"utf8\"}",
        "{\"user\":\"u\",\"host\":\"h\",\"capabilities\":[\"UTF 8\"]}",
        "{\"user\":\"u\",\"host\":\"h\",\"utf8\":\"yes\"}",
        "{\"user\":\"u\\u0000x\",\"host\":\"h\"}",
    };
    us_event ev;
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *o = json_loads(bad[i], JSON_ALLOW_NUL, NULL);
        assert_non_null(o);
        err[0] = '\0';
        assert_int_equal(us_event_parse(o, &ev, err, sizeof err), -1);
        assert_true(err[0] != '\0');
        json_decref(o);
    }
    /* Too long a nickname. */
    char *big = malloc(US_TEXT_MAX + 2);
    memset(big, 'x', US_TEXT_MAX + 1);
    big[US_TEXT_MAX + 1] = '\0';
    json_t *o = json_pack("{s:s, s:s, s:s}", "user", "u", "host", "h", "nickname", big);
    assert_int_equal(us_event_parse(o, &ev, err, sizeof err), -1);
    assert_non_null(strstr(err, "nickname"));
    json_decref(o);
    free(big);
    /* What ipmsg sends (docs/events.md) is fine; the key may differ in case. */
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:I}", "key", "Bob@PC", "user", "bob",
                  "host", "pc", "address", "127.0.0.3:24250", "status", "online", "utf8", 1, "uuid",
                  UUID_A, "last_seen", (json_int_t)1000);
    assert_int_equal(us_event_parse(o, &ev, err, sizeof err), 0);
    assert_int_equal(ev.utf8, 1);
    assert_int_equal(ev.last_seen, 1000);
    assert_true(ev.has_status);
    json_decref(o);
}

static void test_new_update_offline(void **state)
{
    (void)state;
    us_dir d;
    us_dir_init(&d);
    us_applied r =
        apply_json(&d,
                   "{\"key\":\"bob@pc\",\"user\":\"bob\",\"host\":\"pc\","
                   "\"nickname\":\"Bob\",\"group\":\"Dev\",\"address\":\"10.0.0.2:2425\","
                   "\"status\":\"online\",\"utf8\":true,\"version\":\"dengon 0.1\","
                   "\"change\":\"new\"}",
                   100, US_LOW);
    assert_int_equal(r.change, US_CHANGE_NEW);
    us_user *u = r.user;
    assert_int_equal(u->priority, US_LOW); /* users.new_priority */
    assert_int_equal(u->first_seen, 100);
    assert_int_equal(u->last_seen, 100);
    assert_string_equal(json_string_value(json_array_get(u->caps, 0)), "utf8");
    assert_string_equal(u->version, "dengon 0.1");

    /* Same again later: nothing visible, last_seen moves. */
    r = apply_json(&d, "{\"user\":\"BOB\",\"host\":\"PC\",\"status\":\"online\"}", 150, US_MEDIUM);
    assert_int_equal(r.change, US_CHANGE_NONE);
    assert_ptr_equal(r.user, u);
    assert_int_equal(u->last_seen, 150);
    assert_int_equal(u->first_seen, 100);

    /* Absent with a text, then back: the text goes. Explicit capabilities win over utf8. */
    r = apply_json(&d,
                   "{\"user\":\"bob\",\"host\":\"pc\",\"status\":\"absent\",\"absence\":\"lunch\","
                   "\"capabilities\":[\"utf8\",\"file\",\"utf8\"]}",
                   160, US_MEDIUM);
    assert_int_equal(r.change, US_CHANGE_UPDATED);
    assert_string_equal(u->absence, "lunch");
    assert_int_equal(json_array_size(u->caps), 2);
    r = apply_json(&d, "{\"user\":\"bob\",\"host\":\"pc\",\"status\":\"online\"}", 170, US_MEDIUM);
    assert_int_equal(r.change, US_CHANGE_UPDATED);
    assert_null(u->absence);

    /* BR_EXIT: offline; an older time never moves last_seen back. */
    r = apply_json(&d, "{\"user\":\"bob\",\"host\":\"pc\",\"status\":\"offline\"}", 120, US_MEDIUM);
    assert_int_equal(r.change, US_CHANGE_UPDATED);
    assert_int_equal(u->status, US_OFFLINE);
    assert_int_equal(u->last_seen, 170);
    assert_int_equal(d.n, 1);
    us_dir_free(&d);
}

static void test_merge_same_uuid_new_host(void **state)
{
    (void)state;
    us_dir d;
    us_dir_init(&d);
    us_applied r = apply_json(&d,
                              "{\"user\":\"dave\",\"host\":\"oldpc\",\"nickname\":\"Dave\","
                              "\"address\":\"10.0.0.5:2425\",\"status\":\"online\","
                              "\"uuid\":\"" UUID_A "\"}",
                              100, US_MEDIUM);
    us_user *old = r.user;
    assert_int_equal(us_user_set_level(old, "high"), 1);
    us_dir_exchange(&d, "dave@oldpc", 110, NULL);
    assert_int_equal(us_user_set_level(old, "hidden"), 1);

    /* The same identity (UUID in upper case) on a new PC: one entry, the old settings kept. */
    r = apply_json(&d,
                   "{\"user\":\"dave\",\"host\":\"newpc\",\"nickname\":\"Dave\","
                   "\"address\":\"10.0.0.6:2425\",\"status\":\"online\","
                   "\"uuid\":\"6F1C2A9E-8B1D-4C3E-9F7A-2B4C6D8E0F12\",\"change\":\"new\"}",
                   200, US_LOW);
    assert_int_equal(r.change, US_CHANGE_MERGED);
    assert_string_equal(r.merged_from, "dave@oldpc");
    assert_ptr_equal(r.user, old);
    assert_int_equal(d.n, 1);
    assert_null(us_dir_find_key(&d, "dave@oldpc"));
    us_user *u = us_dir_find_key(&d, "dave@newpc");
    assert_ptr_equal(u, old);
    assert_int_equal(u->priority, US_HIGH);
    assert_true(u->hidden);
    assert_int_equal(u->first_seen, 100);
    assert_int_equal(u->first_exchange, 110);
    assert_int_equal(u->last_seen, 200);
    assert_string_equal(u->address, "10.0.0.6:2425");
    assert_int_equal(json_array_size(u->addresses), 1); /* the old PC's address is gone */
    check_invariants(&d);
    applied_free(&r);

    /* A "moved" event naming an entry without UUID (filed before it had one) merges too. */
    r = apply_json(&d,
                   "{\"user\":\"eve\",\"host\":\"a\",\"nickname\":\"Eve\",\"status\":\"online\"}",
                   300, US_MEDIUM);
    us_user_set_level(r.user, "highest");
    r = apply_json(&d,
                   "{\"user\":\"eve\",\"host\":\"b\",\"status\":\"online\",\"uuid\":\"" UUID_B
                   "\",\"change\":\"moved\",\"moved_from\":\"eve@a\"}",
                   400, US_MEDIUM);
    assert_int_equal(r.change, US_CHANGE_MERGED);
    assert_string_equal(r.merged_from, "eve@a");
    assert_int_equal(r.user->priority, US_HIGHEST);
    assert_string_equal(r.user->uuid, UUID_B);
    applied_free(&r);
    /* moved_from naming someone with another identity is not merged. */
    r = apply_json(&d,
                   "{\"user\":\"eve\",\"host\":\"c\",\"status\":\"online\","
                   "\"uuid\":\"11111111-2222-4333-8444-555555555555\",\"change\":\"moved\","
                   "\"moved_from\":\"eve@b\"}",
                   410, US_MEDIUM);
    assert_int_equal(r.change, US_CHANGE_NEW);
    assert_int_equal(d.n, 3);
    check_invariants(&d);

    /*
     * The person comes back to a key held by someone else (another identity):
     * the person wins, whoever was there is replaced, still no duplicate.
     */
    r = apply_json(
        &d, "{\"user\":\"eve\",\"host\":\"c\",\"status\":\"online\",\"uuid\":\"" UUID_B "\"}", 500,
        US_MEDIUM);
    assert_int_equal(r.change, US_CHANGE_MERGED);
    assert_string_equal(r.merged_from, "eve@b");
    assert_int_equal(r.user->priority, US_HIGHEST);
    assert_int_equal(d.n, 2);
    assert_null(us_dir_find_uuid(&d, "11111111-2222-4333-8444-555555555555"));
    check_invariants(&d);
    applied_free(&r);

    /* Same key, a new UUID (reinstalled without the home folder): same entry, new UUID. */
    r = apply_json(&d,
                   "{\"user\":\"dave\",\"host\":\"newpc\",\"status\":\"online\","
                   "\"uuid\":\"22222222-2222-4333-8444-555555555555\"}",
                   600, US_MEDIUM);
    assert_int_equal(r.change, US_CHANGE_UPDATED);
    assert_null(r.merged_from);
    assert_null(us_dir_find_uuid(&d, UUID_A));
    check_invariants(&d);
    us_dir_free(&d);
}

/* ---- rules.c: priority, exchange, expiry ---- */

static void test_priority_and_exchange(void **state)
{
    (void)state;
    us_dir d;
    us_dir_init(&d);
    us_user *low = add_user(&d, "low", "Low", "", "10.0.0.7:2425", US_LOW);
    us_user *high = add_user(&d, "high", "High", "", NULL, US_HIGH);
    assert_int_equal(us_user_set_level(high, "loud"), -1);
    assert_int_equal(us_user_set_level(high, "high"), 0);
    assert_int_equal(us_user_set_level(high, "hidden"), 1);
    assert_int_equal(us_user_set_level(high, "hidden"), 0);
    assert_true(high->hidden);
    assert_int_equal(high->priority, US_HIGH); /* kept while hidden */
    assert_int_equal(us_user_set_level(high, "low"), 1);
    assert_false(high->hidden);
    assert_int_equal(high->priority, US_LOW);

    /* First exchange (by address here, as a bare-address send reports it): low -> medium. */
    us_user *u;
    assert_int_equal(us_dir_exchange(&d, "10.0.0.7:2425", 50, &u), 2);
    assert_ptr_equal(u, low);
    assert_int_equal(low->priority, US_MEDIUM);
    assert_int_equal(low->first_exchange, 50);
    /* Only the first: set low again by hand, it stays low. */
    us_user_set_level(low, "low");
    assert_int_equal(us_dir_exchange(&d, "LOW@PC", 60, &u), 0);
    assert_int_equal(low->priority, US_LOW);
    /* Not low: recorded, not promoted. */
    assert_int_equal(us_dir_exchange(&d, "high@pc", 70, NULL), 2); /* high was set low above */
    us_user *x = add_user(&d, "x", "X", "", NULL, US_HIGHEST);
    assert_int_equal(us_dir_exchange(&d, "x@pc", 80, NULL), 1);
    assert_int_equal(x->priority, US_HIGHEST);
    assert_int_equal(us_dir_exchange(&d, "nobody@pc", 90, &u), 0);
    assert_null(u);
    us_dir_free(&d);
}

static void test_expiry(void **state)
{
    (void)state;
    us_dir d;
    us_dir_init(&d);
    const int64_t day = 86400, now = 100 * day;
    us_user *a = add_user(&d, "a", "A", "", NULL, US_MEDIUM);
    a->last_seen = now - 8 * day; /* gone for 8 days */
    us_user *b = add_user(&d, "b", "B", "", NULL, US_HIGHEST);
    b->last_seen = now - 6 * day;
    us_user *c = add_user(&d, "c", "C", "", NULL, US_MEDIUM);
    c->last_seen = now - 7 * day; /* exactly the limit: kept */
    us_user *e = add_user(&d, "e", "E", "", NULL, US_MEDIUM);
    e->last_seen = now - 30 * day;
    e->status = US_ONLINE; /* "online" but silent for a month: vanished without BR_EXIT */
    e->hidden = true;
    us_user **gone;
    assert_int_equal(us_dir_expire(&d, now, 0, &gone), 0); /* 0 days: never */
    assert_null(gone);
    size_t n = us_dir_expire(&d, now, 7 * day, &gone);
    assert_int_equal(n, 2);
    int seen_a = 0, seen_e = 0;
    for (size_t i = 0; i < n; i++) {
        seen_a += gone[i] == a;
        seen_e += gone[i] == e;
        us_user_free(gone[i]);
    }
    free(gone);
    assert_int_equal(seen_a + seen_e, 2);
    assert_int_equal(d.n, 2);
    assert_non_null(us_dir_find_key(&d, "b@pc"));
    assert_non_null(us_dir_find_key(&d, "c@pc"));
    check_invariants(&d);
    us_dir_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_parsing),
        cmocka_unit_test(test_address_history),
        cmocka_unit_test(test_list_text_matches_json),
        cmocka_unit_test(test_dir_index),
        cmocka_unit_test(test_sort_order),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_event_parse_errors),
        cmocka_unit_test(test_new_update_offline),
        cmocka_unit_test(test_merge_same_uuid_new_host),
        cmocka_unit_test(test_priority_and_exchange),
        cmocka_unit_test(test_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
