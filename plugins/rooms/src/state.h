/* The rooms plugin's state, shared by its modules (one instance per plugin start). */
#ifndef DG_ROOMS_STATE_H
#define DG_ROOMS_STATE_H

#include <dengon/chat_transport.h>
#include <dengon/plugin.h>

#include <stdbool.h>
#include <stdint.h>

#include "envelope.h"
#include "store.h"

/* A peer as presence.changed describes it (only what rooms need). */
typedef struct rooms_peer {
    char *key;
    char uuid[ROOM_UUID_LEN + 1]; /* "" for clients that are not dengon */
    bool online;                  /* online or absent */
} rooms_peer;

/* Sync bookkeeping of one room (kept in memory only). */
typedef struct rooms_sync {
    char room[ROOM_ID_LEN + 1];
    int64_t last_ms; /* monotonic ms of the last sync request sent for this room */
    char *followup;  /* ask this peer again soon: its last answer brought news */
    char *want;      /* sync with this peer as soon as the transport lists it online */
} rooms_sync;

/* A received envelope waiting to be handled (outside the interceptor) or held. */
typedef struct rooms_rx {
    struct rooms_rx *next;
    char *text;    /* the envelope */
    char *sender;  /* user@host of the IPMsg sender */
    int64_t until; /* held: monotonic ms after which it is dropped */
    char room[ROOM_ID_LEN + 1];
} rooms_rx;

/* A room.join waiting for announce answers. */
typedef struct rooms_state rooms_state;

typedef struct rooms_join {
    struct rooms_join *next;
    rooms_state *st;
    dg_rpc_call *call;
    char *ref;                  /* what the user typed: a name or an id */
    char room[ROOM_ID_LEN + 1]; /* first room id that answered (or known here), "" if none */
    char *other;                /* another id with the same name (ambiguous), or NULL */
    dg_timer *timer;
    bool settling; /* an answer came: the timer is the short settle one */
} rooms_join;

typedef struct rooms_stats {
    uint64_t received, malformed, duplicates, held, held_dropped, ignored, sent, send_failed,
        syncs_sent, syncs_answered, ops_resent;
} rooms_stats;

struct rooms_state {
    dg_ctx *ctx;
    const dg_host_api *api;
    const dg_chat_transport_v1 *tp;
    room_store *db;
    char me[ROOM_UUID_LEN + 1];
    rooms_peer *peers;
    size_t n_peers, cap_peers;
    rooms_rx *rx_head, *rx_tail; /* received, not yet handled */
    bool rx_posted;
    rooms_rx *held; /* private-room operations from senders not (yet) known as members */
    size_t n_held;
    dg_timer *hold_timer;
    dg_timer *sync_timer;
    int64_t sync_every_s;
    rooms_sync *syncs;
    size_t n_syncs, cap_syncs;
    dg_timer *followup_timer;
    rooms_join *joins;
    rooms_stats stats;
};

/* Monotonic milliseconds. */
int64_t rooms_now_ms(void);
/* Unix seconds. */
int64_t rooms_now(void);

#endif
