/* Entry extras: nick\0group\0 + UTF-8 block + dengon UUID (§1.3, §1.4, §8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "entry.h"
#include "golden.h"
#include "testutil.h"

static int setup_cp932(void **state)
{
    ipmsg_charset *cs = NULL;
    if (ipmsg_charset_open(&cs, "CP932", 0, NULL) != IPMSG_OK)
        return -1;
    *state = cs;
    return 0;
}

static int teardown_cs(void **state)
{
    ipmsg_charset_close(*state);
    return 0;
}

static const golden_packet *golden(const char *name)
{
    for (size_t i = 0; i < GOLDEN_COUNT; i++)
        if (strcmp(golden_packets[i].name, name) == 0)
            return &golden_packets[i];
    fail_msg("no golden packet %s", name);
    return NULL;
}

static void parse_golden(const char *name, ipmsg_packet *p)
{
    const golden_packet *g = golden(name);
    ipmsg_error e = {0};
    if (ipmsg_parse(g->data, g->len, 0, p, &e) != IPMSG_OK)
        fail_msg("%s: %s", name, e.reason);
}

static void test_windows_entry_raw(void **state)
{
    (void)state;
    ipmsg_packet p;
    ipmsg_entry_raw r;
    parse_golden("win_br_entry_cp932", &p);
    assert_int_equal(p.command, 0x0F640001u);
    assert_int_equal(ipmsg_entry_parse(&p, &r, NULL), IPMSG_OK);
    assert_slice(r.nick, CP932_YAMADA_TARO);
    assert_slice(r.group, CP932_EIGYOBU);
    assert_slice(r.un, "yamada");
    assert_slice(r.hn, "PC-YAMADA");
    assert_slice(r.nn, U8_YAMADA_TARO);
    assert_slice(r.gn, U8_EIGYOBU);
    assert_slice(r.vs, "00010002:4:99:3");
    assert_null(r.uuid.ptr);
    assert_null(r.iptux_icon.ptr);
    assert_null(r.iptux_encoding.ptr);
}

static void test_windows_entry_decode(void **state)
{
    ipmsg_charset *cs = *state;
    ipmsg_packet p;
    ipmsg_entry en;
    parse_golden("win_br_entry_cp932", &p);
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.user, "yamada");
    assert_string_equal(en.host, "PC-YAMADA");
    assert_string_equal(en.nick, U8_YAMADA_TARO);
    assert_string_equal(en.group, U8_EIGYOBU);
    assert_string_equal(en.version, "00010002:4:99:3");
    assert_null(en.iptux_encoding);
    assert_string_equal(en.uuid, "");
    assert_true(en.from_block);
    assert_int_equal(en.status, 0x0F640000u);
    assert_int_equal(en.replaced, 0);
    ipmsg_entry_clear(&en);
    ipmsg_entry_clear(&en); /* idempotent */
}

static void test_legacy_only_entry(void **state)
{
    ipmsg_charset *cs = *state;
    /* An old client: CP932 nick and group, no block at all */
    const char pkt[] = "1:5:yamada:PC-YAMADA:1:" CP932_YAMADA_TARO "\0" CP932_EIGYOBU "\0";
    ipmsg_packet p;
    ipmsg_entry en;
    assert_int_equal(ipmsg_parse(LIT(pkt), 0, &p, NULL), IPMSG_OK);
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.nick, U8_YAMADA_TARO);
    assert_string_equal(en.group, U8_EIGYOBU);
    assert_false(en.from_block);
    assert_null(en.version);
    ipmsg_entry_clear(&en);
}

static void test_block_with_bad_utf8(void **state)
{
    ipmsg_charset *cs = *state;
    /* NN: is not UTF-8 (a broken sender): fall back to the legacy nick;
     * UN: empty: keep the header user. */
    const char pkt[] = "1:5:yamada:PC:16777217:" CP932_YAMADA_TARO "\0g\0\nUN:\nNN:\x8e\x52";
    ipmsg_packet p;
    ipmsg_entry en;
    assert_int_equal(ipmsg_parse(LIT(pkt), 0, &p, NULL), IPMSG_OK);
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.user, "yamada");
    assert_string_equal(en.nick, U8_YAMADA_TARO);
    assert_string_equal(en.group, "g");
    ipmsg_entry_clear(&en);
}

static void test_empty_group_and_no_group(void **state)
{
    ipmsg_charset *cs = *state;
    ipmsg_packet p;
    ipmsg_entry_raw r;
    ipmsg_entry en;
    parse_golden("win_br_entry_nogroup", &p);
    assert_int_equal(ipmsg_entry_parse(&p, &r, NULL), IPMSG_OK);
    assert_slice(r.group, "");
    assert_slice(r.gn, "");
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.nick, "suzuki");
    assert_string_equal(en.group, "");
    ipmsg_entry_clear(&en);

    /* The block straight after the nick (Windows' parser accepts this too) */
    const char pkt[] = "1:5:u:h:16777217:nick\0\nUN:u2\nGN:grp";
    assert_int_equal(ipmsg_parse(LIT(pkt), 0, &p, NULL), IPMSG_OK);
    assert_int_equal(ipmsg_entry_parse(&p, &r, NULL), IPMSG_OK);
    assert_null(r.group.ptr);
    assert_slice(r.un, "u2");
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.user, "u2");
    assert_string_equal(en.group, "grp");
    ipmsg_entry_clear(&en);

    /* Nothing but the nick */
    const char pkt2[] = "1:5:u:h:3:nick";
    assert_int_equal(ipmsg_parse(LIT(pkt2), 0, &p, NULL), IPMSG_OK);
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.nick, "nick");
    assert_string_equal(en.group, "");
    ipmsg_entry_clear(&en);
}

static void test_ansentry_utf8(void **state)
{
    ipmsg_charset *cs = *state;
    ipmsg_packet p;
    ipmsg_entry en;
    parse_golden("win_ansentry_utf8", &p);
    assert_int_equal(p.mode, IPMSG_ANSENTRY);
    assert_true(p.opts & IPMSG_UTF8OPT);
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.nick, U8_YAMADA_TARO);
    assert_string_equal(en.group, U8_EIGYOBU);
    assert_string_equal(en.version, "00010002:4:99:3");
    assert_false(en.from_block);
    ipmsg_entry_clear(&en);
}

static void test_iptux_entry(void **state)
{
    ipmsg_charset *cs = *state;
    ipmsg_packet p;
    ipmsg_entry_raw r;
    ipmsg_entry en;
    parse_golden("iptux_br_entry", &p);
    assert_slice(p.version, "1_iptux 0.8.3");
    assert_int_equal(p.opts, IPMSG_ABSENCEOPT);
    assert_int_equal(ipmsg_entry_parse(&p, &r, NULL), IPMSG_OK);
    assert_slice(r.nick, "iptux-peer");
    assert_slice(r.group, "interop");
    assert_slice(r.iptux_icon, "icon-tux.png");
    assert_slice(r.iptux_encoding, "utf-8");
    assert_null(r.block.ptr);
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.user, "root");
    assert_string_equal(en.host, "vm");
    assert_string_equal(en.iptux_encoding, "utf-8");
    ipmsg_entry_clear(&en);

    /* iptux says utf-8 but sets no UTF8OPT: names are read as UTF-8 */
    const char pkt[] = "1_iptux 0.8.3:3:r\xc3\xb6ot:vm:257:" U8_YAMADA_TARO "\0g\0i.png\0utf-8\0";
    assert_int_equal(ipmsg_parse(LIT(pkt), 0, &p, NULL), IPMSG_OK);
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.user, "r\xc3\xb6ot");
    assert_string_equal(en.nick, U8_YAMADA_TARO);
    assert_int_equal(en.replaced, 0);
    ipmsg_entry_clear(&en);

    /* iptux BR_EXIT with an empty nick */
    parse_golden("iptux_br_exit", &p);
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.nick, "");
    assert_int_equal(en.status, IPMSG_DIALUPOPT);
    ipmsg_entry_clear(&en);
}

static void test_dengon_uuid(void **state)
{
    ipmsg_charset *cs = *state;
    ipmsg_packet p;
    ipmsg_entry en;
    parse_golden("dengon_br_entry", &p);
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.uuid, DG_UUID);
    assert_string_equal(en.nick, U8_YAMADA_TARO);
    ipmsg_entry_clear(&en);

    /* Upper case is normalized; a malformed UUID is ignored, not an error */
    const char up[] = "1:5:u:h:16777217:n\0g\0\nDGUUID:3F2C9A4E-8B1D-4C7A-9E55-0123456789AB";
    assert_int_equal(ipmsg_parse(LIT(up), 0, &p, NULL), IPMSG_OK);
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.uuid, DG_UUID);
    ipmsg_entry_clear(&en);
    const char bad[] = "1:5:u:h:16777217:n\0g\0\nDGUUID:3f2c9a4e-8b1d-4c7a-9e55-0123456789a"
                       "\nXX:unknown\nPL:1\nIP:QUJD";
    assert_int_equal(ipmsg_parse(LIT(bad), 0, &p, NULL), IPMSG_OK);
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.uuid, "");
    ipmsg_entry_clear(&en);
    ipmsg_entry_raw r;
    assert_int_equal(ipmsg_entry_parse(&p, &r, NULL), IPMSG_OK);
    assert_slice(r.pl, "1");
    assert_slice(r.ip, "QUJD");

    assert_true(ipmsg_uuid_valid(LIT(DG_UUID)));
    assert_false(ipmsg_uuid_valid(LIT("3f2c9a4e-8b1d-4c7a-9e55_0123456789ab")));
    assert_false(ipmsg_uuid_valid(LIT("3f2c9a4e-8b1d-4c7a-9e55-0123456789ag")));
    assert_false(ipmsg_uuid_valid(NULL, 36));
}

/* Exact bytes of dengon's BR_ENTRY: CP932 header, UTF-8 block, UUID line. */
static void test_build_dengon_entry(void **state)
{
    ipmsg_charset *cs = *state;
    char out[512];
    size_t n = 0;
    ipmsg_error e = {0};
    ipmsg_entry_msg m = {.packet_no = 1700000200,
                         .command = IPMSG_BR_ENTRY | IPMSG_FILEATTACHOPT | IPMSG_CAPUTF8OPT,
                         .user = "yamada",
                         .host = "PC-YAMADA",
                         .nick = U8_YAMADA_TARO,
                         .group = U8_EIGYOBU,
                         .names_block = true,
                         .uuid = DG_UUID};
    assert_int_equal(ipmsg_entry_build(&m, cs, out, sizeof(out), &n, &e), IPMSG_OK);
    const golden_packet *g = golden("dengon_br_entry");
    assert_int_equal(n, g->len);
    assert_memory_equal(out, g->data, n);

    /* With VS: the line goes before DGUUID; decode gives everything back */
    m.version = "00030000:0:1:0";
    assert_int_equal(ipmsg_entry_build(&m, cs, out, sizeof(out), &n, &e), IPMSG_OK);
    ipmsg_packet p;
    ipmsg_entry en;
    assert_int_equal(ipmsg_parse(out, n, 0, &p, NULL), IPMSG_OK);
    assert_int_equal(p.n_sections, 2);
    assert_false(p.last_section_nul); /* like Windows: no NUL after the block */
    assert_int_equal(ipmsg_entry_decode(&p, cs, &en, NULL), IPMSG_OK);
    assert_string_equal(en.version, "00030000:0:1:0");
    assert_string_equal(en.uuid, DG_UUID);
    assert_string_equal(en.group, U8_EIGYOBU);
    ipmsg_entry_clear(&en);
}

static void test_build_entry_variants(void **state)
{
    ipmsg_charset *cs = *state;
    char out[512];
    size_t n = 0;
    ipmsg_error e = {0};
    /* ANSENTRY|UTF8OPT without group and block: "nick\0" only, like Windows */
    ipmsg_entry_msg m = {.packet_no = 7,
                         .command = IPMSG_ANSENTRY | IPMSG_UTF8OPT,
                         .user = "u",
                         .host = "h",
                         .nick = U8_YAMADA_TARO};
    assert_int_equal(ipmsg_entry_build(&m, cs, out, sizeof(out), &n, &e), IPMSG_OK);
    assert_bytes(out, n, "1:7:u:h:8388611:" U8_YAMADA_TARO "\0");

    /* Empty group with a block: nick\0\0\n... */
    m.command = IPMSG_BR_ABSENCE | IPMSG_ABSENCEOPT;
    m.nick = "n";
    m.names_block = true;
    assert_int_equal(ipmsg_entry_build(&m, cs, out, sizeof(out), &n, &e), IPMSG_OK);
    assert_bytes(out, n, "1:7:u:h:260:n\0\0\nUN:u\nHN:h\nNN:n\nGN:");

    /* ':' in names -> ';' in the header and in UN/HN; CR/LF in values -> ' ' */
    m.user = "dom:user";
    m.nick = "two\nlines\r";
    m.group = "a:b";
    assert_int_equal(ipmsg_entry_build(&m, cs, out, sizeof(out), &n, &e), IPMSG_OK);
    assert_bytes(
        out, n, "1:7:dom;user:h:260:two\nlines\r\0a:b\0\nUN:dom;user\nHN:h\nNN:two lines \nGN:a:b");

    /* Refusals */
    m.command = IPMSG_BR_ENTRY | IPMSG_UTF8OPT;
    assert_int_equal(ipmsg_entry_build(&m, cs, out, sizeof(out), &n, &e), IPMSG_E_INVAL);
    m.command = IPMSG_SENDMSG;
    assert_int_equal(ipmsg_entry_build(&m, cs, out, sizeof(out), &n, &e), IPMSG_E_INVAL);
    m.command = IPMSG_BR_ENTRY;
    m.uuid = "not-a-uuid";
    assert_int_equal(ipmsg_entry_build(&m, cs, out, sizeof(out), &n, &e), IPMSG_E_INVAL);
    m.uuid = NULL;
    m.user = "";
    assert_int_equal(ipmsg_entry_build(&m, cs, out, sizeof(out), &n, &e), IPMSG_E_INVAL);
    assert_int_equal(ipmsg_entry_build(NULL, cs, out, sizeof(out), &n, &e), IPMSG_E_INVAL);
}

static void test_build_entry_bounded(void **state)
{
    ipmsg_charset *cs = *state;
    ipmsg_entry_msg m = {.packet_no = 1700000200,
                         .command = IPMSG_BR_ENTRY | IPMSG_CAPUTF8OPT,
                         .user = "yamada",
                         .host = "PC-YAMADA",
                         .nick = U8_YAMADA_TARO,
                         .group = U8_EIGYOBU,
                         .names_block = true,
                         .version = "1",
                         .uuid = DG_UUID};
    char full[512];
    size_t total = 0;
    assert_int_equal(ipmsg_entry_build(&m, cs, full, sizeof(full), &total, NULL), IPMSG_OK);
    for (size_t cap = 0; cap < total; cap++) {
        char buf[512];
        size_t n = 0;
        memset(buf, '#', sizeof(buf));
        assert_int_equal(ipmsg_entry_build(&m, cs, buf, cap, &n, NULL), IPMSG_E_NOSPACE);
        for (size_t i = cap; i < sizeof(buf); i++)
            assert_int_equal(buf[i], '#');
    }
}

static void test_not_entry(void **state)
{
    (void)state;
    ipmsg_packet p;
    ipmsg_entry_raw r;
    ipmsg_entry en;
    parse_golden("win_sendmsg_cp932", &p);
    assert_int_equal(ipmsg_entry_parse(&p, &r, NULL), IPMSG_E_INVAL);
    assert_int_equal(ipmsg_entry_decode(&p, NULL, &en, NULL), IPMSG_E_INVAL);
    assert_null(en.user);
    /* legacy non-ASCII names without a charset: error, nothing leaked */
    const char pkt[] = "1:5:u:h:1:" CP932_YAMADA_TARO "\0g\0";
    assert_int_equal(ipmsg_parse(LIT(pkt), 0, &p, NULL), IPMSG_OK);
    assert_int_equal(ipmsg_entry_decode(&p, NULL, &en, NULL), IPMSG_E_INVAL);
    assert_null(en.nick);
}

static void test_fingerprint(void **state)
{
    (void)state;
    ipmsg_packet p;
    ipmsg_slice base, hex;
    parse_golden("win_fingerprint_utf8", &p);
    assert_slice(p.user, "alice-<0123456789abcdef>");
    assert_true(ipmsg_user_fingerprint(p.user, &base, &hex));
    assert_slice(base, "alice");
    assert_slice(hex, "0123456789abcdef");
    assert_false(ipmsg_user_fingerprint(slice_of("alice"), &base, &hex));
    assert_false(ipmsg_user_fingerprint(slice_of("-<0123456789abcdef>"), &base, &hex));
    assert_false(ipmsg_user_fingerprint(slice_of("a-<0123456789abcdeg>"), &base, &hex));
    assert_false(ipmsg_user_fingerprint(slice_of("a-<0123456789abcdef"), &base, &hex));
    assert_false(ipmsg_user_fingerprint(slice_of("a_<0123456789abcdef>"), NULL, NULL));
    assert_true(ipmsg_user_fingerprint(slice_of("a-<0123456789ABCDEF>"), NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_entry_raw),
        cmocka_unit_test_setup_teardown(test_windows_entry_decode, setup_cp932, teardown_cs),
        cmocka_unit_test_setup_teardown(test_legacy_only_entry, setup_cp932, teardown_cs),
        cmocka_unit_test_setup_teardown(test_block_with_bad_utf8, setup_cp932, teardown_cs),
        cmocka_unit_test_setup_teardown(test_empty_group_and_no_group, setup_cp932, teardown_cs),
        cmocka_unit_test_setup_teardown(test_ansentry_utf8, setup_cp932, teardown_cs),
        cmocka_unit_test_setup_teardown(test_iptux_entry, setup_cp932, teardown_cs),
        cmocka_unit_test_setup_teardown(test_dengon_uuid, setup_cp932, teardown_cs),
        cmocka_unit_test_setup_teardown(test_build_dengon_entry, setup_cp932, teardown_cs),
        cmocka_unit_test_setup_teardown(test_build_entry_variants, setup_cp932, teardown_cs),
        cmocka_unit_test_setup_teardown(test_build_entry_bounded, setup_cp932, teardown_cs),
        cmocka_unit_test(test_not_entry),
        cmocka_unit_test(test_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
