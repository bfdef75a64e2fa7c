/*
 * The extra area of entry/status packets: BR_ENTRY, BR_EXIT, BR_ABSENCE,
 * NOOPERATION and ANSENTRY (docs/ipmsg-protocol.md §1.3, §1.4, §10).
 *
 * Wire layout as Windows writes it (msgmng.cpp MakeMsg):
 *
 *     nick \0 group \0 \nUN:user\nHN:host\nNN:nick\nGN:group[\nVS:ver][\nIP:..]
 *
 * The header, nick and group are in the legacy code page (broadcasts never
 * carry UTF8OPT); the block after the second NUL is UTF-8 and overrides them.
 * With an empty group the sequence is nick\0\0\n... . There is no NUL after
 * the block. ANSENTRY from Windows v4 carries only "\nVS:..". iptux sends
 * nick\0group\0icon\0encoding\0 instead (§8) and no block.
 *
 * The dengon extension. The identity UUID (design.md "Identity") travels as
 * one more line of the UTF-8 block: "\nDGUUID:<36-char uuid>". Why there:
 *  - Windows reads the block by splitting it at '\n' and comparing each line
 *    with strncmp(line, "UN:", 3), "HN:", "NN:", "GN:" (and v4 "VS:", "PL:",
 *    "IP:"); any other line is skipped [W:msgmng.cpp ResolveMsg]. A key longer
 *    than two letters can never match such a 3-byte "XX:" prefix, so no
 *    present or future two-letter Windows key can be confused with it.
 *  - It must NOT be a new NUL-separated section: iptux reads section 3 as an
 *    icon file name and a non-empty section 4 as the peer's encoding, and a
 *    4th section makes it treat the sender as "iptux-compatible" (it then
 *    skips re-encoding and sends its private 0xFC/0xFE packets) [T:UdpData.cpp
 *    GetPalIcon/GetPalEncode]. Inside the block it stays in section 3, which
 *    iptux already receives from every Windows peer and resolves to "no such
 *    icon", so iptux behaves exactly as with Windows.
 *  - Like Windows, nothing follows the block, so no 4th section appears.
 */
#ifndef DG_IPMSG_ENTRY_H
#define DG_IPMSG_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "charset.h"
#include "ipmsg_error.h"
#include "packet.h"

#define IPMSG_DG_UUID_KEY "DGUUID:"
#define IPMSG_UUID_LEN 36

/* Slices into the packet; absent ones have ptr == NULL. */
typedef struct ipmsg_entry_raw {
    ipmsg_slice nick;  /* the extra, packet encoding (may end in "[absence title]") */
    ipmsg_slice group; /* packet encoding */
    ipmsg_slice block; /* the whole UTF-8 block, starting with '\n' */
    ipmsg_slice un, hn, nn, gn, vs, ip, pl; /* block lines without their key */
    ipmsg_slice uuid;                       /* DGUUID: line, unvalidated */
    ipmsg_slice iptux_icon;                 /* iptux 3rd section */
    ipmsg_slice iptux_encoding;             /* iptux 4th section, e.g. "utf-8" */
} ipmsg_entry_raw;

/* Splits the extra of an entry-family packet (E_INVAL for other commands). */
int ipmsg_entry_parse(const ipmsg_packet *pkt, ipmsg_entry_raw *out, ipmsg_error *err);

/* Decoded view, all UTF-8 and owned (ipmsg_entry_clear frees them). */
typedef struct ipmsg_entry {
    char *user;                    /* UN: when it is non-empty valid UTF-8, else the header user */
    char *host;                    /* HN: likewise */
    char *nick;                    /* NN: when present and valid UTF-8, else the extra */
    char *group;                   /* GN: likewise, else the group section ("" if none) */
    char *version;                 /* VS: value, NULL if absent */
    char *iptux_encoding;          /* NULL unless the sender used the iptux layout */
    char uuid[IPMSG_UUID_LEN + 1]; /* lower-case dengon UUID, "" if absent/invalid */
    uint32_t status;               /* IPMSG_GET_OPT(command): ABSENCEOPT, CAPUTF8OPT, ... */
    bool from_block;               /* at least one name came from the UTF-8 block */
    size_t replaced;               /* replacement characters produced while decoding */
} ipmsg_entry;

/*
 * Decodes names for display and identity. Header fields, nick and group use
 * the packet encoding (ipmsg_packet_enc); when an iptux peer announces
 * "utf-8" in its encoding section they are read as UTF-8, since that is what
 * iptux really sends (iptux-interop.md §7). Returns IPMSG_OK or an error
 * (E_INVAL, E_NOMEM); *out is then empty.
 */
int ipmsg_entry_decode(const ipmsg_packet *pkt, ipmsg_charset *cs, ipmsg_entry *out,
                       ipmsg_error *err);
void ipmsg_entry_clear(ipmsg_entry *e);

/* What to send. Strings are UTF-8; NULL means "" (or "no line"). */
typedef struct ipmsg_entry_msg {
    uint32_t packet_no;
    uint32_t command; /* e.g. IPMSG_BR_ENTRY|IPMSG_FILEATTACHOPT|IPMSG_CAPUTF8OPT */
    const char *user; /* header user and UN: (':' becomes ';' in both) */
    const char *host; /* header host and HN: */
    const char *nick;
    const char *group;
    bool names_block;    /* write UN/HN/NN/GN lines (always wanted on BR_*) */
    const char *version; /* VS: line if not NULL */
    const char *uuid;    /* DGUUID: line if not NULL; must be a valid UUID */
} ipmsg_entry_msg;

/*
 * Builds the whole packet into out[0..cap). Refuses UTF8OPT on a broadcast
 * command (§1.3: old clients could not read it). Block values have CR/LF
 * replaced by spaces so they cannot inject lines.
 */
int ipmsg_entry_build(const ipmsg_entry_msg *m, ipmsg_charset *cs, char *out, size_t cap,
                      size_t *out_len, ipmsg_error *err);

/*
 * Fingerprinted user names (§6.4): a host with RSA-2048 + SHA-1 signing sends
 * "alice-<0123456789abcdef>". When user ends in "-<" 16 hex digits ">", fills
 * base ("alice") and hex (the 16 digits) and returns true. Such names must be
 * kept whole as identity keys; the fingerprint is only for key checks.
 */
bool ipmsg_user_fingerprint(ipmsg_slice user, ipmsg_slice *base, ipmsg_slice *hex);

/* True for the canonical 8-4-4-4-12 hex form (either case). */
bool ipmsg_uuid_valid(const char *s, size_t len);

#endif
