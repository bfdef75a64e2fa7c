/*
 * Who is on the LAN, as far as rooms care: the chat transport offers no list
 * of users, so the plugin keeps its own from presence.changed events (key,
 * identity UUID, online or not).
 */
#ifndef DG_ROOMS_PEERS_H
#define DG_ROOMS_PEERS_H

#include <jansson.h>

#include "state.h"

/* The peer with this key (case-insensitive), or NULL. */
rooms_peer *peers_find(rooms_state *st, const char *key);
/* The peer with this key, added (offline, no UUID) when unknown; NULL when out of memory. */
rooms_peer *peers_get(rooms_state *st, const char *key);
/* Applies a presence.changed payload; returns the peer (NULL if ignored). */
rooms_peer *peers_update(rooms_state *st, const json_t *presence);
void peers_free(rooms_state *st);

#endif
