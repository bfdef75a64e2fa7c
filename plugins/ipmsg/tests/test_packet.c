/* Header parsing and packet building (ipmsg-protocol.md §1.2, §1.4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "packet.h"
#include "testutil.h"

static int parse_lit(const char *data, size_t len, ipmsg_packet *p, ipmsg_error *e)
{
    return ipmsg_parse(data, len, 0, p, e);
}

/* ---- parsing: accepted forms ---- */

static void test_parse_basic(void **state)
{
    (void)state;
    ipmsg_packet p;
    ipmsg_error e = {0};
    assert_int_equal(parse_lit(LIT("1:1700000123:alice:pc1:288:Hello\0"), &p, &e), IPMSG_OK);
    assert_slice(p.version, "1");
    assert_int_equal(p.packet_no, 1700000123u);
    assert_slice(p.user, "alice");
    assert_slice(p.host, "pc1");
    assert_int_equal(p.command, 288);
    assert_int_equal(p.mode, IPMSG_SENDMSG);
    assert_int_equal(p.opts, IPMSG_SENDCHECKOPT);
    assert_slice(p.extra, "Hello");
    assert_true(p.extra_nul);
    assert_int_equal(p.n_sections, 0);
    assert_int_equal(p.tail.len, 0);
    assert_int_equal(p.size, 33);
}

static void test_parse_versions(void **state)
{
    (void)state;
    static const char *ok[] = {"1",
                               "1_iptux 0.8.3",
                               "1_iptux 0.10.0",
                               "1@shiyeline",
                               "1_lbt6_0#128#000C29D4ABCD#0#0#0#4001#9",
                               "1 ",
                               "1.0"};
    static const char *bad[] = {"", "0", "2", "10", "11", "01", "iptux 0.7.5", " 1", "x1"};
    char buf[128];
    ipmsg_packet p;
    ipmsg_error e;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int n = snprintf(buf, sizeof(buf), "%s:5:u:h:32:x", ok[i]);
        assert_int_equal(ipmsg_parse(buf, (size_t)n, 0, &p, &e), IPMSG_OK);
        assert_true(ipmsg_slice_eq(p.version, ok[i]));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int n = snprintf(buf, sizeof(buf), "%s:5:u:h:32:x", bad[i]);
        assert_int_equal(ipmsg_parse(buf, (size_t)n, 0, &p, &e), IPMSG_E_VERSION);
        assert_int_equal(e.code, IPMSG_E_VERSION);
        assert_non_null(e.reason);
    }
}

static void test_parse_numbers(void **state)
{
    (void)state;
    ipmsg_packet p;
    ipmsg_error e;
    assert_int_equal(parse_lit(LIT("1:4294967295:u:h:4294967295:"), &p, &e), IPMSG_OK);
    assert_int_equal(p.packet_no, UINT32_MAX);
    assert_int_equal(p.command, UINT32_MAX);
    assert_int_equal(p.mode, 0xff);
    assert_int_equal(p.opts, 0xffffff00u);
    assert_int_equal(parse_lit(LIT("1:0000000000007:u:h:0032:"), &p, &e), IPMSG_OK);
    assert_int_equal(p.packet_no, 7);
    assert_int_equal(p.command, 32);
    /* 0x0F640001: v4 Windows BR_ENTRY status */
    assert_int_equal(parse_lit(LIT("1:1:u:h:258211841:n\0g\0"), &p, &e), IPMSG_OK);
    assert_int_equal(p.mode, IPMSG_BR_ENTRY);
    assert_int_equal(p.opts, IPMSG_CLIPBOARDOPT | IPMSG_ENCEXTMSGOPT | IPMSG_CAPIPDICTOPT |
                                 IPMSG_CAPUTF8OPT | IPMSG_ENCRYPTOPT | IPMSG_FILEATTACHOPT |
                                 IPMSG_CAPFILEENCOPT);
}

static void test_parse_no_extra(void **state)
{
    (void)state;
    ipmsg_packet p;
    ipmsg_error e;
    /* Command ends the datagram: empty extra, no NUL. */
    assert_int_equal(parse_lit(LIT("1:2:u:h:32"), &p, &e), IPMSG_OK);
    assert_int_equal(p.command, 32);
    assert_non_null(p.extra.ptr);
    assert_int_equal(p.extra.len, 0);
    assert_false(p.extra_nul);
    /* Command ends at the NUL. */
    assert_int_equal(parse_lit(LIT("1:2:u:h:32\0"), &p, &e), IPMSG_OK);
    assert_int_equal(p.extra.len, 0);
    assert_true(p.extra_nul);
    /* Extra without the NUL (Windows < v5.8.2 accepted it, §1.2). */
    assert_int_equal(parse_lit(LIT("1:2:u:h:32:abc"), &p, &e), IPMSG_OK);
    assert_slice(p.extra, "abc");
    assert_false(p.extra_nul);
    /* ':' inside the extra belongs to the extra. */
    assert_int_equal(parse_lit(LIT("1:2:u:h:96:6b016e36:0:0\0"), &p, &e), IPMSG_OK);
    assert_slice(p.extra, "6b016e36:0:0");
}

static void test_parse_sections(void **state)
{
    (void)state;
    ipmsg_packet p;
    ipmsg_error e;
    assert_int_equal(parse_lit(LIT("1:2:u:h:1:nick\0group\0"), &p, &e), IPMSG_OK);
    assert_int_equal(p.n_sections, 1);
    assert_slice(p.sections[0], "group");
    assert_true(p.last_section_nul);

    assert_int_equal(parse_lit(LIT("1:2:u:h:1:nick\0\0\nUN:x"), &p, &e), IPMSG_OK);
    assert_int_equal(p.n_sections, 2);
    assert_slice(p.sections[0], "");
    assert_slice(p.sections[1], "\nUN:x");
    assert_false(p.last_section_nul);

    /* A NUL right after the extra and nothing else: no section. */
    assert_int_equal(parse_lit(LIT("1:2:u:h:1:nick\0"), &p, &e), IPMSG_OK);
    assert_int_equal(p.n_sections, 0);

    /* More sections than the array holds: count and iterator see them all. */
    assert_int_equal(parse_lit(LIT("1:2:u:h:32:x\0a\0b\0c\0d\0e\0f\0g\0h\0i\0j"), &p, &e),
                     IPMSG_OK);
    assert_int_equal(p.n_sections, 10);
    assert_slice(p.sections[7], "h");
    ipmsg_section_iter it;
    ipmsg_slice s;
    bool term;
    size_t n = 0;
    ipmsg_sections_begin(&p, &it);
    while (ipmsg_sections_next(&it, &s, &term)) {
        assert_int_equal(s.len, 1);
        assert_int_equal(s.ptr[0], 'a' + (int)n);
        assert_true(term == (n < 9));
        n++;
    }
    assert_int_equal(n, 10);
}

static void test_parse_max_size(void **state)
{
    (void)state;
    static char big[IPMSG_MAX_UDPBUF + 1];
    memset(big, 'x', sizeof(big));
    memcpy(big, "1:2:u:h:32:", 11);
    ipmsg_packet p;
    ipmsg_error e;
    assert_int_equal(ipmsg_parse(big, IPMSG_MAX_UDPBUF, 0, &p, &e), IPMSG_OK);
    assert_int_equal(p.extra.len, IPMSG_MAX_UDPBUF - 11);
    assert_int_equal(ipmsg_parse(big, IPMSG_MAX_UDPBUF + 1, 0, &p, &e), IPMSG_E_TOOBIG);
    assert_int_equal(e.code, IPMSG_E_TOOBIG);
    /* Configurable: iptux's 8 KiB. */
    assert_int_equal(ipmsg_parse(big, 8193, 8192, &p, &e), IPMSG_E_TOOBIG);
    assert_int_equal(ipmsg_parse(big, 8192, 8192, &p, &e), IPMSG_OK);
}

/* ---- parsing: every malformed case ---- */

typedef struct bad_case {
    const char *data;
    size_t len;
    int code;
    size_t offset;
} bad_case;

#define BAD(lit, code, off)                                                                        \
    {                                                                                              \
        lit, sizeof(lit) - 1, code, off                                                            \
    }

static void test_parse_malformed(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        BAD("", IPMSG_E_SYNTAX, 0),
        BAD("\0", IPMSG_E_SYNTAX, 0),
        BAD("1", IPMSG_E_SYNTAX, 1),
        BAD("1:", IPMSG_E_SYNTAX, 2),
        BAD("1:2", IPMSG_E_SYNTAX, 2),
        BAD("1:2:u", IPMSG_E_SYNTAX, 4),
        BAD("1:2:u:h", IPMSG_E_SYNTAX, 6),
        BAD("1:2:u:h:", IPMSG_E_SYNTAX, 8),    /* empty command */
        BAD("1:2:u:h::x", IPMSG_E_SYNTAX, 8),  /* empty command */
        BAD(":2:u:h:32:", IPMSG_E_VERSION, 0), /* empty version */
        BAD("2:2:u:h:32:", IPMSG_E_VERSION, 0),
        BAD("1::u:h:32:", IPMSG_E_SYNTAX, 2), /* empty packet no */
        BAD("1:abc:u:h:32:", IPMSG_E_SYNTAX, 2),
        BAD("1:-1:u:h:32:", IPMSG_E_SYNTAX, 2),
        BAD("1:+1:u:h:32:", IPMSG_E_SYNTAX, 2),
        BAD("1: 1:u:h:32:", IPMSG_E_SYNTAX, 2),
        BAD("1:0x10:u:h:32:", IPMSG_E_SYNTAX, 2),
        BAD("1:4294967296:u:h:32:", IPMSG_E_RANGE, 2),
        BAD("1:99999999999999999999:u:h:32:", IPMSG_E_RANGE, 2),
        BAD("1:2::h:32:", IPMSG_E_SYNTAX, 4), /* empty user */
        BAD("1:2:u::32:", IPMSG_E_SYNTAX, 6), /* empty host */
        BAD("1:2:u:h:0x20:", IPMSG_E_SYNTAX, 8),
        BAD("1:2:u:h:32 :", IPMSG_E_SYNTAX, 8),
        BAD("1:2:u:h:4294967296:", IPMSG_E_RANGE, 8),
        BAD("1:2:u\0:h:32:", IPMSG_E_SYNTAX, 4), /* NUL ends the header */
        BAD("1:2\0:u:h:32:", IPMSG_E_SYNTAX, 2),
        BAD("\0001:2:u:h:32:", IPMSG_E_SYNTAX, 0),
        BAD("1:2:u:h:\0"
            "32:",
            IPMSG_E_SYNTAX, 8),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ipmsg_packet p;
        ipmsg_error e = {0};
        memset(&p, 0xA5, sizeof(p));
        int rc = ipmsg_parse(cases[i].data, cases[i].len, 0, &p, &e);
        if (rc != cases[i].code || e.offset != cases[i].offset)
            fail_msg("case %zu: rc %d (%s) offset %zu, want %d at %zu", i, rc,
                     e.reason ? e.reason : "-", e.offset, cases[i].code, cases[i].offset);
        assert_int_equal(e.code, rc);
        assert_non_null(e.reason);
        /* The output is cleared on error: no dangling slices. */
        assert_null(p.user.ptr);
        assert_int_equal(p.n_sections, 0);
    }
}

static void test_parse_bad_args(void **state)
{
    (void)state;
    ipmsg_packet p;
    ipmsg_error e;
    assert_int_equal(ipmsg_parse(NULL, 5, 0, &p, &e), IPMSG_E_INVAL);
    assert_int_equal(ipmsg_parse("1:2:u:h:3:", 10, 0, NULL, &e), IPMSG_E_INVAL);
    assert_int_equal(ipmsg_parse(NULL, 0, 0, &p, NULL), IPMSG_E_SYNTAX);
    assert_string_equal(ipmsg_status_str(IPMSG_E_RANGE), "number out of range");
    assert_string_equal(ipmsg_status_str(12345), "unknown error");
}

static void test_parse_u32(void **state)
{
    (void)state;
    uint32_t v;
    ipmsg_error e;
    assert_int_equal(ipmsg_parse_u32(slice_of("1700000123"), &v, &e), IPMSG_OK);
    assert_int_equal(v, 1700000123u);
    assert_int_equal(ipmsg_parse_u32(slice_of("  42 "), &v, &e), IPMSG_OK);
    assert_int_equal(v, 42);
    assert_int_equal(ipmsg_parse_u32(slice_of(""), &v, &e), IPMSG_E_SYNTAX);
    assert_int_equal(ipmsg_parse_u32(slice_of("   "), &v, &e), IPMSG_E_SYNTAX);
    assert_int_equal(ipmsg_parse_u32(slice_of("4 2"), &v, &e), IPMSG_E_SYNTAX);
    assert_int_equal(ipmsg_parse_u32(slice_of("4294967296"), &v, &e), IPMSG_E_RANGE);
    assert_int_equal(ipmsg_parse_u32(slice_of("-3"), &v, &e), IPMSG_E_SYNTAX);
    ipmsg_slice absent = {NULL, 0};
    assert_int_equal(ipmsg_parse_u32(absent, &v, &e), IPMSG_E_SYNTAX);
}

/* ---- building ---- */

static void test_build_basic(void **state)
{
    (void)state;
    char out[256];
    size_t n = 0;
    ipmsg_error e;
    ipmsg_build_in in = {.packet_no = 1700000123,
                         .command = IPMSG_SENDMSG | IPMSG_SENDCHECKOPT,
                         .user = ipmsg_text("alice"),
                         .host = ipmsg_text("pc1"),
                         .extra = ipmsg_text("Hello")};
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_OK);
    assert_bytes(out, n, "1:1700000123:alice:pc1:288:Hello\0");

    /* RECVMSG: extra = decimal packet number; empty extra still gets its NUL */
    in.command = IPMSG_GETINFO;
    in.extra = ipmsg_text(NULL);
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_OK);
    assert_bytes(out, n, "1:1700000123:alice:pc1:64:\0");
}

static void test_build_names(void **state)
{
    (void)state;
    char out[256];
    size_t n = 0;
    ipmsg_error e;
    ipmsg_build_in in = {.packet_no = 9,
                         .command = IPMSG_BR_EXIT,
                         .user = ipmsg_text("dom:user"),
                         .host = ipmsg_text("::h:"),
                         .extra = ipmsg_text("x")};
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_OK);
    assert_bytes(out, n, "1:9:dom;user:;;h;:2:x\0");
    /* round trip keeps the field split */
    ipmsg_packet p;
    assert_int_equal(ipmsg_parse(out, n, 0, &p, &e), IPMSG_OK);
    assert_slice(p.user, "dom;user");
    assert_slice(p.host, ";;h;");

    in.user = ipmsg_text("");
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_E_INVAL);
    in.user = ipmsg_text(NULL);
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_E_INVAL);
    in.user = ipmsg_text("u");
    in.host = ipmsg_raw("h\0x", 3);
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_E_INVAL);
    /* raw names still get ':' replaced */
    in.host = ipmsg_raw("a:b", 3);
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_OK);
    assert_bytes(out, n, "1:9:u:a;b:2:x\0");
}

static void test_build_legacy(void **state)
{
    (void)state;
    ipmsg_charset *cs = NULL;
    ipmsg_error e;
    assert_int_equal(ipmsg_charset_open(&cs, NULL, 0, &e), IPMSG_OK);
    char out[256];
    size_t n = 0;
    ipmsg_build_in in = {.packet_no = 1700000003,
                         .command = IPMSG_SENDMSG | IPMSG_SENDCHECKOPT,
                         .user = ipmsg_text("yamada"),
                         .host = ipmsg_text("PC-YAMADA"),
                         .extra = ipmsg_text("\xe4\xba\x86\xe8\xa7\xa3\xe3\x81\xa7\xe3\x81\x99")};
    assert_int_equal(ipmsg_build(&in, cs, out, sizeof(out), &n, &e), IPMSG_OK);
    assert_bytes(out, n, "1:1700000003:yamada:PC-YAMADA:288:\x97\xb9\x89\xf0\x82\xc5\x82\xb7\0");

    /* Same with UTF8OPT: bytes stay UTF-8 */
    in.command |= IPMSG_UTF8OPT;
    assert_int_equal(ipmsg_build(&in, cs, out, sizeof(out), &n, &e), IPMSG_OK);
    assert_bytes(out, n,
                 "1:1700000003:yamada:PC-YAMADA:8388896:"
                 "\xe4\xba\x86\xe8\xa7\xa3\xe3\x81\xa7\xe3\x81\x99\0");

    /* Japanese user name in the legacy header; ':' replaced before encoding */
    in.command = IPMSG_SENDMSG;
    in.user = ipmsg_text("\xe5\xb1\xb1\xe7\x94\xb0:1"); /* 山田:1 */
    in.extra = ipmsg_text("hi "
                          "\xf0\x9f\x8e\x89"); /* emoji: not in CP932 */
    assert_int_equal(ipmsg_build(&in, cs, out, sizeof(out), &n, &e), IPMSG_OK);
    assert_bytes(out, n, "1:1700000003:\x8e\x52\x93\x63;1:PC-YAMADA:32:hi ?\0");

    /* Non-ASCII legacy text without a charset: refused, not guessed */
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_E_INVAL);
    assert_non_null(e.reason);
    ipmsg_charset_close(cs);
}

static void test_build_sections(void **state)
{
    (void)state;
    char out[256];
    size_t n = 0;
    ipmsg_error e;
    ipmsg_part sect[] = {ipmsg_text("0:probe-file.txt:1388:6b016e3c:1:\a")};
    ipmsg_build_in in = {.packet_no = 1795255862,
                         .command =
                             0xa00120, /* the capture: SENDMSG|SENDCHECKOPT|FILEATTACHOPT|UTF8OPT */
                         .user = ipmsg_text("probe"),
                         .host = ipmsg_text("probehost"),
                         .extra = ipmsg_text("file for you"),
                         .sections = sect,
                         .n_sections = 1};
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_OK);
    assert_bytes(out, n,
                 "1:1795255862:probe:probehost:10486048:file for you\0"
                 "0:probe-file.txt:1388:6b016e3c:1:\a\0");

    /* Raw section with NULs, last one without NUL (iptux icon-like payload) */
    ipmsg_part s2[] = {ipmsg_text("g"), ipmsg_raw("\x89PNG\0\x01", 6)};
    s2[1].flags |= IPMSG_PART_NO_NUL;
    in.sections = s2;
    in.n_sections = 2;
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_OK);
    ipmsg_packet p;
    assert_int_equal(ipmsg_parse(out, n, 0, &p, &e), IPMSG_OK);
    assert_int_equal(p.n_sections, 3);
    assert_slice(p.tail, "g\0\x89PNG\0\x01");

    /* NO_NUL only on the last section; never on the extra */
    s2[0].flags |= IPMSG_PART_NO_NUL;
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_E_INVAL);
    in.n_sections = 0;
    in.extra.flags = IPMSG_PART_NO_NUL;
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_E_INVAL);

    /* A NUL inside the extra would end it early: refused (text and raw) */
    in.extra = ipmsg_raw("a\0b", 3);
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_E_INVAL);
    in.extra = ipmsg_text("ok");
    ipmsg_part s3[] = {{"x\0y", 3, IPMSG_PART_TEXT}};
    in.sections = s3;
    in.n_sections = 1;
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_E_INVAL);
}

static void test_build_bounded(void **state)
{
    (void)state;
    const char want[] = "1:1700000123:alice:pc1:288:Hello\0sect\0";
    ipmsg_part sect[] = {ipmsg_text("sect")};
    ipmsg_build_in in = {.packet_no = 1700000123,
                         .command = 288,
                         .user = ipmsg_text("alice"),
                         .host = ipmsg_text("pc1"),
                         .extra = ipmsg_text("Hello"),
                         .sections = sect,
                         .n_sections = 1};
    /* Every cut point: NOSPACE and not one byte written past cap. */
    for (size_t cap = 0; cap < sizeof(want) - 1; cap++) {
        char buf[64];
        memset(buf, '#', sizeof(buf));
        size_t n = 0;
        ipmsg_error e;
        assert_int_equal(ipmsg_build(&in, NULL, buf, cap, &n, &e), IPMSG_E_NOSPACE);
        for (size_t i = cap; i < sizeof(buf); i++)
            assert_int_equal(buf[i], '#');
    }
    char buf[64];
    size_t n = 0;
    assert_int_equal(ipmsg_build(&in, NULL, buf, sizeof(want) - 1, &n, NULL), IPMSG_OK);
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(buf, want, n);
}

static void test_build_roundtrip(void **state)
{
    (void)state;
    char out[512];
    size_t n = 0;
    ipmsg_error e;
    ipmsg_build_in in = {.packet_no = UINT32_MAX,
                         .command = UINT32_MAX,
                         .user = ipmsg_text("u"),
                         .host = ipmsg_text("h"),
                         .extra = ipmsg_text("\xf0\x9f\x8e\x89 x:y:z")};
    in.command = IPMSG_SENDMSG | IPMSG_UTF8OPT;
    assert_int_equal(ipmsg_build(&in, NULL, out, sizeof(out), &n, &e), IPMSG_OK);
    ipmsg_packet p;
    assert_int_equal(ipmsg_parse(out, n, 0, &p, &e), IPMSG_OK);
    assert_int_equal(p.packet_no, UINT32_MAX);
    assert_int_equal(p.command, IPMSG_SENDMSG | IPMSG_UTF8OPT);
    assert_slice(p.extra, "\xf0\x9f\x8e\x89 x:y:z");
    assert_true(p.extra_nul);
    assert_int_equal(p.n_sections, 0);
}

static void test_command_names(void **state)
{
    (void)state;
    assert_string_equal(ipmsg_command_name(IPMSG_BR_ENTRY | IPMSG_CAPUTF8OPT), "BR_ENTRY");
    assert_string_equal(ipmsg_command_name(IPMSG_BR_ISGETLIST2), "BR_ISGETLIST2");
    assert_string_equal(ipmsg_command_name(0xfc), "IPTUX_SEND_SIGN");
    assert_null(ipmsg_command_name(0x99));
    assert_true(ipmsg_is_broadcast_cmd(IPMSG_NOOPERATION));
    assert_true(ipmsg_is_entry_cmd(IPMSG_ANSENTRY | IPMSG_UTF8OPT));
    assert_false(ipmsg_is_broadcast_cmd(IPMSG_ANSENTRY));
    assert_false(ipmsg_is_entry_cmd(IPMSG_SENDMSG));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_basic),     cmocka_unit_test(test_parse_versions),
        cmocka_unit_test(test_parse_numbers),   cmocka_unit_test(test_parse_no_extra),
        cmocka_unit_test(test_parse_sections),  cmocka_unit_test(test_parse_max_size),
        cmocka_unit_test(test_parse_malformed), cmocka_unit_test(test_parse_bad_args),
        cmocka_unit_test(test_parse_u32),       cmocka_unit_test(test_build_basic),
        cmocka_unit_test(test_build_names),     cmocka_unit_test(test_build_legacy),
        cmocka_unit_test(test_build_sections),  cmocka_unit_test(test_build_bounded),
        cmocka_unit_test(test_build_roundtrip), cmocka_unit_test(test_command_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
