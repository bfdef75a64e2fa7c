/*
 * The UDP socket (docs/ipmsg-protocol.md §1.1): bound to
 * ipmsg.bind_address:ipmsg.port, non-blocking, SO_BROADCAST (entry packets go
 * to broadcast addresses) and SO_REUSEADDR (a restart must not wait for the
 * old socket; several daemons may share a port on distinct addresses). The
 * fd is handed to the host with io_watch, which owns and closes it. The TCP
 * listener for files comes with the files slice of issue 3.
 */
#ifndef DG_IPM_NET_H
#define DG_IPM_NET_H

#include <stddef.h>

#include "state.h"

/* Called for every datagram read; data is valid during the call only. */
typedef void (*net_rx_fn)(ipm_state *st, const char *data, size_t len, size_t real_len,
                          ipm_addr from);

int net_open(ipm_state *st, net_rx_fn on_rx);
/* sendto; counts bytes and errors. 0 or -1. */
int net_send(ipm_state *st, ipm_addr to, const char *data, size_t len);

/*
 * Where entry/exit/absence rounds go (§4.1, §4.7): 255.255.255.255 and every
 * interface's directed broadcast (getifaddrs) unless the socket is bound to a
 * loopback address, the configured broadcast list, the configured host list,
 * every known user that asked for unicast (DIALUPOPT, §4.1 step 4), and the
 * hosts a list server told us about (st->list_peers, §4.5).
 * Resets and fills *out.
 */
void net_entry_targets(ipm_state *st, ipm_addr_list *out);

#endif
