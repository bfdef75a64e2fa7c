/*
 * The event bus: dotted topics, jansson payloads, queued delivery on the loop
 * thread, priorities, interceptors, glob subscriptions, bounded per-subscriber
 * queues with a per-topic overflow policy, and cross-thread publish.
 *
 * Ownership: every registration carries an owner (a plugin's dg_ctx, or NULL
 * for the core). The owner is passed back to callbacks as their ctx argument,
 * and dg_bus_remove_owner() removes everything one owner registered.
 */
#ifndef DG_BUS_H
#define DG_BUS_H

#include <dengon/plugin.h>
#include <jansson.h>
#include <uv.h>

typedef struct dg_bus dg_bus;

/* default_capacity: per-subscriber queue bound when a subscriber asks for 0. */
dg_bus *dg_bus_new(uv_loop_t *loop, size_t default_capacity);
/* Delivers nothing more; drops queued events, frees everything, calls user_free. */
void dg_bus_free(dg_bus *bus);

/*
 * Declares a topic with its overflow policy. Declaring again with the same
 * policy is DG_OK (counted once per owner); another policy is DG_EEXIST.
 * Publishing to a topic nobody declared returns DG_ENOENT.
 */
int dg_bus_declare(dg_bus *bus, dg_ctx *owner, const char *topic, dg_overflow overflow);

/*
 * Publishes (payload stolen; NULL = empty object). From the loop thread the
 * interceptors run now and the event is queued to every matching subscriber;
 * from any other thread it is handed to the loop first. Returns DG_OK,
 * DG_STOP (vetoed by an interceptor), DG_ENOENT (undeclared topic), DG_EINVAL
 * (bad topic name) or DG_EAGAIN (a DG_OVERFLOW_BLOCK topic whose subscriber
 * queue is full: nothing was queued anywhere, the caller keeps the message).
 */
int dg_bus_publish(dg_bus *bus, dg_ctx *publisher, const char *topic, json_t *payload);

dg_sub *dg_bus_subscribe(dg_bus *bus, dg_ctx *owner, const char *pattern, int priority,
                         size_t queue_capacity, dg_event_fn fn, void *user, dg_free_fn user_free);
dg_sub *dg_bus_intercept(dg_bus *bus, dg_ctx *owner, const char *pattern, int priority,
                         dg_intercept_fn fn, void *user, dg_free_fn user_free);
/* Safe inside a callback: marks the entry and reaps it after dispatch. */
void dg_bus_unsubscribe(dg_bus *bus, dg_sub *sub);
/* Removes every subscription, interceptor and declaration of owner (its queued events are dropped). */
void dg_bus_remove_owner(dg_bus *bus, dg_ctx *owner);

/* Runs fn(user) on the loop thread soon. Thread-safe. */
int dg_bus_post(dg_bus *bus, dg_post_fn fn, void *user);

/* Delivers everything queued (including cross-thread handoffs) now; returns events delivered. */
size_t dg_bus_flush(dg_bus *bus);

/*
 * Counters as a new JSON object:
 * {"published","delivered","vetoed","rejected","dropped","coalesced","pending",
 *  "topics":{topic:{"overflow","published","delivered","dropped",...}},
 *  "subscribers":[{"owner","pattern","priority","capacity","depth","max_depth","dropped","delivered"}]}
 */
json_t *dg_bus_stats(dg_bus *bus);

/* "chat.*" matching "chat.message" etc. Exposed for tests and fuzzing. */
int dg_topic_valid(const char *topic);
int dg_topic_pattern_valid(const char *pattern);
int dg_topic_match(const char *pattern, const char *topic);

/* Returns the owner's plugin id for stats ("core" for NULL); set by the plugin host. */
typedef const char *(*dg_bus_owner_name_fn)(dg_ctx *owner);
void dg_bus_set_owner_namer(dg_bus *bus, dg_bus_owner_name_fn fn);

#endif
