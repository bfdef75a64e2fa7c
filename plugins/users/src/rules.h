/*
 * The directory's rules (ADR 0009): how a presence event becomes an entry,
 * the merge of "the same person on a new PC" (same identity UUID under a new
 * user@host), priority and hiding, the low -> medium promotion after the first
 * exchange, and expiry of users not seen for a number of days.
 *
 * Pure logic over us_dir: no I/O, times are passed in (Unix seconds).
 */
#ifndef DG_USERS_RULES_H
#define DG_USERS_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dir.h"

/* Longest text field accepted from an event (names, absence text, version). */
#define US_TEXT_MAX 8192
/* Most capability names accepted per user. */
#define US_MAX_CAPS 32

/*
 * A presence.changed payload (docs/events.md), checked. Strings are borrowed
 * from the payload; NULL means "not said, keep what is known".
 */
typedef struct us_event {
    const char *user, *host; /* never NULL after parsing */
    const char *nickname, *group, *address, *absence, *uuid, *version;
    const json_t *caps; /* array of strings, or NULL */
    int utf8;           /* -1 unknown, else 0/1 (used when caps is NULL) */
    us_status status;
    bool has_status;
    const char *change;     /* "new", "updated", "moved", "offline", or NULL */
    const char *moved_from; /* the key the same UUID had before, or NULL */
    int64_t last_seen;      /* the sender's own clock, 0 when absent */
} us_event;

/* 0, or -1 with a one-line reason in err (the payload is then ignored whole). */
int us_event_parse(const json_t *payload, us_event *ev, char *err, size_t errlen);

typedef enum us_change {
    US_CHANGE_ERROR = -1, /* out of memory: nothing changed */
    US_CHANGE_NONE = 0,   /* only last_seen moved */
    US_CHANGE_NEW = 1,
    US_CHANGE_UPDATED = 2, /* something users see changed (name, status, address...) */
    US_CHANGE_MERGED = 3,  /* same UUID under a new key: the old entry took the new key */
} us_change;

typedef struct us_applied {
    us_change change;
    us_user *user;     /* the entry now, in the directory (NULL on error) */
    char *merged_from; /* US_CHANGE_MERGED: the key that is gone (free()) */
} us_applied;

/*
 * Applies ev. seen_at becomes last_seen (and first_seen of a new entry); a
 * new entry gets priority new_level. Same UUID as an entry under another key
 * (or, for a "moved" event, the moved_from entry when it has no UUID): that
 * entry is the person's previous PC; it takes the new key and keeps its
 * priority, hidden flag, first_seen and first exchange, and its old address
 * history is dropped. An entry that already held the new key under another
 * identity is replaced.
 */
us_applied us_dir_apply(us_dir *d, const us_event *ev, int64_t seen_at, us_level new_level);

/*
 * A message went to or came from who (a key or an address). The first
 * exchange with a user is recorded, and a low-priority user becomes medium.
 * Returns 0 when nothing changed (unknown, or not the first exchange), 1 when
 * first_exchange was set, 2 when the user was also promoted. *out (may be
 * NULL) gets the entry.
 */
int us_dir_exchange(us_dir *d, const char *who, int64_t now, us_user **out);

/*
 * "hidden" hides u and keeps its level; a level restores u with that level.
 * 1 changed, 0 same, -1 not a level.
 */
int us_user_set_level(us_user *u, const char *level);

/*
 * Detaches every entry whose last_seen is older than now - max_age seconds
 * (max_age <= 0: none), whatever its last status: the caller keeps last_seen
 * of present users current (maintain.c), so a stale "online" is a peer that
 * vanished without saying goodbye. Returns how many, with the entries in
 * *out (a new array, free() it and us_user_free() each; NULL when none).
 */
size_t us_dir_expire(us_dir *d, int64_t now, int64_t max_age, us_user ***out);

#endif
