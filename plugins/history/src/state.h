/*
 * The history plugin's state, shared by its modules. The loop thread owns
 * everything here but the counters (written by the writer thread, atomic)
 * and the mailbox (locked); see writer.h and jobs.h for the threads.
 */
#ifndef DG_HIST_STATE_H
#define DG_HIST_STATE_H

#include <dengon/plugin.h>
#include <stdbool.h>
#include <stdint.h>

#include "apply.h"
#include "mailbox.h"

struct hist_writer;
struct hist_job;

typedef struct hist_state {
    dg_ctx *ctx;
    const dg_host_api *api;
    char *db_path;
    char *data_dir;
    int schema_version;
    struct hist_writer *writer; /* owns the read-write connection */
    struct hist_job *jobs;      /* reads waiting or running, oldest first */
    hist_mailbox mailbox;
    bool stopping; /* stop() has begun: no new job starts */
    int64_t last_prune_time, last_prune_deleted, last_prune_cutoff;
    hist_counters counters;
} hist_state;

/* Unix seconds. */
int64_t hist_now(void);

#endif
