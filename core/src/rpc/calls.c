/*
 * The call-handle table (see calls.h): open addressing with linear probing and
 * backward-shift deletion, keyed by id. Calls are answered on the loop thread,
 * but several registries (several loops, e.g. in tests) may share the table,
 * so a mutex guards it. Callbacks never run under the lock.
 */
#include "rpc/calls.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct slot {
    uint64_t id; /* 0 = empty */
    dg_rpc_call_rec *rec;
} slot;

static pthread_mutex_t calls_lock = PTHREAD_MUTEX_INITIALIZER;
static slot *slots;
static size_t slot_cap; /* power of two, or 0 */
static size_t slot_used;
static uint64_t next_id = 1;

static size_t hash_id(uint64_t x)
{
    /* splitmix64 finalizer: ids are sequential, spread them over the table. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (size_t)x;
}

static slot *find_slot(uint64_t id)
{
    if (slot_cap == 0)
        return NULL;
    for (size_t i = hash_id(id) & (slot_cap - 1);; i = (i + 1) & (slot_cap - 1)) {
        if (slots[i].id == id)
            return &slots[i];
        if (slots[i].id == 0)
            return NULL;
    }
}

static void insert_slot(slot *table, size_t cap, uint64_t id, dg_rpc_call_rec *rec)
{
    size_t i = hash_id(id) & (cap - 1);
    while (table[i].id != 0)
        i = (i + 1) & (cap - 1);
    table[i].id = id;
    table[i].rec = rec;
}

static int grow(void)
{
    size_t cap = slot_cap ? slot_cap * 2 : 64;
    slot *table = calloc(cap, sizeof *table);
    if (!table)
        return -1;
    for (size_t i = 0; i < slot_cap; i++)
        if (slots[i].id != 0)
            insert_slot(table, cap, slots[i].id, slots[i].rec);
    free(slots);
    slots = table;
    slot_cap = cap;
    return 0;
}

static uint64_t fresh_id(void)
{
    /* uintptr_t may be 32 bits: ids then wrap, so skip 0 and any id still pending. */
    for (;;) {
        uint64_t id = (uint64_t)(uintptr_t)next_id++;
        if (id != 0 && !find_slot(id))
            return id;
    }
}

int dg_rpc_calls_add(dg_rpc_call_rec *rec, uint64_t *id)
{
    pthread_mutex_lock(&calls_lock);
    int rc = 0;
    /* Keep the load at most 1/2 so probe sequences stay short. */
    if ((slot_used + 1) * 2 > slot_cap && grow() != 0) {
        rc = -1;
    } else {
        *id = fresh_id();
        insert_slot(slots, slot_cap, *id, rec);
        slot_used++;
    }
    pthread_mutex_unlock(&calls_lock);
    return rc;
}

dg_rpc_call_rec *dg_rpc_calls_get(uint64_t id)
{
    pthread_mutex_lock(&calls_lock);
    slot *s = id ? find_slot(id) : NULL;
    dg_rpc_call_rec *rec = s ? s->rec : NULL;
    pthread_mutex_unlock(&calls_lock);
    return rec;
}

dg_rpc_call_rec *dg_rpc_calls_take(uint64_t id)
{
    pthread_mutex_lock(&calls_lock);
    slot *s = id ? find_slot(id) : NULL;
    dg_rpc_call_rec *rec = NULL;
    if (s) {
        rec = s->rec;
        /* Backward-shift deletion: no tombstones, so lookups stay exact. */
        size_t hole = (size_t)(s - slots);
        size_t mask = slot_cap - 1;
        for (size_t j = (hole + 1) & mask; slots[j].id != 0; j = (j + 1) & mask) {
            size_t home = hash_id(slots[j].id) & mask;
            /* Move j into the hole unless its home lies cyclically in (hole, j]. */
            int stays = (hole <= j) ? (hole < home && home <= j) : (hole < home || home <= j);
            if (!stays) {
                slots[hole] = slots[j];
                hole = j;
            }
        }
        slots[hole].id = 0;
        slots[hole].rec = NULL;
        slot_used--;
    }
    pthread_mutex_unlock(&calls_lock);
    return rec;
}
