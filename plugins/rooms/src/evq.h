/*
 * Publishing to never-drop (block) topics: an event a full subscriber refused
 * (DG_EAGAIN) waits here and is published again, in order, from a timer.
 */
#ifndef DG_ROOMS_EVQ_H
#define DG_ROOMS_EVQ_H

#include <jansson.h>

#include "state.h"

/* Declares chat.room.message and chat.room.member; DG_OK or the host's error. */
int rooms_evq_declare(rooms_state *st);
/* payload is stolen. */
void rooms_evq_publish(rooms_state *st, const char *topic, json_t *payload);
void rooms_evq_free(rooms_state *st);

#endif
