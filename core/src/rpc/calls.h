/*
 * Call handles. A dg_rpc_call * given to a handler is not a pointer to memory
 * but a never-reused 64-bit id looked up in this process-wide table. That is
 * what lets rpc_reply/rpc_fail detect a second answer (or an answer after the
 * call was failed because its plugin stopped) and ignore it safely instead of
 * touching freed memory: the id is simply no longer in the table.
 */
#ifndef DG_RPC_CALLS_H
#define DG_RPC_CALLS_H

#include <dengon/plugin.h>
#include <stdint.h>

typedef struct dg_rpc_call_rec dg_rpc_call_rec;

/* Assigns rec a fresh id and stores it. 0, or -1 when out of memory. */
int dg_rpc_calls_add(dg_rpc_call_rec *rec, uint64_t *id);
/* The record for id, or NULL when it was answered/dropped. */
dg_rpc_call_rec *dg_rpc_calls_get(uint64_t id);
/* Removes and returns the record for id, or NULL. */
dg_rpc_call_rec *dg_rpc_calls_take(uint64_t id);

static inline dg_rpc_call *dg_rpc_call_from_id(uint64_t id)
{
    return (dg_rpc_call *)(uintptr_t)id;
}

static inline uint64_t dg_rpc_call_id(const dg_rpc_call *call)
{
    return (uint64_t)(uintptr_t)call;
}

#endif
