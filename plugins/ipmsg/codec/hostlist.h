/*
 * Host list exchange: BR_ISGETLIST2 -> OKGETLIST -> GETLIST(start) ->
 * ANSLIST pages (docs/ipmsg-protocol.md §4.5). The extras of BR_ISGETLIST2
 * and OKGETLIST are empty; GETLIST's is the decimal start index (empty = 0).
 *
 * ANSLIST extra, all numbers decimal, fields separated by \a (0x07):
 *
 *     %5d\a%5d\a  user\a host\a status\a addr\a port\a nick|\b\a group|\b\a  user\a ...
 *     next start (0 = complete), hosts in this page
 *
 * \b (0x08) stands for an empty nick or group: Windows' tokenizer skips
 * empty fields, which would shift the rest of the list (§1.2).
 *
 * The port. Windows prints hostSub.portNo, which holds sin_port in network
 * byte order, with %d, and reads it back the same way [W:mainwin.cpp
 * SendHostList/AddHostList]. On little-endian Windows port 2425 (0x0979) is
 * therefore sent as 30985 (0x7909). ipmsg-protocol.md §4.5 calls the value
 * "host-order"; the source says otherwise, so the entry keeps the raw wire
 * number and ipmsg_hostlist_port_decode/encode convert it.
 *
 * The page is parsed in place (slices, wire encoding) and walked with an
 * iterator, so no allocation happens on untrusted input.
 */
#ifndef DG_IPMSG_HOSTLIST_H
#define DG_IPMSG_HOSTLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "charset.h"
#include "ipmsg_error.h"

typedef struct ipmsg_hostlist_entry {
    ipmsg_slice user;   /* non-empty */
    ipmsg_slice host;   /* non-empty */
    uint32_t status;    /* the host's status word (entry options), decimal on the wire */
    ipmsg_slice addr;   /* address text as sent ("192.168.1.5") */
    uint16_t port_wire; /* port number exactly as sent; see ipmsg_hostlist_port_decode */
    ipmsg_slice nick;   /* empty (ptr set, len 0) when the sender wrote \b */
    ipmsg_slice group;
} ipmsg_hostlist_entry;

typedef struct ipmsg_hostlist_page {
    uint32_t next_start; /* index to ask for next with GETLIST; 0 = complete */
    uint32_t count;      /* hosts in this page, as declared by the sender */
    ipmsg_slice body;    /* the entries */
} ipmsg_hostlist_page;

/* Parses the two header numbers of an ANSLIST extra. */
int ipmsg_hostlist_parse(ipmsg_slice extra, ipmsg_hostlist_page *page, ipmsg_error *err);

typedef struct ipmsg_hostlist_iter {
    const char *p;
    const char *end;
    const char *base; /* for error offsets */
} ipmsg_hostlist_iter;

void ipmsg_hostlist_begin(const ipmsg_hostlist_page *page, ipmsg_hostlist_iter *it);
/*
 * Next entry: 1 and *e filled, 0 at the end, or a negative ipmsg_status for a
 * malformed or truncated entry (iteration must stop then; entries returned
 * before stay valid). The number of entries need not match page->count.
 */
int ipmsg_hostlist_next(ipmsg_hostlist_iter *it, ipmsg_hostlist_entry *e, ipmsg_error *err);

/* Wire port -> real port: 2425 is taken as is (a writer using host order on
 * the default port), anything else is byte-swapped like Windows writes it. */
uint16_t ipmsg_hostlist_port_decode(uint16_t wire);
/* Real port -> wire number as Windows writes it (byte-swapped). */
uint16_t ipmsg_hostlist_port_encode(uint16_t port);

/* Strict dotted-quad IPv4 ("a.b.c.d", each 0-255, no leading '+'/spaces);
 * out[0] is the first octet. */
bool ipmsg_parse_ipv4(ipmsg_slice s, uint8_t out[4]);

/* GETLIST extra: empty or spaces = 0, else a decimal index. */
int ipmsg_getlist_start(ipmsg_slice extra, uint32_t *start, ipmsg_error *err);

/*
 * Builds one ANSLIST page from hosts[start..n) into out[0..cap): as many
 * entries as fit, *n_written of them, and *next_start (0 when the page
 * reaches the end of the table). cap is the room for the extra, i.e. the
 * datagram limit minus the packet header and the NUL. Entry strings are
 * UTF-8 converted to enc (ENC_RAW: copied as they are); '\a' inside a value
 * becomes ' ', empty nick/group become \b, port is the real port (encoded
 * with ipmsg_hostlist_port_encode). Entries with an empty user or host are
 * refused (E_INVAL). E_NOSPACE when not even one entry fits, since a page
 * with no entry and next_start != 0 would make the requester loop forever.
 * On error err->offset is the index of the offending host, not a byte offset.
 */
typedef struct ipmsg_hostlist_host {
    const char *user;
    const char *host;
    uint32_t status;
    const char *addr;
    uint16_t port;
    const char *nick;  /* NULL or "" -> \b */
    const char *group; /* NULL or "" -> \b */
} ipmsg_hostlist_host;

int ipmsg_hostlist_build(const ipmsg_hostlist_host *hosts, size_t n, size_t start,
                         ipmsg_charset *cs, ipmsg_enc enc, char *out, size_t cap, size_t *out_len,
                         size_t *n_written, uint32_t *next_start, ipmsg_error *err);

#endif
