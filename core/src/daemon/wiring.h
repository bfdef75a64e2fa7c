/*
 * Between policy_wiring.c and licence_wiring.c: which extra licence keys the
 * team policy trusts, and telling the licence when that changes.
 */
#ifndef DG_DAEMON_WIRING_H
#define DG_DAEMON_WIRING_H

#include "daemon/daemon.h"

#include <jansson.h>

#define DG_POLICY_CHANGED_TOPIC "core.policy.changed"
#define DG_LICENCE_CHANGED_TOPIC "core.licence.changed"
#define DG_LICENCE_TRIAL_ENDED_TOPIC "core.licence.trial_ended"

/*
 * Extra licence keys the effective policy names: [{"name","policy","source"}]
 * (new reference; empty without a policy). They are read from
 * <keys-dir>/<name>.pub.
 */
json_t *dg_daemon_policy_licence_keys(dg_daemon *d);
/* The policy's trusted licence keys changed: re-verify the installed licence. */
void dg_daemon_licence_trust_changed(dg_daemon *d);

/* wiring.c: ids of the active plugins, {"id": true, ...}; new reference. */
json_t *dg_daemon_active_plugins(dg_daemon *d);
/* Ids active in after but not in before (started) and the reverse (stopped); new arrays. */
void dg_daemon_plugins_diff(const json_t *before, const json_t *after, json_t **started,
                            json_t **stopped);
/* Re-evaluates every plugin's eligibility (gates changed) and returns what started/stopped. */
void dg_daemon_replug(dg_daemon *d, json_t **started, json_t **stopped);
/* "a, b" of a JSON array of strings into buf ("none" when empty). */
void dg_daemon_join_ids(const json_t *ids, char *buf, size_t len);

#endif
