/* GETFILEDATA / GETDIRFILES requests over TCP (§5.2, §5.3, §6.6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ipmsg_proto.h"
#include "request.h"

static ipmsg_slice sl(const char *s)
{
    return (ipmsg_slice){s, strlen(s)};
}

static void test_windows_getfiledata(void **state)
{
    (void)state;
    const char pkt[] = "1:1700000200:yamada:PC-YAMADA:96:6b016e3c:1e240:1000:\0";
    dg_file_request r;
    ipmsg_error e = {0};
    assert_int_equal(dg_file_request_parse(pkt, sizeof(pkt) - 1, &r, &e), IPMSG_OK);
    assert_int_equal(r.pkt.mode, IPMSG_GETFILEDATA);
    assert_true(ipmsg_slice_eq(r.pkt.user, "yamada"));
    assert_true(ipmsg_slice_eq(r.pkt.host, "PC-YAMADA"));
    assert_int_equal(r.req.share_pkt, 0x6b016e3c);
    assert_int_equal(r.req.file_id, 0x1e240);
    assert_true(r.req.has_offset);
    assert_int_equal(r.req.offset, 0x1000);
    assert_int_equal(r.req.rest.len, 0);
}

static void test_iptux_requests(void **state)
{
    (void)state;
    /* iptux: no trailing ':', no NUL needed */
    const char pkt[] = "1_iptux 0.8.3:12:root:vm:96:6b016e36:0:0";
    dg_file_request r;
    assert_int_equal(dg_file_request_parse(pkt, sizeof(pkt) - 1, &r, NULL), IPMSG_OK);
    assert_int_equal(r.req.share_pkt, 0x6b016e36);
    assert_int_equal(r.req.file_id, 0);
    assert_true(r.req.has_offset);
    assert_int_equal(r.req.offset, 0);

    /* iptux GETDIRFILES "...:<fileID>:0" */
    const char dir[] = "1_iptux 0.8.3:13:root:vm:98:6b016e36:2710:0";
    assert_int_equal(dg_file_request_parse(dir, sizeof(dir) - 1, &r, NULL), IPMSG_OK);
    assert_int_equal(r.pkt.mode, IPMSG_GETDIRFILES);
    assert_int_equal(r.req.file_id, 0x2710);
    assert_true(r.req.has_offset);
    assert_int_equal(r.req.offset, 0);
    assert_int_equal(r.req.rest.len, 0);
}

static void test_extra_forms(void **state)
{
    (void)state;
    dg_file_req q;
    /* Windows GETDIRFILES */
    assert_int_equal(dg_file_req_parse_extra(IPMSG_GETDIRFILES, sl("a:b:"), &q, NULL), IPMSG_OK);
    assert_int_equal(q.share_pkt, 0xa);
    assert_int_equal(q.file_id, 0xb);
    assert_false(q.has_offset);
    assert_int_equal(q.rest.len, 0);
    /* GETFILEDATA without offset: 0 */
    assert_int_equal(dg_file_req_parse_extra(IPMSG_GETFILEDATA, sl("a:b"), &q, NULL), IPMSG_OK);
    assert_false(q.has_offset);
    assert_int_equal(q.offset, 0);
    /* 64-bit offset (resume of a file > 4 GiB) */
    assert_int_equal(dg_file_req_parse_extra(IPMSG_GETFILEDATA, sl("1:2:123456789a:"), &q, NULL),
                     IPMSG_OK);
    assert_true(q.offset == 0x123456789aull);
    /* §6.6 decrypted plaintext: the suffix is left for the crypto layer */
    assert_int_equal(
        dg_file_req_parse_extra(IPMSG_GETDIRFILES, sl("1:2:900000:00112233:6b016e40"), &q, NULL),
        IPMSG_OK);
    assert_false(q.has_offset);
    assert_true(ipmsg_slice_eq(q.rest, "900000:00112233:6b016e40"));
    assert_int_equal(
        dg_file_req_parse_extra(IPMSG_GETFILEDATA, sl("1:2:0:4000000:6b016e40"), &q, NULL),
        IPMSG_OK);
    assert_true(q.has_offset);
    assert_true(ipmsg_slice_eq(q.rest, "4000000:6b016e40"));
}

static void test_errors(void **state)
{
    (void)state;
    dg_file_req q;
    ipmsg_error e = {0};
    assert_int_equal(dg_file_req_parse_extra(IPMSG_GETFILEDATA, sl("12"), &q, &e), IPMSG_E_SYNTAX);
    assert_string_equal(e.reason, "file request without a file ID");
    assert_int_equal(dg_file_req_parse_extra(IPMSG_GETFILEDATA, sl(""), &q, &e), IPMSG_E_SYNTAX);
    assert_int_equal(dg_file_req_parse_extra(IPMSG_GETFILEDATA, sl("1::0"), &q, &e),
                     IPMSG_E_SYNTAX);
    assert_string_equal(e.reason, "empty number field");
    assert_int_equal(dg_file_req_parse_extra(IPMSG_GETFILEDATA, sl("100000000:1:0"), &q, &e),
                     IPMSG_E_RANGE);
    assert_int_equal(
        dg_file_req_parse_extra(IPMSG_GETFILEDATA, sl("1:1:10000000000000000"), &q, &e),
        IPMSG_E_RANGE);
    assert_int_equal(dg_file_req_parse_extra(IPMSG_GETFILEDATA, sl("1:x:0"), &q, &e),
                     IPMSG_E_SYNTAX);
    assert_int_equal(dg_file_req_parse_extra(IPMSG_SENDMSG, sl("1:1:0"), &q, &e), IPMSG_E_INVAL);

    dg_file_request r;
    const char sendmsg[] = "1:5:u:h:32:hello";
    assert_int_equal(dg_file_request_parse(sendmsg, sizeof(sendmsg) - 1, &r, &e), IPMSG_E_SYNTAX);
    assert_string_equal(e.reason, "TCP packet is not GETFILEDATA or GETDIRFILES");
    /* 0x400062 = GETDIRFILES|ENCRYPTOPT: must be decrypted first */
    const char enc[] = "1:5:u:h:4194402:b64data";
    assert_int_equal(dg_file_request_parse(enc, sizeof(enc) - 1, &r, &e), IPMSG_E_INVAL);
    /* bad extra: the offset points into the packet */
    const char bad[] = "1:5:u:h:96:1:zz:0";
    assert_int_equal(dg_file_request_parse(bad, sizeof(bad) - 1, &r, &e), IPMSG_E_SYNTAX);
    assert_int_equal(e.offset, 13);
    assert_int_equal(r.req.file_id, 0);
    /* broken header: the IPMsg parser's own error */
    const char hdr[] = "2:5:u:h:96:1:1:0";
    assert_int_equal(dg_file_request_parse(hdr, sizeof(hdr) - 1, &r, &e), IPMSG_E_VERSION);
}

static void test_build_roundtrip(void **state)
{
    (void)state;
    char out[256];
    size_t len;
    dg_file_req q = {.share_pkt = 0x6b016e3c, .file_id = 0x1e240, .offset = 0x123456789aull};
    assert_int_equal(dg_file_request_build(1700000300, IPMSG_GETFILEDATA, IPMSG_UTF8OPT, "alice",
                                           "pc1", &q, NULL, out, sizeof(out), &len, NULL),
                     IPMSG_OK);
    const char want[] = "1:1700000300:alice:pc1:8388704:6b016e3c:1e240:123456789a:";
    assert_int_equal(len, sizeof(want)); /* with the NUL the codec always writes */
    assert_memory_equal(out, want, sizeof(want));
    dg_file_request r;
    assert_int_equal(dg_file_request_parse(out, len, &r, NULL), IPMSG_OK);
    assert_int_equal(r.pkt.opts, IPMSG_UTF8OPT);
    assert_int_equal(r.req.share_pkt, q.share_pkt);
    assert_int_equal(r.req.file_id, q.file_id);
    assert_true(r.req.offset == q.offset);

    q.offset = 0;
    assert_int_equal(dg_file_request_build(7, IPMSG_GETDIRFILES, 0, "alice", "pc1", &q, NULL, out,
                                           sizeof(out), &len, NULL),
                     IPMSG_OK);
    assert_string_equal(out, "1:7:alice:pc1:98:6b016e3c:1e240:");
    assert_int_equal(dg_file_request_parse(out, len, &r, NULL), IPMSG_OK);
    assert_int_equal(r.req.file_id, q.file_id);
    assert_false(r.req.has_offset);

    char extra[8];
    assert_int_equal(
        dg_file_req_format_extra(IPMSG_GETFILEDATA, &q, extra, sizeof(extra), &len, NULL),
        IPMSG_E_NOSPACE);
    assert_int_equal(dg_file_request_build(7, IPMSG_SENDMSG, 0, "a", "b", &q, NULL, out,
                                           sizeof(out), &len, NULL),
                     IPMSG_E_INVAL);
    assert_int_equal(
        dg_file_request_build(7, IPMSG_GETFILEDATA, 0, "a", "b", &q, NULL, out, 10, &len, NULL),
        IPMSG_E_NOSPACE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_getfiledata), cmocka_unit_test(test_iptux_requests),
        cmocka_unit_test(test_extra_forms),         cmocka_unit_test(test_errors),
        cmocka_unit_test(test_build_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
