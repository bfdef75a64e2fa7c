/*
 * Per-subscriber ring of event pointers (see dgb_ring in bus_internal.h).
 * Push and pop are O(1); removal from the middle leaves a tombstone, so the
 * queue never shifts elements on the delivery path.
 */
#include "bus/bus_internal.h"
#include <stdlib.h>

/* First allocation: small, since most subscribers never queue much. */
#define DGB_RING_INITIAL 16

static size_t ring_pos(const dgb_ring *r, size_t i)
{
    return (r->head + i) & (r->size - 1);
}

/* Drops tombstones at both ends so that front() and the bounds stay exact. */
static void ring_trim(dgb_ring *r)
{
    while (r->len > 0 && r->slot[r->head] == NULL) {
        r->head = (r->head + 1) & (r->size - 1);
        r->len--;
    }
    while (r->len > 0 && r->slot[ring_pos(r, r->len - 1)] == NULL)
        r->len--;
}

/* Moves the live entries to the front, in order; reading never trails writing. */
static void ring_squeeze(dgb_ring *r)
{
    size_t w = 0;
    for (size_t i = 0; i < r->len; i++) {
        dgb_event *ev = r->slot[ring_pos(r, i)];
        if (ev != NULL)
            r->slot[ring_pos(r, w++)] = ev;
    }
    for (size_t i = w; i < r->len; i++)
        r->slot[ring_pos(r, i)] = NULL;
    r->len = w;
}

static int ring_grow(dgb_ring *r, size_t size)
{
    dgb_event **slot = calloc(size, sizeof(*slot));
    if (slot == NULL)
        return DG_ENOMEM;
    for (size_t i = 0; i < r->len; i++)
        slot[i] = r->slot[ring_pos(r, i)];
    free(r->slot);
    r->slot = slot;
    r->size = size;
    r->head = 0;
    return DG_OK;
}

int dgb_ring_push(dgb_ring *r, dgb_event *ev, size_t max_slots)
{
    if (r->len == r->size) {
        /* Grow while allowed; squeeze only a ring at its maximum size, which
         * then holds at least max_slots / 2 tombstones (live <= capacity). */
        if (r->size < max_slots) {
            size_t size = r->size ? r->size * 2 : DGB_RING_INITIAL;
            if (ring_grow(r, size < max_slots ? size : max_slots) != DG_OK && r->live == r->len)
                return DG_ENOMEM;
        }
        if (r->len == r->size)
            ring_squeeze(r);
        if (r->len == r->size)
            return DG_ENOMEM; /* only past max_slots live entries: never in practice */
    }
    r->slot[ring_pos(r, r->len)] = ev;
    r->len++;
    r->live++;
    return DG_OK;
}

dgb_event *dgb_ring_front(dgb_ring *r)
{
    return r->len > 0 ? r->slot[r->head] : NULL;
}

void dgb_ring_pop(dgb_ring *r)
{
    r->slot[r->head] = NULL;
    r->head = (r->head + 1) & (r->size - 1);
    r->len--;
    r->live--;
    ring_trim(r);
}

dgb_event *dgb_ring_at(const dgb_ring *r, size_t i)
{
    return r->slot[ring_pos(r, i)];
}

dgb_event *dgb_ring_take(dgb_ring *r, size_t i)
{
    size_t pos = ring_pos(r, i);
    dgb_event *ev = r->slot[pos];
    r->slot[pos] = NULL;
    r->live--;
    ring_trim(r);
    return ev;
}

void dgb_ring_free(dgb_ring *r)
{
    free(r->slot);
    *r = (dgb_ring){0};
}
