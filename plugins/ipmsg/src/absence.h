/*
 * Absence mode (docs/ipmsg-protocol.md §4.2): whether we are absent, with
 * which text and title, and why.
 *
 * Three things switch it:
 *  - the config (ipmsg.absence, ipmsg.absence_text, ipmsg.absence_title),
 *    read at start and whenever one of them changes;
 *  - the user, with RPC chat.absence (`dengon absence on [TEXT] | off`),
 *    until they lift it or the daemon restarts;
 *  - idle time: after ipmsg.auto_absence_minutes without a local chat.send,
 *    chat.read or chat.absence call. The daemon runs headless and cannot see
 *    a keyboard, so "idle" means "the user did nothing through dengon". The
 *    next such call ends an absence that idle time started (and only that
 *    kind: a manual or configured absence stays until lifted).
 *
 * While absent, entry packets carry ABSENCEOPT and the nickname becomes
 * "nick[title]" (Windows' GetNickNameEx), direct messages get the text as an
 * automatic reply (SENDMSG|AUTORETOPT) and GETABSENCEINFO is answered with
 * it. Every change sends a BR_ABSENCE round and publishes
 * "presence.self.changed".
 */
#ifndef DG_IPM_ABSENCE_H
#define DG_IPM_ABSENCE_H

#include <jansson.h>
#include <stdbool.h>

#include "state.h"

/* From the config at start; arms the idle check. 0, or -1 when out of memory. */
int away_init(ipm_state *st);
void away_free(ipm_state *st);

bool away_active(const ipm_state *st);
/* The absence text and title in effect (never NULL; "" when unset). */
const char *away_text(const ipm_state *st);
const char *away_title(const ipm_state *st);
/* The nickname peers must see now: "nick[title]" while absent. New string or NULL. */
char *away_nickname(const ipm_state *st);

/* chat.absence: on (with text/title, NULL = the configured ones) or off. */
void away_set_manual(ipm_state *st, bool on, const char *text, const char *title);
/* The local user did something (chat.send, chat.read): restarts the idle clock. */
void away_activity(ipm_state *st);
/* core.config.changed for ipmsg.absence, _text, _title, auto_absence_minutes (settings reloaded).
 */
void away_config_changed(ipm_state *st, const char *key);

/* {"absent","text","title","reason","since","idle_s","auto_absence_s"}; new reference. */
json_t *away_json(const ipm_state *st);

#endif
