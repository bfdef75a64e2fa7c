#include "onloop.h"

typedef struct fc_call {
    struct fc_call *next;
    fc_loop_fn fn;
    void *arg;
    int rc;
    bool done;
} fc_call;

/*
 * Runs every queued call. A call lives on its caller's stack: the caller
 * waits until done, or leaves (taking it off the queue) only after stop
 * started, and stop runs on this same thread, so no call runs while its
 * caller leaves.
 */
static void run_queue(void *user)
{
    fc_state *st = user;
    for (;;) {
        pthread_mutex_lock(&st->lock);
        fc_call *c = st->stopping ? NULL : st->queue;
        if (c)
            st->queue = c->next;
        pthread_mutex_unlock(&st->lock);
        if (!c)
            return;
        int rc = c->fn(st, c->arg);
        pthread_mutex_lock(&st->lock);
        c->rc = rc;
        c->done = true;
        pthread_cond_broadcast(&st->cond);
        pthread_mutex_unlock(&st->lock);
    }
}

int fc_on_loop(fc_state *st, fc_loop_fn fn, void *arg)
{
    fc_call c = {.fn = fn, .arg = arg, .rc = -1};
    pthread_mutex_lock(&st->lock);
    if (st->stopping) {
        pthread_mutex_unlock(&st->lock);
        return -1;
    }
    fc_call **pp = &st->queue;
    while (*pp)
        pp = &(*pp)->next;
    *pp = &c;
    /* Posted under the lock: stop cannot start between the check and the post. */
    if (st->api->post(st->ctx, run_queue, st) != DG_OK) {
        *pp = NULL;
        pthread_mutex_unlock(&st->lock);
        return -1;
    }
    while (!c.done && !st->stopping)
        pthread_cond_wait(&st->cond, &st->lock);
    if (!c.done) {
        for (pp = &st->queue; *pp; pp = &(*pp)->next)
            if (*pp == &c) {
                *pp = c.next;
                break;
            }
    }
    pthread_mutex_unlock(&st->lock);
    return c.done ? c.rc : -1;
}

void fc_onloop_stop(fc_state *st)
{
    pthread_mutex_lock(&st->lock);
    st->stopping = true;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
}
