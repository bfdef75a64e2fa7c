/* ANSLIST pages, GETLIST index, ports and addresses (§4.5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "golden.h"
#include "hostlist.h"
#include "packet.h"
#include "testutil.h"

static void test_parse_golden_page(void **state)
{
    (void)state;
    const golden_packet *g = NULL;
    for (size_t i = 0; i < GOLDEN_COUNT; i++)
        if (strcmp(golden_packets[i].name, "win_anslist") == 0)
            g = &golden_packets[i];
    assert_non_null(g);
    ipmsg_packet p;
    ipmsg_error e = {0};
    assert_int_equal(ipmsg_parse(g->data, g->len, 0, &p, &e), IPMSG_OK);
    assert_int_equal(p.mode, IPMSG_ANSLIST);
    ipmsg_hostlist_page page;
    assert_int_equal(ipmsg_hostlist_parse(p.extra, &page, &e), IPMSG_OK);
    assert_int_equal(page.next_start, 0);
    assert_int_equal(page.count, 2);

    ipmsg_hostlist_iter it;
    ipmsg_hostlist_entry en;
    ipmsg_hostlist_begin(&page, &it);
    assert_int_equal(ipmsg_hostlist_next(&it, &en, &e), 1);
    assert_slice(en.user, "alice");
    assert_slice(en.host, "pc1");
    assert_int_equal(en.status, 0x01200000u);
    assert_slice(en.addr, "192.168.1.10");
    assert_int_equal(en.port_wire, 30985);
    assert_int_equal(ipmsg_hostlist_port_decode(en.port_wire), 2425);
    assert_slice(en.nick, "Alice");
    assert_slice(en.group, "Sales");
    uint8_t a[4];
    assert_true(ipmsg_parse_ipv4(en.addr, a));
    assert_int_equal(a[0], 192);
    assert_int_equal(a[3], 10);

    assert_int_equal(ipmsg_hostlist_next(&it, &en, &e), 1);
    assert_slice(en.user, "bob");
    assert_int_equal(en.status & IPMSG_ABSENCEOPT, IPMSG_ABSENCEOPT);
    assert_slice(en.nick, ""); /* \b placeholder */
    assert_slice(en.group, "");
    assert_int_equal(ipmsg_hostlist_next(&it, &en, &e), 0);
    assert_int_equal(ipmsg_hostlist_next(&it, &en, &e), 0);
}

static void test_parse_headers(void **state)
{
    (void)state;
    ipmsg_hostlist_page page;
    ipmsg_error e;
    /* wide numbers (more than 5 digits) and no padding */
    assert_int_equal(ipmsg_hostlist_parse(slice_of("123456\a1\a"), &page, &e), IPMSG_OK);
    assert_int_equal(page.next_start, 123456);
    assert_int_equal(page.count, 1);
    assert_int_equal(page.body.len, 0);
    assert_int_equal(ipmsg_hostlist_parse(slice_of("    0\a    0\a"), &page, &e), IPMSG_OK);
    ipmsg_hostlist_iter it;
    ipmsg_hostlist_entry en;
    ipmsg_hostlist_begin(&page, &it);
    assert_int_equal(ipmsg_hostlist_next(&it, &en, &e), 0);
}

typedef struct bad_page {
    const char *data;
    size_t len;
    int parse_rc; /* of ipmsg_hostlist_parse */
    int next_rc;  /* of the first ipmsg_hostlist_next, when parse succeeds */
} bad_page;

#define BADP(lit, prc, nrc)                                                                        \
    {                                                                                              \
        lit, sizeof(lit) - 1, prc, nrc                                                             \
    }

static void test_malformed_pages(void **state)
{
    (void)state;
    static const bad_page cases[] = {
        BADP("", IPMSG_E_SYNTAX, 0),
        BADP("    0", IPMSG_E_SYNTAX, 0),
        BADP("    0\a", IPMSG_E_SYNTAX, 0),
        BADP("    0\a    1", IPMSG_E_SYNTAX, 0),
        BADP("x\a1\a", IPMSG_E_SYNTAX, 0),
        BADP("0\ay\a", IPMSG_E_SYNTAX, 0),
        BADP("-1\a1\a", IPMSG_E_SYNTAX, 0),
        BADP("4294967296\a1\a", IPMSG_E_RANGE, 0),
        BADP("0\a1\a\0", IPMSG_E_SYNTAX, 0),
        /* entries */
        BADP("0\a1\au\ah\a0\a1.2.3.4\a30985\an\a", IPMSG_OK, IPMSG_E_SYNTAX), /* truncated */
        BADP("0\a1\au\ah\a0\a1.2.3.4\a30985\an\ag", IPMSG_OK, IPMSG_E_SYNTAX),
        BADP("0\a1\au", IPMSG_OK, IPMSG_E_SYNTAX),
        BADP("0\a1\a\ah\a0\a1.2.3.4\a30985\an\ag\a", IPMSG_OK, IPMSG_E_SYNTAX), /* no user */
        BADP("0\a1\au\a\a0\a1.2.3.4\a30985\an\ag\a", IPMSG_OK, IPMSG_E_SYNTAX), /* no host */
        BADP("0\a1\au\ah\ax\a1.2.3.4\a30985\an\ag\a", IPMSG_OK, IPMSG_E_SYNTAX),
        BADP("0\a1\au\ah\a0\a\a30985\an\ag\a", IPMSG_OK, IPMSG_E_SYNTAX),
        BADP("0\a1\au\ah\a0\a1.2.3.4\a65536\an\ag\a", IPMSG_OK, IPMSG_E_SYNTAX),
        BADP("0\a1\au\ah\a0\a1.2.3.4\a-1\an\ag\a", IPMSG_OK, IPMSG_E_SYNTAX),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ipmsg_slice s = {cases[i].data, cases[i].len};
        ipmsg_hostlist_page page;
        ipmsg_error e = {0};
        int rc = ipmsg_hostlist_parse(s, &page, &e);
        if (rc != cases[i].parse_rc)
            fail_msg("case %zu: parse rc %d, want %d", i, rc, cases[i].parse_rc);
        if (rc != IPMSG_OK) {
            assert_non_null(e.reason);
            continue;
        }
        ipmsg_hostlist_iter it;
        ipmsg_hostlist_entry en;
        ipmsg_hostlist_begin(&page, &it);
        rc = ipmsg_hostlist_next(&it, &en, &e);
        if (rc != cases[i].next_rc)
            fail_msg("case %zu: next rc %d, want %d", i, rc, cases[i].next_rc);
        assert_non_null(e.reason);
        /* After a truncated entry the iterator is at its end */
        if (rc == IPMSG_E_SYNTAX && strstr(e.reason, "truncated"))
            assert_int_equal(ipmsg_hostlist_next(&it, &en, &e), 0);
    }
}

static void test_ports(void **state)
{
    (void)state;
    assert_int_equal(ipmsg_hostlist_port_encode(2425), 30985);
    assert_int_equal(ipmsg_hostlist_port_decode(30985), 2425);
    assert_int_equal(ipmsg_hostlist_port_decode(2425), 2425); /* host-order writer */
    assert_int_equal(ipmsg_hostlist_port_decode(ipmsg_hostlist_port_encode(2426)), 2426);
    assert_int_equal(ipmsg_hostlist_port_encode(0x1234), 0x3412);
}

static void test_ipv4(void **state)
{
    (void)state;
    uint8_t a[4];
    assert_true(ipmsg_parse_ipv4(slice_of("0.0.0.0"), a));
    assert_true(ipmsg_parse_ipv4(slice_of("255.255.255.255"), a));
    assert_int_equal(a[2], 255);
    static const char *bad[] = {"",           "1.2.3",    "1.2.3.4.5", "256.1.1.1",
                                "1..2.3",     "1.2.3.4 ", " 1.2.3.4",  "1.2.3.-4",
                                "1.2.3.0004", "a.b.c.d",  "1.2.3.4x",  "::1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ipmsg_parse_ipv4(slice_of(bad[i]), a))
            fail_msg("accepted %s", bad[i]);
    ipmsg_slice none = {NULL, 0};
    assert_false(ipmsg_parse_ipv4(none, a));
}

static void test_getlist_start(void **state)
{
    (void)state;
    uint32_t v = 99;
    ipmsg_error e;
    ipmsg_slice none = {NULL, 0};
    assert_int_equal(ipmsg_getlist_start(none, &v, &e), IPMSG_OK);
    assert_int_equal(v, 0);
    assert_int_equal(ipmsg_getlist_start(slice_of("   "), &v, &e), IPMSG_OK);
    assert_int_equal(v, 0);
    assert_int_equal(ipmsg_getlist_start(slice_of("100"), &v, &e), IPMSG_OK);
    assert_int_equal(v, 100);
    assert_int_equal(ipmsg_getlist_start(slice_of("-5"), &v, &e), IPMSG_E_SYNTAX);
    assert_int_equal(ipmsg_getlist_start(slice_of("5x"), &v, &e), IPMSG_E_SYNTAX);
    assert_int_equal(ipmsg_getlist_start(slice_of("5"), NULL, &e), IPMSG_E_INVAL);
}

static const ipmsg_hostlist_host hosts3[] = {
    {"alice", "pc1", 0x01200000, "192.168.1.10", 2425, "Alice", "Sales"},
    {"bob", "pc2", 0x01200100, "192.168.1.11", 2425, NULL, ""},
    {"yamada", "PC-YAMADA", 0x01200000, "10.0.0.7", 2426, "\xe5\xb1\xb1\xe7\x94\xb0",
     "\xe5\x96\xb6\xe6\xa5\xad\xe9\x83\xa8"},
};

static void test_build_page_exact(void **state)
{
    (void)state;
    char out[512];
    size_t n = 0, written = 0;
    uint32_t next = 99;
    ipmsg_error e = {0};
    assert_int_equal(ipmsg_hostlist_build(hosts3, 2, 0, NULL, IPMSG_ENC_UTF8, out, sizeof(out), &n,
                                          &written, &next, &e),
                     IPMSG_OK);
    assert_int_equal(written, 2);
    assert_int_equal(next, 0);
    /* exactly the golden ANSLIST extra */
    assert_bytes(out, n,
                 "    0\a    2\a"
                 "alice\apc1\a18874368\a192.168.1.10\a30985\aAlice\aSales\a"
                 "bob\apc2\a18874624\a192.168.1.11\a30985\a\b\a\b\a");

    /* legacy: Japanese nick/group in CP932; port 2426 -> 0x7a09 = 31241 */
    ipmsg_charset *cs = NULL;
    assert_int_equal(ipmsg_charset_open(&cs, "CP932", 0, NULL), IPMSG_OK);
    assert_int_equal(ipmsg_hostlist_build(hosts3, 3, 2, cs, IPMSG_ENC_LEGACY, out, sizeof(out), &n,
                                          &written, &next, &e),
                     IPMSG_OK);
    assert_bytes(out, n,
                 "    0\a    1\ayamada\aPC-YAMADA\a18874368\a10.0.0.7\a31241\a"
                 "\x8e\x52\x93\x63\a\x89\x63\x8b\xc6\x95\x94\a");
    /* without a charset, non-ASCII legacy text is refused */
    assert_int_equal(ipmsg_hostlist_build(hosts3, 3, 2, NULL, IPMSG_ENC_LEGACY, out, sizeof(out),
                                          &n, &written, &next, &e),
                     IPMSG_E_INVAL);
    ipmsg_charset_close(cs);
}

static void test_build_paging(void **state)
{
    (void)state;
    char out[512];
    size_t n = 0, written = 0, full = 0;
    uint32_t next = 0;
    ipmsg_error e;
    /* Size of a page with the first two entries = limit: the third goes to page 2 */
    assert_int_equal(ipmsg_hostlist_build(hosts3, 2, 0, NULL, IPMSG_ENC_UTF8, out, sizeof(out),
                                          &full, &written, &next, &e),
                     IPMSG_OK);
    for (size_t cap = full; cap < full + 5; cap++) {
        char buf[512];
        memset(buf, '#', sizeof(buf));
        assert_int_equal(ipmsg_hostlist_build(hosts3, 3, 0, NULL, IPMSG_ENC_UTF8, buf, cap, &n,
                                              &written, &next, &e),
                         IPMSG_OK);
        assert_int_equal(written, 2);
        assert_int_equal(next, 2);
        assert_true(n <= cap);
        assert_memory_equal(buf, "    2\a    2\a", 12);
        for (size_t i = cap; i < sizeof(buf); i++)
            assert_int_equal(buf[i], '#');
    }
    /* Page 2 from index 2 */
    assert_int_equal(ipmsg_hostlist_build(hosts3, 3, next, NULL, IPMSG_ENC_UTF8, out, sizeof(out),
                                          &n, &written, &next, &e),
                     IPMSG_OK);
    assert_int_equal(written, 1);
    assert_int_equal(next, 0);
    /* Start past the end: an empty, complete page */
    assert_int_equal(ipmsg_hostlist_build(hosts3, 3, 10, NULL, IPMSG_ENC_UTF8, out, sizeof(out), &n,
                                          &written, &next, &e),
                     IPMSG_OK);
    assert_bytes(out, n, "    0\a    0\a");
    /* Not even one entry fits: an error, never a 0-entry page with next != 0 */
    assert_int_equal(
        ipmsg_hostlist_build(hosts3, 3, 0, NULL, IPMSG_ENC_UTF8, out, 30, &n, &written, &next, &e),
        IPMSG_E_NOSPACE);
    assert_int_equal(
        ipmsg_hostlist_build(hosts3, 3, 0, NULL, IPMSG_ENC_UTF8, out, 5, &n, &written, &next, &e),
        IPMSG_E_NOSPACE);
}

static void test_build_sanitize_and_refuse(void **state)
{
    (void)state;
    char out[256];
    size_t n = 0, written = 0;
    uint32_t next = 0;
    ipmsg_error e;
    ipmsg_hostlist_host h = {"u", "h", 0, "1.2.3.4", 2425, "bell\aname", "\b"};
    assert_int_equal(ipmsg_hostlist_build(&h, 1, 0, NULL, IPMSG_ENC_UTF8, out, sizeof(out), &n,
                                          &written, &next, &e),
                     IPMSG_OK);
    assert_bytes(out, n, "    0\a    1\au\ah\a0\a1.2.3.4\a30985\abell name\a\b\a");
    /* ENC_RAW copies every field as is, the address included (fuzz finding:
     * it used to be sanitized as UTF-8 and grew 3x) */
    ipmsg_hostlist_host r = {"\xff", "h", 0, "\xff\xfe", 2425, "\x8e\x52", NULL};
    assert_int_equal(ipmsg_hostlist_build(&r, 1, 0, NULL, IPMSG_ENC_RAW, out, sizeof(out), &n,
                                          &written, &next, &e),
                     IPMSG_OK);
    assert_bytes(out, n, "    0\a    1\a\xff\ah\a0\a\xff\xfe\a30985\a\x8e\x52\a\b\a");
    /* ENC_UTF8 sanitizes instead */
    assert_int_equal(ipmsg_hostlist_build(&r, 1, 0, NULL, IPMSG_ENC_UTF8, out, sizeof(out), &n,
                                          &written, &next, &e),
                     IPMSG_OK);
    assert_non_null(memmem(out, n, "\xef\xbf\xbd\ah\a", 6));
    h.user = "";
    assert_int_equal(ipmsg_hostlist_build(&h, 1, 0, NULL, IPMSG_ENC_UTF8, out, sizeof(out), &n,
                                          &written, &next, &e),
                     IPMSG_E_INVAL);
    h.user = "u";
    h.addr = NULL;
    assert_int_equal(ipmsg_hostlist_build(&h, 1, 0, NULL, IPMSG_ENC_UTF8, out, sizeof(out), &n,
                                          &written, &next, &e),
                     IPMSG_E_INVAL);
    assert_int_equal(ipmsg_hostlist_build(NULL, 1, 0, NULL, IPMSG_ENC_UTF8, out, sizeof(out), &n,
                                          &written, &next, &e),
                     IPMSG_E_INVAL);
}

/* Large table: pages chain with GETLIST until next_start == 0, nothing lost. */
static void test_build_parse_chain(void **state)
{
    (void)state;
    enum { N = 500 };
    static ipmsg_hostlist_host tbl[N];
    static char names[N][3][24];
    for (int i = 0; i < N; i++) {
        snprintf(names[i][0], 24, "user%d", i);
        snprintf(names[i][1], 24, "host%d", i);
        snprintf(names[i][2], 24, "10.0.%d.%d", i / 256, i % 256);
        tbl[i] = (ipmsg_hostlist_host){
            names[i][0],          names[i][1],           (uint32_t)i << 8,    names[i][2],
            (uint16_t)(2425 + i), i % 3 ? "nick" : NULL, i % 5 ? NULL : "grp"};
    }
    size_t seen = 0;
    uint32_t start = 0;
    int pages = 0;
    do {
        char buf[2048];
        size_t n = 0, written = 0;
        uint32_t next = 0;
        assert_int_equal(ipmsg_hostlist_build(tbl, N, start, NULL, IPMSG_ENC_UTF8, buf, sizeof(buf),
                                              &n, &written, &next, NULL),
                         IPMSG_OK);
        ipmsg_slice s = {buf, n};
        ipmsg_hostlist_page page;
        assert_int_equal(ipmsg_hostlist_parse(s, &page, NULL), IPMSG_OK);
        assert_int_equal(page.count, written);
        assert_int_equal(page.next_start, next);
        ipmsg_hostlist_iter it;
        ipmsg_hostlist_entry en;
        ipmsg_hostlist_begin(&page, &it);
        while (ipmsg_hostlist_next(&it, &en, NULL) == 1) {
            assert_true(ipmsg_slice_eq(en.user, tbl[seen].user));
            assert_true(ipmsg_slice_eq(en.addr, tbl[seen].addr));
            assert_int_equal(ipmsg_hostlist_port_decode(en.port_wire), tbl[seen].port);
            assert_int_equal(en.status, tbl[seen].status);
            assert_int_equal(en.nick.len, tbl[seen].nick ? 4 : 0);
            seen++;
        }
        start = next;
        pages++;
    } while (start != 0);
    assert_int_equal(seen, N);
    assert_true(pages > 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_golden_page),
        cmocka_unit_test(test_parse_headers),
        cmocka_unit_test(test_malformed_pages),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_getlist_start),
        cmocka_unit_test(test_build_page_exact),
        cmocka_unit_test(test_build_paging),
        cmocka_unit_test(test_build_sanitize_and_refuse),
        cmocka_unit_test(test_build_parse_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
