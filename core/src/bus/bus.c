/*
 * The event bus: lifecycle, topic table, registrations.
 *
 * Design note
 * -----------
 * Files: topic.c (names and globs, pure), queue.c (per-subscriber ring),
 * bus.c (this file), publish.c (interceptors, fan-out, overflow, handoff),
 * ordered.c (ordered publishes waiting for room), dispatch.c (delivery,
 * inbox, wake-ups, flush), stats.c.
 *
 * Events. A publish allocates one dgb_event (recycled from a free list in the
 * steady state) holding the payload's single reference. The event is linked
 * into a global FIFO in publish order, and a pointer to it is pushed into the
 * ring of every matching subscriber; event->refs counts those pointers. No
 * per-delivery allocation happens.
 *
 * Order. Every ring is a subsequence of the FIFO (entries are only appended,
 * or removed). The dispatcher takes the FIFO head and offers it to the
 * matching subscribers in priority order: a subscriber whose ring front is
 * that event gets it. By induction the FIFO head is the oldest event in every
 * ring holding it, so events are delivered in global publish order and, for
 * one event, in subscriber priority order, with O(1) work per delivery.
 *
 * Matching. A topic record caches the live subscribers matching it (in
 * priority order). The cache is invalidated by a generation counter bumped
 * when a subscription is added or freed, so a publish costs
 * O(matching subscribers) plus one glob match per subscriber after a change.
 *
 * Re-entrancy. Callbacks run with bus->walking > 0. Unsubscribing then only
 * marks the entry dead (its queue is emptied at once); dgb_reap() frees dead
 * entries and calls user_free once no callback runs. A publish inside a
 * subscriber callback is queued and delivered later in the same dispatch
 * loop, never recursively. A publish inside an interceptor is handed off
 * through the inbox, so interceptor chains never nest.
 *
 * Overflow. BLOCK checks every matching queue for room before the
 * interceptors and again after them, and queues nothing when one is full.
 * DROP_OLDEST evicts the subscriber's oldest event that is not of a BLOCK
 * topic. COALESCE first removes the subscriber's queued event of the same
 * topic (tombstone) and appends the new one at the tail: replacing in place
 * would break the "every ring is a subsequence of the FIFO" invariant above.
 * Finding that older event scans the queue from its newest end: skipped when
 * the queue holds no COALESCE event, O(depth) at worst, never on delivery.
 * Drops are reported on core.bus.overflow (itself COALESCE, never reported).
 *
 * Threads. Other threads append publishes and posts to a mutex-protected
 * inbox and wake the loop with uv_async_send(). The loop thread moves the
 * inbox to a local list and processes it in order; a BLOCK publish that does
 * not fit stays at the head of that list and is retried after the next
 * delivery. The inbox is bounded (DG_BUS_INBOX_FACTOR).
 *
 * Ordered publishes. dg_bus_publish_ordered runs the interceptors at once
 * and, when the event cannot be queued yet, keeps it in its publisher's lane
 * (ordered.c); lanes are drained after each round of deliveries, and when a
 * subscriber goes away. Bounded per publisher (DG_BUS_WAITING_FACTOR).
 *
 * Wake-ups. One uv_async_t, referenced only while work is pending, so an idle
 * bus keeps no handle active and never polls. A dispatch run delivers at most
 * a batch of events and then re-arms itself, so I/O is not starved by a busy
 * bus.
 */
#include "bus/bus_internal.h"
#include <stdlib.h>
#include <string.h>

#define DGB_TABLE_INITIAL 32

static const char *default_namer(dg_ctx *owner)
{
    return owner == NULL ? "core" : "plugin";
}

const char *dgb_owner_name(const dg_bus *bus, dg_ctx *owner)
{
    const char *name = bus->namer(owner);
    return name != NULL ? name : "?";
}

void dg_bus_set_owner_namer(dg_bus *bus, dg_bus_owner_name_fn fn)
{
    if (bus != NULL)
        bus->namer = fn != NULL ? fn : default_namer;
}

int dgb_on_loop_thread(const dg_bus *bus)
{
    uv_thread_t self = uv_thread_self();
    return uv_thread_equal(&self, &bus->loop_thread);
}

/* ---- topic table ---- */

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a: short keys, no adversary (names are validated) */
    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

dgb_topic *dgb_topic_find(dg_bus *bus, const char *name)
{
    uint32_t h = hash_name(name);
    for (dgb_topic *t = bus->tbl[h & (bus->tbl_size - 1)]; t != NULL; t = t->hnext) {
        if (t->hash == h && strcmp(t->name, name) == 0)
            return t;
    }
    return NULL;
}

int dgb_topic_lookup_policy(dg_bus *bus, const char *name, dg_overflow *overflow)
{
    uv_mutex_lock(&bus->topics_lock);
    dgb_topic *t = dgb_topic_find(bus, name);
    if (t != NULL)
        *overflow = t->overflow;
    uv_mutex_unlock(&bus->topics_lock);
    return t != NULL;
}

/* Doubles the table when it gets crowded; on ENOMEM chains just get longer. */
static void table_maybe_grow(dg_bus *bus)
{
    if (bus->n_topics < bus->tbl_size)
        return;
    size_t size = bus->tbl_size * 2;
    dgb_topic **tbl = calloc(size, sizeof(*tbl));
    if (tbl == NULL)
        return;
    for (size_t i = 0; i < bus->tbl_size; i++) {
        while (bus->tbl[i] != NULL) {
            dgb_topic *t = bus->tbl[i];
            bus->tbl[i] = t->hnext;
            t->hnext = tbl[t->hash & (size - 1)];
            tbl[t->hash & (size - 1)] = t;
        }
    }
    free(bus->tbl);
    bus->tbl = tbl;
    bus->tbl_size = size;
}

static void table_insert(dg_bus *bus, dgb_topic *t)
{
    uv_mutex_lock(&bus->topics_lock);
    table_maybe_grow(bus);
    dgb_topic **head = &bus->tbl[t->hash & (bus->tbl_size - 1)];
    t->hnext = *head;
    *head = t;
    bus->n_topics++;
    uv_mutex_unlock(&bus->topics_lock);
}

static void table_remove(dg_bus *bus, dgb_topic *t)
{
    uv_mutex_lock(&bus->topics_lock);
    dgb_topic **pp = &bus->tbl[t->hash & (bus->tbl_size - 1)];
    while (*pp != t)
        pp = &(*pp)->hnext;
    *pp = t->hnext;
    bus->n_topics--;
    uv_mutex_unlock(&bus->topics_lock);
}

static dgb_topic *topic_new(const char *name, dg_overflow overflow)
{
    size_t len = strlen(name);
    dgb_topic *t = calloc(1, sizeof(*t) + len + 1);
    if (t == NULL)
        return NULL;
    memcpy(t->name, name, len + 1);
    t->hash = hash_name(name);
    t->overflow = overflow;
    t->refs = 1; /* the table's */
    return t;
}

static void topic_destroy(dgb_topic *t)
{
    free(t->owners);
    free(t->match);
    free(t);
}

void dgb_topic_unref(dg_bus *bus, dgb_topic *t)
{
    (void)bus;
    if (--t->refs == 0)
        topic_destroy(t);
}

static int topic_has_owner(const dgb_topic *t, dg_ctx *owner)
{
    for (size_t i = 0; i < t->n_owners; i++) {
        if (t->owners[i] == owner)
            return 1;
    }
    return 0;
}

static int topic_add_owner(dgb_topic *t, dg_ctx *owner)
{
    if (topic_has_owner(t, owner))
        return DG_OK;
    if (t->n_owners == t->cap_owners) {
        size_t cap = t->cap_owners ? t->cap_owners * 2 : 2;
        dg_ctx **owners = realloc(t->owners, cap * sizeof(*owners));
        if (owners == NULL)
            return DG_ENOMEM;
        t->owners = owners;
        t->cap_owners = cap;
    }
    t->owners[t->n_owners++] = owner;
    return DG_OK;
}

/* Removes owner from t; returns 1 when that was the last declaration. */
static int topic_drop_owner(dgb_topic *t, dg_ctx *owner)
{
    for (size_t i = 0; i < t->n_owners; i++) {
        if (t->owners[i] == owner) {
            t->owners[i] = t->owners[--t->n_owners];
            return t->n_owners == 0;
        }
    }
    return 0;
}

int dgb_topic_matches(dg_bus *bus, dgb_topic *t)
{
    if (t->match_gen == bus->sub_gen)
        return DG_OK;
    t->n_match = 0;
    for (dg_sub *s = bus->subs; s != NULL; s = s->next) {
        if (s->dead || !dg_topic_match(s->pattern, t->name))
            continue;
        if (t->n_match == t->cap_match) {
            size_t cap = t->cap_match ? t->cap_match * 2 : 4;
            dg_sub **match = realloc(t->match, cap * sizeof(*match));
            if (match == NULL) {
                t->match_gen = 0;
                return DG_ENOMEM;
            }
            t->match = match;
            t->cap_match = cap;
        }
        t->match[t->n_match++] = s;
    }
    t->match_gen = bus->sub_gen;
    return DG_OK;
}

static int is_core_topic(const char *topic)
{
    return strncmp(topic, "core.", 5) == 0;
}

int dg_bus_declare(dg_bus *bus, dg_ctx *owner, const char *topic, dg_overflow overflow)
{
    if (bus == NULL || !dg_topic_valid(topic) || (unsigned)overflow > DG_OVERFLOW_COALESCE)
        return DG_EINVAL;
    if (owner != NULL && is_core_topic(topic))
        return DG_EDENIED;
    dgb_topic *t = dgb_topic_find(bus, topic);
    if (t != NULL)
        return t->overflow == overflow ? topic_add_owner(t, owner) : DG_EEXIST;
    t = topic_new(topic, overflow);
    if (t == NULL || topic_add_owner(t, owner) != DG_OK) {
        if (t != NULL)
            topic_destroy(t);
        return DG_ENOMEM;
    }
    table_insert(bus, t);
    return DG_OK;
}

/* ---- registrations ---- */

/* Ring slots a queue of capacity may use: a power of two >= 2 * capacity. */
static size_t max_slots_for(size_t capacity)
{
    size_t n = 2;
    while (n < 2 * capacity)
        n *= 2;
    return n;
}

static dg_sub *sub_new(dg_ctx *owner, const char *pattern, int priority, void *user,
                       dg_free_fn user_free)
{
    if (!dg_topic_pattern_valid(pattern))
        return NULL;
    dg_sub *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->pattern = strdup(pattern);
    if (s->pattern == NULL) {
        free(s);
        return NULL;
    }
    s->owner = owner;
    s->priority = priority;
    s->user = user;
    s->user_free = user_free;
    return s;
}

/* Insert after every entry of equal or higher priority: ties keep registration order. */
static void insert_sorted(dg_sub **head, dg_sub *s)
{
    dg_sub **pp = head;
    while (*pp != NULL && (*pp)->priority >= s->priority)
        pp = &(*pp)->next;
    s->next = *pp;
    *pp = s;
}

dg_sub *dg_bus_subscribe(dg_bus *bus, dg_ctx *owner, const char *pattern, int priority,
                         size_t queue_capacity, dg_event_fn fn, void *user, dg_free_fn user_free)
{
    if (bus == NULL || fn == NULL)
        return NULL;
    dg_sub *s = sub_new(owner, pattern, priority, user, user_free);
    if (s == NULL)
        return NULL;
    s->kind = DGB_SUBSCRIBER;
    s->fn.event = fn;
    s->capacity = queue_capacity ? queue_capacity : bus->default_capacity;
    if (s->capacity > DG_BUS_MAX_CAPACITY)
        s->capacity = DG_BUS_MAX_CAPACITY;
    s->max_slots = max_slots_for(s->capacity);
    insert_sorted(&bus->subs, s);
    bus->sub_gen++;
    return s;
}

dg_sub *dg_bus_intercept(dg_bus *bus, dg_ctx *owner, const char *pattern, int priority,
                         dg_intercept_fn fn, void *user, dg_free_fn user_free)
{
    if (bus == NULL || fn == NULL)
        return NULL;
    dg_sub *s = sub_new(owner, pattern, priority, user, user_free);
    if (s == NULL)
        return NULL;
    s->kind = DGB_INTERCEPTOR;
    s->fn.intercept = fn;
    insert_sorted(&bus->icpts, s);
    return s;
}

/* Marks s dead and drops its queue now; the memory waits for dgb_reap(). */
static void sub_kill(dg_bus *bus, dg_sub *s)
{
    if (s->dead)
        return;
    s->dead = 1;
    bus->n_dead++;
    dgb_sub_clear_queue(bus, s);
    /* Its full queue may be what waiting events wait for: no delivery will say so. */
    if (s->kind == DGB_SUBSCRIBER && (bus->n_waiting > 0 || bus->local_head != NULL)) {
        bus->kick = 1;
        dgb_arm(bus);
    }
}

static void sub_destroy(dg_sub *s)
{
    if (s->user_free != NULL)
        s->user_free(s->user);
    dgb_ring_free(&s->ring);
    free(s->pattern);
    free(s);
}

static void reap_list(dg_bus *bus, dg_sub **head)
{
    dg_sub **pp = head;
    while (*pp != NULL) {
        dg_sub *s = *pp;
        if (!s->dead) {
            pp = &s->next;
            continue;
        }
        *pp = s->next;
        bus->n_dead--;
        bus->sub_gen++; /* match caches may point at s */
        sub_destroy(s);
    }
}

void dgb_reap(dg_bus *bus)
{
    if (bus->walking > 0 || bus->n_dead == 0)
        return;
    /* user_free may unsubscribe more: keep walking > 0 so nothing nests. */
    bus->walking++;
    while (bus->n_dead > 0) {
        reap_list(bus, &bus->subs);
        reap_list(bus, &bus->icpts);
    }
    bus->walking--;
}

void dg_bus_unsubscribe(dg_bus *bus, dg_sub *sub)
{
    if (bus == NULL || sub == NULL)
        return;
    sub_kill(bus, sub);
    dgb_reap(bus);
}

/* Is sub a live registration of owner? Walks the lists: a handle is only trusted once found. */
static int owns_live(const dg_sub *list, const dg_sub *sub, const dg_ctx *owner)
{
    for (const dg_sub *s = list; s; s = s->next)
        if (s == sub)
            return !s->dead && s->owner == owner;
    return 0;
}

int dg_bus_unsubscribe_owned(dg_bus *bus, dg_ctx *owner, dg_sub *sub)
{
    if (bus == NULL || sub == NULL)
        return DG_EINVAL;
    if (!owns_live(bus->subs, sub, owner) && !owns_live(bus->icpts, sub, owner))
        return DG_ENOENT;
    dg_bus_unsubscribe(bus, sub);
    return DG_OK;
}

static void kill_owned(dg_bus *bus, dg_sub *list, dg_ctx *owner)
{
    for (dg_sub *s = list; s != NULL; s = s->next) {
        if (s->owner == owner)
            sub_kill(bus, s);
    }
}

static void undeclare_owned(dg_bus *bus, dg_ctx *owner)
{
    for (size_t i = 0; i < bus->tbl_size; i++) {
        dgb_topic *t = bus->tbl[i];
        while (t != NULL) {
            dgb_topic *next = t->hnext;
            if (topic_drop_owner(t, owner)) {
                table_remove(bus, t);
                dgb_topic_unref(bus, t);
            }
            t = next;
        }
    }
}

size_t dg_bus_remove_owner(dg_bus *bus, dg_ctx *owner)
{
    if (bus == NULL)
        return 0;
    size_t dropped = dgb_lanes_remove_owner(bus, owner);
    size_t cancelled = dgb_inbox_cancel_owner(bus, owner);
    bus->waiting_dropped += cancelled;
    kill_owned(bus, bus->subs, owner);
    kill_owned(bus, bus->icpts, owner);
    undeclare_owned(bus, owner);
    dgb_reap(bus);
    return dropped + cancelled;
}

/* ---- lifecycle ---- */

static void free_async(uv_handle_t *handle)
{
    free(handle);
}

static int init_async(dg_bus *bus)
{
    bus->async = malloc(sizeof(*bus->async));
    if (bus->async == NULL)
        return DG_ENOMEM;
    if (uv_async_init(bus->loop, bus->async, dgb_async_cb) != 0) {
        free(bus->async);
        bus->async = NULL;
        return DG_ERR;
    }
    bus->async->data = bus;
    /* Referenced only while work is pending (dgb_arm), so an idle bus lets the loop exit. */
    uv_unref((uv_handle_t *)bus->async);
    return DG_OK;
}

static int init_locks(dg_bus *bus)
{
    if (uv_mutex_init(&bus->topics_lock) != 0)
        return DG_ERR;
    if (uv_mutex_init(&bus->inbox_lock) != 0) {
        uv_mutex_destroy(&bus->topics_lock);
        return DG_ERR;
    }
    return DG_OK;
}

dg_bus *dg_bus_new(uv_loop_t *loop, size_t default_capacity)
{
    if (loop == NULL)
        return NULL;
    dg_bus *bus = calloc(1, sizeof(*bus));
    if (bus == NULL)
        return NULL;
    bus->loop = loop;
    bus->loop_thread = uv_thread_self();
    bus->namer = default_namer;
    if (default_capacity == 0)
        default_capacity = DG_BUS_DEFAULT_CAPACITY;
    if (default_capacity > DG_BUS_MAX_CAPACITY)
        default_capacity = DG_BUS_MAX_CAPACITY;
    bus->default_capacity = default_capacity;
    bus->inbox_limit = default_capacity * DG_BUS_INBOX_FACTOR;
    bus->waiting_limit = default_capacity * DG_BUS_WAITING_FACTOR;
    bus->sub_gen = 1;
    bus->next_seq = 1;
    bus->tbl_size = DGB_TABLE_INITIAL;
    bus->tbl = calloc(bus->tbl_size, sizeof(*bus->tbl));
    if (bus->tbl == NULL || init_locks(bus) != DG_OK) {
        free(bus->tbl);
        free(bus);
        return NULL;
    }
    if (init_async(bus) != DG_OK ||
        dg_bus_declare(bus, NULL, DG_BUS_OVERFLOW_TOPIC, DG_OVERFLOW_COALESCE) != DG_OK) {
        dg_bus_free(bus);
        return NULL;
    }
    return bus;
}

static void free_list(dg_bus *bus, dg_sub *s)
{
    while (s != NULL) {
        dg_sub *next = s->next;
        dgb_sub_clear_queue(bus, s);
        sub_destroy(s);
        s = next;
    }
}

static void free_topics(dg_bus *bus)
{
    for (size_t i = 0; i < bus->tbl_size; i++) {
        while (bus->tbl[i] != NULL) {
            dgb_topic *t = bus->tbl[i];
            bus->tbl[i] = t->hnext;
            topic_destroy(t);
        }
    }
    free(bus->tbl);
}

static void free_spares(dg_bus *bus)
{
    while (bus->spare != NULL) {
        dgb_event *ev = bus->spare;
        bus->spare = ev->next;
        free(ev);
    }
}

void dg_bus_free(dg_bus *bus)
{
    if (bus == NULL)
        return;
    if (bus->async != NULL) {
        bus->async->data = NULL;
        uv_close((uv_handle_t *)bus->async, free_async);
    }
    dgb_inbox_discard(bus);
    dgb_lanes_free(bus); /* before the topics: waiting events hold references */
    /* Emptying every queue releases every event: the FIFO ends up empty. */
    free_list(bus, bus->subs);
    free_list(bus, bus->icpts);
    bus->subs = bus->icpts = NULL;
    free_topics(bus);
    free_spares(bus);
    uv_mutex_destroy(&bus->inbox_lock);
    uv_mutex_destroy(&bus->topics_lock);
    free(bus);
}
