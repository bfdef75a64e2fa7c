/*
 * Delivery of queued messages: one message in flight per recipient, oldest
 * first, so a recipient gets them in the order they were queued. A message
 * goes out through the chat.transport service when its recipient is listed
 * online (or absent); the ipmsg plugin's chat.message.delivered / .failed
 * events for that transport id finish the attempt.
 */
#ifndef DG_OUTBOX_DELIVER_H
#define DG_OUTBOX_DELIVER_H

#include <jansson.h>

#include "state.h"

/* Sends the next queued message for key if the recipient is reachable and none is in flight. */
void deliver_flush(outbox_state *st, const char *key);
/* deliver_flush for every recipient with queued messages. */
void deliver_flush_all(outbox_state *st);
/* A chat.message.delivered (ok) or .failed event. */
void deliver_on_result(outbox_state *st, const json_t *event, bool ok);
/* A presence.changed event: follow moves, flush when the user is reachable. */
void deliver_on_presence(outbox_state *st, const json_t *event);
/* Expires old queued messages (outbox.expire_days) and purges old finished ones (outbox.keep_days).
 */
void deliver_housekeeping(outbox_state *st);
/* The in-flight record of queue row id, or NULL. */
ob_inflight *deliver_inflight(outbox_state *st, int64_t row);
/* Forgets an in-flight record (its result will be ignored). */
void deliver_forget(outbox_state *st, ob_inflight *f);
void deliver_free(outbox_state *st);

/*
 * Publishes a queue.message.* event (payload stolen; NULL, an entry that
 * could not be built, is logged and not published) with the host's
 * publish_ordered: never dropped and in order, kept by the host while a
 * subscriber is full.
 */
void deliver_publish(outbox_state *st, const char *topic, json_t *payload);

/* A queue entry as queue.list and the queue.message.* events show it. */
json_t *deliver_entry_json(outbox_state *st, const qmsg *m);

#endif
