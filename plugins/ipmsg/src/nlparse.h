/*
 * Reading the kernel's address notifications (rtnetlink, RTMGRP_IPV4_IFADDR):
 * which messages of a datagram say that an IPv4 address was added or
 * removed. The plugin re-announces itself when one did (ifwatch.c). Pure:
 * the buffer is only read, with bounds checks on every header, since a
 * truncated or odd message must never be read past its end.
 */
#ifndef DG_IPM_NLPARSE_H
#define DG_IPM_NLPARSE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ipm_nl_summary {
    size_t messages; /* netlink messages walked */
    size_t changes;  /* RTM_NEWADDR / RTM_DELADDR of an IPv4 address that matters */
    size_t ignored;  /* address messages of host scope (127.x on lo) or other families */
    bool malformed;  /* a header was shorter than it must be or ran past the buffer */
} ipm_nl_summary;

/*
 * Walks the netlink messages in buf[0..len). Host-scope addresses (loopback)
 * are ignored: the tests add 127.0.0.x addresses, and they are never reached
 * by broadcast anyway. Stops at NLMSG_DONE or at the first malformed header.
 */
void ipm_nl_summarize(const void *buf, size_t len, ipm_nl_summary *out);

#endif
