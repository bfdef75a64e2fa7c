/*
 * The user directory in memory: every entry once, found by key
 * (case-insensitive, like IPMsg's IsSameHost) and by identity UUID through
 * hash indexes, so a burst of thousands of presence events stays linear.
 *
 * Invariants (kept by every function here, checked by the unit tests and the
 * fuzz harness): no two entries share a key (case-insensitively) or a UUID.
 *
 * Pure data structure: no I/O, no clock.
 */
#ifndef DG_USERS_DIR_H
#define DG_USERS_DIR_H

#include <stddef.h>

#include "user.h"

typedef struct us_dir {
    us_user **v; /* entries in no particular order (swap-removed) */
    size_t n, cap;
    us_user **by_key, **by_uuid; /* chained buckets; nbuckets is a power of two */
    size_t nbuckets;
} us_dir;

void us_dir_init(us_dir *d);
/* Frees every entry. */
void us_dir_free(us_dir *d);

/* Takes u (not freed on failure). 0, or -1: OOM, or its key or UUID is already there. */
int us_dir_add(us_dir *d, us_user *u);
/* Removes u from the directory and returns it (the caller frees it). */
us_user *us_dir_detach(us_dir *d, us_user *u);

us_user *us_dir_find_key(const us_dir *d, const char *key);
/* uuid in either case; NULL for "" or NULL. */
us_user *us_dir_find_uuid(const us_dir *d, const char *uuid);

/*
 * Gives u another identity UUID ("" clears it). 0, or -1 when another entry
 * has it (the caller merges first) or it is not a valid UUID.
 */
int us_dir_set_uuid(us_dir *d, us_user *u, const char *uuid);
/* Gives u a new user@host (the merge of a moved user). 0, or -1: OOM or key taken. */
int us_dir_rekey(us_dir *d, us_user *u, const char *user, const char *host);

/*
 * Display order: priority (highest first), group, name (nickname, else the
 * logon name), address (numeric; unknown last), key. Case-insensitive text.
 */
int us_user_cmp(const us_user *a, const us_user *b);
/* A new array (free()) of the d->n entries in display order; NULL if empty or OOM. */
us_user **us_dir_sorted(const us_dir *d);

typedef enum us_resolve_rc {
    US_RESOLVE_OK = 0,
    US_RESOLVE_UNKNOWN = -1,
    US_RESOLVE_AMBIGUOUS = -2,
} us_resolve_rc;

/*
 * What a user typed to name someone (dengon priority USER ...), in this order:
 * a key user@host (case-insensitive); an address a.b.c.d[:port] (without a
 * port, any port); a nickname, exact then case-insensitive; a logon name.
 * Hidden and offline entries count. A name shared by several entries is
 * ambiguous: err lists their keys instead of guessing.
 */
us_resolve_rc us_dir_resolve(const us_dir *d, const char *who, us_user **out, char *err,
                             size_t errlen);

#endif
