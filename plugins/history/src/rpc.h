/*
 * RPC methods: history.log, history.search, history.export,
 * history.delete_old, history.stats (params and results in
 * plugins/history/README.md). They check the params on the loop thread and
 * hand the work to a read job (jobs.h) or the writer (retention, writer.h).
 */
#ifndef DG_HIST_RPC_H
#define DG_HIST_RPC_H

#include "state.h"

/* Largest page of history.log / history.search. */
#define HIST_LIMIT_MAX 10000
#define HIST_LIMIT_DEFAULT 50

int rpc_register_all(hist_state *st);

#endif
