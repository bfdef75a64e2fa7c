/*
 * The room protocol engine (docs/protocol/rooms.md): handles received
 * envelopes, emits this node's operations, keeps members in sync.
 *
 * Everything runs on the loop thread, never inside the bus interceptor that
 * catches envelopes (plugin.c defers them), so calling the chat transport
 * (which publishes) is safe here.
 */
#ifndef DG_ROOMS_PROTO_H
#define DG_ROOMS_PROTO_H

#include <jansson.h>
#include <stdbool.h>

#include "state.h"

/* Most logged operations re-sent in answer to one sync request. */
#define ROOMS_SYNC_MAX 500
/*
 * Syncs triggered by events (a peer online, a reverse sync) are skipped when
 * the room was synced this recently: when a node comes back, every peer
 * would otherwise send it the same missed operations.
 */
#define ROOMS_SYNC_ROOM_GAP_MS 3000
/* A sync answer that brought news is followed by another request this much later. */
#define ROOMS_FOLLOWUP_MS 1000
/* Held operations (private rooms, sender not yet known as a member). */
#define ROOMS_HOLD_MAX 256
#define ROOMS_HOLD_MS 60000

/* Handles one received envelope from sender (user@host). */
void proto_receive(rooms_state *st, const char *text, const char *sender);

typedef struct proto_emitted {
    int64_t id;         /* local log id */
    size_t sent;        /* members it was sent to */
    size_t unreachable; /* members offline or unknown now: they get it at the next sync */
} proto_emitted;

/*
 * Emits this node's logged operation e (op and its op-specific fields set;
 * room, name, private, origin, from, nick, seq, clock and time are filled
 * here from r and the identity): stores it, applies it, publishes its events
 * and sends it to the present members. The caller checks that this node may
 * (is a member, or is joining) and clears e afterwards. res may be NULL.
 * 0, or -1 with a reason in err.
 */
int proto_emit(rooms_state *st, const room_info *r, room_env *e, proto_emitted *res, char *err,
               size_t errlen);

/* Sends our "have" vector of room to key (and records when); false when key is not reachable. */
bool proto_sync(rooms_state *st, const char *room, const char *key);
/* Syncs room with one online member picked at random (none: nothing). */
void proto_sync_one(rooms_state *st, const char *room);
/* Syncs every room we are a member of with one online member (the periodic round). */
void proto_sync_round(rooms_state *st);
/* A peer came online (or changed): sync the rooms it shares with us. */
void proto_peer_online(rooms_state *st, const char *key, const char *uuid);

/* Announces a public room to key, or to every online dengon peer when key is NULL. */
void proto_announce(rooms_state *st, const room_info *r, const char *key);
/* Asks every online dengon peer (and the known members of ref's room) who is in room ref. */
size_t proto_query(rooms_state *st, const char *name, const char *id);

/* Drops held operations whose time ran out. */
void proto_hold_expire(rooms_state *st);
void proto_free(rooms_state *st);

/* This node's identity as room operations carry it (borrowed from the host). */
const char *proto_my_key(rooms_state *st, char *buf, size_t len);
const char *proto_my_nick(rooms_state *st);

/* JSON views for RPC results. */
json_t *proto_room_json(rooms_state *st, const room_info *r);
json_t *proto_op_json(const room_logop *op);

#endif
