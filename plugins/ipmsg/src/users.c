#include "users.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipmsg_proto.h"

const char *ipm_presence_name(ipm_presence p)
{
    switch (p) {
    case IPM_ONLINE:
        return "online";
    case IPM_ABSENT:
        return "absent";
    case IPM_OFFLINE:
        return "offline";
    }
    return "unknown";
}

void ipm_users_init(ipm_users *t)
{
    memset(t, 0, sizeof(*t));
}

static void user_free(ipm_user *u)
{
    if (!u)
        return;
    free(u->user);
    free(u->host);
    free(u->key);
    free(u->nickname);
    free(u->group);
    free(u->version);
    free(u->absence_text);
    free(u);
}

void ipm_users_free(ipm_users *t)
{
    for (size_t i = 0; i < t->n; i++)
        user_free(t->v[i]);
    free(t->v);
    free(t->by_key);
    free(t->by_uuid);
    ipm_users_init(t);
}

/* ---- hash indexes ---- */

#define MIN_BUCKETS 64

/* FNV-1a step over a lowercased byte: equal under strcasecmp -> equal hash. */
static uint64_t fnv_ci(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (uint64_t)(unsigned char)tolower((unsigned char)*s);
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t fnv_ci_n(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (uint64_t)(unsigned char)tolower((unsigned char)s[i]);
        h *= 1099511628211ull;
    }
    return h;
}

#define FNV_BASIS 1469598103934665603ull

/* Length of user[0..n) without a final "-<16 hex>" field. */
static size_t base_len_n(const char *user, size_t n)
{
    if (n < 20 || user[n - 19] != '-' || user[n - 18] != '<' || user[n - 1] != '>')
        return n;
    for (size_t i = n - 17; i < n - 1; i++)
        if (!isxdigit((unsigned char)user[i]))
            return n;
    return n - 19;
}

size_t ipm_user_base_len(const char *user)
{
    return base_len_n(user, strlen(user));
}

char *ipm_key_make(const char *user, const char *host)
{
    size_t b = ipm_user_base_len(user), n = b + strlen(host) + 2;
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "%.*s@%s", (int)b, user, host);
    return k;
}

/* The hash of the key of user and host, without building it. */
static size_t hash_names(const char *user, const char *host)
{
    return (size_t)fnv_ci(fnv_ci(fnv_ci_n(FNV_BASIS, user, ipm_user_base_len(user)), "@"), host);
}

/* u is the user user[0..ulen) (fingerprint field or not) at host. */
static bool same_person(const ipm_user *u, const char *user, size_t ulen, const char *host)
{
    size_t a = ipm_user_base_len(u->user), b = base_len_n(user, ulen);
    return a == b && strncasecmp(u->user, user, a) == 0 && strcasecmp(u->host, host) == 0;
}

static ipm_user **key_slot(const ipm_users *t, size_t hash)
{
    return &t->by_key[hash & (t->nbuckets - 1)];
}

static ipm_user **uuid_slot(const ipm_users *t, const char *uuid)
{
    return &t->by_uuid[(size_t)fnv_ci(FNV_BASIS, uuid) & (t->nbuckets - 1)];
}

static void link_key(ipm_users *t, ipm_user *u)
{
    ipm_user **slot = key_slot(t, hash_names(u->user, u->host));
    u->next_key = *slot;
    *slot = u;
}

static void link_uuid(ipm_users *t, ipm_user *u)
{
    if (!u->uuid[0])
        return;
    ipm_user **slot = uuid_slot(t, u->uuid);
    u->next_uuid = *slot;
    *slot = u;
}

static void unlink_key(ipm_users *t, ipm_user *u)
{
    for (ipm_user **p = key_slot(t, hash_names(u->user, u->host)); *p; p = &(*p)->next_key)
        if (*p == u) {
            *p = u->next_key;
            break;
        }
    u->next_key = NULL;
}

static void unlink_uuid(ipm_users *t, ipm_user *u)
{
    if (!u->uuid[0])
        return;
    for (ipm_user **p = uuid_slot(t, u->uuid); *p; p = &(*p)->next_uuid)
        if (*p == u) {
            *p = u->next_uuid;
            break;
        }
    u->next_uuid = NULL;
}

/* Keeps at most one entry per bucket on average; rebuilds the chains when growing. */
static int ensure_buckets(ipm_users *t, size_t want_entries)
{
    if (t->nbuckets >= MIN_BUCKETS && want_entries <= t->nbuckets)
        return 0;
    size_t nb = t->nbuckets ? t->nbuckets : MIN_BUCKETS;
    while (nb < want_entries)
        nb *= 2;
    ipm_user **k = calloc(nb, sizeof(*k)), **u = calloc(nb, sizeof(*u));
    if (!k || !u) {
        free(k);
        free(u);
        return -1;
    }
    free(t->by_key);
    free(t->by_uuid);
    t->by_key = k;
    t->by_uuid = u;
    t->nbuckets = nb;
    for (size_t i = 0; i < t->n; i++) {
        t->v[i]->next_key = t->v[i]->next_uuid = NULL;
        link_key(t, t->v[i]);
        link_uuid(t, t->v[i]);
    }
    return 0;
}

/* ---- lookups ---- */

ipm_user *ipm_users_find(const ipm_users *t, const char *user, const char *host)
{
    if (!user || !host || !t->nbuckets)
        return NULL;
    for (ipm_user *u = *key_slot(t, hash_names(user, host)); u; u = u->next_key)
        if (same_person(u, user, strlen(user), host))
            return u;
    return NULL;
}

ipm_user *ipm_users_find_key(const ipm_users *t, const char *key)
{
    const char *at = key ? strrchr(key, '@') : NULL;
    if (!at || at == key || !at[1] || !t->nbuckets)
        return NULL;
    /* Like hash_names(user, host), on the key's own bytes (the user part may
     * carry a fingerprint field: not part of the key). */
    size_t ulen = (size_t)(at - key);
    size_t h = (size_t)fnv_ci(fnv_ci(fnv_ci_n(FNV_BASIS, key, base_len_n(key, ulen)), "@"), at + 1);
    for (ipm_user *u = *key_slot(t, h); u; u = u->next_key)
        if (same_person(u, key, ulen, at + 1))
            return u;
    return NULL;
}

ipm_user *ipm_users_find_addr(const ipm_users *t, ipm_addr addr)
{
    for (size_t i = 0; i < t->n; i++)
        if (ipm_addr_eq(t->v[i]->addr, addr))
            return t->v[i];
    return NULL;
}

/*
 * The entry with this UUID other than except; of several (a known host that
 * took another's UUID), the first to arrive, or the last when last is set,
 * as the linear scans of the arrival order did.
 */
static ipm_user *find_uuid(const ipm_users *t, const char *uuid, const ipm_user *except, bool last)
{
    if (!uuid || !*uuid || !t->nbuckets)
        return NULL;
    ipm_user *best = NULL;
    for (ipm_user *u = *uuid_slot(t, uuid); u; u = u->next_uuid)
        if (u != except && strcmp(u->uuid, uuid) == 0 &&
            (!best || (last ? u->seq > best->seq : u->seq < best->seq)))
            best = u;
    return best;
}

ipm_user *ipm_users_find_uuid(const ipm_users *t, const char *uuid)
{
    return find_uuid(t, uuid, NULL, false);
}

void ipm_users_remove(ipm_users *t, ipm_user *u)
{
    for (size_t i = 0; u && i < t->n; i++) {
        if (t->v[i] == u) {
            memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
            t->n--;
            unlink_key(t, u);
            unlink_uuid(t, u);
            user_free(u);
            return;
        }
    }
}

/* Replaces *dst by a copy of src (NULL -> ""); 1 when the text changed, -1 on OOM. */
static int set_str(char **dst, const char *src)
{
    if (!src)
        src = "";
    if (*dst && strcmp(*dst, src) == 0)
        return 0;
    char *c = strdup(src);
    if (!c)
        return -1;
    free(*dst);
    *dst = c;
    return 1;
}

static ipm_user *user_new(const ipm_user_info *in)
{
    ipm_user *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->user = strdup(in->user);
    u->host = strdup(in->host);
    u->key = ipm_key_make(in->user, in->host);
    if (!u->user || !u->host || !u->key) {
        user_free(u);
        return NULL;
    }
    return u;
}

/* Copies what the entry says into u; returns whether something visible changed. */
static int apply(ipm_users *t, ipm_user *u, const ipm_user_info *in)
{
    int nick = set_str(&u->nickname, in->nickname);
    int group = set_str(&u->group, in->group);
    int version = in->version ? set_str(&u->version, in->version) : 0;
    /* The same key under another fingerprint field (a new key pair): the
     * name on the wire follows; the key and its hash do not change. */
    int name = set_str(&u->user, in->user);
    if (nick < 0 || group < 0 || version < 0 || name < 0)
        return -1;
    int changed = nick | group | name;
    if (!ipm_addr_eq(u->addr, in->addr) || u->presence != in->presence)
        changed = 1;
    bool utf8 = (in->status & IPMSG_CAPUTF8OPT) != 0 || in->iptux;
    if (utf8 != u->utf8)
        changed = 1;
    u->addr = in->addr;
    u->presence = in->presence;
    u->status = in->status;
    u->utf8 = utf8;
    u->iptux = in->iptux;
    if (in->presence != IPM_ABSENT) {
        free(u->absence_text);
        u->absence_text = NULL;
    }
    if (in->uuid && *in->uuid && strcmp(u->uuid, in->uuid) != 0) {
        unlink_uuid(t, u);
        snprintf(u->uuid, sizeof(u->uuid), "%s", in->uuid);
        link_uuid(t, u);
        changed = 1;
    }
    return changed;
}

/* Appends u (its uuid still empty) and indexes its key. */
static int push(ipm_users *t, ipm_user *u)
{
    if (ensure_buckets(t, t->n + 1) != 0)
        return -1;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        ipm_user **v = realloc(t->v, cap * sizeof(*v));
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = u;
    u->seq = t->next_seq++;
    link_key(t, u);
    return 0;
}

ipm_upsert ipm_users_upsert(ipm_users *t, const ipm_user_info *in, int64_t now, ipm_user **out,
                            char **moved_from)
{
    if (out)
        *out = NULL;
    if (moved_from)
        *moved_from = NULL;
    if (!in || !in->user || !in->host || !*in->user || !*in->host)
        return IPM_UPSERT_ERROR;

    ipm_user *u = ipm_users_find(t, in->user, in->host);
    if (u) {
        int changed = apply(t, u, in);
        if (changed < 0)
            return IPM_UPSERT_ERROR;
        u->last_seen = now;
        if (out)
            *out = u;
        return changed ? IPM_UPSERT_CHANGED : IPM_UPSERT_SAME;
    }

    /* Pushed before apply: apply indexes the UUID of an entry in the table. */
    u = user_new(in);
    if (!u || push(t, u) != 0) {
        user_free(u);
        return IPM_UPSERT_ERROR;
    }
    if (apply(t, u, in) < 0) {
        ipm_users_remove(t, u);
        return IPM_UPSERT_ERROR;
    }
    u->first_seen = u->last_seen = now;
    if (out)
        *out = u;

    /* The same identity under another key: the person moved to this PC. */
    ipm_user *old = find_uuid(t, in->uuid, u, true);
    if (!old)
        return IPM_UPSERT_NEW;
    u->first_seen = old->first_seen;
    if (moved_from)
        *moved_from = strdup(old->key);
    ipm_users_remove(t, old);
    return IPM_UPSERT_MOVED;
}

static int cmp_text(const char *a, const char *b)
{
    return strcasecmp(a ? a : "", b ? b : "");
}

static int cmp_display(const void *pa, const void *pb)
{
    const ipm_user *a = *(ipm_user *const *)pa, *b = *(ipm_user *const *)pb;
    int c;
    if ((c = cmp_text(a->group, b->group)) != 0)
        return c;
    if ((c = cmp_text(a->nickname, b->nickname)) != 0)
        return c;
    if (a->addr.ip != b->addr.ip)
        return a->addr.ip < b->addr.ip ? -1 : 1;
    if (a->addr.port != b->addr.port)
        return a->addr.port < b->addr.port ? -1 : 1;
    return cmp_text(a->key, b->key);
}

ipm_user **ipm_users_sorted(const ipm_users *t)
{
    if (t->n == 0)
        return NULL;
    ipm_user **v = malloc(t->n * sizeof(*v));
    if (!v)
        return NULL;
    memcpy(v, t->v, t->n * sizeof(*v));
    qsort(v, t->n, sizeof(*v), cmp_display);
    return v;
}

json_t *ipm_user_json(const ipm_user *u)
{
    char addr[IPM_ADDR_TEXT];
    /* "user" is the key's part (key == user@host for every consumer); the
     * name as sent, with its fingerprint field, is "wire_user" (§6.4). */
    size_t base = ipm_user_base_len(u->user);
    json_t *o =
        json_pack("{s:s, s:s%, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I}", "key", u->key, "user",
                  u->user, base, "host", u->host, "nickname", u->nickname ? u->nickname : "",
                  "group", u->group ? u->group : "", "address", ipm_addr_format(u->addr, addr),
                  "status", ipm_presence_name(u->presence), "utf8", u->utf8, "first_seen",
                  (json_int_t)u->first_seen, "last_seen", (json_int_t)u->last_seen);
    if (!o)
        return NULL;
    if (base != strlen(u->user))
        json_object_set_new(o, "wire_user", json_string(u->user));
    if (u->uuid[0])
        json_object_set_new(o, "uuid", json_string(u->uuid));
    if (u->version)
        json_object_set_new(o, "version", json_string(u->version));
    if (u->absence_text)
        json_object_set_new(o, "absence", json_string(u->absence_text));
    /* The entry's option bits as sent: plugins read capabilities from them
     * (CAPFILEENCOPT for the encrypted file transfer, §6.6). */
    json_object_set_new(o, "entry_status", json_integer((json_int_t)u->status));
    return o;
}
