/*
 * The writer thread: the only user of the read-write connection. The loop
 * thread never waits for SQLite: it queues each event (a reference to the
 * published payload, which is immutable) and returns; finished events go
 * back to the loop thread to be released where they were allocated. The writer takes everything queued at once
 * and commits it as one transaction (at most HIST_BATCH_MAX rows each), so
 * a burst of messages costs one commit, and FTS5 writes one index segment
 * per batch instead of one per message.
 *
 * The queue keeps order: a state update follows its message, and a barrier
 * (a read that must see every earlier event) or a retention run takes its
 * turn after the events queued before it. A retention run deletes
 * PRUNE_CHUNK rows per transaction and goes back to the end of the queue
 * between chunks, so new messages are not held up by a long deletion.
 *
 * The queue is not bounded: a message is never dropped. When SQLite is
 * slower than the traffic, memory grows, and a warning is logged at
 * HIST_QUEUE_WARN events waiting.
 */
#ifndef DG_HIST_WRITER_H
#define DG_HIST_WRITER_H

#include <jansson.h>
#include <stdint.h>

#include "mailbox.h"
#include "state.h"

#define PRUNE_CHUNK 500
/* Longest a stored message waits for others before its transaction commits. */
#define HIST_COMMIT_LINGER_MS 20
/* While lingering, the writer is woken early once this many events wait. */
#define HIST_LINGER_WAKE 128
#define HIST_QUEUE_WARN 100000
/* The writer thread's name (/proc/<pid>/task/<tid>/comm; at most 15 bytes). */
#define HIST_WRITER_THREAD_NAME "dg-history"

/* Starts the thread; it owns db from now on (also on failure, when it is closed). */
int writer_start(hist_state *st, hist_db *db, const char *local);

/* Loop thread: store a chat event (payload borrowed; the writer holds a reference). */
void writer_event(hist_state *st, const char *topic, const json_t *payload);
/* Loop thread: our key changed. */
void writer_identity(hist_state *st, const char *lan_key);
/* Loop thread: delete messages older than days at time now; call (or NULL) gets the answer. */
void writer_prune(hist_state *st, dg_rpc_call *call, int64_t days, int64_t now);
/* Loop thread: fn(node) runs on the loop once everything queued before is committed. */
void writer_barrier(hist_state *st, mb_node *node, mb_fn fn);

/* Stores what is queued (retention runs end early), commits, joins, closes the database. */
void writer_stop(hist_state *st);

#endif
