/*
 * Presence (docs/ipmsg-protocol.md §4.1, §4.2, §4.7): entry, absence and
 * exit rounds to every target (net_entry_targets), answering BR_ENTRY with
 * ANSENTRY after a random delay, keeping the user table up to date from
 * BR_ENTRY / ANSENTRY / BR_ABSENCE / BR_EXIT, and publishing
 * "presence.changed" for each user whose visible state changed.
 */
#ifndef DG_IPM_PRESENCE_H
#define DG_IPM_PRESENCE_H

#include <jansson.h>

#include "packet.h"
#include "state.h"

/* Windows sends a NOOPERATION round, waits 250 ms, then BR_ENTRY (§4.1 step 2). */
#define IPM_ENTRY_DELAY_MS 250

/* NOOPERATION now, BR_ENTRY after IPM_ENTRY_DELAY_MS, then periodic re-announce. */
int presence_start(ipm_state *st);
/* One round of mode (BR_ENTRY, BR_ABSENCE, BR_EXIT, NOOPERATION) to every target. */
void presence_round(ipm_state *st, uint32_t mode);
/*
 * "Here I am": a BR_ENTRY round, or for a list client (ipmsg.list_get) a host
 * list exchange that ends with one (listx.h). At start, periodically, and
 * when the targets or the machine's addresses change.
 */
void presence_announce(ipm_state *st);
/* (Re)arms the periodic BR_ENTRY round after ipmsg.announce_interval_s changed. */
void presence_rearm(ipm_state *st);

/* BR_ENTRY, ANSENTRY, BR_ABSENCE, BR_EXIT from a peer. */
void presence_on_entry(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from);
/* SENDABSENCEINFO / SENDINFO: the absence text or version of a known peer. */
void presence_on_info(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from);

/* core.identity.changed: new nickname or group -> BR_ABSENCE round (§4.2). */
void presence_identity_changed(ipm_state *st, const json_t *identity);
/* Copies nickname and group from an identity object; 1 when they changed. */
int presence_set_names(ipm_state *st, const json_t *identity);

/* Publishes presence.changed for u; change is "new", "updated", "moved", "offline". */
void presence_publish(ipm_state *st, const ipm_user *u, const char *change, const char *moved_from);

#endif
