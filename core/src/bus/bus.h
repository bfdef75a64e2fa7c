/*
 * The event bus: dotted topics, jansson payloads, queued delivery on the loop
 * thread, priorities, interceptors, glob subscriptions, bounded per-subscriber
 * queues with a per-topic overflow policy, and cross-thread publish.
 *
 * Ownership: every registration carries an owner (a plugin's dg_ctx, or NULL
 * for the core). The owner is passed back to callbacks as their ctx argument,
 * and dg_bus_remove_owner() removes everything one owner registered.
 *
 * Threading: every function runs on the loop thread (the thread that called
 * dg_bus_new), except dg_bus_publish(), dg_bus_publish_ordered() and
 * dg_bus_post(), which are thread-safe, and the pure dg_topic_*() functions.
 *
 * Wake-ups: the bus owns one uv_async_t. It is referenced (keeps the loop
 * alive) only while events are queued; when idle it is unreferenced and the
 * bus has no timer, idle or check handle, so an idle loop does not poll and
 * uv_run() may return. A worker thread's publish wakes a running loop, but
 * cannot by itself keep a loop alive that has nothing else to do.
 */
#ifndef DG_BUS_H
#define DG_BUS_H

#include <dengon/plugin.h>
#include <jansson.h>
#include <uv.h>

typedef struct dg_bus dg_bus;

/* Longest topic or pattern, in bytes (without the NUL). */
#define DG_TOPIC_MAX 128
/* Queue bound used when dg_bus_new() is given 0. */
#define DG_BUS_DEFAULT_CAPACITY 256
/* Largest per-subscriber queue bound; larger requests are clamped to it. */
#define DG_BUS_MAX_CAPACITY (1u << 20)
/*
 * Cross-thread handoffs (publishes from other threads, and publishes made
 * inside an interceptor) wait in an inbox until the loop thread takes them.
 * At most default_capacity * DG_BUS_INBOX_FACTOR handoffs to DG_OVERFLOW_BLOCK
 * topics may wait: past that, dg_bus_publish() returns DG_EAGAIN. The same
 * number of handoffs to other topics may wait: past that, the new event is
 * dropped and counted in "inbox_dropped" (those topics allow loss).
 */
#define DG_BUS_INBOX_FACTOR 4
/*
 * At most default_capacity * DG_BUS_WAITING_FACTOR events of one publisher
 * wait for room in dg_bus_publish_ordered(): past that it returns DG_EAGAIN.
 * Generous on purpose (a burst several times every queue's size still waits),
 * yet a subscriber that never drains cannot make the host grow without bound.
 */
#define DG_BUS_WAITING_FACTOR 16
/*
 * Published by the core when a subscriber queue drops an event:
 * {"subscriber": owner name, "pattern", "topic": topic of the dropped event,
 *  "dropped": the subscriber's total drops so far, "capacity"}.
 * Declared by dg_bus_new() as DG_OVERFLOW_COALESCE; drops of this topic itself
 * are counted but not reported again.
 */
#define DG_BUS_OVERFLOW_TOPIC "core.bus.overflow"

/*
 * default_capacity: per-subscriber queue bound when a subscriber asks for 0
 * (0 here means DG_BUS_DEFAULT_CAPACITY). Call on the loop thread: it becomes
 * "the loop thread". Returns NULL on failure.
 */
dg_bus *dg_bus_new(uv_loop_t *loop, size_t default_capacity);
/*
 * Delivers nothing more; drops queued events and pending handoffs (posted
 * functions are not run: call dg_bus_flush() first to run them), frees
 * everything, calls user_free. Not from inside a bus callback, and only after
 * every thread that publishes or posts has stopped.
 *
 * The async handle is closed with uv_close() and freed by its close callback,
 * so the caller must run the loop once more before uv_loop_close():
 *     dg_bus_free(bus); uv_run(loop, UV_RUN_NOWAIT); uv_loop_close(loop);
 */
void dg_bus_free(dg_bus *bus);

/*
 * Declares a topic with its overflow policy. Declaring again with the same
 * policy is DG_OK (counted once per owner); another policy is DG_EEXIST.
 * Publishing to a topic nobody declared returns DG_ENOENT. Topics under
 * "core." may only be declared by the core (owner NULL): else DG_EDENIED.
 * A bad topic name or policy is DG_EINVAL.
 */
int dg_bus_declare(dg_bus *bus, dg_ctx *owner, const char *topic, dg_overflow overflow);

/*
 * Publishes (payload stolen; NULL = empty object). From the loop thread the
 * interceptors run now and the event is queued to every matching subscriber;
 * from any other thread it is handed to the loop first. Returns DG_OK,
 * DG_STOP (vetoed by an interceptor), DG_ENOENT (undeclared topic), DG_EINVAL
 * (bad topic name) or DG_EAGAIN (a DG_OVERFLOW_BLOCK topic whose subscriber
 * queue is full: nothing was queued anywhere, the caller keeps the message).
 *
 * Refinements:
 *  - The payload is stolen also on failure: a caller that wants to retry
 *    after DG_EAGAIN keeps its own reference (json_incref before publishing).
 *  - A plugin (publisher != NULL) publishing under "core." gets DG_EDENIED.
 *  - From another thread, or from inside an interceptor (so that interceptor
 *    chains never nest), the event is handed off to the loop: DG_OK then
 *    means "accepted". The name and declaration are checked at once; for a
 *    DG_OVERFLOW_BLOCK topic DG_EAGAIN means the inbox is full (see
 *    DG_BUS_INBOX_FACTOR). A BLOCK handoff is never dropped: when the loop
 *    finds a subscriber queue full it keeps the handoff (and everything
 *    handed off after it, to keep order) and retries after the next delivery.
 *    Interceptors of handed-off events run on the loop thread.
 *  - DG_OVERFLOW_DROP_OLDEST and DG_OVERFLOW_COALESCE never evict a queued
 *    event of a DG_OVERFLOW_BLOCK topic (a subscriber with a "**" pattern can
 *    hold both): they evict the oldest droppable one, or drop the new event
 *    for that subscriber when the queue holds only BLOCK events.
 *  - DG_OVERFLOW_COALESCE: when the subscriber's queue already holds an event
 *    of the same topic, that older event is removed (counted "coalesced") and
 *    the new one is appended, so every queue stays in publish order.
 *  - An interceptor returning something other than DG_OK or DG_STOP is
 *    counted ("interceptor_errors") and ignored (its replacement is freed).
 *  - DG_ENOMEM when out of memory.
 */
int dg_bus_publish(dg_bus *bus, dg_ctx *publisher, const char *topic, json_t *payload);

/*
 * Publishes without ever dropping the event and without the caller retrying,
 * in call order per publisher: for DG_OVERFLOW_BLOCK topics whose publisher
 * cannot wait (any declared topic is accepted). payload is stolen (also on
 * failure; NULL = empty object); the checks are those of dg_bus_publish().
 *
 * On the loop thread the interceptors run now: DG_STOP when one vetoed (the
 * event is gone). Otherwise DG_OK, and the event (as the interceptors left it)
 * is either queued to every matching subscriber now, or, when a matching
 * queue of a BLOCK topic is full or an earlier ordered event of the same
 * publisher still waits, kept in the publisher's lane and queued in order as
 * soon as it is first in its lane and fits: after deliveries, or when a
 * subscriber goes away. No timer runs and nothing polls meanwhile. Such an
 * event is counted in its topic's "deferred".
 *
 * Refinements:
 *  - Order holds among one publisher's ordered events (and its events on
 *    non-BLOCK topics wait in the lane too). Plain dg_bus_publish() calls may
 *    overtake them; other publishers' lanes do not wait for this one.
 *  - Bound: at most default_capacity * DG_BUS_WAITING_FACTOR events wait per
 *    publisher. Beyond it DG_EAGAIN (counted "rejected"): nothing is kept and
 *    the interceptors did not run.
 *  - From another thread, or from inside an interceptor, the event is handed
 *    to the loop like dg_bus_publish() does, and is never dropped there
 *    whatever the topic's policy: DG_OK means accepted (the interceptors run
 *    on the loop thread, and a veto is not reported), DG_EAGAIN that the
 *    inbox is full (DG_BUS_INBOX_FACTOR; nothing kept). On the loop thread it
 *    then joins the publisher's lane, so one thread's events keep their order.
 *  - dg_bus_remove_owner() drops the publisher's waiting events, and its
 *    handoffs not yet taken, counted in "waiting_dropped".
 *  - DG_ENOMEM when out of memory (nothing kept).
 */
int dg_bus_publish_ordered(dg_bus *bus, dg_ctx *publisher, const char *topic, json_t *payload);

/*
 * Subscriptions and interceptors. Returns NULL for a bad pattern, a NULL fn or
 * when out of memory; user_free is then not called (the caller still owns
 * user). Callbacks get owner as their ctx.
 */
dg_sub *dg_bus_subscribe(dg_bus *bus, dg_ctx *owner, const char *pattern, int priority,
                         size_t queue_capacity, dg_event_fn fn, void *user, dg_free_fn user_free);
dg_sub *dg_bus_intercept(dg_bus *bus, dg_ctx *owner, const char *pattern, int priority,
                         dg_intercept_fn fn, void *user, dg_free_fn user_free);
/* Safe inside a callback: marks the entry and reaps it after dispatch. */
void dg_bus_unsubscribe(dg_bus *bus, dg_sub *sub);
/*
 * The same for a handle that came from outside (a plugin): sub is used only if
 * it is a live registration of owner. A stale, foreign or repeated handle is
 * DG_ENOENT and touches nothing.
 */
int dg_bus_unsubscribe_owned(dg_bus *bus, dg_ctx *owner, dg_sub *sub);
/*
 * Removes every subscription, interceptor and declaration of owner (its queued
 * events are dropped), and drops the events it published with
 * dg_bus_publish_ordered() that still wait for room: returns how many (for
 * the caller's log). Safe inside a callback, like dg_bus_unsubscribe().
 */
size_t dg_bus_remove_owner(dg_bus *bus, dg_ctx *owner);

/*
 * Runs fn(user) on the loop thread soon (never inline, also when called on
 * the loop thread), in handoff order with cross-thread publishes.
 * Thread-safe. DG_OK, DG_EINVAL or DG_ENOMEM.
 */
int dg_bus_post(dg_bus *bus, dg_post_fn fn, void *user);

/*
 * Delivers everything queued (including cross-thread handoffs and posts, and
 * events published by the callbacks it runs) now; returns the number of
 * deliveries (subscriber callbacks run). Does nothing and returns 0 inside a
 * bus callback, since delivery never recurses.
 */
size_t dg_bus_flush(dg_bus *bus);

/*
 * Counters as a new JSON object:
 * {"published","delivered","vetoed","rejected","dropped","coalesced","pending",
 *  "topics":{topic:{"overflow","published","delivered","dropped",...}},
 *  "subscribers":[{"owner","pattern","priority","capacity","depth","max_depth","dropped","delivered"}]}
 * "pending" counts events waiting for delivery to at least one subscriber.
 * Also: "interceptor_errors", "inbox" (handoffs waiting), "inbox_dropped",
 * "inbox_failed" (handoffs whose topic was undeclared before the loop took
 * them), "waiting" (dg_bus_publish_ordered events waiting for room now),
 * "waiting_dropped" (waiting events dropped: publisher removed, or out of
 * memory), per topic "vetoed", "rejected", "coalesced", "deferred" (ordered
 * events that had to wait), "owners" (names), per subscriber "coalesced", and
 * "interceptors":[{"owner","pattern","priority","calls","vetoed"}].
 * "overflow" is "block", "drop_oldest" or "coalesce".
 */
json_t *dg_bus_stats(dg_bus *bus);

/*
 * "chat.*" matching "chat.message" etc. Exposed for tests and fuzzing.
 * A topic is 1..DG_TOPIC_MAX bytes of '.'-separated non-empty segments of
 * [a-z0-9_-]. A pattern segment may also be "*" (exactly one segment), and
 * the last may be "**" (one or more segments). The functions return 1 or 0,
 * accept any NUL-terminated input (NULL gives 0) and never allocate;
 * dg_topic_match() does not validate its arguments.
 */
int dg_topic_valid(const char *topic);
int dg_topic_pattern_valid(const char *pattern);
int dg_topic_match(const char *pattern, const char *topic);

/*
 * Returns the owner's plugin id for stats ("core" for NULL); set by the plugin
 * host. The default (and fn == NULL) names NULL "core" and anything else
 * "plugin".
 */
typedef const char *(*dg_bus_owner_name_fn)(dg_ctx *owner);
void dg_bus_set_owner_namer(dg_bus *bus, dg_bus_owner_name_fn fn);

/* "block", "drop_oldest", "coalesce", or "unknown". */
const char *dg_overflow_name(dg_overflow overflow);

#endif
