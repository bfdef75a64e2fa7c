/*
 * The users plugin's state, shared by its modules. Everything here runs on
 * the host's loop thread, except the writer's own thread (writer.h), which
 * only sees copies.
 */
#ifndef DG_USERS_STATE_H
#define DG_USERS_STATE_H

#include <dengon/chat_transport.h>
#include <dengon/plugin.h>
#include <dengon/users_directory.h>
#include <stdbool.h>
#include <stdint.h>

#include "dir.h"
#include "rules.h"
#include "store.h"
#include "writer.h"

#define US_TOPIC_CHANGED "users.changed"
#define US_DAY_S 86400

typedef struct us_state {
    dg_ctx *ctx;
    const dg_host_api *api;
    us_dir dir;
    us_store *store; /* handed to the writer after loading */
    us_writer *writer;
    dg_timer *daily;
    /* The chat transport (ipmsg) for live presence; NULL while none is active. */
    const dg_chat_transport_v1 *transport;
    /* Added to the system clock: 0, except through the test-only users.test_clock. */
    int64_t clock_offset;
    bool resync_queued;              /* a resync after missed presence events is on its way */
    dg_users_directory_v1 directory; /* the users.directory@1 table (service.c) */
} us_state;

/* Provides users.directory@1 (service.c). DG_OK or the host's error. */
int us_service_provide(us_state *st);

/* Unix seconds on the plugin's clock. */
int64_t us_now(const us_state *st);

/* Queues u for the disk. */
void us_save(us_state *st, const us_user *u);
/* Queues the deletion of key. */
void us_unsave(us_state *st, const char *key);
/* Publishes users.changed: u as users.get shows it, plus change (and merged_from when set). */
void us_publish(us_state *st, const us_user *u, const char *change, const char *merged_from);

/* users.offline_days in seconds; 0 = users are never removed. */
int64_t us_max_age(const us_state *st);
/* users.new_priority (medium when unset or not a level). */
us_level us_new_level(const us_state *st);

/* Bus subscriptions (feed.c): presence, messages, config, overflow. DG_OK or an error. */
int us_feed_subscribe(us_state *st);

/*
 * Live presence (maintain.c). us_resync asks the chat transport for the
 * current state of every entry (entries it does not know are offline).
 * us_maintain does the daily work: resync, last_seen of present users, expiry;
 * it returns the removed keys (new array) for the test clock's answer.
 */
void us_resync(us_state *st);
json_t *us_maintain(us_state *st);
/* Finds the transport if it appeared since; NULL when there is none. */
const dg_chat_transport_v1 *us_transport(us_state *st);

/* RPC methods (rpc.c). DG_OK or the failing status. */
int us_rpc_register(us_state *st);

#endif
