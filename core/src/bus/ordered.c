/*
 * Ordered publishing (dg_bus_publish_ordered): events that must never be
 * lost, from publishers that cannot wait.
 *
 * Each publisher (owner) has a lane: a FIFO of its ordered events that could
 * not be queued yet, because a matching subscriber queue of a BLOCK topic was
 * full or an earlier event of the lane still waited. The interceptors run
 * when the event is published (so a veto is reported to the caller and runs
 * once), the lane keeps the result, and the dispatcher fans the head of every
 * lane out as soon as it fits: after each round of deliveries, or when a
 * subscriber went away.
 *
 * No timer and no polling: a lane head waits only for a full queue, and the
 * events in a full queue keep the bus armed until they are delivered, after
 * which the lanes are tried again.
 *
 * Lanes are kept for their owner once made (one small record per publisher)
 * and freed by dg_bus_remove_owner. While the lanes are walked (lane_walk >
 * 0: a drain, or an ordered publish running interceptors) a removed lane is
 * only marked, emptied and freed afterwards, since an interceptor or an
 * overflow report may remove an owner at any time.
 */
#include "bus/bus_internal.h"
#include <stdlib.h>

typedef struct dgb_waiting dgb_waiting;

/* One event in a lane: already intercepted, waiting to be queued. */
struct dgb_waiting {
    dgb_waiting *next;
    dgb_topic *topic; /* holds a topic reference: it may be undeclared meanwhile */
    json_t *payload;
};

struct dgb_lane {
    dgb_lane *next;
    dg_ctx *owner;
    dgb_waiting *head, *tail;
    size_t n;
    uint8_t removed; /* its owner was removed: empty, freed by lanes_reap */
};

/* ---- lanes ---- */

static dgb_lane *lane_get(dg_bus *bus, dg_ctx *owner)
{
    for (dgb_lane *l = bus->lanes; l != NULL; l = l->next) {
        if (l->owner == owner && !l->removed)
            return l;
    }
    dgb_lane *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->owner = owner;
    /* At the head: a walk in progress never sees it, and never loses its place. */
    l->next = bus->lanes;
    bus->lanes = l;
    return l;
}

static int lane_append(dg_bus *bus, dgb_lane *l, dgb_topic *t, json_t *payload)
{
    dgb_waiting *w = malloc(sizeof(*w));
    if (w == NULL) {
        json_decref(payload);
        return DG_ENOMEM;
    }
    w->next = NULL;
    w->topic = t;
    t->refs++;
    w->payload = payload;
    if (l->tail != NULL)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
    l->n++;
    bus->n_waiting++;
    t->deferred++;
    /* Normally armed already (a full queue holds events); cheap if so. */
    dgb_arm(bus);
    return DG_OK;
}

static dgb_waiting *lane_pop(dg_bus *bus, dgb_lane *l)
{
    dgb_waiting *w = l->head;
    l->head = w->next;
    if (l->head == NULL)
        l->tail = NULL;
    l->n--;
    bus->n_waiting--;
    return w;
}

/* Drops every event of l (they will not be published); returns how many. */
static size_t lane_clear(dg_bus *bus, dgb_lane *l)
{
    size_t n = 0;
    for (; l->head != NULL; n++) {
        dgb_waiting *w = lane_pop(bus, l);
        json_decref(w->payload);
        dgb_topic_unref(bus, w->topic);
        free(w);
    }
    return n;
}

/* Frees removed lanes once nothing walks them. */
static void lanes_reap(dg_bus *bus)
{
    if (bus->lane_walk > 0)
        return;
    dgb_lane **pp = &bus->lanes;
    while (*pp != NULL) {
        dgb_lane *l = *pp;
        if (l->removed) {
            *pp = l->next;
            free(l);
        } else {
            pp = &l->next;
        }
    }
}

/* Can an event of t be queued now? Only BLOCK topics wait for room. */
static int fits(dg_bus *bus, dgb_topic *t)
{
    return t->overflow != DG_OVERFLOW_BLOCK || dgb_has_room(bus, t);
}

/* ---- publishing ---- */

/* After the interceptors: queue payload now, keep it in the lane, or drop it. */
static int place(dg_bus *bus, dgb_lane *l, dgb_topic *t, json_t *payload)
{
    int behind = !l->removed && l->head != NULL;
    if (!behind && fits(bus, t))
        return dgb_fan_out(bus, t, payload);
    if (!l->removed)
        return lane_append(bus, l, t, payload);
    /* The owner was removed by an interceptor of its own event: nothing is kept. */
    json_decref(payload);
    bus->waiting_dropped++;
    return DG_EAGAIN;
}

int dgb_ordered_now(dg_bus *bus, dg_ctx *owner, const char *topic, json_t *payload, int handoff)
{
    if (payload == NULL && (payload = json_object()) == NULL)
        return DG_ENOMEM;
    dgb_topic *t = dgb_topic_find(bus, topic);
    dgb_lane *l = t != NULL ? lane_get(bus, owner) : NULL;
    if (l == NULL) {
        json_decref(payload);
        return t == NULL ? DG_ENOENT : DG_ENOMEM;
    }
    /* Refused before the interceptors, so that a retried handoff runs them once. */
    if (l->n >= bus->waiting_limit) {
        if (!handoff) {
            t->rejected++;
            bus->rejected++;
        }
        json_decref(payload);
        return DG_EAGAIN;
    }
    t->refs++;        /* an interceptor may undeclare it */
    bus->lane_walk++; /* or remove the owner: l stays valid, marked */
    int rc = dgb_intercept(bus, t, &payload);
    if (rc == DG_OK)
        rc = place(bus, l, t, payload);
    bus->lane_walk--;
    dgb_topic_unref(bus, t);
    lanes_reap(bus);
    return rc;
}

void dgb_lanes_drain(dg_bus *bus)
{
    if (bus->n_waiting == 0 || bus->lanes_draining)
        return;
    bus->lanes_draining = 1;
    bus->lane_walk++;
    for (dgb_lane *l = bus->lanes; l != NULL; l = l->next) {
        /* A fan-out may report drops, whose interceptors may remove this owner. */
        while (!l->removed && l->head != NULL && fits(bus, l->head->topic)) {
            dgb_waiting *w = lane_pop(bus, l);
            dgb_topic *t = w->topic;
            if (dgb_fan_out(bus, t, w->payload) != DG_OK)
                bus->waiting_dropped++; /* out of memory; the payload is gone */
            dgb_topic_unref(bus, t);
            free(w);
        }
    }
    bus->lane_walk--;
    bus->lanes_draining = 0;
    lanes_reap(bus);
}

size_t dgb_lanes_remove_owner(dg_bus *bus, dg_ctx *owner)
{
    size_t n = 0;
    for (dgb_lane *l = bus->lanes; l != NULL; l = l->next) {
        if (l->owner == owner && !l->removed) {
            n += lane_clear(bus, l);
            l->removed = 1;
        }
    }
    bus->waiting_dropped += n;
    lanes_reap(bus);
    return n;
}

void dgb_lanes_free(dg_bus *bus)
{
    while (bus->lanes != NULL) {
        dgb_lane *l = bus->lanes;
        bus->lanes = l->next;
        lane_clear(bus, l);
        free(l);
    }
}
