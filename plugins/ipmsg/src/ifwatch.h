/*
 * Re-announce when the machine's addresses change (issue 3: a laptop that
 * moves to another network, DHCP handing out a new address, an interface
 * coming up after the daemon started). A NETLINK_ROUTE socket subscribed to
 * RTMGRP_IPV4_IFADDR is watched with io_watch; every IPv4 address added or
 * removed (nlparse.h) restarts a short debounce timer, and when it expires
 * one announce round goes out (presence_announce: BR_ENTRY, or the host list
 * exchange for list clients), now with the new interface broadcasts. The
 * debounce turns the burst of messages of one change (address, then routes,
 * then a second address) into one round.
 *
 * Without the socket (a sandbox that forbids netlink) the plugin runs on,
 * with a warning: the periodic re-announce still covers address changes.
 */
#ifndef DG_IPM_IFWATCH_H
#define DG_IPM_IFWATCH_H

#include <jansson.h>

#include "state.h"

/* Quiet time after the last address message before re-announcing. */
#define IPM_READDRESS_DELAY_MS 1000

/* Opens and watches the socket; 0 (also when netlink is unavailable), -1 on out of memory. */
int ifwatch_open(ipm_state *st);
void ifwatch_free(ipm_state *st);

/* {"watching", "address_changes", "reannounces"}; new reference. */
json_t *ifwatch_json(const ipm_state *st);

#endif
