/*
 * Every golden packet (golden.h) parses to the expected header, and
 * rebuilding it from the parsed pieces gives a packet that parses the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "golden.h"
#include "packet.h"
#include "testutil.h"

typedef struct expect {
    const char *name;
    const char *version;
    uint32_t packet_no;
    const char *user;
    const char *host;
    uint32_t command;
    size_t extra_len;
    size_t n_sections;
} expect;

static const expect expects[] = {
    {"iptux_br_entry", "1_iptux 0.8.3", 1, "root", "vm", 0x101, 10, 3},
    {"iptux_br_entry_dialup", "1_iptux 0.8.3", 8, "root", "vm", 0x10101, 10, 3},
    {"probe_ansentry", "1", 1795255854u, "probe", "probehost", 0xa00003, 11, 1},
    {"iptux_ansentry", "1_iptux 0.8.3", 9, "root", "vm", 0x103, 10, 3},
    {"probe_sendmsg_utf8", "1", 1795255858u, "probe", "probehost", 0x800120, 37, 0},
    {"iptux_recvmsg", "1_iptux 0.8.3", 10, "root", "vm", 0x121, 10, 0},
    {"probe_getinfo", "1", 1795255859u, "probe", "probehost", 0x40, 0, 0},
    {"probe_getpubkey", "1", 1795255860u, "probe", "probehost", 0x72, 5, 0},
    {"probe_file_offer", "1", 1795255862u, "probe", "probehost", 0xa00120, 12, 1},
    {"iptux_getfiledata", "1_iptux 0.8.3", 12, "root", "vm", 0x60, 12, 0},
    {"iptux_sendmsg", "1_iptux 0.8.3", 13, "root", "vm", 0x120, 29, 0},
    {"iptux_file_offer", "1_iptux 0.8.3", 14, "root", "vm", 0x200020, 0, 1},
    {"probe_releasefiles", "1", 1795255865u, "probe", "probehost", 0x61, 2, 0},
    {"iptux_br_exit", "1_iptux 0.8.3", 16, "root", "vm", 0x10002, 0, 0},
    {"iptux_sign", "1_iptux 0.8.3", 16, "root", "vm", 0xfc, 38, 0},
    {"win_br_entry_cp932", "1", 1700000000u, "yamada", "PC-YAMADA", 0x0F640001u, 9, 2},
    {"win_br_entry_nogroup", "1", 1700000001u, "suzuki", "PC-SUZUKI", 0x0F640001u, 6, 2},
    {"win_ansentry_utf8", "1", 1700000002u, "yamada", "PC-YAMADA", 0x0FE40003u, 13, 2},
    {"win_sendmsg_cp932", "1", 1700000003u, "yamada", "PC-YAMADA", 0x120, 8, 0},
    {"win_sendmsg_sealed", "1", 1700000004u, "yamada", "PC-YAMADA", 0x00100320u, 6, 0},
    {"win_sendmsg_retry_pad", "1", 1700000005u, "yamada", "PC-YAMADA", 0x120, 5, 64},
    {"win_fingerprint_utf8", "1", 1700000006u, "alice-<0123456789abcdef>", "pc1", 0x800120, 20, 0},
    {"win_recvmsg", "1", 1700000500u, "bob", "pc2", 0x21, 10, 0},
    {"win_anslist", "1", 1700000100u, "yamada", "PC-YAMADA", 0x800013, 102, 0},
    {"win_getlist", "1", 1700000101u, "sato", "PC-SATO", 0x12, 0, 0},
    {"win_br_isgetlist2", "1", 1700000102u, "sato", "PC-SATO", 0x18, 0, 0},
    {"clone_version_at", "1@shiyeline", 5, "user", "host", 0x20, 2, 0},
    {"feiq_version", "1_lbt6_0#128#000C29D4ABCD#0#0#0#4001#9", 7, "user", "host", 0x20, 2, 0},
    {"dengon_br_entry", "1", 1700000200u, "yamada", "PC-YAMADA", 0x01200001u, 9, 2},
    {"win_getfiledata", "1", 1700000300u, "bob", "pc2", 0x60, 14, 0},
};

static const expect *find_expect(const char *name)
{
    for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++)
        if (strcmp(expects[i].name, name) == 0)
            return &expects[i];
    return NULL;
}

static void test_all_golden_parse(void **state)
{
    (void)state;
    assert_int_equal(GOLDEN_COUNT, sizeof(expects) / sizeof(expects[0]));
    for (size_t i = 0; i < GOLDEN_COUNT; i++) {
        const golden_packet *g = &golden_packets[i];
        const expect *x = find_expect(g->name);
        if (!x)
            fail_msg("no expectation for %s", g->name);
        ipmsg_packet p;
        ipmsg_error e = {0};
        if (ipmsg_parse(g->data, g->len, 0, &p, &e) != IPMSG_OK)
            fail_msg("%s: %s at %zu", g->name, e.reason, e.offset);
        if (!ipmsg_slice_eq(p.version, x->version) || p.packet_no != x->packet_no ||
            !ipmsg_slice_eq(p.user, x->user) || !ipmsg_slice_eq(p.host, x->host) ||
            p.command != x->command || p.extra.len != x->extra_len || p.n_sections != x->n_sections)
            fail_msg("%s: pkt %u cmd 0x%x extra %zu sections %zu", g->name, p.packet_no, p.command,
                     p.extra.len, p.n_sections);
        /* Fits the iptux limit too: none of these is near 8 KiB. */
        assert_int_equal(ipmsg_parse(g->data, g->len, IPMSG_IPTUX_MAX_UDPLEN, &p, NULL), IPMSG_OK);
    }
}

/* parse -> build from raw pieces -> parse: same header, extra and sections */
static void test_all_golden_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < GOLDEN_COUNT; i++) {
        const golden_packet *g = &golden_packets[i];
        ipmsg_packet a, b;
        assert_int_equal(ipmsg_parse(g->data, g->len, 0, &a, NULL), IPMSG_OK);
        ipmsg_part parts[IPMSG_MAX_SECTIONS];
        size_t np = a.n_sections < IPMSG_MAX_SECTIONS ? a.n_sections : IPMSG_MAX_SECTIONS;
        if (a.n_sections > IPMSG_MAX_SECTIONS) {
            /* keep the whole tail as one raw section instead */
            parts[0] = ipmsg_raw(a.tail.ptr, a.tail.len);
            parts[0].flags |= IPMSG_PART_NO_NUL;
            np = 1;
        } else {
            for (size_t k = 0; k < np; k++)
                parts[k] = ipmsg_raw(a.sections[k].ptr, a.sections[k].len);
            if (np && !a.last_section_nul)
                parts[np - 1].flags |= IPMSG_PART_NO_NUL;
        }
        ipmsg_build_in in = {.packet_no = a.packet_no,
                             .command = a.command,
                             .user = ipmsg_raw(a.user.ptr, a.user.len),
                             .host = ipmsg_raw(a.host.ptr, a.host.len),
                             .extra = ipmsg_raw(a.extra.ptr, a.extra.len),
                             .sections = parts,
                             .n_sections = np};
        char out[IPMSG_MAX_UDPBUF];
        size_t n = 0;
        ipmsg_error e = {0};
        if (ipmsg_build(&in, NULL, out, sizeof(out), &n, &e) != IPMSG_OK)
            fail_msg("%s: build: %s", g->name, e.reason);
        assert_int_equal(ipmsg_parse(out, n, 0, &b, NULL), IPMSG_OK);
        assert_int_equal(a.packet_no, b.packet_no);
        assert_int_equal(a.command, b.command);
        assert_memory_equal(a.user.ptr, b.user.ptr, a.user.len);
        assert_int_equal(a.extra.len, b.extra.len);
        assert_memory_equal(a.extra.ptr, b.extra.ptr, a.extra.len);
        assert_int_equal(a.tail.len, b.tail.len);
        assert_memory_equal(a.tail.ptr, b.tail.ptr, a.tail.len);
        /* Packets that already had Ver "1" and a NUL after the extra come
         * back byte for byte. */
        if (ipmsg_slice_eq(a.version, "1") && a.extra_nul) {
            assert_int_equal(n, g->len);
            assert_memory_equal(out, g->data, n);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_golden_parse),
        cmocka_unit_test(test_all_golden_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
