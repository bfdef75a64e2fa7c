/*
 * Publishing: name checks, interceptors, fan-out into subscriber queues with
 * the topic's overflow policy, overflow reports, and the cross-thread handoff.
 */
#include "bus/bus_internal.h"
#include <stdlib.h>
#include <string.h>

/* Recycled events kept for reuse; beyond this they go back to malloc. */
#define DGB_MAX_SPARE 1024

/* ---- events ---- */

static dgb_event *event_new(dg_bus *bus, dgb_topic *t, json_t *payload)
{
    dgb_event *ev = bus->spare;
    if (ev != NULL) {
        bus->spare = ev->next;
        bus->n_spare--;
    } else if ((ev = malloc(sizeof(*ev))) == NULL) {
        return NULL;
    }
    ev->topic = t;
    t->refs++;
    ev->payload = payload;
    ev->seq = bus->next_seq++;
    ev->refs = 1; /* the publisher's pin, dropped at the end of fan-out */
    ev->next = NULL;
    ev->prev = bus->fifo_tail;
    if (bus->fifo_tail != NULL)
        bus->fifo_tail->next = ev;
    else
        bus->fifo_head = ev;
    bus->fifo_tail = ev;
    bus->fifo_len++;
    return ev;
}

void dgb_event_unref(dg_bus *bus, dgb_event *ev)
{
    if (--ev->refs > 0)
        return;
    if (ev->prev != NULL)
        ev->prev->next = ev->next;
    else
        bus->fifo_head = ev->next;
    if (ev->next != NULL)
        ev->next->prev = ev->prev;
    else
        bus->fifo_tail = ev->prev;
    bus->fifo_len--;
    json_decref(ev->payload);
    dgb_topic_unref(bus, ev->topic);
    if (bus->n_spare < DGB_MAX_SPARE) {
        ev->next = bus->spare;
        bus->spare = ev;
        bus->n_spare++;
    } else {
        free(ev);
    }
}

/* Removes the i-th ring entry of s (a tombstone stays if it is in the middle). */
static void sub_take(dg_bus *bus, dg_sub *s, size_t i)
{
    dgb_event *ev = dgb_ring_take(&s->ring, i);
    if (ev->topic->overflow == DG_OVERFLOW_COALESCE)
        s->n_coalesce--;
    dgb_event_unref(bus, ev);
}

void dgb_sub_clear_queue(dg_bus *bus, dg_sub *s)
{
    while (s->ring.len > 0)
        sub_take(bus, s, 0);
    s->n_coalesce = 0;
}

/* ---- overflow ---- */

static void note_drop(dg_bus *bus, dg_sub *s, dgb_topic *victim, json_t **reports)
{
    s->dropped++;
    victim->dropped++;
    bus->dropped++;
    if (bus->reporting)
        return;
    json_t *r = json_pack("{s:s, s:s, s:s, s:I, s:I}", "subscriber", dgb_owner_name(bus, s->owner),
                          "pattern", s->pattern, "topic", victim->name, "dropped",
                          (json_int_t)s->dropped, "capacity", (json_int_t)s->capacity);
    if (r == NULL)
        return;
    if (*reports == NULL)
        *reports = json_array();
    if (*reports == NULL || json_array_append_new(*reports, r) != 0)
        json_decref(r);
}

/* Removes the subscriber's queued event of topic t, newest first. */
static int coalesce_older(dg_bus *bus, dg_sub *s, dgb_topic *t)
{
    for (size_t i = s->ring.len; i-- > 0;) {
        dgb_event *ev = dgb_ring_at(&s->ring, i);
        if (ev != NULL && ev->topic == t) {
            sub_take(bus, s, i);
            s->coalesced++;
            t->coalesced++;
            bus->coalesced++;
            return 1;
        }
    }
    return 0;
}

/*
 * Frees one slot of a full queue for an event of a droppable topic: evicts the
 * oldest queued event that is not of a BLOCK topic. Returns 0 when the queue
 * holds only BLOCK events: the new event is then dropped for this subscriber.
 */
static int evict_oldest(dg_bus *bus, dg_sub *s, dgb_topic *t, json_t **reports)
{
    for (size_t i = 0; i < s->ring.len; i++) {
        dgb_event *ev = dgb_ring_at(&s->ring, i);
        if (ev != NULL && ev->topic->overflow != DG_OVERFLOW_BLOCK) {
            dgb_topic *victim = ev->topic;
            victim->refs++; /* the unref below may free the event and its topic */
            sub_take(bus, s, i);
            note_drop(bus, s, victim, reports);
            dgb_topic_unref(bus, victim);
            return 1;
        }
    }
    note_drop(bus, s, t, reports);
    return 0;
}

static void enqueue(dg_bus *bus, dg_sub *s, dgb_event *ev, json_t **reports)
{
    dgb_topic *t = ev->topic;
    if (t->overflow == DG_OVERFLOW_COALESCE && s->n_coalesce > 0)
        coalesce_older(bus, s, t);
    /* A full queue and a BLOCK topic cannot meet here (room was checked with no
     * callback since); should they, exceeding the bound beats losing a message. */
    if (s->ring.live >= s->capacity && t->overflow != DG_OVERFLOW_BLOCK &&
        !evict_oldest(bus, s, t, reports))
        return;
    if (dgb_ring_push(&s->ring, ev, s->max_slots) != DG_OK) {
        note_drop(bus, s, t, reports);
        return;
    }
    ev->refs++;
    if (t->overflow == DG_OVERFLOW_COALESCE)
        s->n_coalesce++;
    if (s->ring.live > s->max_depth)
        s->max_depth = s->ring.live;
}

static void publish_reports(dg_bus *bus, json_t *reports)
{
    uint8_t was = bus->reporting;
    bus->reporting = 1;
    size_t i;
    json_t *r;
    json_array_foreach(reports, i, r)
    {
        /* Undeclared (by remove_owner(NULL)) or vetoed reports are simply lost. */
        dgb_publish_now(bus, DG_BUS_OVERFLOW_TOPIC, json_incref(r), 0);
    }
    bus->reporting = was;
    json_decref(reports);
}

int dgb_fan_out(dg_bus *bus, dgb_topic *t, json_t *payload)
{
    int rc = dgb_topic_matches(bus, t);
    dgb_event *ev = rc == DG_OK ? event_new(bus, t, payload) : NULL;
    if (ev == NULL) {
        json_decref(payload);
        return DG_ENOMEM;
    }
    json_t *reports = NULL;
    for (size_t i = 0; i < t->n_match; i++) {
        if (!t->match[i]->dead)
            enqueue(bus, t->match[i], ev, &reports);
    }
    t->published++;
    bus->published++;
    dgb_event_unref(bus, ev); /* frees it at once when nobody matched */
    if (bus->fifo_head != NULL)
        dgb_arm(bus);
    if (reports != NULL)
        publish_reports(bus, reports);
    return DG_OK;
}

/* ---- publish on the loop thread ---- */

int dgb_has_room(dg_bus *bus, dgb_topic *t)
{
    if (dgb_topic_matches(bus, t) != DG_OK)
        return 0;
    for (size_t i = 0; i < t->n_match; i++) {
        dg_sub *s = t->match[i];
        if (!s->dead && s->ring.live >= s->capacity)
            return 0;
    }
    return 1;
}

static int call_interceptor(dg_bus *bus, dg_sub *s, dgb_topic *t, json_t **payload)
{
    json_t *repl = NULL;
    s->delivered++;
    int rc = s->fn.intercept(s->owner, t->name, *payload, &repl, s->user);
    if (rc == DG_STOP) {
        json_decref(repl);
        s->dropped++;
        return DG_STOP;
    }
    if (rc != DG_OK) {
        /* Fail open: a broken filter must not silence a topic. */
        bus->icpt_errors++;
        json_decref(repl);
        return DG_OK;
    }
    if (repl != NULL) {
        json_decref(*payload);
        *payload = repl;
    }
    return DG_OK;
}

static int run_interceptors(dg_bus *bus, dgb_topic *t, json_t **payload)
{
    int rc = DG_OK;
    bus->walking++;
    bus->icpt_depth++;
    for (dg_sub *s = bus->icpts; s != NULL && rc == DG_OK; s = s->next) {
        if (!s->dead && dg_topic_match(s->pattern, t->name))
            rc = call_interceptor(bus, s, t, payload);
    }
    bus->icpt_depth--;
    bus->walking--;
    dgb_reap(bus);
    return rc;
}

int dgb_intercept(dg_bus *bus, dgb_topic *t, json_t **payload)
{
    int rc = run_interceptors(bus, t, payload);
    if (rc == DG_STOP) {
        t->vetoed++;
        bus->vetoed++;
        json_decref(*payload);
        *payload = NULL;
    }
    return rc;
}

/* DG_EAGAIN; a retried handoff is not counted again, the first refusal was. */
static int reject(dg_bus *bus, dgb_topic *t, json_t *payload, int retry)
{
    if (!retry) {
        t->rejected++;
        bus->rejected++;
    }
    json_decref(payload);
    return DG_EAGAIN;
}

static int publish_to(dg_bus *bus, dgb_topic *t, json_t *payload, int retry)
{
    int block = t->overflow == DG_OVERFLOW_BLOCK;
    if (block && !dgb_has_room(bus, t))
        return reject(bus, t, payload, retry);
    if (dgb_intercept(bus, t, &payload) == DG_STOP)
        return DG_STOP;
    /* The interceptors may have published or subscribed: check again. */
    if (block && !dgb_has_room(bus, t))
        return reject(bus, t, payload, retry);
    return dgb_fan_out(bus, t, payload);
}

int dgb_publish_now(dg_bus *bus, const char *topic, json_t *payload, int retry)
{
    if (payload == NULL && (payload = json_object()) == NULL)
        return DG_ENOMEM;
    dgb_topic *t = dgb_topic_find(bus, topic);
    if (t == NULL) {
        json_decref(payload);
        return DG_ENOENT;
    }
    t->refs++; /* an interceptor may undeclare it */
    int rc = publish_to(bus, t, payload, retry);
    dgb_topic_unref(bus, t);
    return rc;
}

/* ---- handoff to the loop thread ---- */

static dgb_handoff *handoff_new(const char *topic, json_t *payload)
{
    size_t len = topic != NULL ? strlen(topic) : 0;
    dgb_handoff *h = calloc(1, sizeof(*h) + len + 1);
    if (h == NULL)
        return NULL;
    if (topic != NULL)
        memcpy(h->topic, topic, len + 1);
    h->payload = payload;
    return h;
}

/* Appends h unless its bound is reached; returns DG_OK, DG_EAGAIN or 1 (dropped). */
static int inbox_append(dg_bus *bus, dgb_handoff *h)
{
    int rc = DG_OK;
    uv_mutex_lock(&bus->inbox_lock);
    size_t *count = h->post != NULL ? NULL : h->block ? &bus->in_block : &bus->in_other;
    if (count != NULL && *count >= bus->inbox_limit) {
        rc = h->block ? DG_EAGAIN : 1;
        if (!h->block)
            bus->in_dropped++;
    } else {
        if (count != NULL)
            (*count)++;
        if (bus->in_tail != NULL)
            bus->in_tail->next = h;
        else
            bus->in_head = h;
        bus->in_tail = h;
    }
    uv_mutex_unlock(&bus->inbox_lock);
    return rc;
}

static void wake(dg_bus *bus)
{
    if (dgb_on_loop_thread(bus))
        dgb_arm(bus); /* also keeps the loop alive until the handoff is done */
    else
        uv_async_send(bus->async);
}

int dgb_handoff_publish(dg_bus *bus, const char *topic, json_t *payload, int ordered, dg_ctx *owner)
{
    dg_overflow overflow;
    if (!dgb_topic_lookup_policy(bus, topic, &overflow)) {
        json_decref(payload);
        return DG_ENOENT;
    }
    if (payload == NULL && (payload = json_object()) == NULL)
        return DG_ENOMEM;
    dgb_handoff *h = handoff_new(topic, payload);
    if (h == NULL) {
        json_decref(payload);
        return DG_ENOMEM;
    }
    /* An ordered publish is never dropped either, whatever the topic's policy. */
    h->block = ordered || overflow == DG_OVERFLOW_BLOCK;
    h->ordered = (uint8_t)(ordered != 0);
    h->owner = owner;
    int rc = inbox_append(bus, h);
    if (rc != DG_OK) {
        json_decref(payload);
        free(h);
        return rc == DG_EAGAIN ? DG_EAGAIN : DG_OK;
    }
    wake(bus);
    return DG_OK;
}

int dg_bus_post(dg_bus *bus, dg_post_fn fn, void *user)
{
    if (bus == NULL || fn == NULL)
        return DG_EINVAL;
    dgb_handoff *h = handoff_new(NULL, NULL);
    if (h == NULL)
        return DG_ENOMEM;
    h->post = fn;
    h->user = user;
    inbox_append(bus, h); /* posts are not bounded */
    wake(bus);
    return DG_OK;
}

/* dg_bus_publish and dg_bus_publish_ordered: the checks, then now or through the inbox. */
static int publish_entry(dg_bus *bus, dg_ctx *publisher, const char *topic, json_t *payload,
                         int ordered)
{
    int rc = DG_OK;
    if (bus == NULL || !dg_topic_valid(topic))
        rc = DG_EINVAL;
    else if (publisher != NULL && strncmp(topic, "core.", 5) == 0)
        rc = DG_EDENIED;
    if (rc != DG_OK) {
        json_decref(payload);
        return rc;
    }
    /* Interceptor chains never nest: a publish from inside one takes the inbox too. */
    if (!dgb_on_loop_thread(bus) || bus->icpt_depth > 0)
        return dgb_handoff_publish(bus, topic, payload, ordered, ordered ? publisher : NULL);
    if (ordered)
        return dgb_ordered_now(bus, publisher, topic, payload, 0);
    return dgb_publish_now(bus, topic, payload, 0);
}

int dg_bus_publish(dg_bus *bus, dg_ctx *publisher, const char *topic, json_t *payload)
{
    return publish_entry(bus, publisher, topic, payload, 0);
}

int dg_bus_publish_ordered(dg_bus *bus, dg_ctx *publisher, const char *topic, json_t *payload)
{
    return publish_entry(bus, publisher, topic, payload, 1);
}
