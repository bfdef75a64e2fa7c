/* Legacy code page <-> UTF-8 (ipmsg-protocol.md §1.3, §9.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "charset.h"
#include "testutil.h"

#define U8_YAMADA "\xe5\xb1\xb1\xe7\x94\xb0"
#define CP_YAMADA "\x8e\x52\x93\x63"
#define REPL "\xef\xbf\xbd"

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

/* Decodes and checks the UTF-8 result and the replacement count. */
static void check_decode(ipmsg_charset *cs, ipmsg_enc enc, const char *in, size_t len,
                         const char *want, size_t want_len, size_t want_rep)
{
    char *out = NULL;
    size_t n = 0, rep = 99;
    ipmsg_error e;
    assert_int_equal(ipmsg_decode(cs, enc, in, len, &out, &n, &rep, &e), IPMSG_OK);
    assert_int_equal(n, want_len);
    assert_memory_equal(out, want, want_len);
    assert_int_equal(out[n], '\0');
    assert_int_equal(rep, want_rep);
    free(out);
}

static void check_encode(ipmsg_charset *cs, ipmsg_enc enc, const char *in, size_t len,
                         const char *want, size_t want_len, size_t want_rep)
{
    char *out = NULL;
    size_t n = 0, rep = 99;
    ipmsg_error e;
    assert_int_equal(ipmsg_encode(cs, enc, in, len, &out, &n, &rep, &e), IPMSG_OK);
    assert_int_equal(n, want_len);
    assert_memory_equal(out, want, want_len);
    assert_int_equal(rep, want_rep);
    free(out);
}

#define DEC(cs, enc, in, want, rep) check_decode(cs, enc, LIT(in), LIT(want), rep)
#define ENC(cs, enc, in, want, rep) check_encode(cs, enc, LIT(in), LIT(want), rep)

static void test_open(void **state)
{
    (void)state;
    ipmsg_charset *cs = NULL;
    ipmsg_error e = {0};
    assert_int_equal(ipmsg_charset_open(&cs, NULL, 0, &e), IPMSG_OK);
    assert_string_equal(ipmsg_charset_name(cs), "CP932");
    ipmsg_charset_close(cs);
    assert_int_equal(ipmsg_charset_open(&cs, "", 0, &e), IPMSG_OK);
    assert_string_equal(ipmsg_charset_name(cs), IPMSG_DEFAULT_LEGACY_CHARSET);
    ipmsg_charset_close(cs);
    assert_int_equal(ipmsg_charset_open(&cs, " CP936 , GB18030 ", 0, &e), IPMSG_OK);
    assert_string_equal(ipmsg_charset_name(cs), "CP936");
    ipmsg_charset_close(cs);

    assert_int_equal(ipmsg_charset_open(&cs, "NO-SUCH-CODEPAGE-42", 0, &e), IPMSG_E_CHARSET);
    assert_null(cs);
    assert_int_equal(e.code, IPMSG_E_CHARSET);
    assert_int_equal(ipmsg_charset_open(&cs, "CP932,NOPE", 0, &e), IPMSG_E_CHARSET);
    assert_int_equal(ipmsg_charset_open(&cs, ",,", 0, &e), IPMSG_E_INVAL);
    assert_int_equal(ipmsg_charset_open(&cs, "A,B,C,D,E", 0, &e), IPMSG_E_INVAL);
    char longname[100];
    memset(longname, 'A', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(ipmsg_charset_open(&cs, longname, 0, &e), IPMSG_E_INVAL);
    assert_int_equal(ipmsg_charset_open(NULL, "CP932", 0, &e), IPMSG_E_INVAL);
    ipmsg_charset_close(NULL);
    assert_string_equal(ipmsg_charset_name(NULL), "CP932");
}

static void test_packet_enc(void **state)
{
    (void)state;
    assert_int_equal(ipmsg_packet_enc(0x800120), IPMSG_ENC_UTF8);
    assert_int_equal(ipmsg_packet_enc(0x120), IPMSG_ENC_LEGACY);
    /* CAPUTF8 alone is a capability, not an encoding */
    assert_int_equal(ipmsg_packet_enc(0x01000001), IPMSG_ENC_LEGACY);
}

static void test_cp932_decode(void **state)
{
    ipmsg_charset *cs = *state;
    DEC(cs, IPMSG_ENC_LEGACY, CP_YAMADA " \x91\xbe\x98\x59", U8_YAMADA " \xe5\xa4\xaa\xe9\x83\x8e",
        0);
    /* Windows' mapping: 0x8160 -> U+FF5E, NEC ① 0x8740 -> U+2460, user area -> PUA */
    DEC(cs, IPMSG_ENC_LEGACY, "\x81\x60\x87\x40\xf0\x40", "\xef\xbd\x9e\xe2\x91\xa0\xee\x80\x80",
        0);
    /* half-width katakana are single bytes */
    DEC(cs, IPMSG_ENC_LEGACY, "\xc3\xbd\xc4", "\xef\xbe\x83\xef\xbd\xbd\xef\xbe\x84", 0);
    DEC(cs, IPMSG_ENC_LEGACY, "plain ascii", "plain ascii", 0);
    DEC(cs, IPMSG_ENC_LEGACY, "", "", 0);
}

static void test_cp932_invalid(void **state)
{
    ipmsg_charset *cs = *state;
    /* undefined single bytes and a lead byte with a bad trail: one U+FFFD each */
    DEC(cs, IPMSG_ENC_LEGACY,
        "a\x80"
        "b\xa0"
        "c\xfd"
        "d",
        "a" REPL "b" REPL "c" REPL "d", 3);
    DEC(cs, IPMSG_ENC_LEGACY, "\x81\x20x", REPL " x", 1);
    /* truncated double-byte char at the end */
    DEC(cs, IPMSG_ENC_LEGACY, CP_YAMADA "\x8e", U8_YAMADA REPL, 1);
    DEC(cs, IPMSG_ENC_LEGACY, "\x8e", REPL, 1);
    /* embedded NUL is data, not an end */
    DEC(cs, IPMSG_ENC_LEGACY, "a\0\x8e\x52", "a\0\xe5\xb1\xb1", 0);
}

static void test_cp932_encode(void **state)
{
    ipmsg_charset *cs = *state;
    ENC(cs, IPMSG_ENC_LEGACY, U8_YAMADA, CP_YAMADA, 0);
    /* emoji and other unrepresentable characters -> '?' (whole character) */
    ENC(cs, IPMSG_ENC_LEGACY, "ok \xf0\x9f\x8e\x89!", "ok ?!", 1);
    ENC(cs, IPMSG_ENC_LEGACY, U8_YAMADA "\xe2\x82\xac", CP_YAMADA "?", 1); /* € */
    /* invalid UTF-8 input -> '?' per bad byte, valid text around it kept */
    ENC(cs, IPMSG_ENC_LEGACY, "a\xff" U8_YAMADA "\xc3", "a?" CP_YAMADA "?", 2);
    ENC(cs, IPMSG_ENC_LEGACY, "\xed\xa0\x80", "???", 3); /* surrogate */
    /* no charset: ASCII passes, anything else is refused */
    ENC(NULL, IPMSG_ENC_LEGACY, "ascii", "ascii", 0);
    char *out = (char *)1;
    ipmsg_error e;
    assert_int_equal(ipmsg_encode(NULL, IPMSG_ENC_LEGACY, LIT(U8_YAMADA), &out, NULL, NULL, &e),
                     IPMSG_E_INVAL);
    assert_null(out);
    assert_int_equal(ipmsg_decode(NULL, IPMSG_ENC_LEGACY, LIT(CP_YAMADA), &out, NULL, NULL, &e),
                     IPMSG_E_INVAL);
}

static void test_utf8_sanitize(void **state)
{
    (void)state;
    DEC(NULL, IPMSG_ENC_UTF8, "h\xc3\xa9llo \xf0\x9f\x8e\x89", "h\xc3\xa9llo \xf0\x9f\x8e\x89", 0);
    DEC(NULL, IPMSG_ENC_UTF8,
        "a\xff"
        "b",
        "a" REPL "b", 1);
    DEC(NULL, IPMSG_ENC_UTF8, "\xc0\x80", REPL REPL, 2);                   /* overlong NUL */
    DEC(NULL, IPMSG_ENC_UTF8, "\xe0\x80\xaf", REPL REPL REPL, 3);          /* overlong '/' */
    DEC(NULL, IPMSG_ENC_UTF8, "\xf4\x90\x80\x80", REPL REPL REPL REPL, 4); /* > U+10FFFF */
    DEC(NULL, IPMSG_ENC_UTF8, "x\xe6\x97", "x" REPL REPL, 2);              /* truncated */
    ENC(NULL, IPMSG_ENC_UTF8, "a\xfe", "a" REPL, 1);
    /* RAW copies anything */
    DEC(NULL, IPMSG_ENC_RAW, "\xff\x00\x8e", "\xff\x00\x8e", 0);
    ENC(NULL, IPMSG_ENC_RAW, "\xff\x00\x8e", "\xff\x00\x8e", 0);
}

static void test_utf8_validity(void **state)
{
    (void)state;
    assert_true(ipmsg_utf8_valid(LIT("")));
    assert_true(ipmsg_utf8_valid(LIT("\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf")));
    assert_true(ipmsg_utf8_valid(LIT("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf")));
    assert_false(ipmsg_utf8_valid(LIT("\x80")));
    assert_false(ipmsg_utf8_valid(LIT("\xc1\xbf")));
    assert_false(ipmsg_utf8_valid(LIT("\xed\xbf\xbf")));
    assert_false(ipmsg_utf8_valid(LIT("\xf5\x80\x80\x80")));
    assert_false(ipmsg_utf8_valid(LIT("\xe2\x28\xa1")));
    assert_int_equal(ipmsg_utf8_seq_len(LIT("\xf0\x9f\x8e\x89")), 4);
    assert_int_equal(ipmsg_utf8_seq_len("\xf0\x9f\x8e", 3), 0);
    assert_int_equal(ipmsg_utf8_seq_len("", 0), 0);
    assert_true(ipmsg_is_ascii(LIT("abc\x7f")));
    assert_false(ipmsg_is_ascii(LIT("ab\x80")));
}

static void test_sniff_utf8(void **state)
{
    (void)state;
    ipmsg_charset *cs = NULL;
    assert_int_equal(ipmsg_charset_open(&cs, "CP932", IPMSG_CHARSET_SNIFF_UTF8, NULL), IPMSG_OK);
    /* iptux text without UTF8OPT (iptux-interop §6, packet 5) */
    DEC(cs, IPMSG_ENC_LEGACY, "reply \xc3\xbc\xc3\xa4 \xe2\x9c\x93",
        "reply \xc3\xbc\xc3\xa4 \xe2\x9c\x93", 0);
    /* real CP932 is not valid UTF-8: still decoded as CP932 */
    DEC(cs, IPMSG_ENC_LEGACY, CP_YAMADA, U8_YAMADA, 0);
    /* the documented hazard: half-width "ﾃｽﾄ①" in CP932 is valid UTF-8 "ýć@" */
    DEC(cs, IPMSG_ENC_LEGACY, "\xc3\xbd\xc4\x87\x40", "\xc3\xbd\xc4\x87\x40", 0);
    ipmsg_charset_close(cs);
    /* without the flag the same bytes are CP932 */
    assert_int_equal(ipmsg_charset_open(&cs, "CP932", 0, NULL), IPMSG_OK);
    DEC(cs, IPMSG_ENC_LEGACY, "\xc3\xbd\xc4\x87\x40",
        "\xef\xbe\x83\xef\xbd\xbd\xef\xbe\x84\xe2\x91\xa0", 0);
    ipmsg_charset_close(cs);
}

static void test_fallback_list(void **state)
{
    (void)state;
    ipmsg_charset *cs = NULL;
    assert_int_equal(ipmsg_charset_open(&cs, "CP932,GB18030", 0, NULL), IPMSG_OK);
    /* 黄敏 in GBK ends with a CP932 lead byte: CP932 fails strictly, GB18030 wins */
    DEC(cs, IPMSG_ENC_LEGACY, "\xbb\xc6\xc3\xf4", "\xe9\xbb\x84\xe6\x95\x8f", 0);
    /* CP932 text still decodes with the first entry */
    DEC(cs, IPMSG_ENC_LEGACY, CP_YAMADA, U8_YAMADA, 0);
    /* nothing clean: first code page with replacements */
    DEC(cs, IPMSG_ENC_LEGACY, "\xff\xff", REPL REPL, 2);
    /* encoding always uses the first */
    ENC(cs, IPMSG_ENC_LEGACY, U8_YAMADA, CP_YAMADA, 0);
    ipmsg_charset_close(cs);
}

static void test_other_codepages(void **state)
{
    (void)state;
    ipmsg_charset *cs = NULL;
    /* CP1252 (Western Windows): é = E9, € = 80 */
    assert_int_equal(ipmsg_charset_open(&cs, "CP1252", 0, NULL), IPMSG_OK);
    DEC(cs, IPMSG_ENC_LEGACY, "caf\xe9 \x80", "caf\xc3\xa9 \xe2\x82\xac", 0);
    ENC(cs, IPMSG_ENC_LEGACY, "caf\xc3\xa9 " U8_YAMADA, "caf\xe9 ??", 2);
    ipmsg_charset_close(cs);
    /* stateful ISO-2022-JP: replacement keeps a valid shift state */
    assert_int_equal(ipmsg_charset_open(&cs, "ISO-2022-JP", 0, NULL), IPMSG_OK);
    ENC(cs, IPMSG_ENC_LEGACY, U8_YAMADA "\xf0\x9f\x8e\x89" U8_YAMADA,
        "\x1b$B;3ED\x1b(B?\x1b$B;3ED\x1b(B", 1);
    ipmsg_charset_close(cs);
}

static void test_encode_into_bounds(void **state)
{
    ipmsg_charset *cs = *state;
    char buf[16];
    size_t n = 0, rep = 0;
    ipmsg_error e;
    for (size_t cap = 0; cap < 4; cap++) {
        memset(buf, '#', sizeof(buf));
        assert_int_equal(
            ipmsg_encode_into(cs, IPMSG_ENC_LEGACY, LIT(U8_YAMADA), buf, cap, &n, &rep, &e),
            IPMSG_E_NOSPACE);
        for (size_t i = cap; i < sizeof(buf); i++)
            assert_int_equal(buf[i], '#');
    }
    assert_int_equal(ipmsg_encode_into(cs, IPMSG_ENC_LEGACY, LIT(U8_YAMADA), buf, 4, &n, &rep, &e),
                     IPMSG_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, CP_YAMADA, 4);
    assert_int_equal(ipmsg_encode_into(cs, IPMSG_ENC_UTF8, LIT("abc"), buf, 2, &n, &rep, &e),
                     IPMSG_E_NOSPACE);
    assert_int_equal(ipmsg_encode_into(cs, IPMSG_ENC_UTF8, NULL, 3, buf, 2, &n, &rep, &e),
                     IPMSG_E_INVAL);
    assert_int_equal(ipmsg_encode_into(cs, IPMSG_ENC_UTF8, NULL, 0, buf, 2, &n, &rep, &e),
                     IPMSG_OK);
    assert_int_equal(n, 0);
}

static void test_decode_slice(void **state)
{
    ipmsg_charset *cs = *state;
    char *out = NULL;
    ipmsg_slice absent = {NULL, 0};
    assert_int_equal(ipmsg_decode_slice(cs, IPMSG_ENC_LEGACY, absent, &out, NULL, NULL), IPMSG_OK);
    assert_string_equal(out, "");
    free(out);
    ipmsg_slice s = {CP_YAMADA "tail", 4};
    assert_int_equal(ipmsg_decode_slice(cs, IPMSG_ENC_LEGACY, s, &out, NULL, NULL), IPMSG_OK);
    assert_string_equal(out, U8_YAMADA);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open),
        cmocka_unit_test(test_packet_enc),
        cmocka_unit_test_setup_teardown(test_cp932_decode, setup_cp932, teardown_cs),
        cmocka_unit_test_setup_teardown(test_cp932_invalid, setup_cp932, teardown_cs),
        cmocka_unit_test_setup_teardown(test_cp932_encode, setup_cp932, teardown_cs),
        cmocka_unit_test(test_utf8_sanitize),
        cmocka_unit_test(test_utf8_validity),
        cmocka_unit_test(test_sniff_utf8),
        cmocka_unit_test(test_fallback_list),
        cmocka_unit_test(test_other_codepages),
        cmocka_unit_test_setup_teardown(test_encode_into_bounds, setup_cp932, teardown_cs),
        cmocka_unit_test_setup_teardown(test_decode_slice, setup_cp932, teardown_cs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
