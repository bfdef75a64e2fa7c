/*
 * RPC registry: JSON methods registered by the core and by plugins, called by
 * transports (the control socket; later the web UI's WebSocket). A call is
 * answered exactly once through dg_host_api's rpc_reply/rpc_fail (implemented
 * here as dg_rpc_reply/dg_rpc_fail).
 */
#ifndef DG_RPC_H
#define DG_RPC_H

#include <dengon/plugin.h>
#include <jansson.h>
#include <stdarg.h>

typedef struct dg_rpc dg_rpc;

/*
 * Completion: exactly one of result / error is non-NULL (both borrowed).
 * error is {"code":int,"message":str}.
 */
typedef void (*dg_rpc_done_fn)(void *done_user, const json_t *result, const json_t *error);

dg_rpc *dg_rpc_new(void);
/* Pending calls are detached (answers discarded); registrations freed. */
void dg_rpc_free(dg_rpc *rpc);

/* owner NULL = core. DG_EEXIST if taken, DG_EINVAL for a bad name. */
int dg_rpc_register(dg_rpc *rpc, dg_ctx *owner, const char *method, const char *summary,
                    dg_rpc_fn fn, void *user, dg_free_fn user_free);
void dg_rpc_remove_owner(dg_rpc *rpc, dg_ctx *owner);

/*
 * Calls method. done runs when the handler answers (possibly synchronously,
 * inside this call). Unknown method: done runs now with METHOD_NOT_FOUND.
 * Returns the call (to detach it if the client goes away) or NULL when done
 * already ran.
 */
dg_rpc_call *dg_rpc_invoke(dg_rpc *rpc, const char *method, const json_t *params,
                           dg_rpc_done_fn done, void *done_user);
/* The client went away: the eventual answer is discarded. */
void dg_rpc_detach(dg_rpc_call *call);

void dg_rpc_reply(dg_rpc_call *call, json_t *result);
void dg_rpc_fail(dg_rpc_call *call, int code, const char *fmt, ...) DG_PRINTF(3, 4);
void dg_rpc_failv(dg_rpc_call *call, int code, const char *fmt, va_list ap);

/* [{"method","summary","owner"}] sorted; new ref. */
json_t *dg_rpc_list(dg_rpc *rpc);
int dg_rpc_method_valid(const char *method);

/* Owner name for listings; set by the plugin host ("core" for NULL). */
typedef const char *(*dg_rpc_owner_name_fn)(dg_ctx *owner);
void dg_rpc_set_owner_namer(dg_rpc *rpc, dg_rpc_owner_name_fn fn);

#endif
