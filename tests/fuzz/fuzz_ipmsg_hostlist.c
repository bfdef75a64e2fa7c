/*
 * libFuzzer harness for the ANSLIST host list codec (plugins/ipmsg/codec/
 * hostlist.c): the input is the extra of an ANSLIST packet. Every entry that
 * parses is rebuilt into a page (raw bytes, so nothing is re-encoded), and the
 * page must parse back to the same entries. Mismatches abort.
 * Seeds: corpus/ipmsg_hostlist/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static char *dup_slice(ipmsg_slice s)
{
    char *p = malloc(s.len + 1);
    CHECK(p);
    if (s.len)
        memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return p;
}

static bool eq(ipmsg_slice s, const char *str)
{
    return s.len == strlen(str) && memcmp(s.ptr, str, s.len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ipmsg_slice extra = {(const char *)data, size};
    ipmsg_hostlist_page page;
    ipmsg_error e = {0};
    uint32_t start;
    (void)ipmsg_getlist_start(extra, &start, NULL);
    if (ipmsg_hostlist_parse(extra, &page, &e) != IPMSG_OK) {
        CHECK(e.reason != NULL);
        return 0;
    }
    /* Each entry has 7 separators, so size / 7 bounds the count. */
    size_t max = size / 7 + 1, n = 0;
    ipmsg_hostlist_host *hosts = calloc(max, sizeof(*hosts));
    CHECK(hosts);
    ipmsg_hostlist_iter it;
    ipmsg_hostlist_entry en;
    ipmsg_hostlist_begin(&page, &it);
    int rc;
    while ((rc = ipmsg_hostlist_next(&it, &en, &e)) == 1) {
        CHECK(n < max);
        uint8_t ip[4];
        (void)ipmsg_parse_ipv4(en.addr, ip);
        hosts[n] = (ipmsg_hostlist_host){dup_slice(en.user),
                                         dup_slice(en.host),
                                         en.status,
                                         dup_slice(en.addr),
                                         ipmsg_hostlist_port_decode(en.port_wire),
                                         dup_slice(en.nick),
                                         dup_slice(en.group)};
        n++;
    }
    CHECK(rc == 0 || (rc < 0 && e.reason != NULL));

    /* Header digits may grow ("0\a" -> "    0\a") and a wire port 2425 is
     * rewritten as 30985: bounded by 2 * size + 64. */
    size_t cap = 2 * size + 64;
    char *out = malloc(cap);
    CHECK(out);
    size_t len = 0, written = 0;
    uint32_t next = 1;
    CHECK(ipmsg_hostlist_build(hosts, n, 0, NULL, IPMSG_ENC_RAW, out, cap, &len, &written, &next,
                               &e) == IPMSG_OK);
    CHECK(written == n && next == 0 && len <= cap);

    ipmsg_slice again = {out, len};
    CHECK(ipmsg_hostlist_parse(again, &page, NULL) == IPMSG_OK);
    CHECK(page.count == n && page.next_start == 0);
    ipmsg_hostlist_begin(&page, &it);
    for (size_t i = 0; i < n; i++) {
        CHECK(ipmsg_hostlist_next(&it, &en, NULL) == 1);
        const ipmsg_hostlist_host *h = &hosts[i];
        CHECK(eq(en.user, h->user) && eq(en.host, h->host) && eq(en.addr, h->addr));
        CHECK(en.status == h->status && ipmsg_hostlist_port_decode(en.port_wire) == h->port);
        /* a literal "\b" value and an empty one are the same thing */
        CHECK(eq(en.nick, h->nick) || (en.nick.len == 0 && strcmp(h->nick, "\b") == 0));
        CHECK(eq(en.group, h->group) || (en.group.len == 0 && strcmp(h->group, "\b") == 0));
    }
    CHECK(ipmsg_hostlist_next(&it, &en, NULL) == 0);

    for (size_t i = 0; i < n; i++) {
        free((char *)hosts[i].user);
        free((char *)hosts[i].host);
        free((char *)hosts[i].addr);
        free((char *)hosts[i].nick);
        free((char *)hosts[i].group);
    }
    free(hosts);
    free(out);
    return 0;
}
