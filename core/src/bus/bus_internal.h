/*
 * Internal structures of the event bus, shared by its source files only.
 * See the design note at the top of bus.c.
 */
#ifndef DG_BUS_INTERNAL_H
#define DG_BUS_INTERNAL_H

#include "bus/bus.h"
#include <stdint.h>

typedef struct dgb_topic dgb_topic;
typedef struct dgb_event dgb_event;
typedef struct dgb_handoff dgb_handoff;
typedef struct dgb_lane dgb_lane;

/*
 * One published event. Allocated once per publish and shared by every
 * subscriber queue that holds it: refs counts those queue slots plus a pin
 * while the bus itself works on it. It sits in the bus's global FIFO (publish
 * order) until refs drops to zero.
 */
struct dgb_event {
    dgb_event *prev, *next;
    dgb_topic *topic; /* holds one topic reference */
    json_t *payload;  /* the bus's single reference */
    uint64_t seq;
    uint32_t refs;
};

/*
 * A subscriber queue: a power-of-two ring of event pointers. Removing an
 * event from the middle (coalesce, or eviction that skips BLOCK events)
 * leaves a NULL tombstone; tombstones at either end are trimmed at once and
 * the rest are squeezed out when the ring is full. The ring may grow to
 * max_slots (>= 2 * capacity) so that squeezing happens at most once per
 * capacity removals.
 */
typedef struct dgb_ring {
    dgb_event **slot;
    size_t size; /* allocated slots (0 or a power of two) */
    size_t head; /* index of the first used slot */
    size_t len;  /* used slots, tombstones included */
    size_t live; /* non-tombstone slots: the queue depth */
} dgb_ring;

enum { DGB_SUBSCRIBER = 0, DGB_INTERCEPTOR = 1 };

/* A subscription or an interceptor (the public dg_sub). */
struct dg_sub {
    dg_sub *next; /* in bus->subs or bus->icpts, priority desc then order */
    dg_ctx *owner;
    char *pattern;
    int priority;
    uint8_t kind;
    uint8_t dead; /* unsubscribed; freed by dgb_reap() when no callback runs */
    union {
        dg_event_fn event;
        dg_intercept_fn intercept;
    } fn;
    void *user;
    dg_free_fn user_free;
    /* Subscribers only. */
    dgb_ring ring;
    size_t capacity;
    size_t max_slots;
    size_t n_coalesce; /* queued events of COALESCE topics (skip the scan at 0) */
    /* Subscribers: delivered, dropped, coalesced. Interceptors: calls, vetoes. */
    uint64_t delivered, dropped, coalesced, max_depth;
};

/*
 * A declared topic. Records are reference counted: the table holds one while
 * the topic is declared, every event one, and a publish in progress one, so
 * an undeclared topic's queued events still carry their name. The policy of a
 * record never changes.
 */
struct dgb_topic {
    dgb_topic *hnext;
    uint32_t hash;
    uint32_t refs;
    dg_overflow overflow;
    dg_ctx **owners;
    size_t n_owners, cap_owners;
    /*
     * Live subscribers matching this topic, in delivery order. Valid while
     * match_gen == bus->sub_gen; rebuilt lazily, never while it is iterated
     * across a callback (see dgb_deliver).
     */
    dg_sub **match;
    size_t n_match, cap_match;
    uint64_t match_gen;
    uint64_t published, delivered, dropped, coalesced, vetoed, rejected;
    uint64_t deferred; /* ordered publishes that had to wait in their lane */
    char name[];
};

/* A cross-thread (or deferred) publish or post waiting for the loop thread. */
struct dgb_handoff {
    dgb_handoff *next;
    dg_post_fn post; /* a post when set; else a publish */
    void *user;
    json_t *payload;
    dg_ctx *owner;     /* ordered publishes: the publisher (its lane) */
    uint8_t block;     /* counted against the BLOCK inbox bound */
    uint8_t ordered;   /* from dg_bus_publish_ordered: joins owner's lane */
    uint8_t running;   /* ordered, being published now (remove_owner leaves it to the lane) */
    uint8_t cancelled; /* ordered, its owner was removed: dropped when the loop takes it */
    char topic[];
};

struct dg_bus {
    uv_loop_t *loop;
    uv_async_t *async; /* heap allocated: freed by its close callback */
    uv_thread_t loop_thread;
    size_t default_capacity;
    size_t inbox_limit;
    dg_bus_owner_name_fn namer;

    /*
     * Topic table (chained hash). Only the loop thread changes it, under
     * topics_lock; other threads take the lock to look a topic up.
     */
    uv_mutex_t topics_lock;
    dgb_topic **tbl;
    size_t tbl_size, n_topics;

    dg_sub *subs, *icpts;
    uint64_t sub_gen; /* bumped when subs gains or frees an entry */
    size_t n_dead;
    unsigned walking;    /* > 0 while any user callback may be running */
    unsigned icpt_depth; /* > 0 while an interceptor chain runs */
    uint8_t reporting;   /* publishing core.bus.overflow: do not report again */
    uint8_t armed;       /* async referenced and a wake-up pending */
    uint8_t draining;
    uint8_t kick; /* a subscriber went away while events wait for room: retry them */

    dgb_event *fifo_head, *fifo_tail;
    size_t fifo_len;
    uint64_t next_seq;
    dgb_event *spare; /* recycled events, so steady-state publish does not malloc */
    size_t n_spare;

    uv_mutex_t inbox_lock;
    dgb_handoff *in_head, *in_tail;       /* under inbox_lock */
    size_t in_block, in_other;            /* waiting handoffs, local list included */
    uint64_t in_dropped;                  /* under inbox_lock */
    uint64_t in_failed;                   /* loop thread */
    dgb_handoff *local_head, *local_tail; /* taken from the inbox, not yet done */

    /* Ordered publishes waiting for room (ordered.c), one lane per publisher. */
    dgb_lane *lanes;
    size_t n_waiting;     /* events in all lanes */
    size_t waiting_limit; /* per lane */
    unsigned lane_walk;   /* > 0: lanes are not freed (remove_owner only marks them) */
    uint8_t lanes_draining;
    uint64_t waiting_dropped;

    uint64_t published, delivered, vetoed, rejected, dropped, coalesced, icpt_errors;
};

/* bus.c */
int dgb_on_loop_thread(const dg_bus *bus);
dgb_topic *dgb_topic_find(dg_bus *bus, const char *name);
int dgb_topic_lookup_policy(dg_bus *bus, const char *name, dg_overflow *overflow);
void dgb_topic_unref(dg_bus *bus, dgb_topic *t);
int dgb_topic_matches(dg_bus *bus, dgb_topic *t);
const char *dgb_owner_name(const dg_bus *bus, dg_ctx *owner);
void dgb_reap(dg_bus *bus);

/* publish.c */
int dgb_publish_now(dg_bus *bus, const char *topic, json_t *payload, int retry);
/* ordered: from dg_bus_publish_ordered, for owner's lane (bounded like BLOCK, never dropped). */
int dgb_handoff_publish(dg_bus *bus, const char *topic, json_t *payload, int ordered,
                        dg_ctx *owner);
/* Runs t's interceptors on *payload; a veto is counted and frees *payload. DG_OK or DG_STOP. */
int dgb_intercept(dg_bus *bus, dgb_topic *t, json_t **payload);
/* BLOCK: does every live matching queue have room? */
int dgb_has_room(dg_bus *bus, dgb_topic *t);
/* Queues payload (stolen) to every matching subscriber; DG_OK or DG_ENOMEM. */
int dgb_fan_out(dg_bus *bus, dgb_topic *t, json_t *payload);
void dgb_event_unref(dg_bus *bus, dgb_event *ev);
void dgb_sub_clear_queue(dg_bus *bus, dg_sub *s);

/* dispatch.c */
void dgb_arm(dg_bus *bus);
void dgb_async_cb(uv_async_t *handle);
void dgb_inbox_discard(dg_bus *bus);
/* Cancels owner's ordered handoffs not yet taken; returns how many. */
size_t dgb_inbox_cancel_owner(dg_bus *bus, dg_ctx *owner);

/* ordered.c */
/* dg_bus_publish_ordered on the loop thread outside interceptors; handoff: a retried handoff. */
int dgb_ordered_now(dg_bus *bus, dg_ctx *owner, const char *topic, json_t *payload, int handoff);
/* Queues the head events of every lane that fit now (after deliveries). */
void dgb_lanes_drain(dg_bus *bus);
/* Drops owner's waiting events (counted in waiting_dropped); returns how many. */
size_t dgb_lanes_remove_owner(dg_bus *bus, dg_ctx *owner);
void dgb_lanes_free(dg_bus *bus);

/* queue.c */
int dgb_ring_push(dgb_ring *r, dgb_event *ev, size_t max_slots);
dgb_event *dgb_ring_front(dgb_ring *r);
void dgb_ring_pop(dgb_ring *r);
dgb_event *dgb_ring_at(const dgb_ring *r, size_t i);
dgb_event *dgb_ring_take(dgb_ring *r, size_t i);
void dgb_ring_free(dgb_ring *r);

#endif
