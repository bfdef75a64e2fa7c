/*
 * Writes the fuzz seed corpora from golden.h:
 *   <corpus>/ipmsg_packet/<name>    every golden packet
 *   <corpus>/ipmsg_hostlist/<name>  ANSLIST extras (golden + built pages)
 * Not a test; run it by hand when golden.h changes (see CMakeLists.txt).
 */
#include <stdio.h>
#include <string.h>

#include "golden.h"
#include "hostlist.h"
#include "packet.h"

static int write_file(const char *dir, const char *sub, const char *name, const void *data,
                      size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <tests/fuzz/corpus>\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int rc = 0;
    for (size_t i = 0; i < GOLDEN_COUNT; i++) {
        const golden_packet *g = &golden_packets[i];
        rc |= write_file(dir, "ipmsg_packet", g->name, g->data, g->len);
        ipmsg_packet p;
        if (ipmsg_parse(g->data, g->len, 0, &p, NULL) == IPMSG_OK && p.mode == IPMSG_ANSLIST)
            rc |= write_file(dir, "ipmsg_hostlist", g->name, p.extra.ptr, p.extra.len);
    }

    static const ipmsg_hostlist_host hosts[] = {
        {"alice", "pc1", 0x01200000, "192.168.1.10", 2425, "Alice", "Sales"},
        {"bob", "pc2", 0x01200100, "192.168.1.11", 2425, NULL, NULL},
        {"yamada", "PC-YAMADA", 0x0F640000, "10.0.0.7", 2426, "\xe5\xb1\xb1\xe7\x94\xb0",
         "\xe5\x96\xb6\xe6\xa5\xad\xe9\x83\xa8"},
        {"alice-<0123456789abcdef>", "pc9", 0x00400000, "172.16.0.1", 2425, "x", "y"},
    };
    ipmsg_charset *cs = NULL;
    if (ipmsg_charset_open(&cs, "CP932", 0, NULL) != IPMSG_OK)
        return 1;
    char buf[1024];
    size_t n, written;
    uint32_t next;
    if (ipmsg_hostlist_build(hosts, 4, 0, cs, IPMSG_ENC_UTF8, buf, sizeof(buf), &n, &written, &next,
                             NULL) == IPMSG_OK)
        rc |= write_file(dir, "ipmsg_hostlist", "built_utf8", buf, n);
    if (ipmsg_hostlist_build(hosts, 4, 1, cs, IPMSG_ENC_LEGACY, buf, sizeof(buf), &n, &written,
                             &next, NULL) == IPMSG_OK)
        rc |= write_file(dir, "ipmsg_hostlist", "built_cp932_from1", buf, n);
    if (ipmsg_hostlist_build(hosts, 4, 0, cs, IPMSG_ENC_UTF8, buf, 120, &n, &written, &next,
                             NULL) == IPMSG_OK)
        rc |= write_file(dir, "ipmsg_hostlist", "built_paged", buf, n);
    ipmsg_charset_close(cs);
    static const char trunc[] = "    0\a    1\au\ah\a0\a1.2.3.4\a30985\an\a";
    rc |= write_file(dir, "ipmsg_hostlist", "truncated_entry", trunc, sizeof(trunc) - 1);
    static const char empty[] = "    0\a    0\a";
    rc |= write_file(dir, "ipmsg_hostlist", "empty_page", empty, sizeof(empty) - 1);
    return rc ? 1 : 0;
}
