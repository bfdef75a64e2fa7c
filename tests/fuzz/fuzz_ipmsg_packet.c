/*
 * libFuzzer harness for the IPMsg packet codec (plugins/ipmsg/codec): parses
 * arbitrary bytes as a datagram, decodes every text field the plugin will
 * decode (header names, extra, entry extras), then rebuilds what parsed and
 * checks that the rebuilt packet parses to the same fields. Any mismatch
 * aborts, so the round trip is a property, not just "no crash".
 * Seeds: corpus/ipmsg_packet/ (golden packets of plugins/ipmsg/tests/golden.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static bool same(ipmsg_slice a, ipmsg_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void decode_free(ipmsg_charset *cs, ipmsg_enc enc, ipmsg_slice s)
{
    char *out = NULL;
    if (ipmsg_decode_slice(cs, enc, s, &out, NULL, NULL) == IPMSG_OK)
        free(out);
}

/* Rebuild from raw pieces and compare (the wire form must survive). */
static void roundtrip_raw(const ipmsg_packet *a, size_t size)
{
    ipmsg_part parts[IPMSG_MAX_SECTIONS];
    size_t np = 0;
    if (a->n_sections > IPMSG_MAX_SECTIONS) {
        parts[np] = ipmsg_raw(a->tail.ptr, a->tail.len);
        parts[np++].flags |= IPMSG_PART_NO_NUL;
    } else {
        for (; np < a->n_sections; np++)
            parts[np] = ipmsg_raw(a->sections[np].ptr, a->sections[np].len);
        if (np && !a->last_section_nul)
            parts[np - 1].flags |= IPMSG_PART_NO_NUL;
    }
    ipmsg_build_in in = {.packet_no = a->packet_no,
                         .command = a->command,
                         .user = ipmsg_raw(a->user.ptr, a->user.len),
                         .host = ipmsg_raw(a->host.ptr, a->host.len),
                         .extra = ipmsg_raw(a->extra.ptr, a->extra.len),
                         .sections = parts,
                         .n_sections = np};
    /* Ver becomes "1" and numbers lose leading zeros; only the ':' after the
     * command and the NUL after the extra can be added. */
    size_t cap = size + 16;
    char *out = malloc(cap);
    CHECK(out);
    size_t n = 0;
    ipmsg_error e;
    CHECK(ipmsg_build(&in, NULL, out, cap, &n, &e) == IPMSG_OK);
    CHECK(n <= size + 2);
    ipmsg_packet b;
    CHECK(ipmsg_parse(out, n, n, &b, &e) == IPMSG_OK);
    CHECK(a->packet_no == b.packet_no && a->command == b.command);
    CHECK(same(a->user, b.user) && same(a->host, b.host) && same(a->extra, b.extra));
    CHECK(same(a->tail, b.tail) && a->n_sections == b.n_sections);
    CHECK(b.extra_nul);
    free(out);
}

/* Rebuild as text (UTF-8 -> packet encoding): must not crash, and whatever
 * it builds must parse. */
static void roundtrip_text(ipmsg_charset *cs, const ipmsg_packet *a)
{
    ipmsg_enc enc = ipmsg_packet_enc(a->command);
    char *user = NULL, *host = NULL, *extra = NULL;
    if (ipmsg_decode_slice(cs, enc, a->user, &user, NULL, NULL) == IPMSG_OK &&
        ipmsg_decode_slice(cs, enc, a->host, &host, NULL, NULL) == IPMSG_OK &&
        ipmsg_decode_slice(cs, enc, a->extra, &extra, NULL, NULL) == IPMSG_OK) {
        ipmsg_build_in in = {.packet_no = a->packet_no,
                             .command = a->command,
                             .user = ipmsg_text(user),
                             .host = ipmsg_text(host),
                             .extra = ipmsg_text(extra)};
        char out[IPMSG_MAX_UDPBUF];
        size_t n = 0;
        if (ipmsg_build(&in, cs, out, sizeof(out), &n, NULL) == IPMSG_OK) {
            ipmsg_packet b;
            CHECK(ipmsg_parse(out, n, sizeof(out), &b, NULL) == IPMSG_OK);
            CHECK(b.packet_no == a->packet_no && b.command == a->command);
        }
    }
    free(user);
    free(host);
    free(extra);
}

static void entry_checks(ipmsg_charset *cs, const ipmsg_packet *a)
{
    ipmsg_entry en;
    if (ipmsg_entry_decode(a, cs, &en, NULL) != IPMSG_OK)
        return;
    /* dengon's answer to what it just read: build an entry with the same
     * names; when it builds, it parses back with the same UUID. */
    uint32_t cmd = a->command & ~(uint32_t)IPMSG_UTF8OPT;
    ipmsg_entry_msg m = {.packet_no = a->packet_no,
                         .command = cmd,
                         .user = en.user,
                         .host = en.host,
                         .nick = en.nick,
                         .group = en.group,
                         .names_block = true,
                         .version = en.version,
                         .uuid = en.uuid[0] ? en.uuid : NULL};
    char out[IPMSG_MAX_UDPBUF];
    size_t n = 0;
    if (ipmsg_entry_build(&m, cs, out, sizeof(out), &n, NULL) == IPMSG_OK) {
        ipmsg_packet b;
        ipmsg_entry en2;
        CHECK(ipmsg_parse(out, n, sizeof(out), &b, NULL) == IPMSG_OK);
        CHECK(ipmsg_entry_decode(&b, cs, &en2, NULL) == IPMSG_OK);
        CHECK(strcmp(en.uuid, en2.uuid) == 0);
        ipmsg_entry_clear(&en2);
    }
    ipmsg_entry_clear(&en);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ipmsg_charset *cs;
    if (!cs && ipmsg_charset_open(&cs, "CP932,GB18030", 0, NULL) != IPMSG_OK)
        abort();

    ipmsg_packet a;
    ipmsg_error e = {0};
    if (ipmsg_parse(data, size, 0, &a, &e) != IPMSG_OK) {
        CHECK(e.reason != NULL && e.code != IPMSG_OK);
        return 0;
    }
    CHECK(a.user.len > 0 && a.host.len > 0);
    CHECK(!memchr(a.user.ptr, ':', a.user.len) && !memchr(a.extra.ptr, '\0', a.extra.len));

    ipmsg_enc enc = ipmsg_packet_enc(a.command);
    decode_free(cs, enc, a.user);
    decode_free(cs, enc, a.extra);
    ipmsg_section_iter it;
    ipmsg_slice s;
    ipmsg_sections_begin(&a, &it);
    while (ipmsg_sections_next(&it, &s, NULL))
        decode_free(cs, IPMSG_ENC_UTF8, s);
    uint32_t v;
    (void)ipmsg_parse_u32(a.extra, &v, NULL);
    (void)ipmsg_user_fingerprint(a.user, NULL, NULL);
    (void)ipmsg_command_name(a.command);

    roundtrip_raw(&a, size);
    roundtrip_text(cs, &a);
    if (ipmsg_is_entry_cmd(a.command))
        entry_checks(cs, &a);
    return 0;
}
