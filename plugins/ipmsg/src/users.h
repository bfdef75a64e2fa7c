/*
 * The user table: every IPMsg host we have heard of, keyed by user@host
 * (the LAN key, design.md "Identity"; compared case-insensitively like
 * Windows' IsSameHost, docs/ipmsg-protocol.md §4.1).
 *
 * Same person, new PC: a dengon peer also sends its identity UUID (entry.h,
 * "DGUUID:"). When an entry arrives under a new key with a UUID that an
 * existing entry already has, that older entry is the same person's previous
 * machine: it is replaced (the new entry inherits first_seen) and the caller
 * is told which key "moved", instead of keeping a ghost duplicate.
 *
 * Lookups by key and by UUID go through hash indexes (chained buckets), so
 * a burst of thousands of entries stays linear instead of quadratic.
 *
 * Pure data structure: no I/O; times are passed in (Unix seconds).
 */
#ifndef DG_IPM_USERS_H
#define DG_IPM_USERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addrlist.h"

typedef enum ipm_presence {
    IPM_ONLINE = 0,
    IPM_ABSENT = 1,
    IPM_OFFLINE = 2,
} ipm_presence;

const char *ipm_presence_name(ipm_presence p); /* "online", "absent", "offline" */

typedef struct ipm_user {
    char *user, *host, *key; /* key = user "@" host, user without a fingerprint field */
    char *nickname, *group;
    char *version;      /* VS: line or SENDINFO text, NULL if unknown */
    char *absence_text; /* from SENDABSENCEINFO, NULL if unknown */
    ipm_addr addr;
    uint32_t status; /* last entry options (ABSENCEOPT, CAPUTF8OPT, DIALUPOPT...) */
    ipm_presence presence;
    bool utf8;  /* the peer showed CAPUTF8OPT (or sent UTF8OPT): §1.3; or is iptux */
    bool iptux; /* its entries use iptux's layout or version: text is UTF-8 without UTF8OPT */
    uint64_t reintroduced_ms; /* iptux: when our UTF-8 ANSENTRY last went to it (presence.c) */
    char uuid[37];            /* dengon identity UUID, "" for other clients */
    int64_t first_seen, last_seen;

    /* Table bookkeeping (users.c): index chains and the order of arrival. */
    struct ipm_user *next_key, *next_uuid;
    uint64_t seq;
} ipm_user;

typedef struct ipm_users {
    ipm_user **v; /* in order of arrival */
    size_t n, cap;
    ipm_user **by_key, **by_uuid; /* chained buckets; nbuckets is a power of two */
    size_t nbuckets;
    uint64_t next_seq;
} ipm_users;

/* What an entry packet says about its sender (borrowed strings). */
typedef struct ipm_user_info {
    const char *user, *host;
    const char *nickname, *group; /* NULL = "" */
    const char *version;          /* NULL = keep the known one */
    const char *uuid;             /* NULL or "" = none */
    ipm_addr addr;
    uint32_t status;
    ipm_presence presence;
    bool iptux; /* iptux: reads UTF-8 without CAPUTF8OPT, writes it without UTF8OPT (§8) */
} ipm_user_info;

typedef enum ipm_upsert {
    IPM_UPSERT_ERROR = -1, /* out of memory or empty user/host */
    IPM_UPSERT_SAME = 0,   /* known, nothing a user would see changed (last_seen updated) */
    IPM_UPSERT_NEW = 1,
    IPM_UPSERT_CHANGED = 2, /* nickname, group, address, presence or capability changed */
    IPM_UPSERT_MOVED = 3,   /* new key for a known UUID: the old entry was replaced */
} ipm_upsert;

void ipm_users_init(ipm_users *t);
void ipm_users_free(ipm_users *t);

/*
 * Adds or updates the sender of an entry. *out (may be NULL) gets the entry;
 * on IPM_UPSERT_MOVED *moved_from (may be NULL) gets the replaced key as a
 * new string (free()).
 */
ipm_upsert ipm_users_upsert(ipm_users *t, const ipm_user_info *in, int64_t now, ipm_user **out,
                            char **moved_from);

/*
 * A user's key is user@host without the fingerprint field "-<16 hex>" that
 * IP Messenger v3+ and dengon append to the user name with encryption on
 * (§6.4, ADR 0017): the same person whether or not the name carries one, so
 * enabling encryption (or a new key pair) makes no second entry. The entry's
 * user is the name as last seen on the wire. Lookups by user and host or by
 * key accept the name with or without the field.
 */
size_t ipm_user_base_len(const char *user);
/* The key of user at host (malloc'd), or NULL. */
char *ipm_key_make(const char *user, const char *host);
ipm_user *ipm_users_find(const ipm_users *t, const char *user, const char *host);
/* "user@host": split at the last '@' (host names never contain one). */
ipm_user *ipm_users_find_key(const ipm_users *t, const char *key);
ipm_user *ipm_users_find_addr(const ipm_users *t, ipm_addr addr);
ipm_user *ipm_users_find_uuid(const ipm_users *t, const char *uuid);
/* Removes and frees one entry (no-op if it is not in the table). */
void ipm_users_remove(ipm_users *t, ipm_user *u);

/*
 * A new array (free()) of the n entries sorted for display: group, then
 * nickname, then address (case-insensitive text, numeric address), then key
 * for a stable order. NULL when the table is empty or out of memory.
 */
ipm_user **ipm_users_sorted(const ipm_users *t);

/* {"key","user","host","nickname","group","address","status","absence",
 *  "utf8","uuid","version","first_seen","last_seen","entry_status"}, and
 *  "wire_user" (the name with its fingerprint field) when it has one: "user"
 *  never does (key == user "@" host); new reference. */
json_t *ipm_user_json(const ipm_user *u);

#endif
