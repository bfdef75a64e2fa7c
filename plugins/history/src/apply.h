/*
 * Chat events become rows: the payloads of chat.message.sent, .received,
 * .delivered, .failed, .opened and .read (docs/events.md, ipmsg section),
 * chat.room.message (rooms: a post "in" or "out", stored with its room) and
 * queue.message.delivered / .failed with "final" (outbox: queued messages,
 * which the transport does not publish as sent) are checked and written with
 * store.h. A "transport" field names the id space of "id" (default "chat").
 *
 * A recipient's state can arrive before its message: ipmsg publishes
 * chat.message.failed for a recipient it could not send to at all before
 * chat.message.sent. Such updates are held (at most HIST_ORPHANS_MAX, for
 * HIST_ORPHAN_TTL_S) and applied when the message is stored.
 *
 * Pure: no host API, so the writer thread runs it and unit tests call it.
 */
#ifndef DG_HIST_APPLY_H
#define DG_HIST_APPLY_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define HIST_ORPHANS_MAX 256
#define HIST_ORPHAN_TTL_S 600

/* Counters shown by history.stats under "events" (written by one thread, read by another). */
typedef struct hist_counters {
    atomic_uint_fast64_t stored;    /* messages written */
    atomic_uint_fast64_t updates;   /* delivery/opened/read states written */
    atomic_uint_fast64_t deferred;  /* state events held until their message came */
    atomic_uint_fast64_t unmatched; /* state events for messages not in the history */
    atomic_uint_fast64_t invalid;   /* events with missing or mistyped fields */
    atomic_uint_fast64_t errors;    /* SQLite failures */
    atomic_uint_fast64_t rows_lost; /* rows of batches SQLite rolled back after an error */
    atomic_uint_fast64_t commits;   /* write transactions committed (group commit: << stored) */
} hist_counters;

typedef struct hist_orphan hist_orphan;

/* Log callback: level as dg_log_level (0 error, 1 warn, 2 info, 3 debug). */
typedef void (*hist_log_fn)(void *user, int level, const char *msg);

typedef struct hist_apply {
    char *local;             /* our key (user@host); owned */
    hist_counters *counters; /* borrowed */
    hist_log_fn log;         /* or NULL */
    void *log_user;
    hist_orphan *orphans; /* oldest first */
    size_t n_orphans;
} hist_apply;

/* Sets our key (a copy). 0, or -1 out of memory (the old one stays). */
int hist_apply_set_local(hist_apply *a, const char *local);

/*
 * Applies one event: topic is the full name ("chat.message.sent"); now is
 * the current time (orphans expire by it; events without "time" get it).
 * Problems are counted and logged, never returned: an event is applied or
 * reported, and the next one goes on.
 */
void hist_apply_event(hist_apply *a, hist_db *db, const char *topic, const json_t *payload,
                      int64_t now);

/* Frees the held updates and our key. */
void hist_apply_free(hist_apply *a);

#endif
