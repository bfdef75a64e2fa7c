/*
 * Host list exchange (docs/ipmsg-protocol.md §4.5), the way Windows IP
 * Messenger does it [W:mainwin.cpp EntryHost, MsgBrIsGetList, MsgOkGetList,
 * SendHostList, AddHostList]. It lets hosts on segments that no broadcast
 * reaches find each other without a server: one host per site answers
 * requests (ipmsg.list_server), the others ask it (ipmsg.list_get).
 *
 * Requester (ipmsg.list_get), instead of a plain BR_ENTRY round at start and
 * at every re-announce:
 *   1. BR_ISGETLIST2 to every entry target (broadcasts, ipmsg.hosts, ...);
 *      after ipmsg.list_wait_ms without an answer once more with RETRYOPT;
 *      after another wait it gives up and sends the usual BR_ENTRY round.
 *   2. The first OKGETLIST picks the server: GETLIST (start 0) to it.
 *   3. Each ANSLIST page: every listed host is recorded as present (Windows'
 *      AddHostList) and its address joins st->list_peers; while the page says
 *      more follow, GETLIST with the next start index (a lost page is asked
 *      for again twice, then the exchange ends with what it has).
 *   4. When the list is complete: a BR_ENTRY round, which now also goes by
 *      unicast to every listed host, so hosts on the far segment learn about
 *      us and answer with ANSENTRY.
 *
 * List server (ipmsg.list_server): answers BR_ISGETLIST2 with OKGETLIST once
 * it has been up for ipmsg.list_wait_ms (a host that just started knows
 * nobody yet); if it is itself a requester, only requests carrying RETRYOPT
 * (Windows' rule, so two list clients do not serve each other empty lists).
 * GETLIST is answered with one ANSLIST page from the given index, as many
 * hosts as fit one datagram (ipmsg_hostlist_build), UTF-8 when the request
 * carried CAPUTF8OPT or UTF8OPT.
 */
#ifndef DG_IPM_LISTX_H
#define DG_IPM_LISTX_H

#include <jansson.h>
#include <stdbool.h>

#include "packet.h"
#include "state.h"

int listx_init(ipm_state *st);
void listx_free(ipm_state *st);

/* Starts an exchange as requester; does nothing while one is running. */
void listx_start(ipm_state *st);
bool listx_running(const ipm_state *st);

/* BR_ISGETLIST2, OKGETLIST, GETLIST, ANSLIST from a peer. */
void listx_on_packet(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from);

/* State and counters for RPC ipmsg.discovery; new reference. */
json_t *listx_json(const ipm_state *st);

#endif
