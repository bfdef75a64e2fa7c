/*
 * Unit tests of the room envelope (plugins/rooms/src/envelope.c): building
 * and parsing every operation, strictness on bad input, and the properties
 * the protocol relies on (ASCII header, unknown keys ignored, UUIDs folded
 * to lowercase).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"

#define ROOM "0123456789abcdef0123456789abcdef"
#define ALICE "11111111-2222-4333-8444-555555555555"
#define BOB "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

static room_env base(room_op op)
{
    room_env e;
    memset(&e, 0, sizeof e);
    e.op = op;
    e.priv = -1;
    memcpy(e.room, ROOM, sizeof e.room);
    memcpy(e.origin, ALICE, sizeof e.origin);
    e.from = "alice@pc1";
    e.nick = "Alice";
    if (room_op_logged(op)) {
        e.seq = 3;
        e.clock = 17;
        e.time = 1700000000;
    }
    return e;
}

/* Builds e, parses the result, checks the fields both sides share; returns the text. */
static char *round_trip(const room_env *e, room_env *back)
{
    char err[256] = "";
    size_t len = 0;
    char *wire = room_env_build(e, &len, err, sizeof err);
    if (!wire)
        fail_msg("build failed: %s", err);
    assert_int_equal(strlen(wire), len);
    assert_int_equal(room_env_parse(wire, len, back, err, sizeof err), ROOM_ENV_OK);
    assert_int_equal(back->op, e->op);
    assert_string_equal(back->room, e->room);
    assert_string_equal(back->origin, e->origin);
    assert_true(back->seq == e->seq && back->clock == e->clock && back->time == e->time);
    assert_int_equal(back->priv, e->priv);
    assert_int_equal(back->text_len, e->text_len);
    if (e->text_len)
        assert_memory_equal(back->text, e->text, e->text_len);
    /* The JSON line is ASCII whatever the names hold. */
    const char *nl = strchr(wire, '\n');
    assert_non_null(nl);
    for (const char *p = wire; p < nl; p++)
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
    return wire;
}

static void test_post_round_trip(void **state)
{
    (void)state;
    room_env e = base(ROOM_OP_POST), back;
    e.text = "こんにちは 🎉\nsecond line: {\"json\": 1}\n";
    e.text_len = strlen(e.text);
    e.name = "開発チーム";
    e.priv = 1;
    char *wire = round_trip(&e, &back);
    assert_memory_equal(wire, ROOM_MARKER, ROOM_MARKER_LEN);
    assert_string_equal(back.name, "開発チーム");
    assert_string_equal(back.from, "alice@pc1");
    assert_string_equal(back.nick, "Alice");
    /* Building the parsed envelope again gives the same bytes. */
    size_t len2;
    char *again = room_env_build(&back, &len2, NULL, 0);
    assert_non_null(again);
    assert_string_equal(again, wire);
    free(again);
    free(wire);
    room_env_clear(&back);
}

static void test_control_round_trips(void **state)
{
    (void)state;
    room_ref refs[2] = {{.key = "alice@pc1", .nick = "Alice"}, {.key = "bob@pc2"}};
    memcpy(refs[0].uuid, ALICE, sizeof refs[0].uuid);
    memcpy(refs[1].uuid, BOB, sizeof refs[1].uuid);

    room_env inv = base(ROOM_OP_INVITE), back;
    inv.name = "team";
    inv.priv = 1;
    inv.invited = &refs[1];
    inv.n_invited = 1;
    inv.members = refs;
    inv.n_members = 2;
    free(round_trip(&inv, &back));
    assert_int_equal(back.n_invited, 1);
    assert_string_equal(back.invited[0].uuid, BOB);
    assert_string_equal(back.invited[0].key, "bob@pc2");
    assert_null(back.invited[0].nick);
    assert_int_equal(back.n_members, 2);
    assert_string_equal(back.members[0].nick, "Alice");
    room_env_clear(&back);

    room_env ann = base(ROOM_OP_ANNOUNCE);
    ann.name = "lobby";
    ann.priv = 0;
    ann.created = 1690000000;
    ann.members = refs;
    ann.n_members = 2;
    free(round_trip(&ann, &back));
    assert_int_equal(back.created, 1690000000);
    room_env_clear(&back);

    room_env q = base(ROOM_OP_QUERY);
    q.room[0] = '\0';
    q.name = "lobby";
    free(round_trip(&q, &back));
    assert_string_equal(back.room, "");
    assert_string_equal(back.name, "lobby");
    room_env_clear(&back);

    room_have have[2] = {{.seq = 0}, {.seq = 42}};
    memcpy(have[0].uuid, ALICE, sizeof have[0].uuid);
    memcpy(have[1].uuid, BOB, sizeof have[1].uuid);
    room_env sync = base(ROOM_OP_SYNC);
    sync.have = have;
    sync.n_have = 2;
    free(round_trip(&sync, &back));
    assert_int_equal(back.n_have, 2);
    for (size_t i = 0; i < 2; i++) {
        size_t k = strcmp(back.have[i].uuid, ALICE) == 0 ? 0 : 1;
        assert_string_equal(back.have[i].uuid, have[k].uuid);
        assert_true(back.have[i].seq == have[k].seq);
    }
    room_env_clear(&back);

    /* An empty sync (a new member knows nothing yet) still carries "have". */
    sync.n_have = 0;
    char *wire = round_trip(&sync, &back);
    assert_non_null(strstr(wire, "\"have\":{}"));
    free(wire);
    room_env_clear(&back);

    room_env join = base(ROOM_OP_JOIN), leave = base(ROOM_OP_LEAVE);
    join.name = "lobby";
    free(round_trip(&join, &back));
    room_env_clear(&back);
    free(round_trip(&leave, &back));
    room_env_clear(&back);
}

static room_env_rc parse(const char *text, char *err, size_t errlen)
{
    room_env e;
    room_env_rc rc = room_env_parse(text, strlen(text), &e, err, errlen);
    if (rc == ROOM_ENV_OK)
        room_env_clear(&e);
    return rc;
}

#define HEAD "DGROOM/1 "
#define POST_OK                                                                                    \
    "{\"op\":\"post\",\"room\":\"" ROOM "\",\"origin\":\"" ALICE "\",\"from\":\"a@b\",\"seq\":1,"  \
    "\"clock\":1,\"time\":5"

static void test_not_a_room(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(parse("hello", err, sizeof err), ROOM_ENV_NOT_ROOM);
    assert_int_equal(parse("", err, sizeof err), ROOM_ENV_NOT_ROOM);
    assert_int_equal(parse("DGROOM/2 {}\n", err, sizeof err), ROOM_ENV_NOT_ROOM);
    assert_int_equal(parse("dgroom/1 {}\n", err, sizeof err), ROOM_ENV_NOT_ROOM);
    assert_int_equal(parse(HEAD POST_OK "}\nhi", err, sizeof err), ROOM_ENV_OK);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *text, *why;
    } bad[] = {
        {HEAD POST_OK "}", "line feed"},
        {HEAD POST_OK "}\n", "text"},
        {HEAD "{\n", "not JSON"},
        {HEAD "[]\nx", "not a JSON object"},
        {HEAD POST_OK ",\"seq\":2}\nx", "not JSON"},
        {HEAD "{\"op\":\"dance\"}\n", "'op'"},
        {HEAD "{\"op\":1}\n", "'op'"},
        {HEAD POST_OK ",\"name\":\"has space\"}\nx", "'name'"},
        {HEAD POST_OK ",\"name\":\"#hash\"}\nx", "'name'"},
        {HEAD POST_OK ",\"name\":\"" ROOM "\"}\nx", "'name'"},
        {HEAD POST_OK ",\"private\":\"yes\"}\nx", "'private'"},
        {HEAD POST_OK ",\"nick\":\"a\\u0007b\"}\nx", "'nick'"},
        {HEAD "{\"op\":\"post\",\"room\":\"" ROOM "\",\"origin\":\"" ALICE
              "\",\"from\":\"a@b\",\"seq\":0,\"clock\":1,\"time\":5}\nx",
         "'seq'"},
        {HEAD "{\"op\":\"post\",\"room\":\"" ROOM "\",\"origin\":\"" ALICE
              "\",\"from\":\"a@b\",\"seq\":1,\"clock\":9007199254740992,\"time\":5}\nx",
         "'clock'"},
        {HEAD "{\"op\":\"post\",\"room\":\"" ROOM "\",\"origin\":\"" ALICE
              "\",\"from\":\"a@b\",\"seq\":1,\"clock\":1}\nx",
         "'time'"},
        {HEAD "{\"op\":\"post\",\"room\":\"0123456789ABCDEF0123456789ABCDEF\",\"origin\":\"" ALICE
              "\",\"from\":\"a@b\",\"seq\":1,\"clock\":1,\"time\":5}\nx",
         "'room'"},
        {HEAD "{\"op\":\"post\",\"room\":\"" ROOM
              "\",\"origin\":\"not-a-uuid-at-all-but-36-chars-long!\",\"from\":\"a@b\",\"seq\":1,"
              "\"clock\":1,\"time\":5}\nx",
         "'origin'"},
        {HEAD "{\"op\":\"post\",\"room\":\"" ROOM "\",\"origin\":\"" ALICE
              "\",\"from\":\"nohost\",\"seq\":1,\"clock\":1,\"time\":5}\nx",
         "'from'"},
        {HEAD "{\"op\":\"post\",\"room\":\"" ROOM "\",\"origin\":\"" ALICE
              "\",\"from\":\"a:x@b\",\"seq\":1,\"clock\":1,\"time\":5}\nx",
         "'from'"},
        {HEAD "{\"op\":\"join\",\"room\":\"" ROOM "\",\"origin\":\"" ALICE
              "\",\"from\":\"a@b\",\"seq\":1,\"clock\":1,\"time\":5}\n",
         "'name'"},
        {HEAD "{\"op\":\"join\",\"room\":\"" ROOM "\",\"name\":\"x\",\"origin\":\"" ALICE
              "\",\"from\":\"a@b\",\"seq\":1,\"clock\":1,\"time\":5}\nbody",
         "body"},
        {HEAD "{\"op\":\"invite\",\"room\":\"" ROOM "\",\"name\":\"x\",\"private\":true,"
              "\"origin\":\"" ALICE "\",\"from\":\"a@b\",\"seq\":1,\"clock\":1,\"time\":5}\n",
         "nobody"},
        {HEAD "{\"op\":\"invite\",\"room\":\"" ROOM "\",\"name\":\"x\",\"private\":true,"
              "\"origin\":\"" ALICE "\",\"from\":\"a@b\",\"seq\":1,\"clock\":1,\"time\":5,"
              "\"invited\":[{\"uuid\":\"" BOB "\"}]}\n",
         "invited"},
        {HEAD "{\"op\":\"invite\",\"invited\":[null]}\n", "not an object"},
        {HEAD "{\"op\":\"invite\",\"room\":\"" ROOM "\",\"name\":\"x\",\"private\":true,"
              "\"origin\":\"" ALICE "\",\"from\":\"a@b\",\"seq\":1,\"clock\":1,\"time\":5,"
              "\"invited\":[{\"uuid\":\"" BOB "\",\"key\":\"b@c\"},{\"uuid\":\"" BOB
              "\",\"key\":\"b@d\"}]}\n",
         "twice"},
        {HEAD "{\"op\":\"sync\",\"room\":\"" ROOM "\",\"origin\":\"" ALICE "\",\"have\":{\"" BOB
              "\":-1}}\n",
         "'have'"},
        {HEAD "{\"op\":\"sync\",\"room\":\"" ROOM "\",\"origin\":\"" ALICE "\",\"have\":{\"" BOB
              "\":1},\"seq\":4}\n",
         "'seq'"},
        {HEAD "{\"op\":\"query\",\"origin\":\"" ALICE "\"}\n", "'name'"},
        {HEAD "{\"op\":\"announce\",\"room\":\"" ROOM "\",\"name\":\"x\",\"origin\":\"" ALICE
              "\"}\n",
         "'private'"},
        {HEAD POST_OK "}\n\xff\xfe", "UTF-8"},
        {HEAD POST_OK "}\n\xed\xa0\x80", "UTF-8"}, /* a surrogate */
        {HEAD POST_OK "}\n\xc0\xaf", "UTF-8"},     /* overlong '/' */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        room_env e;
        room_env_rc rc = room_env_parse(bad[i].text, strlen(bad[i].text), &e, err, sizeof err);
        if (rc != ROOM_ENV_BAD)
            fail_msg("case %zu was accepted: %s", i, bad[i].text);
        if (!strstr(err, bad[i].why))
            fail_msg("case %zu: reason '%s' does not mention %s", i, err, bad[i].why);
        assert_null(e.name); /* cleared on failure */
    }
    /* A NUL inside the body (length-delimited input) is refused too. */
    char with_nul[] = HEAD POST_OK "}\nab\0cd";
    room_env e;
    assert_int_equal(room_env_parse(with_nul, sizeof with_nul - 1, &e, NULL, 0), ROOM_ENV_BAD);
}

static void test_limits(void **state)
{
    (void)state;
    room_env e = base(ROOM_OP_POST), back;
    char *big = malloc(ROOM_TEXT_MAX + 2);
    memset(big, 'x', ROOM_TEXT_MAX + 1);
    big[ROOM_TEXT_MAX + 1] = '\0';
    e.text = big;
    e.text_len = ROOM_TEXT_MAX + 1;
    char err[256];
    size_t len;
    assert_null(room_env_build(&e, &len, err, sizeof err));
    assert_non_null(strstr(err, "text"));
    big[ROOM_TEXT_MAX] = '\0';
    e.text_len = ROOM_TEXT_MAX;
    free(round_trip(&e, &back));
    room_env_clear(&back);
    free(big);

    /* Too many members for one envelope. */
    room_ref *refs = calloc(ROOM_MEMBERS_MAX + 1, sizeof(*refs));
    for (size_t i = 0; i <= ROOM_MEMBERS_MAX; i++) {
        snprintf(refs[i].uuid, sizeof refs[i].uuid, "00000000-0000-4000-8000-%012zx", i);
        refs[i].key = "u@h";
    }
    room_env ann = base(ROOM_OP_ANNOUNCE);
    ann.name = "big";
    ann.priv = 0;
    ann.members = refs;
    ann.n_members = ROOM_MEMBERS_MAX + 1;
    assert_null(room_env_build(&ann, &len, err, sizeof err));
    ann.n_members = ROOM_MEMBERS_MAX;
    free(round_trip(&ann, &back));
    room_env_clear(&back);
    free(refs);

    /* An envelope larger than any IPMsg datagram is refused before JSON parsing. */
    size_t huge = ROOM_ENVELOPE_MAX + 1;
    char *h = malloc(huge);
    memset(h, ' ', huge);
    memcpy(h, ROOM_MARKER, ROOM_MARKER_LEN);
    assert_int_equal(room_env_parse(h, huge, &back, err, sizeof err), ROOM_ENV_BAD);
    assert_non_null(strstr(err, "envelope of"));
    free(h);
}

static void test_lenient_where_it_should_be(void **state)
{
    (void)state;
    /* Unknown keys (a later version's fields) are ignored; UUIDs fold to lowercase. */
    const char *text = HEAD "{\"op\":\"post\",\"room\":\"" ROOM
                            "\",\"origin\":\"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE\","
                            "\"from\":\"bob@pc2\",\"seq\":9,\"clock\":10,\"time\":11,"
                            "\"colour\":\"blue\",\"extra\":{\"a\":[1,2]}}\nhi\r\nthere";
    room_env e;
    char err[256];
    assert_int_equal(room_env_parse(text, strlen(text), &e, err, sizeof err), ROOM_ENV_OK);
    assert_string_equal(e.origin, BOB);
    assert_string_equal(e.text, "hi\r\nthere");
    assert_null(e.nick);
    assert_int_equal(e.priv, -1);
    room_env_clear(&e);
}

static void test_validators(void **state)
{
    (void)state;
    assert_true(room_name_valid("general"));
    assert_true(room_name_valid("営業部"));
    assert_true(room_name_valid("a-b_c.d"));
    assert_false(room_name_valid(""));
    assert_false(room_name_valid("two words"));
    assert_false(room_name_valid("tab\there"));
    assert_false(room_name_valid("全角\xe3\x80\x80space")); /* U+3000 */
    assert_false(room_name_valid("#general"));
    assert_false(room_name_valid(ROOM));
    char longname[ROOM_NAME_MAX + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[ROOM_NAME_MAX + 1] = '\0';
    assert_false(room_name_valid(longname));
    longname[ROOM_NAME_MAX] = '\0';
    assert_true(room_name_valid(longname));
    assert_true(room_uuid_valid(ALICE));
    assert_true(room_uuid_valid("AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE"));
    assert_false(room_uuid_valid("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeee"));
    assert_false(room_uuid_valid("aaaaaaaabbbb-4ccc-8ddd-eeeeeeeeeeeee"));
    assert_true(room_id_valid(ROOM));
    assert_false(room_id_valid("0123456789ABCDEF0123456789abcdef"));
    assert_true(room_utf8_valid("日本語", strlen("日本語")));
    assert_false(room_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_string_equal(room_op_name(ROOM_OP_SYNC), "sync");
    assert_null(room_op_name(ROOM_OP_NONE));
    assert_true(room_op_logged(ROOM_OP_INVITE));
    assert_false(room_op_logged(ROOM_OP_ANNOUNCE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_round_trip), cmocka_unit_test(test_control_round_trips),
        cmocka_unit_test(test_not_a_room),      cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),          cmocka_unit_test(test_lenient_where_it_should_be),
        cmocka_unit_test(test_validators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
