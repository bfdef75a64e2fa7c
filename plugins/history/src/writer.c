#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "store.h"

/* The writer and the loop share payloads: their reference counts must be atomic. */
#if !JSON_HAVE_ATOMIC_BUILTINS && !JSON_HAVE_SYNC_BUILTINS
#error "jansson without atomic reference counts cannot share payloads with the writer thread"
#endif

typedef enum { OP_EVENT, OP_IDENTITY, OP_PRUNE, OP_BARRIER } op_kind;

typedef struct prune_run {
    mb_node node; /* first: posted back when the run is over */
    dg_rpc_call *call;
    int64_t days, cutoff, deleted;
    char err[300]; /* empty when it succeeded */
} prune_run;

typedef struct wop {
    mb_node done;     /* first: a list of finished ops goes back to the loop through it */
    struct wop *next;
    op_kind kind;
    char topic[64];   /* event */
    json_t *payload;  /* event (a reference to the published one), identity (the key) */
    prune_run *prune; /* prune */
    mb_node *node;    /* barrier */
    mb_fn fn;
} wop;

typedef struct hist_writer {
    hist_state *st;
    hist_db *db;
    hist_apply apply;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    wop *head, *tail;
    size_t queued;
    bool stopping;
    bool lingering;            /* waiting with a transaction open: wake only for enough work */
    struct timespec commit_by; /* when lingering ends (CLOCK_MONOTONIC); tv_sec 0 = no batch */
} hist_writer;

/* ---- on the loop thread ---- */

/* Queues op; returns how many wait now. Any thread. */
static size_t enqueue(hist_writer *w, wop *op)
{
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = op;
    else
        w->head = op;
    w->tail = op;
    size_t n = ++w->queued;
    /* A lingering writer sleeps on until the batch is worth it, or someone waits for it. */
    if (!w->lingering || n >= HIST_LINGER_WAKE || op->kind == OP_BARRIER || op->kind == OP_PRUNE)
        pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    return n;
}

static wop *new_op(hist_state *st, op_kind kind)
{
    wop *op = calloc(1, sizeof *op);
    if (!op)
        st->api->log(st->ctx, DG_LOG_ERROR, "out of memory: a history event is lost");
    else
        op->kind = kind;
    return op;
}

void writer_event(hist_state *st, const char *topic, const json_t *payload)
{
    wop *op = new_op(st, OP_EVENT);
    if (!op) {
        atomic_fetch_add(&st->counters.errors, 1);
        return;
    }
    snprintf(op->topic, sizeof op->topic, "%s", topic);
    /*
     * A reference, not a copy: published payloads are immutable (plugin.h),
     * so the writer only reads it, and the reference is dropped back on this
     * thread (release_ops). A deep copy here cost more than storing the
     * message, and freeing on the writer what the loop allocated sent every
     * free and malloc through glibc's locked arena path instead of its
     * per-thread cache. (An orphan update, apply.c, holds a reference of
     * its own on the writer and may be the last to drop it: atomic counts
     * make that safe.)
     */
    op->payload = json_incref((json_t *)payload);
    if (enqueue(st->writer, op) == HIST_QUEUE_WARN)
        st->api->log(st->ctx, DG_LOG_WARN,
                     "%d events wait to be stored: the disk is slower than the traffic",
                     HIST_QUEUE_WARN);
}

void writer_identity(hist_state *st, const char *lan_key)
{
    wop *op = new_op(st, OP_IDENTITY);
    if (op && !(op->payload = json_string(lan_key))) {
        free(op);
        op = NULL;
    }
    if (op)
        enqueue(st->writer, op);
}

/* Ops the writer is done with (on the loop): their payloads were allocated here. */
static void release_ops(hist_state *st, mb_node *node)
{
    for (wop *op = (wop *)node; op;) {
        wop *next = op->next;
        json_decref(op->payload);
        free(op);
        op = next;
    }
}

/* The run is over (on the loop): answer, log, remember. */
static void prune_done(hist_state *st, mb_node *node)
{
    prune_run *p = (prune_run *)node;
    if (p->err[0]) {
        atomic_fetch_add(&st->counters.errors, 1);
        st->api->log(st->ctx, DG_LOG_ERROR, "deleting old messages: %s", p->err);
        if (p->call)
            st->api->rpc_fail(p->call, DG_RPC_FAILED, "deleting old messages: %s", p->err);
    } else {
        st->last_prune_time = hist_now();
        st->last_prune_deleted = p->deleted;
        st->last_prune_cutoff = p->cutoff;
        if (p->deleted)
            st->api->log(st->ctx, DG_LOG_INFO, "deleted %lld messages older than %lld days",
                         (long long)p->deleted, (long long)p->days);
        if (p->call) {
            json_t *r = json_pack("{s:I, s:I}", "deleted", (json_int_t)p->deleted, "days",
                                  (json_int_t)p->days);
            if (r && p->days > 0)
                json_object_set_new(r, "cutoff", json_integer(p->cutoff));
            st->api->rpc_reply(p->call, r);
        }
    }
    free(p);
}

void writer_prune(hist_state *st, dg_rpc_call *call, int64_t days, int64_t now)
{
    prune_run *p = calloc(1, sizeof *p);
    wop *op = p ? new_op(st, OP_PRUNE) : NULL;
    if (!op) {
        free(p);
        if (call)
            st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    p->call = call;
    p->days = days > 0 ? days : 0;
    p->cutoff = hist_retention_cutoff(now, p->days);
    op->prune = p;
    enqueue(st->writer, op);
}

void writer_barrier(hist_state *st, mb_node *node, mb_fn fn)
{
    wop *op = new_op(st, OP_BARRIER);
    if (!op) {
        fn(st, node); /* run now: it then reads without waiting for the queue */
        return;
    }
    op->node = node;
    op->fn = fn;
    enqueue(st->writer, op);
}

/* ---- on the writer thread ---- */

static void apply_log(void *user, int level, const char *msg)
{
    mailbox_log(user, level, msg);
}

static void flush(hist_writer *w)
{
    hist_state *st = w->st;
    w->commit_by.tv_sec = 0;
    bool had_batch = w->db->in_batch;
    if (hist_db_flush(w->db) == 0) {
        if (had_batch)
            atomic_fetch_add(&st->counters.commits, 1);
        return;
    }
    atomic_fetch_add(&st->counters.errors, 1);
    atomic_store(&st->counters.rows_lost, w->db->rows_lost);
    char msg[400];
    snprintf(msg, sizeof msg, "cannot commit messages to the history: %s", hist_db_error(w->db));
    mailbox_log(st, DG_LOG_ERROR, msg);
}

/* One chunk of a retention run; the op goes back to the queue while rows remain. */
static void prune_step(hist_writer *w, wop *op, bool stopping)
{
    prune_run *p = op->prune;
    flush(w);
    int64_t n = 0;
    int rc = stopping ? 0 : hist_store_delete_before(w->db, p->cutoff, PRUNE_CHUNK, &n);
    p->deleted += n;
    if (rc == 1) {
        op->next = NULL;
        enqueue(w, op);
        return;
    }
    if (rc < 0)
        snprintf(p->err, sizeof p->err, "%s", hist_db_error(w->db));
    else if (stopping)
        snprintf(p->err, sizeof p->err, "the history plugin stopped after deleting %lld messages",
                 (long long)p->deleted);
    mailbox_post(w->st, &p->node, prune_done);
    free(op);
}

/* Runs op; true when it is finished and goes back to the loop thread to be freed. */
static bool process(hist_writer *w, wop *op)
{
    switch (op->kind) {
    case OP_EVENT:
        hist_apply_event(&w->apply, w->db, op->topic, op->payload, hist_now());
        break;
    case OP_IDENTITY:
        hist_apply_set_local(&w->apply, json_string_value(op->payload));
        break;
    case OP_BARRIER:
        flush(w);
        mailbox_post(w->st, op->node, op->fn);
        free(op);
        return false;
    case OP_PRUNE:
        pthread_mutex_lock(&w->lock);
        bool stopping = w->stopping;
        pthread_mutex_unlock(&w->lock);
        prune_step(w, op, stopping);
        return false; /* the op is requeued or freed */
    }
    return true;
}

/* After a batch of work: the open transaction commits by now + the linger time at the latest. */
static void start_linger_clock(hist_writer *w)
{
    if (!w->db->in_batch || w->commit_by.tv_sec)
        return;
    clock_gettime(CLOCK_MONOTONIC, &w->commit_by);
    w->commit_by.tv_nsec += (long)HIST_COMMIT_LINGER_MS * 1000000L;
    if (w->commit_by.tv_nsec >= 1000000000L) {
        w->commit_by.tv_sec++;
        w->commit_by.tv_nsec -= 1000000000L;
    }
}

/* Called with the lock held and nothing queued: sleeps, committing when lingering ends. */
static void wait_for_work(hist_writer *w)
{
    if (!w->db->in_batch) {
        pthread_cond_wait(&w->wake, &w->lock);
        return;
    }
    w->lingering = true;
    int rc = pthread_cond_timedwait(&w->wake, &w->lock, &w->commit_by);
    w->lingering = false;
    if (rc == ETIMEDOUT || w->stopping) {
        pthread_mutex_unlock(&w->lock);
        flush(w);
        pthread_mutex_lock(&w->lock);
    }
}

static void *writer_main(void *user)
{
    hist_writer *w = user;
    /* Named for top, perf and the message benchmark, which reports this thread's CPU apart. */
    pthread_setname_np(pthread_self(), HIST_WRITER_THREAD_NAME);
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping)
            wait_for_work(w);
        if (!w->head)
            break; /* stopping, and everything is stored */
        wop *list = w->head;
        w->head = w->tail = NULL;
        w->queued = 0;
        pthread_mutex_unlock(&w->lock);
        wop *done = NULL, **done_tail = &done;
        while (list) {
            wop *next = list->next;
            if (process(w, list)) {
                list->next = NULL;
                *done_tail = list;
                done_tail = &list->next;
            }
            list = next;
        }
        if (done)
            mailbox_post(w->st, &done->done, release_ops);
        start_linger_clock(w);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    flush(w);
    return NULL;
}

/* The linger deadline is on CLOCK_MONOTONIC: a clock change must not hold a commit back. */
static int init_monotonic_cond(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
                     pthread_cond_init(cond, &attr) == 0
                 ? 0
                 : -1;
    pthread_condattr_destroy(&attr);
    return rc;
}

int writer_start(hist_state *st, hist_db *db, const char *local)
{
    hist_writer *w = calloc(1, sizeof *w);
    if (!w) {
        hist_db_close(db);
        return DG_ENOMEM;
    }
    w->st = st;
    w->db = db;
    w->apply.counters = &st->counters;
    w->apply.log = apply_log;
    w->apply.log_user = st;
    int rc = hist_apply_set_local(&w->apply, local);
    if (rc == 0 && pthread_mutex_init(&w->lock, NULL) != 0)
        rc = -1;
    if (rc == 0 && init_monotonic_cond(&w->wake) != 0) {
        pthread_mutex_destroy(&w->lock);
        rc = -1;
    }
    if (rc == 0 && pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        rc = -1;
    }
    if (rc != 0) {
        hist_apply_free(&w->apply);
        hist_db_close(db);
        free(w);
        st->api->log(st->ctx, DG_LOG_ERROR, "cannot start the history writer thread");
        return DG_ERR;
    }
    st->writer = w;
    return DG_OK;
}

void writer_stop(hist_state *st)
{
    hist_writer *w = st->writer;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    atomic_store(&st->counters.rows_lost, w->db->rows_lost);
    hist_db_close(w->db);
    hist_apply_free(&w->apply);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
    st->writer = NULL;
}
