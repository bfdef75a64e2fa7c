/*
 * core.events: the recent events, for `dengon watch` and other live views.
 *
 * A core subscriber to "**" copies every delivered event (a payload
 * reference, the topic and the wall-clock time) into a ring of the last
 * bus.recent_events events, each with a seq that only grows. A call asks for
 * the events after a seq that match a pattern; when there are none it is
 * parked (long poll) and answered by the next matching event or by its own
 * one-shot timer. Idle, the module has no handle running: only parked calls
 * own a timer, stopped as soon as they are answered.
 *
 * The subscriber's queue is as large as the bus allows and its callback only
 * takes references, so it never makes a publisher wait (BLOCK topics) or
 * loses an event that another subscriber would have had.
 */
#include "daemon/daemon.h"

#include "util/log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Ring size bounds for bus.recent_events (each slot holds a topic inline). */
#define EVENTS_RING_DEFAULT 1024
#define EVENTS_RING_MAX 65536
/* Longest a call may be parked. */
#define EVENTS_WAIT_MAX_MS 30000
#define EVENTS_LIMIT_DEFAULT 500
#define EVENTS_LIMIT_MAX 10000
/* Parked calls beyond this are answered at once: each costs a timer. */
#define EVENTS_PARKED_MAX 1024

typedef struct events_slot {
    uint64_t seq; /* 0: empty */
    int64_t time_ms;
    json_t *payload;
    char topic[DG_TOPIC_MAX + 1];
} events_slot;

typedef struct parked_call parked_call;

struct dg_daemon_events {
    dg_daemon *d;
    dg_sub *sub;
    events_slot *ring;
    size_t size;
    uint64_t last_seq;   /* seq of the newest event, 0 before the first */
    parked_call *parked; /* doubly linked */
    size_t n_parked;
    int stopping;
};

struct parked_call {
    dg_daemon_events *ev;
    dg_rpc_call *call;
    uint64_t after;
    size_t limit;
    uv_timer_t timer;
    parked_call *prev, *next;
    char pattern[DG_TOPIC_MAX + 1];
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Seq of the oldest event still in the ring (last_seq + 1 when empty). */
static uint64_t oldest_seq(const dg_daemon_events *ev)
{
    return ev->last_seq >= ev->size ? ev->last_seq - ev->size + 1 : 1;
}

static const events_slot *slot_of(const dg_daemon_events *ev, uint64_t seq)
{
    return &ev->ring[(seq - 1) % ev->size];
}

/*
 * {"events","next","dropped"} for the events after `after` matching pattern,
 * at most limit of them. next is the seq the caller passes as `after` next
 * time; dropped counts events after `after` already evicted from the ring.
 */
static json_t *collect(const dg_daemon_events *ev, uint64_t after, const char *pattern,
                       size_t limit)
{
    json_t *events = json_array();
    uint64_t oldest = oldest_seq(ev);
    uint64_t dropped = after + 1 < oldest ? oldest - (after + 1) : 0;
    uint64_t seq = after + 1 > oldest ? after + 1 : oldest;
    uint64_t next = after > ev->last_seq ? ev->last_seq : after;
    for (; events && seq <= ev->last_seq; seq++) {
        const events_slot *s = slot_of(ev, seq);
        next = seq;
        if (!dg_topic_match(pattern, s->topic))
            continue;
        json_array_append_new(events, json_pack("{s:I, s:s, s:I, s:O}", "seq", (json_int_t)s->seq,
                                                "topic", s->topic, "time_ms",
                                                (json_int_t)s->time_ms, "payload", s->payload));
        if (json_array_size(events) >= limit)
            break;
    }
    if (!events)
        return NULL;
    return json_pack("{s:o, s:I, s:I}", "events", events, "next", (json_int_t)next, "dropped",
                     (json_int_t)dropped);
}

static void reply_collected(dg_daemon_events *ev, dg_rpc_call *call, uint64_t after,
                            const char *pattern, size_t limit)
{
    json_t *result = collect(ev, after, pattern, limit);
    if (result)
        dg_rpc_reply(call, result);
    else
        dg_rpc_fail(call, DG_RPC_FAILED, "out of memory");
}

static void on_parked_closed(uv_handle_t *handle)
{
    free(handle->data);
}

/* Answers a parked call with what it may see now and forgets it. */
static void answer_parked(parked_call *p)
{
    dg_daemon_events *ev = p->ev;
    if (p->prev)
        p->prev->next = p->next;
    else
        ev->parked = p->next;
    if (p->next)
        p->next->prev = p->prev;
    ev->n_parked--;
    uv_timer_stop(&p->timer);
    reply_collected(ev, p->call, p->after, p->pattern, p->limit);
    uv_close((uv_handle_t *)&p->timer, on_parked_closed);
}

static void on_wait_expired(uv_timer_t *timer)
{
    answer_parked(timer->data);
}

static void answer_all_parked(dg_daemon_events *ev)
{
    while (ev->parked)
        answer_parked(ev->parked);
}

static void on_event(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    dg_daemon_events *ev = user;
    events_slot *s = &ev->ring[ev->last_seq % ev->size];
    json_decref(s->payload);
    s->seq = ++ev->last_seq;
    s->time_ms = wall_ms();
    s->payload = payload ? json_incref((json_t *)payload) : json_object();
    snprintf(s->topic, sizeof s->topic, "%s", topic);
    if (strcmp(topic, "core.daemon.stopping") == 0) {
        /* Answered before the control socket closes, so watchers see the stop. */
        ev->stopping = 1;
        answer_all_parked(ev);
        return;
    }
    parked_call *p = ev->parked;
    while (p) {
        parked_call *next = p->next;
        if (dg_topic_match(p->pattern, topic))
            answer_parked(p);
        p = next;
    }
}

/* A non-negative integer parameter within [0, max], or def when absent; -1 when invalid. */
static int64_t int_param(const json_t *params, const char *name, int64_t def, int64_t max)
{
    json_t *v = json_object_get(params, name);
    if (!v || json_is_null(v))
        return def;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
        return -1;
    return json_integer_value(v);
}

static void rpc_events(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_daemon_events *ev = user;
    if (params && !json_is_object(params)) {
        dg_rpc_fail(call, DG_RPC_INVALID_PARAMS, "params must be an object");
        return;
    }
    json_t *pat = json_object_get(params, "pattern");
    const char *pattern = "**";
    if (pat && !json_is_null(pat)) {
        pattern = json_string_value(pat);
        if (!pattern || !dg_topic_pattern_valid(pattern)) {
            dg_rpc_fail(call, DG_RPC_INVALID_PARAMS,
                        "'pattern' must be a topic pattern like \"chat.*\" or \"**\"");
            return;
        }
    }
    /* No 'after': from now on (a watcher does not want the backlog). */
    int64_t after = int_param(params, "after", (int64_t)ev->last_seq, INT64_MAX);
    int64_t wait_ms = int_param(params, "wait_ms", 0, EVENTS_WAIT_MAX_MS);
    int64_t limit = int_param(params, "limit", EVENTS_LIMIT_DEFAULT, EVENTS_LIMIT_MAX);
    if (after < 0 || wait_ms < 0 || limit < 1) {
        dg_rpc_fail(call, DG_RPC_INVALID_PARAMS,
                    "'after' must be a seq (integer >= 0), 'wait_ms' an integer 0..%d, "
                    "'limit' an integer 1..%d",
                    EVENTS_WAIT_MAX_MS, EVENTS_LIMIT_MAX);
        return;
    }
    /* A seq from an earlier daemon run: start from now rather than wait forever. */
    if ((uint64_t)after > ev->last_seq)
        after = (int64_t)ev->last_seq;

    int found = 0;
    for (uint64_t seq = (uint64_t)after + 1; seq <= ev->last_seq && !found; seq++)
        found = seq >= oldest_seq(ev) && dg_topic_match(pattern, slot_of(ev, seq)->topic);
    parked_call *p = NULL;
    if (!found && wait_ms > 0 && !ev->stopping && ev->n_parked < EVENTS_PARKED_MAX)
        p = calloc(1, sizeof *p);
    if (!p) {
        reply_collected(ev, call, (uint64_t)after, pattern, (size_t)limit);
        return;
    }
    p->ev = ev;
    p->call = call;
    p->after = (uint64_t)after;
    p->limit = (size_t)limit;
    snprintf(p->pattern, sizeof p->pattern, "%s", pattern);
    uv_timer_init(&ev->d->loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, on_wait_expired, (uint64_t)wait_ms, 0);
    p->next = ev->parked;
    if (p->next)
        p->next->prev = p;
    ev->parked = p;
    ev->n_parked++;
}

int dg_daemon_events_init(dg_daemon *d)
{
    dg_daemon_events *ev = calloc(1, sizeof *ev);
    if (!ev)
        return -1;
    int64_t size = dg_config_get_int(d->config, "bus.recent_events", EVENTS_RING_DEFAULT);
    if (size < 1 || size > EVENTS_RING_MAX) {
        dg_log(DG_LOG_WARN, "core", "bus.recent_events: %lld is not within 1..%d; using %d",
               (long long)size, EVENTS_RING_MAX, EVENTS_RING_DEFAULT);
        size = EVENTS_RING_DEFAULT;
    }
    ev->d = d;
    ev->size = (size_t)size;
    ev->ring = calloc(ev->size, sizeof *ev->ring);
    if (!ev->ring) {
        free(ev);
        return -1;
    }
    /* Largest queue: it copies references only, so it never holds a publisher back. */
    ev->sub = dg_bus_subscribe(d->bus, NULL, "**", 0, DG_BUS_MAX_CAPACITY, on_event, ev, NULL);
    if (!ev->sub ||
        dg_rpc_register(d->rpc, NULL, "core.events",
                        "recent events {after?, pattern?, wait_ms?, limit?}: waits for new ones",
                        rpc_events, ev, NULL) != DG_OK) {
        if (ev->sub)
            dg_bus_unsubscribe(d->bus, ev->sub);
        free(ev->ring);
        free(ev);
        return -1;
    }
    d->events = ev;
    return 0;
}

void dg_daemon_events_free(dg_daemon *d)
{
    dg_daemon_events *ev = d->events;
    if (!ev)
        return;
    /* Still parked (a stop that skipped core.daemon.stopping): answer them empty. */
    answer_all_parked(ev);
    dg_bus_unsubscribe(d->bus, ev->sub);
    for (size_t i = 0; i < ev->size; i++)
        json_decref(ev->ring[i].payload);
    free(ev->ring);
    free(ev);
    d->events = NULL;
}
