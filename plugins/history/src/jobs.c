#include "jobs.h"

#include "writer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct hist_job {
    mb_node node; /* first: posted when the writer passed the barrier, then when done */
    struct hist_job *next;
    hist_state *st;
    dg_rpc_call *call;
    pthread_t thread;
    bool running, joined;
    char *db_path;
    hist_job_req req;
    atomic_int cancel;
    /* Written by the worker before it posts, read on the loop after. */
    json_t *result;
    char err[512];
} hist_job;

void jobs_req_free(hist_job_req *req)
{
    free(req->with);
    json_decref(req->peers);
    free(req->room);
    free(req->target);
    hist_terms_free(&req->terms);
    memset(req, 0, sizeof *req);
}

static void job_free(hist_job *j)
{
    jobs_req_free(&j->req);
    json_decref(j->result);
    free(j->db_path);
    free(j);
}

/* Adds what only the loop thread knows: the plugin's counters. */
static void add_counters(hist_state *st, json_t *o)
{
    hist_counters *c = &st->counters;
    json_object_set_new(o, "path", json_string(st->db_path));
    json_object_set_new(o, "delete_days",
                        json_integer(st->api->config_get_int(st->ctx, "history.delete_days", 0)));
    json_object_set_new(o, "rows_lost", json_integer((json_int_t)atomic_load(&c->rows_lost)));
    json_object_set_new(o, "commits", json_integer((json_int_t)atomic_load(&c->commits)));
    json_object_set_new(o, "events",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "stored",
                                  (json_int_t)atomic_load(&c->stored), "updates",
                                  (json_int_t)atomic_load(&c->updates), "deferred",
                                  (json_int_t)atomic_load(&c->deferred), "unmatched",
                                  (json_int_t)atomic_load(&c->unmatched), "invalid",
                                  (json_int_t)atomic_load(&c->invalid), "errors",
                                  (json_int_t)atomic_load(&c->errors)));
    if (st->last_prune_time)
        json_object_set_new(o, "last_delete",
                            json_pack("{s:I, s:I, s:I}", "time", (json_int_t)st->last_prune_time,
                                      "deleted", (json_int_t)st->last_prune_deleted, "cutoff",
                                      (json_int_t)st->last_prune_cutoff));
#ifdef DENGON_TESTING_BUILD
    json_object_set_new(o, "testing_build", json_true());
#else
    json_object_set_new(o, "testing_build", json_false());
#endif
}

static void job_answer(hist_job *j)
{
    hist_state *st = j->st;
    if (j->result) {
        if (j->req.kind == JOB_STATS)
            add_counters(st, j->result);
        st->api->rpc_reply(j->call, j->result);
        j->result = NULL;
    } else {
        if (j->req.kind != JOB_EXPORT) /* an export's reason is often the user's (a path) */
            atomic_fetch_add(&st->counters.errors, 1);
        st->api->rpc_fail(j->call, DG_RPC_FAILED, "%s", j->err[0] ? j->err : "failed");
    }
}

/* ---- the worker ---- */

/*
 * The keys of req.with: those the history knows it by (key, a nickname, the
 * logon name) and those the loop found (req.peers). 0, or -1 with j->err set.
 */
static int resolve_with(hist_job *j, hist_db *db)
{
    if (!j->req.with)
        return 0;
    json_t *keys = hist_resolve_peers(db, j->req.with);
    if (!keys) {
        snprintf(j->err, sizeof j->err, "cannot read the history: %s", hist_db_error(db));
        return -1;
    }
    size_t i;
    json_t *k;
    json_array_foreach(j->req.peers, i, k)
    {
        bool known = false;
        for (size_t n = 0; n < json_array_size(keys) && !known; n++)
            known =
                strcasecmp(json_string_value(json_array_get(keys, n)), json_string_value(k)) == 0;
        if (!known)
            json_array_append(keys, k);
    }
    json_decref(j->req.peers);
    j->req.peers = keys;
    return 0;
}

static json_t *run_page(hist_job *j, hist_db *db)
{
    if (resolve_with(j, db) != 0)
        return NULL;
    bool search = j->req.terms.match || j->req.terms.cjk || j->req.terms.like;
    hist_query q = {.peers = j->req.peers,
                    .terms = search ? &j->req.terms : NULL,
                    .room = j->req.room,
                    .before = j->req.before,
                    .limit = j->req.limit,
                    .cancel = &j->cancel};
    json_t *page = hist_query_page(db, &q);
    if (!page)
        snprintf(j->err, sizeof j->err, "cannot read the history: %s", hist_db_error(db));
    else if (j->req.peers)
        json_object_set(page, "peers", j->req.peers);
    return page;
}

static json_t *run_export(hist_job *j, hist_db *db)
{
    if (resolve_with(j, db) != 0)
        return NULL;
    hist_query q = {.peers = j->req.peers, .room = j->req.room, .cancel = &j->cancel};
    if (j->req.target)
        return hist_export_file(db, &q, j->req.fmt, j->req.target, j->req.overwrite, j->err,
                                sizeof j->err);
    return hist_export_result(db, &q, j->req.fmt, HIST_EXPORT_MAX_RESULT, j->err, sizeof j->err);
}

static void job_done(hist_state *st, mb_node *node);

static void *job_run(void *user)
{
    hist_job *j = user;
    hist_db *db = hist_db_open(j->db_path, true, j->err, sizeof j->err);
    if (db) {
        if (j->req.kind == JOB_PAGE)
            j->result = run_page(j, db);
        else if (j->req.kind == JOB_EXPORT)
            j->result = run_export(j, db);
        else if (!(j->result = hist_stats(db)))
            snprintf(j->err, sizeof j->err, "cannot read the history: %s", hist_db_error(db));
        hist_db_close(db);
    }
    mailbox_post(j->st, &j->node, job_done);
    return NULL;
}

/* ---- the queue, on the loop thread ---- */

/* Starts waiting jobs while fewer than HIST_JOBS_RUNNING run (not once stopping). */
static void start_waiting(hist_state *st)
{
    if (st->stopping)
        return;
    size_t running = 0;
    for (hist_job *j = st->jobs; j; j = j->next)
        running += j->running;
    for (hist_job **pp = &st->jobs; *pp && running < HIST_JOBS_RUNNING;) {
        hist_job *j = *pp;
        if (j->running) {
            pp = &j->next;
            continue;
        }
        int rc = pthread_create(&j->thread, NULL, job_run, j);
        if (rc != 0) {
            *pp = j->next;
            snprintf(j->err, sizeof j->err, "cannot start a worker thread: %s", strerror(rc));
            job_answer(j);
            job_free(j);
            continue;
        }
        j->running = true;
        running++;
        pp = &j->next;
    }
}

static void job_unlink(hist_state *st, hist_job *j)
{
    for (hist_job **pp = &st->jobs; *pp; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            return;
        }
    }
}

/* On the loop thread, after the worker finished. */
static void job_done(hist_state *st, mb_node *node)
{
    hist_job *j = (hist_job *)node;
    if (!j->joined)
        pthread_join(j->thread, NULL); /* it has returned or is returning */
    job_unlink(st, j);
    job_answer(j);
    job_free(j);
    start_waiting(st);
}

/* On the loop thread, once the writer committed everything queued before the request. */
static void job_launch(hist_state *st, mb_node *node)
{
    hist_job *j = (hist_job *)node;
    if (st->stopping) {
        st->api->rpc_fail(j->call, DG_RPC_FAILED, "the history plugin stopped");
        job_free(j);
        return;
    }
    hist_job **tail = &st->jobs; /* oldest first: answered in order */
    while (*tail)
        tail = &(*tail)->next;
    *tail = j;
    start_waiting(st);
}

void jobs_start(hist_state *st, dg_rpc_call *call, hist_job_req *req)
{
    size_t n = 0;
    for (hist_job *j = st->jobs; j; j = j->next)
        n++;
    if (n >= HIST_JOBS_RUNNING + HIST_JOBS_QUEUED) {
        jobs_req_free(req);
        st->api->rpc_fail(call, DG_RPC_FAILED, "the history is busy (%zu requests waiting)", n);
        return;
    }
    hist_job *j = calloc(1, sizeof *j);
    if (!j || !(j->db_path = strdup(st->db_path))) {
        free(j);
        jobs_req_free(req);
        st->api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    j->st = st;
    j->call = call;
    j->req = *req;
    memset(req, 0, sizeof *req);
    atomic_init(&j->cancel, 0);
    /* The read sees every event the history received before the call. */
    writer_barrier(st, &j->node, job_launch);
}

void jobs_cancel_all(hist_state *st)
{
    for (hist_job *j = st->jobs; j; j = j->next)
        atomic_store(&j->cancel, 1);
}

void jobs_stop_all(hist_state *st)
{
    /* Running workers post job_done; the caller drains the mailbox after this. */
    for (hist_job *j = st->jobs; j; j = j->next) {
        if (j->running) {
            pthread_join(j->thread, NULL);
            j->joined = true;
        }
    }
    mailbox_drain(st);
    while (st->jobs) { /* waiting, never started */
        hist_job *j = st->jobs;
        st->jobs = j->next;
        st->api->rpc_fail(j->call, DG_RPC_FAILED, "the history plugin stopped");
        job_free(j);
    }
}
