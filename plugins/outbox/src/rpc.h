/* RPC methods of the offline queue (queue.send, queue.list, queue.discard). */
#ifndef DG_OUTBOX_RPC_H
#define DG_OUTBOX_RPC_H

#include "state.h"

int outbox_rpc_register(outbox_state *st);

#endif
