/*
 * Unit tests of the pure parts of discovery and absence (plugins/ipmsg/src):
 * the host list table a list server pages out and what a requester makes of
 * each listed host (listx_logic.c), the absence nickname decoration and the
 * auto-absence delay (awaytext.c), and the reading of the kernel's address
 * notifications (nlparse.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "awaytext.h"
#include "hostlist.h"
#include "ipmsg_proto.h"
#include "listx_logic.h"
#include "nlparse.h"
#include "users.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* ---- absence ---- */

static void test_nick_decoration(void **state)
{
    (void)state;
    char *s = ipm_nick_decorate("Alice", "Lunch");
    assert_string_equal(s, "Alice[Lunch]");
    free(s);
    s = ipm_nick_decorate("山田", "会議中");
    assert_string_equal(s, "山田[会議中]");
    free(s);
    s = ipm_nick_decorate("Alice", "");
    assert_string_equal(s, "Alice"); /* no title, no brackets (Windows) */
    free(s);
    s = ipm_nick_decorate("Alice", NULL);
    assert_string_equal(s, "Alice");
    free(s);

    static const struct {
        const char *in;
        size_t keep;
    } cases[] = {
        {"Alice[Lunch]", 5},
        {"山田[会議中]", 6},
        {"Alice", 5},
        {"Bob [IT]", 8},       /* a space before '[': part of the name, not ours */
        {"Bob [IT][Away]", 8}, /* only the last pair is the decoration */
        {"[Away]", 6},         /* nothing would remain */
        {"a]b]", 4},
        {"x[]", 1},
        {"", 0},
        {"]", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(ipm_nick_undecorated_len(cases[i].in, strlen(cases[i].in)), cases[i].keep);
}

static void test_parse_minutes(void **state)
{
    (void)state;
    int64_t ms = -1;
    assert_int_equal(ipm_parse_minutes("10", &ms), 0);
    assert_int_equal(ms, 600000);
    assert_int_equal(ipm_parse_minutes(" 0.5 ", &ms), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(ipm_parse_minutes("0.05", &ms), 0);
    assert_int_equal(ms, 3000);
    assert_int_equal(ipm_parse_minutes(".25", &ms), 0);
    assert_int_equal(ms, 15000);
    assert_int_equal(ipm_parse_minutes("0.001", &ms), 0);
    assert_int_equal(ms, 60);
    assert_int_equal(ipm_parse_minutes("10080", &ms), 0);
    assert_int_equal(ms, 10080LL * 60000);
    assert_int_equal(ipm_parse_minutes("0", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(ipm_parse_minutes("", &ms), 0);
    assert_int_equal(ms, 0);
    static const char *const bad[] = {"-1",     "10081", "1e3", "abc",     "1.",
                                      "1.2345", "1,5",   "1 2", "9999999", "."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ms = 42;
        assert_int_equal(ipm_parse_minutes(bad[i], &ms), -1);
        assert_int_equal(ms, 42); /* untouched on error */
    }
}

/* ---- netlink ---- */

/* Appends one netlink message with an ifaddrmsg body; returns the new length. */
static size_t put_addr_msg(unsigned char *buf, size_t off, uint16_t type, uint8_t family,
                           uint8_t scope)
{
    struct nlmsghdr h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)), .nlmsg_type = type};
    struct ifaddrmsg ifa = {.ifa_family = family, .ifa_prefixlen = 24, .ifa_scope = scope};
    memcpy(buf + off, &h, sizeof h);
    memcpy(buf + off + NLMSG_HDRLEN, &ifa, sizeof ifa);
    return off + NLMSG_ALIGN(h.nlmsg_len);
}

static void test_netlink_summary(void **state)
{
    (void)state;
    unsigned char buf[512] __attribute__((aligned(8))) = {0};
    size_t len = 0;
    len = put_addr_msg(buf, len, RTM_NEWADDR, AF_INET, RT_SCOPE_UNIVERSE);
    len = put_addr_msg(buf, len, RTM_NEWADDR, AF_INET, RT_SCOPE_HOST); /* 127.0.0.x */
    len = put_addr_msg(buf, len, RTM_DELADDR, AF_INET6, RT_SCOPE_UNIVERSE);
    len = put_addr_msg(buf, len, RTM_NEWLINK, AF_INET, RT_SCOPE_UNIVERSE); /* not an address */
    len = put_addr_msg(buf, len, RTM_DELADDR, AF_INET, RT_SCOPE_LINK);
    ipm_nl_summary s;
    ipm_nl_summarize(buf, len, &s);
    assert_int_equal(s.messages, 5);
    assert_int_equal(s.changes, 2);
    assert_int_equal(s.ignored, 2);
    assert_false(s.malformed);

    /* NLMSG_DONE ends the walk. */
    struct nlmsghdr done = {.nlmsg_len = NLMSG_LENGTH(4), .nlmsg_type = NLMSG_DONE};
    size_t n = put_addr_msg(buf, 0, RTM_NEWADDR, AF_INET, RT_SCOPE_UNIVERSE);
    memcpy(buf + n, &done, sizeof done);
    size_t after = put_addr_msg(buf, n + NLMSG_ALIGN(done.nlmsg_len), RTM_NEWADDR, AF_INET, 0);
    ipm_nl_summarize(buf, after, &s);
    assert_int_equal(s.changes, 1);
    assert_int_equal(s.messages, 2);

    /* Truncated: a length past the buffer, a header shorter than itself, a short body. */
    len = put_addr_msg(buf, 0, RTM_NEWADDR, AF_INET, RT_SCOPE_UNIVERSE);
    ipm_nl_summarize(buf, len - 1, &s);
    assert_true(s.malformed);
    assert_int_equal(s.changes, 0);
    struct nlmsghdr tiny = {.nlmsg_len = 4, .nlmsg_type = RTM_NEWADDR};
    memcpy(buf, &tiny, sizeof tiny);
    ipm_nl_summarize(buf, sizeof tiny, &s);
    assert_true(s.malformed);
    struct nlmsghdr hdr_only = {.nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = RTM_DELADDR};
    memcpy(buf, &hdr_only, sizeof hdr_only);
    ipm_nl_summarize(buf, NLMSG_HDRLEN, &s);
    assert_true(s.malformed);
    /* An unaligned buffer is read through copies, never dereferenced in place. */
    unsigned char odd[256] = {0};
    len = put_addr_msg(odd, 1, RTM_NEWADDR, AF_INET, RT_SCOPE_UNIVERSE);
    ipm_nl_summarize(odd + 1, len - 1, &s);
    assert_int_equal(s.changes, 1);
    ipm_nl_summarize(NULL, 0, &s);
    assert_int_equal(s.messages, 0);
}

/* ---- host list ---- */

static ipm_user *add_user(ipm_users *t, const char *user, const char *host, const char *nick,
                          const char *group, uint32_t ip, uint16_t port, uint32_t status,
                          ipm_presence p)
{
    ipm_user_info in = {.user = user,
                        .host = host,
                        .nickname = nick,
                        .group = group,
                        .addr = {ip, port},
                        .status = status,
                        .presence = p};
    ipm_user *u = NULL;
    assert_int_not_equal(ipm_users_upsert(t, &in, 1000, &u, NULL), IPM_UPSERT_ERROR);
    return u;
}

static void test_list_table(void **state)
{
    (void)state;
    ipm_users t;
    ipm_users_init(&t);
    add_user(&t, "carol", "pc3", "Carol", "", IP(10, 0, 0, 3), 2425, IPMSG_CAPUTF8OPT, IPM_ONLINE);
    add_user(&t, "Alice", "pc1", "Alice", "Sales", IP(10, 0, 0, 1), 2425,
             IPMSG_CAPUTF8OPT | IPMSG_ABSENCEOPT, IPM_ABSENT);
    add_user(&t, "gone", "pc9", "Gone", "", IP(10, 0, 0, 9), 2425, 0, IPM_OFFLINE);
    add_user(&t, "bob", "pc2", "", "", IP(10, 0, 0, 2), 24250, IPMSG_CAPUTF8OPT, IPM_ONLINE);
    ipm_listx_table tab;
    assert_int_equal(ipm_listx_table_build(&t, &tab), 0);
    assert_int_equal(tab.n, 3);                      /* the offline user is not listed */
    assert_string_equal(tab.hosts[0].user, "Alice"); /* by key, case-insensitive */
    assert_string_equal(tab.hosts[1].user, "bob");
    assert_string_equal(tab.hosts[2].user, "carol");
    assert_string_equal(tab.hosts[0].addr, "10.0.0.1");
    assert_int_equal(tab.hosts[0].status, IPMSG_CAPUTF8OPT | IPMSG_ABSENCEOPT);
    assert_int_equal(tab.hosts[1].port, 24250);

    /* The exact page a Windows requester reads (§4.5): \b for the empty nick and groups. */
    char page[512];
    size_t len, written;
    uint32_t next;
    assert_int_equal(ipmsg_hostlist_build(tab.hosts, tab.n, 1, NULL, IPMSG_ENC_UTF8, page,
                                          sizeof page, &len, &written, &next, NULL),
                     IPMSG_OK);
    static const char want[] = "    0\a    2\a"
                               "bob\apc2\a16777216\a10.0.0.2\a47710\a\b\a\b\a"
                               "carol\apc3\a16777216\a10.0.0.3\a30985\aCarol\a\b\a";
    assert_int_equal(written, 2);
    assert_int_equal(next, 0);
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(page, want, sizeof want - 1);
    ipm_listx_table_free(&tab);
    ipm_users_free(&t);

    ipm_users_init(&t);
    assert_int_equal(ipm_listx_table_build(&t, &tab), 0);
    assert_int_equal(tab.n, 0);
    ipm_listx_table_free(&tab);
}

/* Parses a page built from hosts and applies every entry to t; returns the results. */
static size_t apply_page(const char *page, size_t len, ipm_users *t, ipm_listx_rc *rc,
                         ipm_addr *addr, size_t max, uint32_t *next)
{
    ipmsg_hostlist_page p;
    assert_int_equal(ipmsg_hostlist_parse((ipmsg_slice){page, len}, &p, NULL), IPMSG_OK);
    *next = p.next_start;
    ipm_listx_ctx c = {
        .users = t, .enc = IPMSG_ENC_UTF8, .self_user = "me", .self_host = "mine", .now = 2000};
    ipmsg_hostlist_iter it;
    ipmsg_hostlist_entry e;
    size_t n = 0;
    ipmsg_hostlist_begin(&p, &it);
    while (ipmsg_hostlist_next(&it, &e, NULL) == 1 && n < max) {
        rc[n] = ipm_listx_apply(&c, &e, NULL, &addr[n]);
        n++;
    }
    return n;
}

static void test_list_apply(void **state)
{
    (void)state;
    ipmsg_hostlist_host hosts[] = {
        {"dave", "pc4", IPMSG_CAPUTF8OPT, "10.0.0.4", 2425, "Dave", "Ops"},
        {"erin", "pc5", IPMSG_CAPUTF8OPT | IPMSG_ABSENCEOPT, "10.0.0.5", 24250, "エリン", NULL},
        {"me", "mine", IPMSG_CAPUTF8OPT, "10.0.0.6", 2425, "Me", NULL},
        {"left", "pc7", IPMSG_BR_EXIT | IPMSG_CAPUTF8OPT, "10.0.0.7", 2425, "Left", NULL},
        {"zero", "pc8", 0, "10.0.0.8", 2425, "Zero", NULL},
        {"bcast", "pc9", IPMSG_CAPUTF8OPT, "255.255.255.255", 2425, "B", NULL},
        {"mcast", "pc10", IPMSG_CAPUTF8OPT, "224.0.0.1", 2425, "M", NULL},
        {"spoof-<0123456789abcdef>", "pc11", IPMSG_CAPUTF8OPT, "10.0.0.11", 2425, "S", NULL},
        {"known", "pc12", IPMSG_CAPUTF8OPT, "10.9.9.9", 2425, "Stale", NULL},
        {"back", "pc13", IPMSG_CAPUTF8OPT, "10.0.0.13", 2425, "Back", NULL},
        {"signed-<0123456789abcdef>", "pc14", IPMSG_CAPUTF8OPT | IPMSG_ENCRYPTOPT, "10.0.0.14",
         2425, "Signed", NULL},
    };
    size_t nh = sizeof(hosts) / sizeof(hosts[0]);
    ipm_users t;
    ipm_users_init(&t);
    ipm_user *known = add_user(&t, "known", "pc12", "Known", "", IP(10, 0, 0, 12), 2425,
                               IPMSG_CAPUTF8OPT, IPM_ONLINE);
    add_user(&t, "back", "pc13", "Back", "", IP(10, 0, 0, 13), 2425, IPMSG_CAPUTF8OPT, IPM_OFFLINE);
    char page[4096];
    size_t len, written;
    uint32_t next;
    assert_int_equal(ipmsg_hostlist_build(hosts, nh, 0, NULL, IPMSG_ENC_UTF8, page, sizeof page,
                                          &len, &written, &next, NULL),
                     IPMSG_OK);
    assert_int_equal(written, nh);
    ipm_listx_rc rc[16];
    ipm_addr addr[16];
    assert_int_equal(apply_page(page, len, &t, rc, addr, 16, &next), nh);
    assert_int_equal(next, 0);
    static const ipm_listx_rc want[] = {
        IPM_LISTX_NEW,   IPM_LISTX_NEW,     IPM_LISTX_SELF, IPM_LISTX_GONE,
        IPM_LISTX_GONE,  IPM_LISTX_BAD,     IPM_LISTX_BAD,  IPM_LISTX_BAD,
        IPM_LISTX_KNOWN, IPM_LISTX_UPDATED, IPM_LISTX_NEW,
    };
    for (size_t i = 0; i < nh; i++)
        assert_int_equal(rc[i], want[i]);
    /* The port crosses in Windows' byte-swapped form and comes back as it was. */
    assert_int_equal(addr[1].ip, IP(10, 0, 0, 5));
    assert_int_equal(addr[1].port, 24250);
    ipm_user *erin = ipm_users_find(&t, "erin", "pc5");
    assert_non_null(erin);
    assert_int_equal(erin->presence, IPM_ABSENT);
    assert_string_equal(erin->nickname, "エリン");
    assert_string_equal(erin->group, "");
    assert_true(erin->utf8);
    ipm_user *dave = ipm_users_find(&t, "dave", "pc4");
    assert_string_equal(dave->group, "Ops");
    assert_int_equal(dave->presence, IPM_ONLINE);
    /* First-hand knowledge wins over the list. */
    assert_string_equal(known->nickname, "Known");
    assert_int_equal(known->addr.ip, IP(10, 0, 0, 12));
    assert_int_equal(ipm_users_find(&t, "back", "pc13")->presence, IPM_ONLINE);
    assert_null(ipm_users_find(&t, "left", "pc7"));
    assert_null(ipm_users_find(&t, "me", "mine"));
    assert_null(ipm_users_find(&t, "bcast", "pc9"));
    /* The same page again changes nothing. */
    assert_int_equal(apply_page(page, len, &t, rc, addr, 16, &next), nh);
    assert_int_equal(rc[0], IPM_LISTX_KNOWN);
    ipm_users_free(&t);
}

/* A table larger than one page: pages chained by next_start reach every host once. */
static void test_list_paging(void **state)
{
    (void)state;
    enum { N = 200 };
    static char users[N][16], addrs[N][16];
    ipmsg_hostlist_host hosts[N];
    for (int i = 0; i < N; i++) {
        snprintf(users[i], sizeof users[i], "u%03d", i);
        snprintf(addrs[i], sizeof addrs[i], "10.1.%d.%d", i / 250, i % 250 + 1);
        hosts[i] = (ipmsg_hostlist_host){users[i], "pc",     IPMSG_CAPUTF8OPT,    addrs[i],
                                         2425,     users[i], (i % 2) ? "G" : NULL};
    }
    ipm_users t;
    ipm_users_init(&t);
    uint32_t asked = 0, next = 0;
    unsigned pages = 0;
    size_t total = 0;
    for (;;) {
        char page[1024]; /* small pages: many of them */
        size_t len, written;
        assert_int_equal(ipmsg_hostlist_build(hosts, N, asked, NULL, IPMSG_ENC_UTF8, page,
                                              sizeof page, &len, &written, &next, NULL),
                         IPMSG_OK);
        ipm_listx_rc rc[N];
        ipm_addr addr[N];
        uint32_t got_next;
        size_t n = apply_page(page, len, &t, rc, addr, N, &got_next);
        assert_int_equal(got_next, next);
        assert_int_equal(n, written);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(rc[i], IPM_LISTX_NEW);
        total += n;
        pages++;
        ipm_listx_step step = ipm_listx_after_page(asked, next, n, pages);
        if (step == IPM_LISTX_DONE)
            break;
        assert_int_equal(step, IPM_LISTX_CONTINUE);
        asked = next;
    }
    assert_true(pages > 5);
    assert_int_equal(total, N);
    assert_int_equal(t.n, N);
    ipm_users_free(&t);
}

/* The answer queue removes and re-adds addresses: the implicit capacity must hold. */
static void test_addrlist_remove(void **state)
{
    (void)state;
    ipm_addr_list l = {0};
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(ipm_addrlist_add(&l, (ipm_addr){i, 1}), 0);
    for (uint32_t i = 0; i < 100; i += 2)
        ipm_addrlist_remove(&l, (ipm_addr){i, 1});
    ipm_addrlist_remove(&l, (ipm_addr){7, 2}); /* not there: no-op */
    assert_int_equal(l.n, 50);
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(ipm_addrlist_has(&l, (ipm_addr){i, 1}), i % 2 == 1);
    while (l.n > 3)
        ipm_addrlist_remove(&l, l.v[0]);
    for (uint32_t i = 1000; i < 1200; i++) /* grows again from 3, past several powers of two */
        assert_int_equal(ipm_addrlist_add(&l, (ipm_addr){i, 1}), 0);
    assert_int_equal(l.n, 203);
    assert_true(ipm_addrlist_has(&l, (ipm_addr){1199, 1}));
    ipm_addrlist_free(&l);
}

static void test_list_steps(void **state)
{
    (void)state;
    assert_int_equal(ipm_listx_after_page(0, 0, 5, 1), IPM_LISTX_DONE);
    assert_int_equal(ipm_listx_after_page(0, 0, 0, 1), IPM_LISTX_DONE); /* empty list */
    assert_int_equal(ipm_listx_after_page(0, 300, 300, 1), IPM_LISTX_CONTINUE);
    assert_int_equal(ipm_listx_after_page(300, 600, 300, 2), IPM_LISTX_CONTINUE);
    /* A server that sends us back, to the same index, or an empty page with more to come. */
    assert_int_equal(ipm_listx_after_page(300, 300, 300, 2), IPM_LISTX_STUCK);
    assert_int_equal(ipm_listx_after_page(300, 100, 5, 2), IPM_LISTX_STUCK);
    assert_int_equal(ipm_listx_after_page(300, 600, 0, 2), IPM_LISTX_STUCK);
    assert_int_equal(ipm_listx_after_page(0, 10, 10, IPM_LISTX_MAX_PAGES), IPM_LISTX_STUCK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nick_decoration), cmocka_unit_test(test_parse_minutes),
        cmocka_unit_test(test_netlink_summary), cmocka_unit_test(test_list_table),
        cmocka_unit_test(test_list_apply),      cmocka_unit_test(test_list_paging),
        cmocka_unit_test(test_list_steps),      cmocka_unit_test(test_addrlist_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
