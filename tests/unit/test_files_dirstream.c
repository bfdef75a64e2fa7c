/* GETDIRFILES stream (§5.3): record header encoder/parser and the
 * incremental decoder, independent of how the input is split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dirstream.h"
#include "ipmsg_proto.h"

/* ---- building streams ---- */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void rec(buf *b, const char *name, uint32_t attr, const char *body, size_t size,
                uint64_t mtime)
{
    dg_dirhdr h = {.name = name, .name_len = strlen(name), .size = size, .attr = attr};
    assert_true(dg_dirhdr_set_ext(&h, IPMSG_FILE_MTIME, mtime));
    assert_true(dg_dirhdr_set_ext(&h, IPMSG_FILE_CREATETIME, mtime - 1));
    char hdr[1024];
    size_t len;
    assert_int_equal(dg_dirhdr_format(&h, hdr, sizeof(hdr), &len, NULL), IPMSG_OK);
    put(b, hdr, len);
    if (size)
        put(b, body, size);
}

/* top/ { a.txt "hello", sub/ { empty.bin "", deep/ { b "xyz" } }, e/ {} } */
static buf sample_stream(void)
{
    buf b = {0};
    rec(&b, "top", IPMSG_FILE_DIR, NULL, 0, 0x65000000);
    rec(&b, "a:b.txt", IPMSG_FILE_REGULAR | IPMSG_FILE_RONLYOPT, "hello", 5, 0x65000001);
    rec(&b, "sub", IPMSG_FILE_DIR, NULL, 0, 0x65000002);
    rec(&b, "empty.bin", IPMSG_FILE_REGULAR, NULL, 0, 0x65000003);
    rec(&b, "deep", IPMSG_FILE_DIR, NULL, 0, 0x65000004);
    rec(&b, "b", IPMSG_FILE_REGULAR, "xyz", 3, 0x65000005);
    rec(&b, ".", IPMSG_FILE_RETPARENT, NULL, 0, 0x65000004);
    rec(&b, ".", IPMSG_FILE_RETPARENT, NULL, 0, 0x65000002);
    rec(&b, "e", IPMSG_FILE_DIR, NULL, 0, 0x65000006);
    rec(&b, ".", IPMSG_FILE_RETPARENT, NULL, 0, 0x65000006);
    rec(&b, ".", IPMSG_FILE_RETPARENT, NULL, 0, 0x65000000);
    return b;
}

/* ---- decoding into a comparable transcript ---- */

static const char *kind_name(dg_ds_kind k)
{
    static const char *const n[] = {"none", "enter", "begin", "data", "end", "leave", "done"};
    return n[k];
}

/* Feeds stream in chunks given by sizes (cycled; 0 = whole rest) and writes
 * one line per event into out; FILE_DATA pieces are merged so only the
 * bytes matter. Returns the final status (0 = finished cleanly). */
static int decode(const char *s, size_t len, const size_t *sizes, size_t n_sizes,
                  const dg_dirstream_limits *lim, buf *out, ipmsg_error *err)
{
    dg_dirstream *d = dg_dirstream_new(lim);
    assert_non_null(d);
    size_t pos = 0, si = 0;
    bool in_data = false;
    int rc = 0;
    uint64_t declared = 0, got = 0;
    do {
        size_t chunk = len - pos;
        if (n_sizes) {
            size_t want = sizes[si++ % n_sizes];
            if (want && want < chunk)
                chunk = want;
        }
        const char *p = s + pos;
        size_t left = chunk;
        for (;;) {
            dg_ds_event ev;
            size_t used;
            rc = dg_dirstream_next(d, p, left, &used, &ev, err);
            assert_true(used <= left);
            p += used;
            left -= used;
            if (rc <= 0)
                break;
            char line[300];
            if (ev.kind == DG_DS_FILE_DATA) {
                assert_true(ev.data >= (const uint8_t *)s &&
                            ev.data + ev.len <= (const uint8_t *)s + len);
                got += ev.len;
                assert_true(got <= declared);
                if (!in_data)
                    put(out, "data:", 5);
                put(out, ev.data, ev.len);
                in_data = true;
                continue;
            }
            if (in_data)
                put(out, "\n", 1);
            in_data = false;
            if (ev.hdr) {
                snprintf(line, sizeof(line), "%s %u %s size=%llx attr=%x mtime=%d:%llx\n",
                         kind_name(ev.kind), (unsigned)ev.depth, ev.hdr->name,
                         (unsigned long long)ev.hdr->size, (unsigned)ev.hdr->attr, ev.has_mtime,
                         (unsigned long long)ev.mtime);
                if (ev.kind == DG_DS_FILE_BEGIN) {
                    declared = ev.hdr->size;
                    got = 0;
                }
                if (ev.kind == DG_DS_FILE_END)
                    assert_true(got == declared);
            } else {
                snprintf(line, sizeof(line), "%s\n", kind_name(ev.kind));
            }
            put(out, line, strlen(line));
        }
        if (rc < 0)
            break;
        assert_int_equal(left, 0);
        pos += chunk;
    } while (pos < len);
    if (rc >= 0) {
        /* drain events that need no input */
        dg_ds_event ev;
        size_t used;
        while ((rc = dg_dirstream_next(d, "", 0, &used, &ev, err)) == 1) {
            if (in_data)
                put(out, "\n", 1);
            in_data = false;
            char line[300];
            snprintf(line, sizeof(line), "%s%s\n", kind_name(ev.kind), ev.hdr ? " (late)" : "");
            put(out, line, strlen(line));
        }
        if (rc == 0)
            rc = dg_dirstream_finish(d, err);
    }
    dg_dirstream_free(d);
    put(out, "", 1);
    return rc;
}

static const char expected_sample[] = "enter 0 top size=0 attr=2 mtime=1:65000000\n"
                                      "begin 1 a:b.txt size=5 attr=101 mtime=1:65000001\n"
                                      "data:hello\n"
                                      "end 1 a:b.txt size=5 attr=101 mtime=1:65000001\n"
                                      "enter 1 sub size=0 attr=2 mtime=1:65000002\n"
                                      "begin 2 empty.bin size=0 attr=1 mtime=1:65000003\n"
                                      "end 2 empty.bin size=0 attr=1 mtime=1:65000003\n"
                                      "enter 2 deep size=0 attr=2 mtime=1:65000004\n"
                                      "begin 3 b size=3 attr=1 mtime=1:65000005\n"
                                      "data:xyz\n"
                                      "end 3 b size=3 attr=1 mtime=1:65000005\n"
                                      "leave 2 . size=0 attr=3 mtime=1:65000004\n"
                                      "leave 1 . size=0 attr=3 mtime=1:65000002\n"
                                      "enter 1 e size=0 attr=2 mtime=1:65000006\n"
                                      "leave 1 . size=0 attr=3 mtime=1:65000006\n"
                                      "leave 0 . size=0 attr=3 mtime=1:65000000\n"
                                      "done\n";

static void test_whole_stream(void **state)
{
    (void)state;
    buf s = sample_stream();
    buf out = {0};
    ipmsg_error e = {0};
    assert_int_equal(decode(s.p, s.len, NULL, 0, NULL, &out, &e), IPMSG_OK);
    assert_string_equal(out.p, expected_sample);
    free(out.p);
    free(s.p);
}

static void test_chunk_independence(void **state)
{
    (void)state;
    buf s = sample_stream();
    /* byte by byte */
    size_t one = 1;
    buf out = {0};
    assert_int_equal(decode(s.p, s.len, &one, 1, NULL, &out, NULL), IPMSG_OK);
    assert_string_equal(out.p, expected_sample);
    free(out.p);
    /* every fixed chunk size */
    for (size_t c = 2; c <= s.len; c++) {
        out = (buf){0};
        assert_int_equal(decode(s.p, s.len, &c, 1, NULL, &out, NULL), IPMSG_OK);
        assert_string_equal(out.p, expected_sample);
        free(out.p);
    }
    /* random splits (fixed seed: reproducible) */
    srand(12345);
    for (int round = 0; round < 500; round++) {
        size_t sizes[16];
        for (size_t i = 0; i < 16; i++)
            sizes[i] = 1 + (size_t)rand() % 40;
        out = (buf){0};
        assert_int_equal(decode(s.p, s.len, sizes, 16, NULL, &out, NULL), IPMSG_OK);
        assert_string_equal(out.p, expected_sample);
        free(out.p);
    }
    free(s.p);
}

static void test_real_headers(void **state)
{
    (void)state;
    /* Windows: "%04x:%s:%x%08x:%x:14=<mtime>:16=<createtime>:" (size padded),
     * iptux: "0000:%s:%.9jx:%lx:14=%jx:16=%jx:", both patched lengths */
    static const char win[] = "002e:docs:000000000:2:14=65f1c2a0:16=65f1c2a0:"
                              "0036:readme.txt:000000004:101:14=65f1c2a1:16=65f1c2a0:"
                              "abcd"
                              "002b:.:000000000:3:14=65f1c2a0:16=65f1c2a0:";
    static const char ipt[] = "002b:d:000000000:2:14=6b016e48:16=6b016e48:"
                              "002b:f:000000002:1:14=6b016e49:16=6b016e49:"
                              "hi"
                              "002b:.:000000000:3:14=6b016e48:16=6b016e48:";
    buf out = {0};
    ipmsg_error e = {0};
    int rc = decode(win, sizeof(win) - 1, NULL, 0, NULL, &out, &e);
    if (rc)
        fail_msg("windows stream: %s at %zu", e.reason, e.offset);
    assert_string_equal(out.p, "enter 0 docs size=0 attr=2 mtime=1:65f1c2a0\n"
                               "begin 1 readme.txt size=4 attr=101 mtime=1:65f1c2a1\n"
                               "data:abcd\n"
                               "end 1 readme.txt size=4 attr=101 mtime=1:65f1c2a1\n"
                               "leave 0 . size=0 attr=3 mtime=1:65f1c2a0\n"
                               "done\n");
    free(out.p);
    out = (buf){0};
    rc = decode(ipt, sizeof(ipt) - 1, NULL, 0, NULL, &out, &e);
    if (rc)
        fail_msg("iptux stream: %s at %zu", e.reason, e.offset);
    assert_non_null(strstr(out.p, "data:hi\n"));
    free(out.p);
}

static void test_single_file_stream(void **state)
{
    (void)state;
    /* Windows v4 encrypted single-file fetch: one REGULAR record */
    buf s = {0};
    rec(&s, "one.bin", IPMSG_FILE_REGULAR, "12345678", 8, 0x65000000);
    buf out = {0};
    assert_int_equal(decode(s.p, s.len, NULL, 0, NULL, &out, NULL), IPMSG_OK);
    assert_string_equal(out.p, "begin 0 one.bin size=8 attr=1 mtime=1:65000000\n"
                               "data:12345678\n"
                               "end 0 one.bin size=8 attr=1 mtime=1:65000000\n"
                               "done\n");
    free(out.p);
    /* and an empty one: complete right after its header */
    free(s.p);
    s = (buf){0};
    rec(&s, "zero", IPMSG_FILE_REGULAR, NULL, 0, 0x65000000);
    out = (buf){0};
    assert_int_equal(decode(s.p, s.len, NULL, 0, NULL, &out, NULL), IPMSG_OK);
    free(out.p);
    dg_dirstream *d = dg_dirstream_new(NULL);
    dg_ds_event ev;
    size_t used;
    assert_int_equal(dg_dirstream_next(d, s.p, s.len, &used, &ev, NULL), 1);
    assert_int_equal(ev.kind, DG_DS_FILE_BEGIN);
    assert_int_equal(dg_dirstream_finish(d, NULL), IPMSG_OK);
    dg_dirstream_free(d);
    free(s.p);
}

static int decode_error(const char *s, size_t len, const dg_dirstream_limits *lim, ipmsg_error *e)
{
    buf out = {0};
    size_t one = 1;
    ipmsg_error e1 = {0};
    *e = (ipmsg_error){0};
    int rc1 = decode(s, len, &one, 1, lim, &out, &e1);
    free(out.p);
    out = (buf){0};
    int rc = decode(s, len, NULL, 0, lim, &out, e);
    free(out.p);
    /* same verdict whatever the split */
    assert_int_equal(rc, rc1);
    assert_string_equal(e->reason ? e->reason : "", e1.reason ? e1.reason : "");
    return rc;
}

#define ERR(lit, code, why)                                                                        \
    do {                                                                                           \
        ipmsg_error e_ = {0};                                                                      \
        assert_int_equal(decode_error(lit, sizeof(lit) - 1, NULL, &e_), code);                     \
        assert_string_equal(e_.reason, why);                                                       \
    } while (0)

static void test_errors(void **state)
{
    (void)state;
    ERR("", IPMSG_E_SYNTAX, "empty directory stream");
    ERR("00", IPMSG_E_SYNTAX, "directory stream cut inside a header");
    ERR("0012:d:0:2:", IPMSG_E_SYNTAX, "directory stream cut inside a header");
    ERR("zz12:d:0:2:", IPMSG_E_SYNTAX, "directory record length is not hex");
    ERR("000000012:d", IPMSG_E_SYNTAX, "directory record length has too many digits");
    ERR("0005:", IPMSG_E_SYNTAX, "directory record length too small");
    ERR("000c:d:0:2:x", IPMSG_E_SYNTAX, "directory record header does not end with ':'");
    ERR("000b:d:0:2:", IPMSG_E_SYNTAX, "directory stream cut before the end of the directory");
    ERR("000b:d:1:2:", IPMSG_E_SYNTAX, "directory record with a non-zero size");
    ERR("000b:.:0:3:", IPMSG_E_SYNTAX, "RETPARENT record without an open directory");
    ERR("000b:d:0:2:000b:.:1:3:", IPMSG_E_SYNTAX, "RETPARENT record with a non-zero size");
    ERR("000b:d:0:2:000b:.:0:3:x", IPMSG_E_SYNTAX, "data after the end of the directory stream");
    ERR("000a::0:1:", IPMSG_E_SYNTAX, "empty name in directory record");
    ERR("000b:f:5:1:abc", IPMSG_E_SYNTAX, "directory stream cut inside a file");
    ERR("000b:f:g:1:", IPMSG_E_SYNTAX, "not a hex digit in a number field");
    ERR("000d:f:0:1:q:", IPMSG_E_SYNTAX, "extended attribute without '='");
    ERR("001b:f:10000000000000000:1:", IPMSG_E_RANGE, "number out of range");
    ERR("000a:f:0:1", IPMSG_E_SYNTAX, "directory record header does not end with ':'");
    ERR("000a:f:01:", IPMSG_E_SYNTAX, "directory record ends after the size");
    ERR("000c:f\0:0:1:", IPMSG_E_SYNTAX, "NUL inside a file name");
    /* empty name is fine for RETPARENT */
    ipmsg_error e = {0};
    assert_int_equal(decode_error("000b:d:0:2:000a::0:3:", 21, NULL, &e), IPMSG_OK);
}

static void test_limits(void **state)
{
    (void)state;
    ipmsg_error e = {0};
    /* depth */
    buf s = {0};
    for (int i = 0; i < 4; i++)
        rec(&s, "d", IPMSG_FILE_DIR, NULL, 0, 1);
    dg_dirstream_limits lim = {.max_depth = 3};
    assert_int_equal(decode_error(s.p, s.len, &lim, &e), IPMSG_E_TOOBIG);
    assert_string_equal(e.reason, "directories nested too deeply");
    free(s.p);
    /* record count */
    s = (buf){0};
    rec(&s, "d", IPMSG_FILE_DIR, NULL, 0, 1);
    for (int i = 0; i < 3; i++)
        rec(&s, "f", IPMSG_FILE_REGULAR, NULL, 0, 1);
    lim = (dg_dirstream_limits){.max_entries = 3};
    assert_int_equal(decode_error(s.p, s.len, &lim, &e), IPMSG_E_TOOBIG);
    assert_string_equal(e.reason, "too many records in directory stream");
    free(s.p);
    /* total content */
    s = (buf){0};
    rec(&s, "d", IPMSG_FILE_DIR, NULL, 0, 1);
    rec(&s, "f", IPMSG_FILE_REGULAR, "abcd", 4, 1);
    rec(&s, "g", IPMSG_FILE_REGULAR, "abcd", 4, 1);
    lim = (dg_dirstream_limits){.max_total = 7};
    assert_int_equal(decode_error(s.p, s.len, &lim, &e), IPMSG_E_TOOBIG);
    assert_string_equal(e.reason, "directory stream larger than the allowed total");
    lim.max_total = 8;
    rec(&s, ".", IPMSG_FILE_RETPARENT, NULL, 0, 1);
    assert_int_equal(decode_error(s.p, s.len, &lim, &e), IPMSG_OK);
    free(s.p);
    /* header size */
    lim = (dg_dirstream_limits){.max_header = 32};
    assert_int_equal(decode_error("0021:abcdefghijklmnopqrstuvw:0:2:", 33, &lim, &e),
                     IPMSG_E_TOOBIG);
    assert_string_equal(e.reason, "directory record header too long");
    /* a huge declared size is not a reason to buffer anything */
    dg_dirstream *d = dg_dirstream_new(NULL);
    dg_ds_event ev;
    size_t used;
    const char big[] = "001a:f:ffffffffffffffff:1:";
    assert_int_equal(dg_dirstream_next(d, big, sizeof(big) - 1, &used, &ev, NULL), 1);
    assert_int_equal(ev.kind, DG_DS_FILE_BEGIN);
    assert_true(ev.hdr->size == UINT64_MAX);
    char chunk[4096];
    memset(chunk, 'x', sizeof(chunk));
    for (int i = 0; i < 100; i++) {
        assert_int_equal(dg_dirstream_next(d, chunk, sizeof(chunk), &used, &ev, NULL), 1);
        assert_int_equal(ev.kind, DG_DS_FILE_DATA);
        assert_int_equal(used, sizeof(chunk));
    }
    assert_true(dg_dirstream_total(d) == 100 * sizeof(chunk));
    assert_int_equal(dg_dirstream_finish(d, &e), IPMSG_E_SYNTAX);
    dg_dirstream_free(d);
}

static void test_failed_stays_failed(void **state)
{
    (void)state;
    dg_dirstream *d = dg_dirstream_new(NULL);
    dg_ds_event ev;
    size_t used;
    ipmsg_error e = {0};
    assert_int_equal(dg_dirstream_next(d, "x", 1, &used, &ev, &e), IPMSG_E_SYNTAX);
    e = (ipmsg_error){0};
    assert_int_equal(dg_dirstream_next(d, "0010:", 5, &used, &ev, &e), IPMSG_E_SYNTAX);
    assert_string_equal(e.reason, "directory record length is not hex");
    assert_int_equal(used, 0);
    assert_int_equal(dg_dirstream_finish(d, &e), IPMSG_E_SYNTAX);
    dg_dirstream_free(d);
}

static void test_header_codec(void **state)
{
    (void)state;
    dg_dirhdr h = {.name = "a:b", .name_len = 3, .size = 0x123456789ull, .attr = 0x8001};
    assert_true(dg_dirhdr_set_ext(&h, IPMSG_FILE_MTIME, 0x65f1c2a0));
    assert_true(dg_dirhdr_set_ext(&h, IPMSG_FILE_MTIME, 0x65f1c2a1)); /* replaced */
    assert_int_equal(h.n_ext, 1);
    char out[128];
    size_t len;
    assert_int_equal(dg_dirhdr_format(&h, out, sizeof(out), &len, NULL), IPMSG_OK);
    const char want[] = "0025:a::b:123456789:8001:14=65f1c2a1:";
    assert_int_equal(len, sizeof(want) - 1);
    assert_memory_equal(out, want, len);
    dg_dirhdr back;
    char name[128];
    assert_int_equal(dg_dirhdr_parse(out, len, &back, name, NULL), IPMSG_OK);
    assert_string_equal(back.name, "a:b");
    assert_true(back.size == h.size);
    assert_int_equal(back.attr, h.attr);
    uint64_t m;
    assert_true(dg_dirhdr_mtime(&back, &m));
    assert_int_equal(m, 0x65f1c2a1);
    for (size_t cap = 0; cap < len; cap++)
        assert_int_equal(dg_dirhdr_format(&h, out, cap, &len, NULL), IPMSG_E_NOSPACE);

    /* ext attrs full */
    dg_dirhdr f = {.name = "x", .name_len = 1, .attr = 1};
    for (uint32_t k = 0; k < DG_EXTATTR_MAX; k++)
        assert_true(dg_dirhdr_set_ext(&f, 0x100 + k, k));
    assert_false(dg_dirhdr_set_ext(&f, 0x14, 1));
    assert_false(dg_dirhdr_mtime(&f, &m));

    /* refused */
    dg_dirhdr bad = {.name = "", .name_len = 0, .attr = IPMSG_FILE_REGULAR};
    assert_int_equal(dg_dirhdr_format(&bad, out, sizeof(out), &len, NULL), IPMSG_E_INVAL);
    bad.attr = IPMSG_FILE_RETPARENT;
    assert_int_equal(dg_dirhdr_format(&bad, out, sizeof(out), &len, NULL), IPMSG_OK);
    assert_memory_equal(out, "000a::0:3:", 10);
    bad = (dg_dirhdr){.name = "a\0b", .name_len = 3, .attr = 1};
    assert_int_equal(dg_dirhdr_format(&bad, out, sizeof(out), &len, NULL), IPMSG_E_INVAL);
    /* longer than 4 hex digits can say */
    size_t n = 0x10000;
    char *longname = malloc(n);
    memset(longname, 'n', n);
    char *big = malloc(n + 64);
    dg_dirhdr lh = {.name = longname, .name_len = n, .attr = 1};
    assert_int_equal(dg_dirhdr_format(&lh, big, n + 64, &len, NULL), IPMSG_E_TOOBIG);
    lh.name_len = 0xffff - 10; /* "ffff:" + name + ":0:1:" = 0xffff */
    assert_int_equal(dg_dirhdr_format(&lh, big, n + 64, &len, NULL), IPMSG_OK);
    assert_int_equal(len, 0xffff);
    assert_memory_equal(big, "ffff:", 5);
    /* the decoder accepts the largest header by default */
    dg_dirstream *d = dg_dirstream_new(NULL);
    dg_ds_event ev;
    size_t used;
    assert_int_equal(dg_dirstream_next(d, big, len, &used, &ev, NULL), 1);
    assert_int_equal(ev.kind, DG_DS_FILE_BEGIN);
    assert_int_equal(ev.hdr->name_len, lh.name_len);
    dg_dirstream_free(d);
    free(big);
    free(longname);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_stream),
        cmocka_unit_test(test_chunk_independence),
        cmocka_unit_test(test_real_headers),
        cmocka_unit_test(test_single_file_stream),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_failed_stays_failed),
        cmocka_unit_test(test_header_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
