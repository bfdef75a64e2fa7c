/*
 * The control socket: JSON lines over a Unix stream socket (run/control.sock,
 * 0600). Request  {"id":any,"method":"x.y","params":{...}}
 * Response {"id":same,"result":...} or {"id":same,"error":{"code","message"}}.
 * Many concurrent clients; pipelined requests; answers in completion order.
 * A malformed line gets an error response (id null); a line over the size
 * limit (1 MiB) closes the connection after the error.
 *
 * Details: "id" is optional (null when absent); "params" may be an object, an
 * array, null or absent; other members are ignored; blank lines are skipped
 * and a trailing '\r' is tolerated. A client that closes (or half-closes) its
 * end is gone: answers already produced are flushed, calls still in flight
 * are detached. Connections from another uid (root excepted) are refused.
 */
#ifndef DG_CONTROL_H
#define DG_CONTROL_H

#include "rpc/rpc.h"
#include <uv.h>

typedef struct dg_control dg_control;

/*
 * Binds path (removing a stale socket, refusing a live one or a non-socket
 * file), mode 0600, and holds a lock on "<path>.lock" until stopped. The
 * directory must exist. On failure returns NULL with *err (new string, may be
 * NULL when err is NULL or out of memory), e.g. "another dengond is running
 * (socket X)". Sets SIGPIPE to ignored if it has the default disposition.
 * Uses umask(077) briefly: call before starting threads that create files.
 */
dg_control *dg_control_start(uv_loop_t *loop, dg_rpc *rpc, const char *path, char **err);
/*
 * Closes the listener and every client (unsent answers are dropped); pending
 * calls are detached; unlinks the socket file. ctl is invalid afterwards. Its
 * memory is released by the close callbacks: the caller must run the loop
 * (e.g. uv_run(loop, UV_RUN_DEFAULT) once everything else is closed) before
 * uv_loop_close. Stop it before freeing the dg_rpc.
 */
void dg_control_stop(dg_control *ctl);
/* {"clients","requests","errors","pending"}; new ref. */
json_t *dg_control_stats(dg_control *ctl);

#endif
