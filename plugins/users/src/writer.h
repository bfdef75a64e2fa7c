/*
 * Writes the directory's changes to the store on a thread of its own, so the
 * loop thread never waits for the disk (plugin guide, "Threading"). The loop
 * thread queues snapshots (put) and deletions in order; the writer takes
 * everything queued and applies it in one transaction, so a burst of
 * presence events becomes a few commits.
 *
 * A failed commit is retried (the batch stays first in line) a few times,
 * then dropped; failures are counted and the last reason kept for the loop
 * thread to log (notify is called from the writer thread: it must be
 * thread-safe, like dg_host_api.post).
 */
#ifndef DG_USERS_WRITER_H
#define DG_USERS_WRITER_H

#include <stddef.h>

#include "store.h"
#include "user.h"

typedef struct us_writer us_writer;

/* Starts the thread; the store is the writer's until us_writer_stop. NULL on failure. */
us_writer *us_writer_start(us_store *store, void (*notify)(void *user), void *user);
/* Queues a copy of u. 0, or -1 (out of memory: the change is lost, counted as a failure). */
int us_writer_put(us_writer *w, const us_user *u);
/* Queues the deletion of key. */
int us_writer_delete(us_writer *w, const char *key);
/* Waits until everything queued so far is written (or failed). */
void us_writer_flush(us_writer *w);
/* Failures since the last call, with the last reason in buf. */
size_t us_writer_take_errors(us_writer *w, char *buf, size_t len);
/* Writes what is queued, stops the thread, frees w (not the store). */
void us_writer_stop(us_writer *w);

#endif
