/*
 * The control socket: JSON lines over a Unix stream socket (run/control.sock,
 * 0600). Request  {"id":any,"method":"x.y","params":{...}}
 * Response {"id":same,"result":...} or {"id":same,"error":{"code","message"}}.
 * Many concurrent clients; pipelined requests; answers in completion order.
 * A malformed line gets an error response (id null); a line over the size
 * limit closes the connection after the error.
 */
#ifndef DG_CONTROL_H
#define DG_CONTROL_H

#include "rpc/rpc.h"
#include <uv.h>

typedef struct dg_control dg_control;

/* Binds path (removing a stale socket, refusing a live one), mode 0600. */
dg_control *dg_control_start(uv_loop_t *loop, dg_rpc *rpc, const char *path, char **err);
/* Closes the listener and every client; pending calls are detached. */
void dg_control_stop(dg_control *ctl);
/* {"clients","requests","errors"}; new ref. */
json_t *dg_control_stats(dg_control *ctl);

#endif
