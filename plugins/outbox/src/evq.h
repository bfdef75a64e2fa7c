/*
 * Publishing to never-drop (block) topics: an event a full subscriber refused
 * (DG_EAGAIN) waits here and is published again, in order, from a timer.
 */
#ifndef DG_OUTBOX_EVQ_H
#define DG_OUTBOX_EVQ_H

#include <jansson.h>

#include "state.h"

/* Declares the queue.message.* topics; DG_OK or the host's error. */
int ob_evq_declare(outbox_state *st);
/* payload is stolen. */
void ob_evq_publish(outbox_state *st, const char *topic, json_t *payload);
void ob_evq_free(outbox_state *st);

#endif
