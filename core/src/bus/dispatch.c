/*
 * Delivery on the loop thread: the async wake-up, the dispatch loop, the
 * inbox of cross-thread handoffs, and flush.
 */
#include "bus/bus_internal.h"
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

/* Events delivered per wake-up before yielding to the rest of the loop. */
#define DGB_BATCH 512

void dgb_arm(dg_bus *bus)
{
    if (bus->armed || bus->async == NULL)
        return;
    bus->armed = 1;
    uv_ref((uv_handle_t *)bus->async);
    uv_async_send(bus->async);
}

/* Nothing pending: drop the reference so an idle bus does not keep the loop alive. */
static void disarm(dg_bus *bus)
{
    bus->armed = 0;
    if (bus->async != NULL)
        uv_unref((uv_handle_t *)bus->async);
}

/* ---- delivery ---- */

static size_t deliver_to(dg_bus *bus, dg_sub *s, dgb_event *ev)
{
    if (s->dead || dgb_ring_front(&s->ring) != ev)
        return 0;
    dgb_ring_pop(&s->ring);
    if (ev->topic->overflow == DG_OVERFLOW_COALESCE)
        s->n_coalesce--;
    dgb_event_unref(bus, ev); /* never the last reference: deliver_event pins it */
    s->delivered++;
    ev->topic->delivered++;
    bus->delivered++;
    s->fn.event(s->owner, ev->topic->name, ev->payload, s->user);
    return 1;
}

/*
 * Offers the FIFO head to its subscribers in priority order. The topic's
 * match cache is walked by index only while no subscription was added or
 * freed (a callback may do either, and a rebuild reallocates the cache);
 * after that the full list is walked. Subscribers already served no longer
 * have ev at their front, so restarting cannot deliver twice.
 */
static size_t deliver_event(dg_bus *bus, dgb_event *ev)
{
    dgb_topic *t = ev->topic;
    size_t n = 0;
    ev->refs++;
    int cached = dgb_topic_matches(bus, t) == DG_OK;
    uint64_t gen = bus->sub_gen;
    for (size_t i = 0; cached && i < t->n_match; i++) {
        n += deliver_to(bus, t->match[i], ev);
        cached = bus->sub_gen == gen;
    }
    if (!cached) {
        for (dg_sub *s = bus->subs; s != NULL; s = s->next)
            n += deliver_to(bus, s, ev);
    }
    /* Every queue holding ev had it at its front (see the design note). */
    assert(ev->refs == 1);
    dgb_event_unref(bus, ev);
    return n;
}

static size_t deliver(dg_bus *bus, size_t max_events, size_t *events)
{
    size_t n = 0;
    *events = 0;
    bus->walking++;
    while (bus->fifo_head != NULL && *events < max_events) {
        n += deliver_event(bus, bus->fifo_head);
        (*events)++;
    }
    bus->walking--;
    dgb_reap(bus);
    return n;
}

/* ---- inbox ---- */

/* Moves the shared inbox to the end of the loop-owned list, keeping order. */
static void take_inbox(dg_bus *bus)
{
    uv_mutex_lock(&bus->inbox_lock);
    dgb_handoff *head = bus->in_head;
    dgb_handoff *tail = bus->in_tail;
    bus->in_head = bus->in_tail = NULL;
    uv_mutex_unlock(&bus->inbox_lock);
    if (head == NULL)
        return;
    if (bus->local_tail != NULL)
        bus->local_tail->next = head;
    else
        bus->local_head = head;
    bus->local_tail = tail;
}

static void handoff_done(dg_bus *bus, dgb_handoff *h)
{
    bus->local_head = h->next;
    if (bus->local_head == NULL)
        bus->local_tail = NULL;
    if (h->post == NULL) {
        uv_mutex_lock(&bus->inbox_lock);
        if (h->block)
            bus->in_block--;
        else
            bus->in_other--;
        uv_mutex_unlock(&bus->inbox_lock);
    }
    json_decref(h->payload);
    free(h);
}

/*
 * Runs one handoff; returns 0 when it must wait (BLOCK topic, a queue is
 * full; ordered, its publisher's lane is at its bound).
 */
static int run_handoff(dg_bus *bus, dgb_handoff *h)
{
    if (h->post != NULL) {
        bus->walking++;
        h->post(h->user);
        bus->walking--;
        return 1;
    }
    if (h->cancelled)
        return 1; /* counted when its owner was removed */
    /* Our reference survives DG_EAGAIN, so the handoff can be retried. */
    int rc;
    if (h->ordered) {
        h->running = 1;
        rc = dgb_ordered_now(bus, h->owner, h->topic, json_incref(h->payload), 1);
        h->running = 0;
    } else {
        rc = dgb_publish_now(bus, h->topic, json_incref(h->payload), 1);
    }
    if (rc == DG_EAGAIN)
        return h->cancelled; /* an ordered one whose owner went meanwhile is done */
    if (rc < 0)
        bus->in_failed++;
    return 1;
}

static void drain_inbox(dg_bus *bus)
{
    if (bus->draining)
        return;
    bus->draining = 1;
    take_inbox(bus);
    while (bus->local_head != NULL && run_handoff(bus, bus->local_head))
        handoff_done(bus, bus->local_head);
    bus->draining = 0;
    dgb_reap(bus);
}

static int inbox_empty(dg_bus *bus)
{
    uv_mutex_lock(&bus->inbox_lock);
    int empty = bus->in_head == NULL;
    uv_mutex_unlock(&bus->inbox_lock);
    return empty;
}

static size_t cancel_owned(dgb_handoff *h, dg_ctx *owner)
{
    size_t n = 0;
    for (; h != NULL; h = h->next) {
        if (!h->ordered || h->cancelled || h->owner != owner)
            continue;
        h->cancelled = 1;
        h->owner = NULL; /* it may be freed right after */
        /* A running one is the lane's business: published if it fits, else dropped there. */
        n += !h->running;
    }
    return n;
}

size_t dgb_inbox_cancel_owner(dg_bus *bus, dg_ctx *owner)
{
    size_t n = cancel_owned(bus->local_head, owner);
    uv_mutex_lock(&bus->inbox_lock);
    n += cancel_owned(bus->in_head, owner);
    uv_mutex_unlock(&bus->inbox_lock);
    return n;
}

void dgb_inbox_discard(dg_bus *bus)
{
    take_inbox(bus);
    while (bus->local_head != NULL)
        handoff_done(bus, bus->local_head);
}

/* ---- entry points ---- */

void dgb_async_cb(uv_async_t *handle)
{
    dg_bus *bus = handle->data;
    if (bus == NULL)
        return;
    /* Delivery follows in this very callback: publishes made meanwhile need no extra wake-up. */
    bus->armed = 1;
    bus->kick = 0;
    size_t events;
    drain_inbox(bus);
    deliver(bus, DGB_BATCH, &events);
    dgb_lanes_drain(bus); /* waiting ordered events may fit now, before newer handoffs */
    drain_inbox(bus);     /* a waiting BLOCK handoff may fit now */
    /*
     * A waiting handoff or lane alone is no reason to re-arm: it waits for a
     * full queue, which means the FIFO is not empty; or a subscriber went
     * away since the drain (kick).
     */
    bus->armed = 0;
    if (bus->fifo_head != NULL || !inbox_empty(bus) || bus->kick)
        dgb_arm(bus);
    else
        disarm(bus);
}

size_t dg_bus_flush(dg_bus *bus)
{
    if (bus == NULL || bus->walking > 0 || !dgb_on_loop_thread(bus))
        return 0;
    size_t n = 0, events;
    for (;;) {
        drain_inbox(bus);
        dgb_lanes_drain(bus);
        if (bus->fifo_head == NULL)
            break;
        n += deliver(bus, SIZE_MAX, &events);
    }
    if (inbox_empty(bus))
        disarm(bus);
    return n;
}
