/*
 * The receive path: one datagram in, counted, parsed with the codec
 * (packet.h) and routed by command (docs/ipmsg-protocol.md §2). Anything
 * malformed, oversize, unknown or not implemented here is counted and
 * dropped; nothing a peer sends can stop the plugin.
 */
#ifndef DG_IPM_RX_H
#define DG_IPM_RX_H

#include <stddef.h>

#include "packet.h"
#include "state.h"

/* net_rx_fn for net_open. */
void rx_datagram(ipm_state *st, const char *data, size_t len, size_t real_len, ipm_addr from);

/* Header user and host decoded to UTF-8 (new strings); 0 or -1. */
int rx_names(ipm_state *st, const ipmsg_packet *pkt, char **user, char **host);
/* Decodes a slice of the packet by its encoding (UTF8OPT or legacy); new string or NULL. */
char *rx_text(ipm_state *st, const ipmsg_packet *pkt, ipmsg_slice s);
/* rx_text for a message body from sender (NULL = unknown), which may be a
 * peer known to write UTF-8 without UTF8OPT. */
char *rx_text_from(ipm_state *st, const ipmsg_packet *pkt, const ipm_user *sender, ipmsg_slice s);

#endif
