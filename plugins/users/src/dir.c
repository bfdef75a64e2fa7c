#include "dir.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIN_BUCKETS 64

void us_dir_init(us_dir *d)
{
    memset(d, 0, sizeof(*d));
}

void us_dir_free(us_dir *d)
{
    for (size_t i = 0; i < d->n; i++)
        us_user_free(d->v[i]);
    free(d->v);
    free(d->by_key);
    free(d->by_uuid);
    us_dir_init(d);
}

/* FNV-1a over ASCII-lowercased bytes: equal under strcasecmp -> equal hash. */
static size_t hash_ci(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (uint64_t)(unsigned char)tolower((unsigned char)*s);
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

static us_user **key_slot(const us_dir *d, const char *key)
{
    return &d->by_key[hash_ci(key) & (d->nbuckets - 1)];
}

static us_user **uuid_slot(const us_dir *d, const char *uuid)
{
    return &d->by_uuid[hash_ci(uuid) & (d->nbuckets - 1)];
}

static void link_key(us_dir *d, us_user *u)
{
    us_user **slot = key_slot(d, u->key);
    u->next_key = *slot;
    *slot = u;
}

static void link_uuid(us_dir *d, us_user *u)
{
    if (!u->uuid[0])
        return;
    us_user **slot = uuid_slot(d, u->uuid);
    u->next_uuid = *slot;
    *slot = u;
}

static void unlink_key(us_dir *d, us_user *u)
{
    for (us_user **p = key_slot(d, u->key); *p; p = &(*p)->next_key)
        if (*p == u) {
            *p = u->next_key;
            break;
        }
    u->next_key = NULL;
}

static void unlink_uuid(us_dir *d, us_user *u)
{
    if (!u->uuid[0])
        return;
    for (us_user **p = uuid_slot(d, u->uuid); *p; p = &(*p)->next_uuid)
        if (*p == u) {
            *p = u->next_uuid;
            break;
        }
    u->next_uuid = NULL;
}

/* Keeps at most one entry per bucket on average. */
static int ensure_buckets(us_dir *d, size_t want_entries)
{
    if (d->nbuckets >= MIN_BUCKETS && want_entries <= d->nbuckets)
        return 0;
    size_t nb = d->nbuckets ? d->nbuckets : MIN_BUCKETS;
    while (nb < want_entries)
        nb *= 2;
    us_user **k = calloc(nb, sizeof(*k)), **u = calloc(nb, sizeof(*u));
    if (!k || !u) {
        free(k);
        free(u);
        return -1;
    }
    free(d->by_key);
    free(d->by_uuid);
    d->by_key = k;
    d->by_uuid = u;
    d->nbuckets = nb;
    for (size_t i = 0; i < d->n; i++) {
        link_key(d, d->v[i]);
        link_uuid(d, d->v[i]);
    }
    return 0;
}

us_user *us_dir_find_key(const us_dir *d, const char *key)
{
    if (!key || !d->nbuckets)
        return NULL;
    for (us_user *u = *key_slot(d, key); u; u = u->next_key)
        if (strcasecmp(u->key, key) == 0)
            return u;
    return NULL;
}

us_user *us_dir_find_uuid(const us_dir *d, const char *uuid)
{
    if (!uuid || !*uuid || !d->nbuckets)
        return NULL;
    for (us_user *u = *uuid_slot(d, uuid); u; u = u->next_uuid)
        if (strcasecmp(u->uuid, uuid) == 0)
            return u;
    return NULL;
}

int us_dir_add(us_dir *d, us_user *u)
{
    if (us_dir_find_key(d, u->key) || us_dir_find_uuid(d, u->uuid))
        return -1;
    if (ensure_buckets(d, d->n + 1) != 0)
        return -1;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        us_user **v = realloc(d->v, cap * sizeof(*v));
        if (!v)
            return -1;
        d->v = v;
        d->cap = cap;
    }
    u->index = d->n;
    d->v[d->n++] = u;
    link_key(d, u);
    link_uuid(d, u);
    return 0;
}

us_user *us_dir_detach(us_dir *d, us_user *u)
{
    if (!u || u->index >= d->n || d->v[u->index] != u)
        return NULL;
    unlink_key(d, u);
    unlink_uuid(d, u);
    size_t i = u->index;
    d->v[i] = d->v[--d->n];
    d->v[i]->index = i;
    u->index = 0;
    return u;
}

int us_dir_set_uuid(us_dir *d, us_user *u, const char *uuid)
{
    if (!uuid)
        uuid = "";
    if (*uuid && !us_uuid_valid(uuid))
        return -1;
    if (strcasecmp(u->uuid, uuid) == 0)
        return 0;
    us_user *other = us_dir_find_uuid(d, uuid);
    if (other && other != u)
        return -1;
    unlink_uuid(d, u);
    size_t i = 0;
    for (; uuid[i]; i++)
        u->uuid[i] = (char)tolower((unsigned char)uuid[i]);
    u->uuid[i] = '\0';
    link_uuid(d, u);
    return 0;
}

int us_dir_rekey(us_dir *d, us_user *u, const char *user, const char *host)
{
    us_user *fresh = us_user_new(user, host);
    if (!fresh)
        return -1;
    us_user *other = us_dir_find_key(d, fresh->key);
    if (other && other != u) {
        us_user_free(fresh);
        return -1;
    }
    unlink_key(d, u);
    /* Swap the three names in; fresh takes the old ones to free them. */
    char *k = u->key, *us = u->user, *h = u->host;
    u->key = fresh->key;
    u->user = fresh->user;
    u->host = fresh->host;
    fresh->key = k;
    fresh->user = us;
    fresh->host = h;
    us_user_free(fresh);
    link_key(d, u);
    return 0;
}

/* ---- order ---- */

static const char *display_name(const us_user *u)
{
    return u->nickname && *u->nickname ? u->nickname : u->user;
}

int us_user_cmp(const us_user *a, const us_user *b)
{
    int c;
    if (a->priority != b->priority)
        return a->priority < b->priority ? -1 : 1;
    if ((c = strcasecmp(a->group, b->group)) != 0)
        return c;
    if ((c = strcasecmp(display_name(a), display_name(b))) != 0)
        return c;
    if (a->has_addr != b->has_addr)
        return a->has_addr ? -1 : 1;
    if (a->ip != b->ip)
        return a->ip < b->ip ? -1 : 1;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    if ((c = strcasecmp(a->key, b->key)) != 0)
        return c;
    return strcmp(a->key, b->key);
}

static int cmp_ptr(const void *pa, const void *pb)
{
    return us_user_cmp(*(us_user *const *)pa, *(us_user *const *)pb);
}

us_user **us_dir_sorted(const us_dir *d)
{
    if (d->n == 0)
        return NULL;
    us_user **v = malloc(d->n * sizeof(*v));
    if (!v)
        return NULL;
    memcpy(v, d->v, d->n * sizeof(*v));
    qsort(v, d->n, sizeof(*v), cmp_ptr);
    return v;
}

/* ---- resolution ---- */

typedef enum { BY_ADDR, BY_NICK_EXACT, BY_NICK_CASE, BY_LOGON } match_kind;

typedef struct addr_query {
    uint32_t ip;
    uint16_t port;
    bool has_port;
} addr_query;

static bool matches(const us_user *u, const char *who, const addr_query *a, match_kind kind)
{
    switch (kind) {
    case BY_ADDR:
        return u->has_addr && u->ip == a->ip && (!a->has_port || u->port == a->port);
    case BY_NICK_EXACT:
        return *u->nickname && strcmp(u->nickname, who) == 0;
    case BY_NICK_CASE:
        return *u->nickname && strcasecmp(u->nickname, who) == 0;
    case BY_LOGON:
        return strcasecmp(u->user, who) == 0;
    }
    return false;
}

/* 1 unique, 0 none, -1 ambiguous (keys in err, in display order). */
static int find_unique(const us_dir *d, const char *who, const addr_query *a, match_kind kind,
                       us_user **out, char *err, size_t errlen)
{
    size_t count = 0;
    for (size_t i = 0; i < d->n; i++)
        if (matches(d->v[i], who, a, kind) && count++ == 0)
            *out = d->v[i];
    if (count <= 1)
        return (int)count;
    us_user **sorted = us_dir_sorted(d);
    int w = snprintf(err, errlen, "'%s' matches %zu users, name one by user@host:", who, count);
    for (size_t i = 0; sorted && i < d->n && w >= 0 && (size_t)w < errlen; i++)
        if (matches(sorted[i], who, a, kind))
            w += snprintf(err + w, errlen - (size_t)w, " %s", sorted[i]->key);
    free(sorted);
    return -1;
}

us_resolve_rc us_dir_resolve(const us_dir *d, const char *who, us_user **out, char *err,
                             size_t errlen)
{
    *out = NULL;
    if (!who || !*who) {
        snprintf(err, errlen, "empty user name");
        return US_RESOLVE_UNKNOWN;
    }
    if (strchr(who, '@') && (*out = us_dir_find_key(d, who)) != NULL)
        return US_RESOLVE_OK;
    addr_query a;
    int rc;
    if (us_addr_parse(who, &a.ip, &a.port, &a.has_port) == 0) {
        rc = find_unique(d, who, &a, BY_ADDR, out, err, errlen);
        if (rc < 0)
            return US_RESOLVE_AMBIGUOUS;
        if (rc == 1)
            return US_RESOLVE_OK;
        snprintf(err, errlen, "nobody known at %s", who);
        return US_RESOLVE_UNKNOWN;
    }
    static const match_kind order[] = {BY_NICK_EXACT, BY_NICK_CASE, BY_LOGON};
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        rc = find_unique(d, who, NULL, order[k], out, err, errlen);
        if (rc < 0)
            return US_RESOLVE_AMBIGUOUS;
        if (rc == 1)
            return US_RESOLVE_OK;
    }
    snprintf(err, errlen, "unknown user '%s' (not a known user@host, address or nickname)", who);
    return US_RESOLVE_UNKNOWN;
}
