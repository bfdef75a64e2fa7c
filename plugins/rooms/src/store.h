/*
 * Room state on disk: <data_dir>/rooms.db (SQLite, WAL). Rooms, members and
 * the room log. The log is what makes rooms ordered and duplicate-free:
 *
 *   - an operation is identified by (room, origin, seq): inserting one that
 *     is already there is a duplicate, reported as such and not stored again;
 *   - the log is read in (clock, origin, seq) order: Lamport clock first,
 *     the author's UUID breaking ties, so every member shows the same order
 *     whatever order the packets arrived in.
 *
 * Membership is a last-writer-wins register per (room, member): a change is
 * applied only when its stamp (clock, origin) is greater than the stored one,
 * so members that saw the same operations agree, in whatever order they saw
 * them. Snapshot entries (from an invite's or announce's member list) have
 * the stamp (0, "") and yield to any logged operation.
 *
 * Nothing here talks to the network or the bus.
 */
#ifndef DG_ROOMS_STORE_H
#define DG_ROOMS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

typedef struct room_store room_store;

/* Where this node stands in a room. */
typedef enum room_state {
    ROOM_AVAILABLE = 0, /* a public room someone announced; never joined */
    ROOM_MEMBER = 1,
    ROOM_LEFT = 2, /* was a member, left */
} room_state;

const char *room_state_name(room_state s); /* "available", "member", "left" */

typedef struct room_info {
    char id[ROOM_ID_LEN + 1];
    char *name;
    bool priv;
    room_state state;
    int64_t created;
    uint64_t clock; /* highest Lamport clock seen or used */
    size_t members; /* present members (room_list / room_get fill it) */
    int64_t last;   /* author time of the newest post, 0 if none */
} room_info;

typedef struct room_member {
    char uuid[ROOM_UUID_LEN + 1];
    char *key;
    char *nick;
    bool present;
    uint64_t stamp_clock;
    char stamp_origin[ROOM_UUID_LEN + 1];
} room_member;

/* One logged operation (post, join, leave, invite). */
typedef struct room_logop {
    int64_t id; /* local row id, set by rstore_op_insert */
    char room[ROOM_ID_LEN + 1];
    char origin[ROOM_UUID_LEN + 1];
    uint64_t seq, clock;
    room_op op;
    char *from, *nick;
    int64_t time, received;
    char *text;   /* post text, else NULL */
    char *detail; /* invite: JSON array of the invited {uuid,key,nick}; else NULL */
    char *wire;   /* the envelope as sent by its author, for re-sending on sync */
} room_logop;

/* Opens or creates the database. 0, or -1 with a reason in err. */
int rstore_open(const char *path, room_store **out, char *err, size_t errlen);
void rstore_close(room_store *s);
/* The last SQLite error message (for logs). */
const char *rstore_error(room_store *s);

/* One transaction around several calls; commit -1 means it was rolled back. */
int rstore_begin(room_store *s);
int rstore_commit(room_store *s);
void rstore_rollback(room_store *s);

/* ---- rooms ---- */

/* 1 found (*out filled, free with room_info_clear), 0 unknown, -1 error. */
int rstore_room_get(room_store *s, const char *id, room_info *out);
/* Inserts the room if its id is unknown (name, privacy and creation are never changed after). */
int rstore_room_add(room_store *s, const room_info *r);
int rstore_room_set_state(room_store *s, const char *id, room_state state);
/* clock = max(clock, seen). */
int rstore_room_see_clock(room_store *s, const char *id, uint64_t seen);
/* Rooms whose name equals name (ASCII case-insensitive), or all when name is NULL. */
int rstore_rooms(room_store *s, const char *name, room_info **out, size_t *n);
void room_info_clear(room_info *r);
void room_infos_free(room_info *v, size_t n);

/* ---- members ---- */

/*
 * Sets a member's presence if (clock, origin) is newer than its stamp (a new
 * member always). key/nick (may be NULL) update the known names either way.
 * Returns 1 when presence changed, 0 when not, -1 on error.
 */
int rstore_member_apply(room_store *s, const char *room, const char *uuid, const char *key,
                        const char *nick, bool present, uint64_t clock, const char *origin);
/* Updates the names of a known member (no presence change); 0 or -1. */
int rstore_member_touch(room_store *s, const char *room, const char *uuid, const char *key,
                        const char *nick);
/* Members of room (present only, or all), by nickname then key. */
int rstore_members(room_store *s, const char *room, bool present_only, room_member **out,
                   size_t *n);
/* Is uuid (or, when uuid is NULL or unknown, key) a present member? 1, 0 or -1. */
int rstore_member_present(room_store *s, const char *room, const char *uuid, const char *key);
/* A user moved to a new key (same UUID): every room learns it. */
int rstore_members_rekey(room_store *s, const char *uuid, const char *key);
void room_members_free(room_member *v, size_t n);

/* ---- log ---- */

/* 1 stored (op->id set), 0 duplicate (room, origin, seq), -1 error. */
int rstore_op_insert(room_store *s, room_logop *op);
/* Next sequence number of origin in room (1 for the first). 0 on error. */
uint64_t rstore_next_seq(room_store *s, const char *room, const char *origin);
/* Per origin, the highest seq n such that 1..n are all stored. */
int rstore_have(room_store *s, const char *room, room_have **out, size_t *n);
/*
 * The operations of room a peer with vector have[] lacks (seq above its
 * entry, or any seq of an origin it does not list), oldest first by
 * (clock, origin, seq), at most limit.
 */
int rstore_ops_missing(room_store *s, const char *room, const room_have *have, size_t n_have,
                       size_t limit, room_logop **out, size_t *n);
/* The last limit operations of room in log order (clock, origin, seq). */
int rstore_log(room_store *s, const char *room, size_t limit, room_logop **out, size_t *n);
void room_logop_clear(room_logop *op);
void room_logops_free(room_logop *v, size_t n);

/* (clock, origin) stamps: <0, 0, >0 like strcmp. */
int room_stamp_cmp(uint64_t clock_a, const char *origin_a, uint64_t clock_b, const char *origin_b);

#endif
