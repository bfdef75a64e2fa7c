/*
 * Worker threads hand work back to the loop thread through the mailbox: a
 * locked list of nodes and one host post() to drain it. Nodes are embedded
 * in what they carry (a job, a retention run, a log line), so posting never
 * allocates and never fails. A post still pending when the plugin stops is
 * not run by the host (plugin-guide §6.3); stop() therefore drains the
 * mailbox itself after joining the threads, so every call is answered and
 * every node freed.
 */
#ifndef DG_HIST_MAILBOX_H
#define DG_HIST_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>

struct hist_state;

typedef struct mb_node mb_node;
/* Runs on the loop thread; owns the node (frees what embeds it). */
typedef void (*mb_fn)(struct hist_state *st, mb_node *node);
struct mb_node {
    mb_node *next;
    mb_fn fn;
};

typedef struct hist_mailbox {
    pthread_mutex_t lock;
    mb_node *head, *tail;
    bool posted; /* a drain is pending on the loop */
} hist_mailbox;

int mailbox_init(hist_mailbox *mb);
/* Any thread: queues node for fn on the loop thread. */
void mailbox_post(struct hist_state *st, mb_node *node, mb_fn fn);
/* Loop thread: runs every queued node, in order. */
void mailbox_drain(struct hist_state *st);
/* After the last drain. */
void mailbox_destroy(hist_mailbox *mb);

/* A log line from a worker, logged on the loop thread (the host's log is not thread-safe). */
void mailbox_log(struct hist_state *st, int level, const char *msg);

#endif
