/*
 * IPv4 endpoints and the address lists of the config: the unicast host list
 * (ipmsg.hosts, "addr[:port]") and extra broadcast addresses
 * (ipmsg.broadcast, where an octet may be '*': "192.168.*.255" stands for
 * the 256 directed broadcasts of 192.168.0.0/16, like the wildcard entries of
 * Windows' broadcast list, docs/ipmsg-protocol.md §1.1).
 *
 * Pure: no sockets, no name resolution. Names are refused rather than
 * resolved because a DNS lookup would block the loop thread.
 */
#ifndef DG_IPM_ADDRLIST_H
#define DG_IPM_ADDRLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ipm_addr {
    uint32_t ip;   /* host byte order: 127.0.0.2 is 0x7f000002 */
    uint16_t port; /* host byte order */
} ipm_addr;

/* "a.b.c.d:port" of at most this many bytes with the NUL. */
#define IPM_ADDR_TEXT 22

typedef struct ipm_addr_list {
    ipm_addr *v;
    size_t n;
} ipm_addr_list;

/* Most addresses one wildcard list may expand to ("*.*.*.*" is refused). */
#define IPM_ADDRLIST_MAX 4096
#define IPM_ADDRLIST_MAX_TEXT "4096"

/*
 * One endpoint "a.b.c.d" or "a.b.c.d:port" (port 1-65535) of len bytes;
 * default_port when no port is given. Returns 0 or -1.
 */
int ipm_addr_parse(const char *s, size_t len, uint16_t default_port, ipm_addr *out);
/* "a.b.c.d:port" into buf (IPM_ADDR_TEXT bytes); returns buf. */
char *ipm_addr_format(ipm_addr a, char *buf);
/* "a.b.c.d" only. */
char *ipm_ip_format(uint32_t ip, char *buf);
bool ipm_addr_eq(ipm_addr a, ipm_addr b);
bool ipm_ip_is_loopback(uint32_t ip); /* 127.0.0.0/8 */

/*
 * A list separated by commas and/or white space; empty text is an empty
 * list. allow_wildcard lets an octet be '*' (0..255). Duplicates are kept
 * once, in first-seen order. On error returns -1, leaves *out empty and puts
 * a one-line reason naming the bad entry in err.
 */
int ipm_addrlist_parse(const char *text, uint16_t default_port, bool allow_wildcard,
                       ipm_addr_list *out, char *err, size_t errlen);
/* Appends a (unless already present). 0, or -1 on out of memory. */
int ipm_addrlist_add(ipm_addr_list *l, ipm_addr a);
bool ipm_addrlist_has(const ipm_addr_list *l, ipm_addr a);
/* Removes a (the last entry takes its place); no-op when absent. */
void ipm_addrlist_remove(ipm_addr_list *l, ipm_addr a);
void ipm_addrlist_free(ipm_addr_list *l);

#endif
