/*
 * Reads run on worker threads: history.log, history.search, history.export
 * and history.stats. A search for a word of 1-2 characters (the LIKE
 * fallback) or an export may read every row, which takes seconds in a long
 * history, and the loop thread must not wait for that (plugin-guide §7).
 *
 * Each job opens its own read-only connection (WAL: it reads a consistent
 * snapshot while the writer keeps writing), runs, and posts back to the
 * loop, which answers the call. A job starts once the writer has committed
 * every event queued before it (a barrier, writer.h), so it sees every
 * message the history received before the call. At most HIST_JOBS_RUNNING
 * run at once; the others wait in order (up to HIST_JOBS_QUEUED).
 */
#ifndef DG_HIST_JOBS_H
#define DG_HIST_JOBS_H

#include <jansson.h>
#include <stdbool.h>

#include "export.h"
#include "query.h"
#include "state.h"

#define HIST_JOBS_RUNNING 4
#define HIST_JOBS_QUEUED 256

typedef enum hist_job_kind { JOB_PAGE, JOB_EXPORT, JOB_STATS } hist_job_kind;

typedef struct hist_job_req {
    hist_job_kind kind;
    char *with;       /* page, export: only messages with this user (key, nickname, logon name) */
    json_t *peers;    /* with: keys it is known by besides the history's (chat transport) */
    char *room;       /* page, export: one room, or NULL */
    hist_terms terms; /* page: search terms (match and like both NULL: none) */
    int64_t before;   /* page */
    int64_t limit;    /* page */
    hist_format fmt;  /* export */
    char *target;     /* export: the file (export.h), or NULL to answer with the export */
    bool overwrite;   /* export: replace an existing target */
} hist_job_req;

/* Frees what a request holds. */
void jobs_req_free(hist_job_req *req);

/*
 * Runs req for call: the call is answered when the job is done, or at once
 * on failure. req's contents are taken in every case.
 */
void jobs_start(hist_state *st, dg_rpc_call *call, hist_job_req *req);

/* Asks running jobs to stop early (exports, long searches). From stop(), first. */
void jobs_cancel_all(hist_state *st);
/*
 * Joins the running jobs and drains the mailbox, so every call is answered:
 * with its result when it finished, else with a reason. From stop(), after
 * the writer stopped.
 */
void jobs_stop_all(hist_state *st);

#endif
