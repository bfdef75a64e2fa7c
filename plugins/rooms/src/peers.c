#include "peers.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

rooms_peer *peers_find(rooms_state *st, const char *key)
{
    for (size_t i = 0; key && i < st->n_peers; i++)
        if (strcasecmp(st->peers[i].key, key) == 0)
            return &st->peers[i];
    return NULL;
}

rooms_peer *peers_get(rooms_state *st, const char *key)
{
    rooms_peer *p = peers_find(st, key);
    if (p || !key)
        return p;
    if (st->n_peers == st->cap_peers) {
        size_t cap = st->cap_peers ? st->cap_peers * 2 : 32;
        rooms_peer *v = realloc(st->peers, cap * sizeof(*v));
        if (!v)
            return NULL;
        st->peers = v;
        st->cap_peers = cap;
    }
    p = &st->peers[st->n_peers];
    memset(p, 0, sizeof(*p));
    if (!(p->key = strdup(key)))
        return NULL;
    st->n_peers++;
    return p;
}

rooms_peer *peers_update(rooms_state *st, const json_t *presence)
{
    const char *key = json_string_value(json_object_get(presence, "key"));
    const char *status = json_string_value(json_object_get(presence, "status"));
    const char *uuid = json_string_value(json_object_get(presence, "uuid"));
    const char *moved_from = json_string_value(json_object_get(presence, "moved_from"));
    if (!key || !status)
        return NULL;
    if (moved_from) {
        /* Same person, new PC: the old key is gone (ipmsg replaced its entry). */
        rooms_peer *old = peers_find(st, moved_from);
        if (old && old != peers_find(st, key)) {
            free(old->key);
            *old = st->peers[--st->n_peers];
        }
    }
    rooms_peer *p = peers_get(st, key);
    if (!p)
        return NULL;
    p->online = strcmp(status, "offline") != 0;
    if (uuid && room_uuid_valid(uuid)) {
        memcpy(p->uuid, uuid, ROOM_UUID_LEN + 1);
        for (char *c = p->uuid; *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c - 'A' + 'a');
    }
    return p;
}

void peers_free(rooms_state *st)
{
    for (size_t i = 0; i < st->n_peers; i++)
        free(st->peers[i].key);
    free(st->peers);
    st->peers = NULL;
    st->n_peers = st->cap_peers = 0;
}
