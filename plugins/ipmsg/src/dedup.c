#include "dedup.h"

#include <stdlib.h>
#include <string.h>

/* Upper bound of ipm_dedup_reserve, so a wrong caller cannot ask for gigabytes. */
#define DEDUP_MAX_SLOTS ((size_t)IPM_DEDUP_BURST_SLOTS * 16)

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

/* Empty ring of cap slots with its index; 0 or -1. */
static int alloc_ring(ipm_dedup *d, size_t cap)
{
    memset(d, 0, sizeof(*d));
    d->cap = cap;
    d->nbuckets = pow2_at_least(cap);
    d->slots = calloc(cap, sizeof(*d->slots));
    d->bucket = calloc(d->nbuckets, sizeof(*d->bucket));
    if (!d->slots || !d->bucket) {
        free(d->slots);
        free(d->bucket);
        memset(d, 0, sizeof(*d));
        return -1;
    }
    return 0;
}

int ipm_dedup_init(ipm_dedup *d, size_t cap)
{
    return alloc_ring(d, cap ? cap : 256);
}

void ipm_dedup_free(ipm_dedup *d)
{
    for (size_t i = 0; d->slots && i < d->cap; i++)
        free(d->slots[i].names);
    free(d->slots);
    free(d->bucket);
    memset(d, 0, sizeof(*d));
}

/* FNV-1a: only to skip most memcmp calls and spread buckets, not for security. */
static uint32_t fnv(uint32_t h, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static uint32_t *bucket_of(ipm_dedup *d, uint32_t hash)
{
    /* FNV's multiply carries bits upwards only: fold the high half into the index. */
    return &d->bucket[(hash ^ (hash >> 16)) & (d->nbuckets - 1)];
}

/* Removes slot i (which holds a triple) from its bucket's chain. */
static void unlink_slot(ipm_dedup *d, size_t i)
{
    uint32_t *link = bucket_of(d, d->slots[i].hash);
    while (*link && *link != i + 1)
        link = &d->slots[*link - 1].chain;
    if (*link)
        *link = d->slots[i].chain;
}

/* Puts a triple (names owned by the ring from now on) in the next slot, evicting the oldest. */
static void store(ipm_dedup *d, uint32_t packet_no, uint32_t hash, char *names, size_t len)
{
    size_t i = d->next;
    ipm_dedup_slot *s = &d->slots[i];
    if (s->names) {
        unlink_slot(d, i);
        free(s->names);
    }
    uint32_t *head = bucket_of(d, hash);
    *s = (ipm_dedup_slot){packet_no, hash, *head, names, len};
    *head = (uint32_t)(i + 1);
    d->next = (d->next + 1) % d->cap;
}

int ipm_dedup_reserve(ipm_dedup *d, size_t cap)
{
    if (cap > DEDUP_MAX_SLOTS)
        cap = DEDUP_MAX_SLOTS;
    if (cap <= d->cap)
        return 0;
    ipm_dedup bigger;
    if (alloc_ring(&bigger, cap) != 0)
        return -1;
    /* Oldest first, so the grown ring forgets them in the same order. */
    for (size_t k = 0; k < d->cap; k++) {
        ipm_dedup_slot *s = &d->slots[(d->next + k) % d->cap];
        if (s->names)
            store(&bigger, s->packet_no, s->hash, s->names, s->len);
        s->names = NULL;
    }
    ipm_dedup_free(d);
    *d = bigger;
    return 0;
}

bool ipm_dedup_check(ipm_dedup *d, uint32_t packet_no, const char *user, size_t user_len,
                     const char *host, size_t host_len)
{
    size_t len = user_len + 1 + host_len;
    uint32_t h = fnv(fnv(fnv(2166136261u, user, user_len), "", 1), host, host_len);
    h = (h ^ packet_no) * 16777619u;
    for (uint32_t j = *bucket_of(d, h); j; j = d->slots[j - 1].chain) {
        const ipm_dedup_slot *s = &d->slots[j - 1];
        if (s->packet_no == packet_no && s->hash == h && s->len == len &&
            memcmp(s->names, user, user_len) == 0 && s->names[user_len] == '\0' &&
            memcmp(s->names + user_len + 1, host, host_len) == 0)
            return true;
    }
    char *names = malloc(len);
    if (!names)
        return false;
    memcpy(names, user, user_len);
    names[user_len] = '\0';
    memcpy(names + user_len + 1, host, host_len);
    store(d, packet_no, h, names, len);
    return false;
}
