#include "dedup.h"

#include <stdlib.h>
#include <string.h>

int ipm_dedup_init(ipm_dedup *d, size_t cap)
{
    d->cap = cap ? cap : 256;
    d->next = 0;
    d->slots = calloc(d->cap, sizeof(*d->slots));
    return d->slots ? 0 : -1;
}

void ipm_dedup_free(ipm_dedup *d)
{
    for (size_t i = 0; d->slots && i < d->cap; i++)
        free(d->slots[i].names);
    free(d->slots);
    memset(d, 0, sizeof(*d));
}

/* FNV-1a: only to skip most memcmp calls, not for security. */
static uint32_t fnv(uint32_t h, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

bool ipm_dedup_check(ipm_dedup *d, uint32_t packet_no, const char *user, size_t user_len,
                     const char *host, size_t host_len)
{
    size_t len = user_len + 1 + host_len;
    uint32_t h = fnv(fnv(fnv(2166136261u, user, user_len), "", 1), host, host_len);
    for (size_t i = 0; i < d->cap; i++) {
        const ipm_dedup_slot *s = &d->slots[i];
        if (s->names && s->packet_no == packet_no && s->hash == h && s->len == len &&
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
    ipm_dedup_slot *s = &d->slots[d->next];
    free(s->names);
    *s = (ipm_dedup_slot){packet_no, h, names, len};
    d->next = (d->next + 1) % d->cap;
    return false;
}
