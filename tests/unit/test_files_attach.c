/* FILEATTACHOPT attach lists (§5.1): real Windows and iptux forms, limits,
 * errors, round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attach.h"
#include "ipmsg_proto.h"

static dg_attach_list parse_ok(const char *s, size_t len)
{
    dg_attach_list l;
    ipmsg_error e = {0};
    int rc = dg_attach_parse(s, len, NULL, &l, &e);
    if (rc != IPMSG_OK)
        fail_msg("parse failed: %s at %zu", e.reason, e.offset);
    return l;
}

#define PARSE(lit) parse_ok(lit, sizeof(lit) - 1)

static void expect_error(const char *s, size_t len, const dg_attach_limits *lim, int code,
                         const char *reason)
{
    dg_attach_list l;
    ipmsg_error e = {0};
    assert_int_equal(dg_attach_parse(s, len, lim, &l, &e), code);
    assert_non_null(e.reason);
    if (reason)
        assert_string_equal(e.reason, reason);
    assert_null(l.entries);
    assert_int_equal(l.count, 0);
}

#define FAILS(lit, code, reason) expect_error(lit, sizeof(lit) - 1, NULL, code, reason)

static void test_windows_entries(void **state)
{
    (void)state;
    /* Windows: %d:%s:%llx:%llx:%x[:8=%x]:\a, read-only attr 0x101 */
    dg_attach_list l = PARSE("123456:report.pdf:1a2b3c:65f1c2a0:101:\a"
                             "123457:photos:0:65f1c2a1:2:\a");
    assert_int_equal(l.count, 2);
    assert_int_equal(l.entries[0].file_id, 123456);
    assert_string_equal(l.entries[0].name, "report.pdf");
    assert_int_equal(l.entries[0].name_len, 10);
    assert_int_equal(l.entries[0].size, 0x1a2b3c);
    assert_int_equal(l.entries[0].mtime, 0x65f1c2a0);
    assert_int_equal(l.entries[0].attr, 0x101);
    assert_int_equal(dg_attach_type(&l.entries[0]), IPMSG_FILE_REGULAR);
    assert_true(dg_attach_is_fetchable(&l.entries[0]));
    assert_false(dg_attach_is_inline_image(&l.entries[0]));
    assert_int_equal(dg_attach_type(&l.entries[1]), IPMSG_FILE_DIR);
    assert_true(dg_attach_is_fetchable(&l.entries[1]));
    dg_attach_list_free(&l);
}

static void test_iptux_entries(void **state)
{
    (void)state;
    /* iptux: %u:%s:%llx:%x:%x:\a: with the colon after the separator */
    dg_attach_list l = PARSE("10000:iptux-outgoing.txt:2328:6b016e48:1:\a:"
                             "10001:dir:0:6b016e49:2:\a:");
    assert_int_equal(l.count, 2);
    assert_int_equal(l.entries[0].file_id, 10000);
    assert_string_equal(l.entries[0].name, "iptux-outgoing.txt");
    assert_int_equal(l.entries[0].size, 0x2328);
    assert_int_equal(l.entries[1].file_id, 10001);
    assert_string_equal(l.entries[1].name, "dir");
    dg_attach_list_free(&l);
}

static void test_inline_image_flagged(void **state)
{
    (void)state;
    /* §5.5: mixed message, the 0x20 entry is kept but flagged, the list goes on */
    dg_attach_list l = PARSE("5:ipmsgclip_0.png:4d2:65f1c2a0:20:8=3:\a"
                             "6:a.txt:1:65f1c2a0:1:\a");
    assert_int_equal(l.count, 2);
    assert_true(dg_attach_is_inline_image(&l.entries[0]));
    assert_false(dg_attach_is_fetchable(&l.entries[0]));
    uint64_t pos = 0;
    assert_true(dg_attach_clip_pos(&l.entries[0], &pos));
    assert_int_equal(pos, 3);
    assert_false(dg_attach_clip_pos(&l.entries[1], &pos));
    assert_true(dg_attach_is_fetchable(&l.entries[1]));
    dg_attach_list_free(&l);

    /* unknown and non-file types are flagged too */
    l = PARSE("7:link:0:0:4:\a8:fork:10:0:10:\a9:x:0:0:ff:\a");
    assert_int_equal(l.count, 3);
    for (size_t i = 0; i < 3; i++)
        assert_false(dg_attach_is_fetchable(&l.entries[i]));
    dg_attach_list_free(&l);
}

static void test_colon_escape(void **state)
{
    (void)state;
    dg_attach_list l = PARSE("1:a::b:::5:0:1:\a2:::x:1:0:1:\a");
    assert_int_equal(l.count, 2);
    assert_string_equal(l.entries[0].name, "a:b:");
    assert_int_equal(l.entries[0].size, 5);
    assert_string_equal(l.entries[1].name, ":x");
    dg_attach_list_free(&l);
}

static void test_ext_attrs(void **state)
{
    (void)state;
    dg_attach_list l = PARSE("1:f:10:20:1:14=65f1c2a0:22=1,2,ffffffffffffffff::16=0:\a");
    assert_int_equal(l.count, 1);
    const dg_attach_entry *e = &l.entries[0];
    assert_int_equal(e->n_ext, 3);
    assert_int_equal(e->ext[0].key, 0x14);
    assert_int_equal(e->ext[0].vals[0], 0x65f1c2a0);
    assert_int_equal(e->ext[1].key, 0x22);
    assert_int_equal(e->ext[1].n_vals, 3);
    assert_true(e->ext[1].vals[2] == UINT64_MAX);
    assert_int_equal(e->ext[2].key, 0x16);
    dg_attach_list_free(&l);
}

static void test_lenient_separators(void **state)
{
    (void)state;
    /* no trailing '\a', no trailing ':' */
    dg_attach_list l = PARSE("1:a:1:0:1");
    assert_int_equal(l.count, 1);
    assert_int_equal(l.entries[0].attr, 1);
    dg_attach_list_free(&l);
    l = PARSE("1:a:1:0:1\a2:b:2:0:1:");
    assert_int_equal(l.count, 2);
    dg_attach_list_free(&l);
    /* trailing runs of separators */
    l = PARSE("1:a:1:0:1:\a\a:\a::");
    assert_int_equal(l.count, 1);
    dg_attach_list_free(&l);
    /* only separators, or nothing: no entries */
    l = PARSE("\a:\a");
    assert_int_equal(l.count, 0);
    dg_attach_list_free(&l);
    l = PARSE("");
    assert_int_equal(l.count, 0);
    dg_attach_list_free(&l);
    /* leading zeros and uppercase hex (Windows pads some fields) */
    l = PARSE("0042:A:000000001F:00ABCDEF:0001:\a");
    assert_int_equal(l.entries[0].file_id, 42);
    assert_int_equal(l.entries[0].size, 0x1f);
    assert_int_equal(l.entries[0].mtime, 0xabcdef);
    dg_attach_list_free(&l);
}

static void test_errors(void **state)
{
    (void)state;
    FAILS("x:a:1:0:1:\a", IPMSG_E_SYNTAX, "not a decimal digit in a number field");
    FAILS("1", IPMSG_E_SYNTAX, "attach entry ends after the file ID");
    FAILS("1:abc", IPMSG_E_SYNTAX, "attach entry ends inside the file name");
    FAILS("1::1:0:1:\a", IPMSG_E_SYNTAX, "empty file name in attach entry");
    FAILS("1:a:1", IPMSG_E_SYNTAX, "attach entry ends after the size");
    FAILS("1:a:1:0", IPMSG_E_SYNTAX, "attach entry ends after the mtime");
    FAILS("1:a:1:0:", IPMSG_E_SYNTAX, "empty number field");
    FAILS("1:a:g:0:1:\a", IPMSG_E_SYNTAX, "not a hex digit in a number field");
    FAILS("1:a:-1:0:1:\a", IPMSG_E_SYNTAX, "not a hex digit in a number field");
    FAILS("1:a:1:0:1:zz:\a", IPMSG_E_SYNTAX, "extended attribute without '='");
    FAILS("1:a:1:0:1:14=:\a", IPMSG_E_SYNTAX, "empty number field");
    FAILS("1:a:1:0:1:14=1,:\a", IPMSG_E_SYNTAX, "empty number field");
    FAILS("1:a:1:0:1:14=1,2,3,4,5,6,7,8,9:\a", IPMSG_E_RANGE,
          "too many values in an extended attribute");
    FAILS("1:a:1:0:1:1=1:2=1:3=1:4=1:5=1:6=1:7=1:8=1:9=1:\a", IPMSG_E_RANGE,
          "too many extended attributes in entry");
    FAILS("1:a\ab:1:0:1:\a", IPMSG_E_SYNTAX, NULL);
    FAILS("1:a\0b:1:0:1:\a", IPMSG_E_SYNTAX, "NUL or '\\a' inside a file name");
    /* the error in the second entry throws the list away, nothing half-kept */
    FAILS("1:a:1:0:1:\a2:b", IPMSG_E_SYNTAX, "attach entry ends inside the file name");
}

static void test_overflow(void **state)
{
    (void)state;
    /* fileID: decimal < 2^32 */
    dg_attach_list l = PARSE("4294967295:a:0:0:1:\a");
    assert_int_equal(l.entries[0].file_id, 4294967295u);
    dg_attach_list_free(&l);
    FAILS("4294967296:a:0:0:1:\a", IPMSG_E_RANGE, "number out of range");
    /* size: 16 hex digits max value */
    l = PARSE("1:a:ffffffffffffffff:0:1:\a");
    assert_true(l.entries[0].size == UINT64_MAX);
    dg_attach_list_free(&l);
    FAILS("1:a:10000000000000000:0:1:\a", IPMSG_E_RANGE, "number out of range");
    /* attr: 32 bits */
    FAILS("1:a:0:0:100000000:\a", IPMSG_E_RANGE, "number out of range");
    FAILS("1:a:0:0:1:100000000=1:\a", IPMSG_E_RANGE, "number out of range");
    /* too many digits even when the value is small */
    FAILS("1:a:000000000000000000000000000000001:0:1:\a", IPMSG_E_RANGE,
          "number field has too many digits");
}

static void test_limits(void **state)
{
    (void)state;
    dg_attach_limits lim = {.max_entries = 2, .max_name = 4};
    const char *three = "1:a:0:0:1:\a2:b:0:0:1:\a3:c:0:0:1:\a";
    expect_error(three, strlen(three), &lim, IPMSG_E_TOOBIG, "too many entries in attach list");
    const char *two = "1:a:0:0:1:\a2:b:0:0:1:\a";
    dg_attach_list l;
    assert_int_equal(dg_attach_parse(two, strlen(two), &lim, &l, NULL), IPMSG_OK);
    assert_int_equal(l.count, 2);
    dg_attach_list_free(&l);
    const char *longname = "1:abcde:0:0:1:\a";
    expect_error(longname, strlen(longname), &lim, IPMSG_E_TOOBIG,
                 "file name in attach entry too long");
    /* "::" counts once against the limit */
    const char *esc = "1:a::::b:0:0:1:\a";
    assert_int_equal(dg_attach_parse(esc, strlen(esc), &lim, &l, NULL), IPMSG_OK);
    assert_string_equal(l.entries[0].name, "a::b");
    dg_attach_list_free(&l);

    /* default name limit: 4 KB hostile name refused */
    size_t n = 4096;
    char *big = malloc(n + 32);
    assert_non_null(big);
    int k = snprintf(big, 32, "1:");
    memset(big + k, 'x', n);
    memcpy(big + k + n, ":0:0:1:\a", 8);
    expect_error(big, (size_t)k + n + 8, NULL, IPMSG_E_TOOBIG,
                 "file name in attach entry too long");
    free(big);

    /* default entry limit */
    size_t cnt = DG_ATTACH_DEFAULT_MAX_ENTRIES + 1, cap = cnt * 16, len = 0;
    char *many = malloc(cap);
    assert_non_null(many);
    for (size_t i = 0; i < cnt; i++)
        len += (size_t)snprintf(many + len, cap - len, "%zu:f:0:0:1:\a", i);
    expect_error(many, len, NULL, IPMSG_E_TOOBIG, "too many entries in attach list");
    free(many);
}

static void test_format(void **state)
{
    (void)state;
    dg_attach_entry e[2];
    memset(e, 0, sizeof(e));
    e[0] = (dg_attach_entry){.file_id = 7,
                             .name = "a:b",
                             .name_len = 3,
                             .size = 0x1234,
                             .mtime = 0x65f1c2a0,
                             .attr = 0x101};
    e[1] = (dg_attach_entry){.file_id = 8,
                             .name = "img.png",
                             .name_len = 7,
                             .size = 10,
                             .mtime = 1,
                             .attr = IPMSG_FILE_CLIPBOARD,
                             .n_ext = 1};
    e[1].ext[0] = (dg_extattr){.key = 8, .n_vals = 1, .vals = {2}};
    char out[128];
    size_t len;
    ipmsg_error err = {0};
    assert_int_equal(dg_attach_format(e, 2, out, sizeof(out), &len, &err), IPMSG_OK);
    const char *want = "7:a::b:1234:65f1c2a0:101:\a8:img.png:a:1:20:8=2:\a";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);

    /* too small: NOSPACE at every size below the need */
    for (size_t cap = 0; cap < len; cap++)
        assert_int_equal(dg_attach_format(e, 2, out, cap, &len, &err), IPMSG_E_NOSPACE);

    /* what cannot be parsed back is refused */
    dg_attach_entry bad = e[0];
    bad.name_len = 0;
    assert_int_equal(dg_attach_format(&bad, 1, out, sizeof(out), &len, &err), IPMSG_E_INVAL);
    bad = e[0];
    bad.name = "a\ab";
    assert_int_equal(dg_attach_format(&bad, 1, out, sizeof(out), &len, &err), IPMSG_E_INVAL);
    bad = e[1];
    bad.ext[0].n_vals = 0;
    assert_int_equal(dg_attach_format(&bad, 1, out, sizeof(out), &len, &err), IPMSG_E_INVAL);
    bad.n_ext = DG_EXTATTR_MAX + 1;
    assert_int_equal(dg_attach_format(&bad, 1, out, sizeof(out), &len, &err), IPMSG_E_INVAL);
    assert_int_equal(dg_attach_format(NULL, 0, out, sizeof(out), &len, &err), IPMSG_OK);
    assert_int_equal(len, 0);
}

static void assert_same_entries(const dg_attach_list *a, const dg_attach_list *b)
{
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        const dg_attach_entry *x = &a->entries[i], *y = &b->entries[i];
        assert_int_equal(x->file_id, y->file_id);
        assert_int_equal(x->name_len, y->name_len);
        assert_memory_equal(x->name, y->name, x->name_len);
        assert_true(x->size == y->size && x->mtime == y->mtime);
        assert_int_equal(x->attr, y->attr);
        assert_int_equal(x->n_ext, y->n_ext);
        for (size_t k = 0; k < x->n_ext; k++) {
            assert_int_equal(x->ext[k].key, y->ext[k].key);
            assert_int_equal(x->ext[k].n_vals, y->ext[k].n_vals);
            assert_memory_equal(x->ext[k].vals, y->ext[k].vals,
                                x->ext[k].n_vals * sizeof(uint64_t));
        }
    }
}

static void test_roundtrip(void **state)
{
    (void)state;
    static const char *const lists[] = {
        "123456:report.pdf:1a2b3c:65f1c2a0:101:\a123457:photos:0:65f1c2a1:2:\a",
        "10000:iptux-outgoing.txt:2328:6b016e48:1:\a:",
        "5:ipmsgclip_0.png:4d2:65f1c2a0:20:8=3:\a6:a.txt:1:65f1c2a0:8001:\a",
        "1:::a::::b:::0:0:1:14=1,2,3:\a",
        "0:\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt:ffffffffffffffff:0:ffffffff:\a",
        "1:ctl\x01\x1f.bin:0:0:1",
    };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        dg_attach_list a = parse_ok(lists[i], strlen(lists[i]));
        char out[512];
        size_t len;
        assert_int_equal(dg_attach_format(a.entries, a.count, out, sizeof(out), &len, NULL),
                         IPMSG_OK);
        dg_attach_list b = parse_ok(out, len);
        assert_same_entries(&a, &b);
        dg_attach_list_free(&a);
        dg_attach_list_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_entries),
        cmocka_unit_test(test_iptux_entries),
        cmocka_unit_test(test_inline_image_flagged),
        cmocka_unit_test(test_colon_escape),
        cmocka_unit_test(test_ext_attrs),
        cmocka_unit_test(test_lenient_separators),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
