/*
 * Running a function on the loop thread from a transfer thread and waiting
 * for it: the services the hooks need (crypto.keys, chat.transport) and
 * publishing run there only. At stop, waiting callers are released with -1
 * (fc_onloop_stop) before the files plugin lets the provider go.
 */
#ifndef DG_FC_ONLOOP_H
#define DG_FC_ONLOOP_H

#include "state.h"

typedef int (*fc_loop_fn)(fc_state *st, void *arg);

/* fn(st, arg) on the loop thread; its result, or -1 when stopping. */
int fc_on_loop(fc_state *st, fc_loop_fn fn, void *arg);
/* Refuses new calls and releases the waiting ones (loop thread, at stop). */
void fc_onloop_stop(fc_state *st);

#endif
