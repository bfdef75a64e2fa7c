/*
 * One entry of the user directory: what presence told us about a person
 * (names, addresses, status, capabilities, identity UUID) plus what the
 * local user decided about them (priority, hidden) and when we first
 * exchanged a message with them.
 *
 * Pure data: no I/O, no clock. Strings are UTF-8 (they come from jansson).
 */
#ifndef DG_USERS_USER_H
#define DG_USERS_USER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dg_jt;

/* A dengon identity UUID in canonical text form: 36 characters + NUL. */
#define US_UUID_LEN 36
/* Addresses remembered per user (several NICs, DHCP changes), most recent first. */
#define US_MAX_ADDRS 8

typedef enum us_status {
    US_ONLINE = 0,
    US_ABSENT = 1,
    US_OFFLINE = 2,
} us_status;

/* Display priority, in sort order. "hidden" is a separate flag (us_user.hidden). */
typedef enum us_level {
    US_HIGHEST = 0,
    US_HIGH = 1,
    US_MEDIUM = 2,
    US_LOW = 3,
} us_level;

const char *us_status_name(us_status s); /* "online", "absent", "offline" */
/* 0 and *out set for "online", "absent", "offline"; -1 otherwise. */
int us_status_parse(const char *s, us_status *out);
const char *us_level_name(us_level l); /* "highest", "high", "medium", "low" */
/* 0 and *out set for one of the four level names; -1 otherwise ("hidden" too). */
int us_level_parse(const char *s, us_level *out);

/* True for 8-4-4-4-12 hex digits (either case). */
bool us_uuid_valid(const char *s);

typedef struct us_user {
    char *key; /* user "@" host, as first seen; compared case-insensitively */
    char *user, *host;
    char *nickname, *group; /* never NULL ("" when unknown) */
    char *address;          /* current "a.b.c.d:port", "" when unknown */
    uint32_t ip;            /* address parsed, for sorting (host order) */
    uint16_t port;
    bool has_addr;
    json_t *addresses; /* array of strings, most recent first, at most US_MAX_ADDRS */
    us_status status;
    char *absence;              /* absence text, NULL when none */
    json_t *caps;               /* array of capability names ("utf8", "file", ...) */
    char uuid[US_UUID_LEN + 1]; /* lowercase; "" for clients without one */
    char *version;              /* NULL when unknown */
    int64_t first_seen, last_seen;
    int64_t first_exchange; /* Unix time of the first message either way, 0 = never */
    us_level priority;
    bool hidden;

    /* Directory bookkeeping (dir.c). */
    struct us_user *next_key, *next_uuid;
    size_t index;
} us_user;

/* A new entry for user@host with empty fields; NULL on OOM or empty user/host. */
us_user *us_user_new(const char *user, const char *host);
void us_user_free(us_user *u);
/* A deep copy, detached from any directory; NULL on OOM. */
us_user *us_user_clone(const us_user *u);

/* Replaces *dst with a copy of src (NULL -> ""); 1 changed, 0 same, -1 OOM. */
int us_set_str(char **dst, const char *src);
/* Like us_set_str, but NULL stays NULL (optional fields). */
int us_set_opt(char **dst, const char *src);

/*
 * Sets the current address ("a.b.c.d:port"; "" clears it) and puts it first
 * in the address history. 1 changed, 0 same, -1 OOM or not an address.
 */
int us_user_set_address(us_user *u, const char *address);
/* Parses "a.b.c.d" or "a.b.c.d:port" (port 1-65535); 0 ok, -1 bad. *has_port says which. */
int us_addr_parse(const char *s, uint32_t *ip, uint16_t *port, bool *has_port);

/*
 * The entry as users.get returns it: key, user, host, nickname, group,
 * address, addresses, status, capabilities, first_seen, last_seen, priority,
 * hidden, and when known uuid, version, absence, first_exchange. New reference.
 */
json_t *us_user_json(const us_user *u);
/* The same object as us_user_json, written as text into w (users.list of thousands). */
void us_user_write_json(const us_user *u, struct dg_jt *w);
/* Asks the CPU to fetch the strings us_user_write_json reads (a hint only). */
void us_user_prefetch(const us_user *u);

#endif
