/*
 * Publishing to never-drop topics (docs/events.md "block"): when a
 * subscriber's queue is full the bus refuses the event with DG_EAGAIN and the
 * publisher keeps it. This queue keeps such events, in order, and retries
 * them from a timer, so a slow subscriber delays message events but never
 * loses one. Later events wait behind earlier ones to keep their order.
 */
#ifndef DG_IPM_EVQ_H
#define DG_IPM_EVQ_H

#include <jansson.h>

#include "state.h"

/* Declares the plugin's topics (docs/events.md "ipmsg"); DG_OK or an error. */
int evq_declare_topics(ipm_state *st);
/*
 * Publishes payload (stolen) on a block topic, or queues it to retry. Returns
 * DG_STOP when an interceptor vetoed it now (another plugin consumed the
 * event), else DG_OK (published, queued, or logged as lost).
 */
int evq_publish(ipm_state *st, const char *topic, json_t *payload);
/* Drops what is still queued (at stop; counted in the log). */
void evq_free(ipm_state *st);

#endif
