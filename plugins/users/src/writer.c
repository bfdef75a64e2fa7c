#include "writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Attempts at committing one batch before it is given up. */
#define COMMIT_ATTEMPTS 5
#define RETRY_DELAY_MS 500

typedef struct op {
    struct op *next;
    us_user *put; /* a snapshot to write, or NULL */
    char *del;    /* a key to delete, or NULL */
} op;

struct us_writer {
    us_store *store;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake, idle;
    op *head, **tail; /* queued, in order */
    bool busy, stopping;
    size_t errors;
    char last_error[1024];
    void (*notify)(void *);
    void *notify_user;
};

static void op_free(op *o)
{
    while (o) {
        op *next = o->next;
        us_user_free(o->put);
        free(o->del);
        free(o);
        o = next;
    }
}

static size_t op_count(const op *o)
{
    size_t n = 0;
    for (; o; o = o->next)
        n++;
    return n;
}

/* Under the lock. */
static void record_error(us_writer *w, const char *msg)
{
    w->errors++;
    snprintf(w->last_error, sizeof w->last_error, "%s", msg);
}

/* Writes one batch in a transaction. 0 done (some ops may have failed), -1 commit failed. */
static int write_batch(us_writer *w, op *batch, char *err, size_t errlen)
{
    if (us_store_begin(w->store, err, errlen) != 0)
        return -1;
    char one[512];
    for (op *o = batch; o; o = o->next) {
        int rc = o->put ? us_store_put(w->store, o->put, one, sizeof one)
                        : us_store_delete(w->store, o->del, one, sizeof one);
        if (rc != 0) {
            /* One bad row must not cost the others: noted, and the batch goes on. */
            pthread_mutex_lock(&w->lock);
            record_error(w, one);
            pthread_mutex_unlock(&w->lock);
            if (w->notify)
                w->notify(w->notify_user);
        }
    }
    if (us_store_commit(w->store, err, errlen) != 0) {
        us_store_rollback(w->store);
        return -1;
    }
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *run(void *arg)
{
    us_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->head)
            break; /* stopping, nothing left */
        op *batch = w->head;
        w->head = NULL;
        w->tail = &w->head;
        w->busy = true;
        pthread_mutex_unlock(&w->lock);

        char err[512] = "";
        int rc = -1;
        for (int attempt = 0; attempt < COMMIT_ATTEMPTS && rc != 0; attempt++) {
            if (attempt)
                sleep_ms(RETRY_DELAY_MS);
            rc = write_batch(w, batch, err, sizeof err);
        }
        size_t n = op_count(batch);
        op_free(batch);

        pthread_mutex_lock(&w->lock);
        if (rc != 0) {
            char msg[600];
            snprintf(msg, sizeof msg, "%zu changes not saved: %.500s", n, err);
            record_error(w, msg);
        }
        w->busy = false;
        pthread_cond_broadcast(&w->idle);
        if (rc != 0 && w->notify) {
            pthread_mutex_unlock(&w->lock);
            w->notify(w->notify_user);
            pthread_mutex_lock(&w->lock);
        }
    }
    w->busy = false;
    pthread_cond_broadcast(&w->idle);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

us_writer *us_writer_start(us_store *store, void (*notify)(void *user), void *user)
{
    us_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->store = store;
    w->tail = &w->head;
    w->notify = notify;
    w->notify_user = user;
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w);
        return NULL;
    }
    if (pthread_cond_init(&w->wake, NULL) != 0) {
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    if (pthread_cond_init(&w->idle, NULL) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        pthread_cond_destroy(&w->idle);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

static int enqueue(us_writer *w, op *o)
{
    if (!o || (!o->put && !o->del)) {
        op_free(o);
        pthread_mutex_lock(&w->lock);
        record_error(w, "out of memory: a change was not saved");
        pthread_mutex_unlock(&w->lock);
        return -1;
    }
    pthread_mutex_lock(&w->lock);
    *w->tail = o;
    w->tail = &o->next;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

int us_writer_put(us_writer *w, const us_user *u)
{
    op *o = calloc(1, sizeof(*o));
    if (o)
        o->put = us_user_clone(u);
    return enqueue(w, o);
}

int us_writer_delete(us_writer *w, const char *key)
{
    op *o = calloc(1, sizeof(*o));
    if (o)
        o->del = strdup(key);
    return enqueue(w, o);
}

void us_writer_flush(us_writer *w)
{
    pthread_mutex_lock(&w->lock);
    while (w->head || w->busy)
        pthread_cond_wait(&w->idle, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

size_t us_writer_take_errors(us_writer *w, char *buf, size_t len)
{
    pthread_mutex_lock(&w->lock);
    size_t n = w->errors;
    if (len)
        snprintf(buf, len, "%s", w->last_error);
    w->errors = 0;
    pthread_mutex_unlock(&w->lock);
    return n;
}

void us_writer_stop(us_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    op_free(w->head);
    pthread_cond_destroy(&w->idle);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
