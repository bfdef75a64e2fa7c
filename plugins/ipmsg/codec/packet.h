/*
 * IPMsg datagram codec: "Ver:PacketNo:User:Host:Command:Extra\0[sections]"
 * (docs/ipmsg-protocol.md §1.2, §1.4). Pure functions, no I/O, no global
 * state; the parsed packet points into the caller's buffer (no copies), so
 * the buffer must outlive it.
 *
 * Parsing is lenient where real clients differ and strict where a wrong
 * guess would corrupt state:
 *  - Ver: accepted when it is "1" or starts with "1" followed by a non-digit
 *    ("1_iptux 0.8.3", "1@shiyeline"), like Windows' atoi() check (§1.2,
 *    §9.1). "10", "2", "iptux 0.7.5" are rejected: Windows drops them too.
 *  - PacketNo and Command: decimal digits only, value < 2^32.
 *  - User and Host: must be non-empty. Windows' tokenizer skips empty fields
 *    and would shift every later field (§1.2), so an empty one is an error
 *    here rather than a silent misparse.
 *  - Extra runs to the first NUL; later NUL-separated sections are exposed
 *    as slices (the UTF-8 entry block, attach list, iptux icon/encoding...).
 *  - The datagram may not exceed max_size (default 32 KiB = Windows
 *    MAX_UDPBUF, §1.1).
 *
 * Building always writes Ver "1", replaces ':' in user/host by ';' (':'
 * cannot be escaped, §1.2), refuses empty names, always writes the NUL after
 * the extra (Windows v5.8.2 requires it, §1.2) and never writes past the
 * output buffer. Text parts are converted to the packet encoding decided by
 * IPMSG_UTF8OPT in the command (§1.3).
 */
#ifndef DG_IPMSG_PACKET_H
#define DG_IPMSG_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "charset.h"
#include "ipmsg_error.h"
#include "ipmsg_proto.h"

#define IPMSG_PARSE_DEFAULT_MAX IPMSG_MAX_UDPBUF
/* Sections kept in ipmsg_packet.sections; more are reachable by iterator. */
#define IPMSG_MAX_SECTIONS 8

typedef struct ipmsg_packet {
    ipmsg_slice version; /* raw, e.g. "1" or "1_iptux 0.8.3" */
    uint32_t packet_no;
    ipmsg_slice user; /* wire encoding; non-empty, no ':' */
    ipmsg_slice host;
    uint32_t command;  /* as sent */
    uint32_t mode;     /* IPMSG_GET_MODE(command) */
    uint32_t opts;     /* IPMSG_GET_OPT(command) */
    ipmsg_slice extra; /* up to the first NUL, always present (maybe empty) */
    bool extra_nul;    /* a NUL followed the extra */
    ipmsg_slice tail;  /* all bytes after that NUL (empty if none) */
    /* Sections of tail: each ends at a NUL or at the end of the datagram; an
     * empty remainder after the last NUL is not a section. So "g\0" is one
     * section, "\0\nUN:x" is two ("" and "\nUN:x"). */
    size_t n_sections; /* total count, may exceed IPMSG_MAX_SECTIONS */
    ipmsg_slice sections[IPMSG_MAX_SECTIONS];
    bool last_section_nul; /* the last section was followed by a NUL */
    size_t size;           /* datagram length */
} ipmsg_packet;

/*
 * Parses one datagram (or one TCP request) of len bytes. max_size 0 means
 * IPMSG_PARSE_DEFAULT_MAX. On error *out is zeroed and err says why.
 */
int ipmsg_parse(const void *data, size_t len, size_t max_size, ipmsg_packet *out, ipmsg_error *err);

/* Walks all sections of a parsed packet, beyond IPMSG_MAX_SECTIONS too. */
typedef struct ipmsg_section_iter {
    const char *p;
    const char *end;
} ipmsg_section_iter;

void ipmsg_sections_begin(const ipmsg_packet *pkt, ipmsg_section_iter *it);
/* Next section into *out; terminated (may be NULL) tells whether a NUL
 * followed it. Returns false when there are no more. */
bool ipmsg_sections_next(ipmsg_section_iter *it, ipmsg_slice *out, bool *terminated);

/*
 * Decimal number in an extra (RECVMSG, READMSG, ANSREADMSG, RELEASEFILES,
 * GETLIST carry the packet number or index this way, §1.4). Surrounding
 * spaces are allowed; anything else is IPMSG_E_SYNTAX, > 2^32-1 E_RANGE.
 */
int ipmsg_parse_u32(ipmsg_slice s, uint32_t *out, ipmsg_error *err);

/* ---- building ---- */

#define IPMSG_PART_TEXT 0x0u   /* UTF-8, converted to the packet encoding */
#define IPMSG_PART_RAW 0x1u    /* already wire bytes: copied unchanged */
#define IPMSG_PART_NO_NUL 0x2u /* sections only, last one only: no NUL after it */

typedef struct ipmsg_part {
    const char *ptr;
    size_t len;
    unsigned flags;
} ipmsg_part;

static inline ipmsg_part ipmsg_text(const char *s)
{
    ipmsg_part p = {s, s ? strlen(s) : 0, IPMSG_PART_TEXT};
    return p;
}

static inline ipmsg_part ipmsg_raw(const void *data, size_t len)
{
    ipmsg_part p = {(const char *)data, len, IPMSG_PART_RAW};
    return p;
}

typedef struct ipmsg_build_in {
    uint32_t packet_no;
    uint32_t command;           /* UTF8OPT here selects UTF-8 for every text part */
    ipmsg_part user;            /* required, non-empty */
    ipmsg_part host;            /* required, non-empty */
    ipmsg_part extra;           /* may be empty; must not contain NUL */
    const ipmsg_part *sections; /* written after extra's NUL, each + NUL */
    size_t n_sections;
} ipmsg_build_in;

/*
 * Writes the packet into out[0..cap) and its length to *out_len. cs is the
 * legacy code page (may be NULL when every legacy text part is ASCII).
 * IPMSG_E_NOSPACE when it does not fit; pass cap = the datagram limit of the
 * peer (32 KiB for Windows, 8 KiB for iptux) to bound packets.
 */
int ipmsg_build(const ipmsg_build_in *in, ipmsg_charset *cs, char *out, size_t cap, size_t *out_len,
                ipmsg_error *err);

/* Human-readable command name ("BR_ENTRY"), or NULL if unknown. */
const char *ipmsg_command_name(uint32_t command);

#endif
