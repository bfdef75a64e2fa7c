/* RPC methods of rooms (room.create, .invite, .join, .leave, .list, .say, .log, .stats). */
#ifndef DG_ROOMS_RPC_H
#define DG_ROOMS_RPC_H

#include "state.h"

int rooms_rpc_register(rooms_state *st);
/* A pending join got an answer: finish soon, after the other answers had a moment. */
void rooms_join_settle(rooms_state *st, rooms_join *j);
/* Fails every pending join (the plugin is stopping). */
void rooms_joins_free(rooms_state *st);

#endif
