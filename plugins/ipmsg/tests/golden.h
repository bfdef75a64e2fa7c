/*
 * Golden IPMsg packets, byte for byte. The iptux and probe packets are the
 * verbatim captures of iptux-interop.md §6; the Windows ones follow the
 * layouts of ipmsg-protocol.md §1.3-§1.4, §4.3-§4.5 and msgmng.cpp MakeMsg.
 * Japanese text is CP932 in legacy packets (山田 = 8E 52 93 63) and UTF-8 in
 * the UTF-8 block and in UTF8OPT packets.
 *
 * String literals are split after every \0 / \xNN escape that is followed by
 * a (hex) digit, otherwise C would read "\x0010000" as one escape.
 *
 * gen_seeds.c writes these to tests/fuzz/corpus/ipmsg_packet/ as seeds.
 */
#ifndef DG_IPMSG_TEST_GOLDEN_H
#define DG_IPMSG_TEST_GOLDEN_H

#include <stddef.h>

typedef struct golden_packet {
    const char *name;
    const char *data;
    size_t len;
} golden_packet;

#define GOLDEN(n, lit)                                                                             \
    {                                                                                              \
        n, lit, sizeof(lit) - 1                                                                    \
    }

/* CP932 and UTF-8 spellings used below. */
#define CP932_YAMADA_TARO "\x8e\x52\x93\x63\x20\x91\xbe\x98\x59" /* 山田 太郎 */
#define CP932_EIGYOBU "\x89\x63\x8b\xc6\x95\x94"                 /* 営業部 */
#define CP932_RYOUKAI "\x97\xb9\x89\xf0\x82\xc5\x82\xb7"         /* 了解です */
#define U8_YAMADA_TARO "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e"
#define U8_EIGYOBU "\xe5\x96\xb6\xe6\xa5\xad\xe9\x83\xa8"
#define U8_PARTY "\xf0\x9f\x8e\x89" /* 🎉 */

/* 0x0F640001: a v4 Windows BR_ENTRY status (§3.1). */
#define WIN_ENTRY_CMD "258211841"
#define DG_UUID "3f2c9a4e-8b1d-4c7a-9e55-0123456789ab"

static const golden_packet golden_packets[] = {
    /* iptux 0.8.3 start-up broadcast, 0x101 = BR_ENTRY|ABSENCEOPT */
    GOLDEN("iptux_br_entry",
           "1_iptux 0.8.3:1:root:vm:257:iptux-peer\0interop\0icon-tux.png\0utf-8\0"),
    /* iptux dial-up entry, 0x10101 = |DIALUPOPT */
    GOLDEN("iptux_br_entry_dialup",
           "1_iptux 0.8.3:8:root:vm:65793:iptux-peer\0interop\0icon-tux.png\0utf-8\0"),
    /* probe ANSENTRY, 0xa00003 = ANSENTRY|FILEATTACHOPT|UTF8OPT */
    GOLDEN("probe_ansentry", "1:1795255854:probe:probehost:10485763:ipmsg-probe\0interop\0"),
    /* iptux ANSENTRY 0x103 */
    GOLDEN("iptux_ansentry",
           "1_iptux 0.8.3:9:root:vm:259:iptux-peer\0interop\0icon-tux.png\0utf-8\0"),
    /* SENDMSG|SENDCHECKOPT|UTF8OPT (0x800120), ✓ é 日本語 */
    GOLDEN("probe_sendmsg_utf8",
           "1:1795255858:probe:probehost:8388896:hello from probe "
           "\xe2\x9c\x93 h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\0"),
    /* iptux RECVMSG|SENDCHECKOPT (0x121) */
    GOLDEN("iptux_recvmsg", "1_iptux 0.8.3:10:root:vm:289:1795255858\0"),
    GOLDEN("probe_getinfo", "1:1795255859:probe:probehost:64:\0"),
    GOLDEN("probe_getpubkey", "1:1795255860:probe:probehost:114:20002\0"),
    /* file offer 0xa00120 = SENDMSG|SENDCHECKOPT|FILEATTACHOPT|UTF8OPT, attach list after NUL */
    GOLDEN("probe_file_offer", "1:1795255862:probe:probehost:10486048:file for you\0"
                               "0:probe-file.txt:1388:6b016e3c:1:\a\0"),
    /* iptux GETFILEDATA over TCP: hex packet no, file id, offset */
    GOLDEN("iptux_getfiledata", "1_iptux 0.8.3:12:root:vm:96:6b016e36:0:0\0"),
    /* iptux SENDMSG text, no UTF8OPT although it is UTF-8 */
    GOLDEN("iptux_sendmsg", "1_iptux 0.8.3:13:root:vm:288:reply from iptux GUI "
                            "\xc3\xbc\xc3\xa4 \xe2\x9c\x93\0"),
    /* iptux offer 0x200020, empty text */
    GOLDEN("iptux_file_offer", "1_iptux 0.8.3:14:root:vm:2097184:\0"
                               "10000:iptux-outgoing.txt:2328:6b016e48:1:\a\0"),
    GOLDEN("probe_releasefiles", "1:1795255865:probe:probehost:97:14\0"),
    /* iptux BR_EXIT|DIALUPOPT with empty nick */
    GOLDEN("iptux_br_exit", "1_iptux 0.8.3:16:root:vm:65538:\0"),
    /* iptux private 0xFC signature */
    GOLDEN("iptux_sign", "1_iptux 0.8.3:16:root:vm:252:headless iptux for IPMsg interop tests\0"),
    /* Windows v4 BR_ENTRY: CP932 header fields + UTF-8 block, no NUL after it */
    GOLDEN("win_br_entry_cp932", "1:1700000000:yamada:PC-YAMADA:" WIN_ENTRY_CMD
                                 ":" CP932_YAMADA_TARO "\0" CP932_EIGYOBU "\0"
                                 "\nUN:yamada\nHN:PC-YAMADA\nNN:" U8_YAMADA_TARO "\nGN:" U8_EIGYOBU
                                 "\nVS:00010002:4:99:3"),
    /* Windows BR_ENTRY with an empty group: nick\0\0\n... */
    GOLDEN("win_br_entry_nogroup", "1:1700000001:suzuki:PC-SUZUKI:" WIN_ENTRY_CMD
                                   ":suzuki\0\0\nUN:suzuki\nHN:PC-SUZUKI\nNN:suzuki\nGN:"),
    /* Windows ANSENTRY|UTF8OPT answering a CAPUTF8 entry: UTF-8, only VS */
    GOLDEN("win_ansentry_utf8", "1:1700000002:yamada:PC-YAMADA:266600451:" U8_YAMADA_TARO
                                "\0" U8_EIGYOBU "\0\nVS:00010002:4:99:3"),
    /* Windows legacy SENDMSG|SENDCHECKOPT in CP932 */
    GOLDEN("win_sendmsg_cp932", "1:1700000003:yamada:PC-YAMADA:288:" CP932_RYOUKAI "\0"),
    /* Sealed: SENDMSG|SENDCHECKOPT|SECRETOPT|READCHECKOPT = 0x00100320 */
    GOLDEN("win_sendmsg_sealed", "1:1700000004:yamada:PC-YAMADA:1049376:secret\0"),
    /* Retry with the 64 zero bytes Windows appends (§4.3) */
    GOLDEN("win_sendmsg_retry_pad",
           "1:1700000005:yamada:PC-YAMADA:288:Hello\0"
           "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
           "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
    /* Fingerprinted user name (§6.4), UTF-8 message with an emoji */
    GOLDEN("win_fingerprint_utf8",
           "1:1700000006:alice-<0123456789abcdef>:pc1:8388896:"
           "\xe3\x81\x8a\xe7\x96\xb2\xe3\x82\x8c\xe3\x81\x95\xe3\x81\xbe " U8_PARTY "\0"),
    /* RECVMSG for §4.3's example */
    GOLDEN("win_recvmsg", "1:1700000500:bob:pc2:33:1700000123\0"),
    /* ANSLIST|UTF8OPT page: next 0, 2 hosts; port 2425 as Windows writes it (30985) */
    GOLDEN("win_anslist", "1:1700000100:yamada:PC-YAMADA:8388627:    0\a    2\a"
                          "alice\apc1\a18874368\a192.168.1.10\a30985\aAlice\aSales\a"
                          "bob\apc2\a18874624\a192.168.1.11\a30985\a\b\a\b\a\0"),
    GOLDEN("win_getlist", "1:1700000101:sato:PC-SATO:18:\0"),
    GOLDEN("win_br_isgetlist2", "1:1700000102:sato:PC-SATO:24:\0"),
    /* Clone version strings (§1.2, §9.1) */
    GOLDEN("clone_version_at", "1@shiyeline:5:user:host:32:hi\0"),
    GOLDEN("feiq_version", "1_lbt6_0#128#000C29D4ABCD#0#0#0#4001#9:7:user:host:32:hi\0"),
    /* dengon's own BR_ENTRY: FILEATTACHOPT|CAPUTF8OPT, block + DGUUID line */
    GOLDEN("dengon_br_entry", "1:1700000200:yamada:PC-YAMADA:18874369:" CP932_YAMADA_TARO
                              "\0" CP932_EIGYOBU "\0\nUN:yamada\nHN:PC-YAMADA\nNN:" U8_YAMADA_TARO
                              "\nGN:" U8_EIGYOBU "\nDGUUID:" DG_UUID),
    /* Windows GETFILEDATA with its trailing ':' */
    GOLDEN("win_getfiledata", "1:1700000300:bob:pc2:96:6553f100:2a:0:\0"),
};

#define GOLDEN_COUNT (sizeof(golden_packets) / sizeof(golden_packets[0]))

#endif
