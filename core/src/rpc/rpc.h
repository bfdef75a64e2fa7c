/*
 * RPC registry: JSON methods registered by the core and by plugins, called by
 * transports (the control socket; later the web UI's WebSocket). A call is
 * answered exactly once through dg_host_api's rpc_reply/rpc_fail (implemented
 * here as dg_rpc_reply/dg_rpc_fail).
 *
 * Everything here runs on the loop thread. A dg_rpc_call handle is a
 * never-reused id, not a pointer: answering a call twice, or after it was
 * failed because its plugin stopped, is logged and ignored (the stolen result
 * is released), never a double free.
 */
#ifndef DG_RPC_H
#define DG_RPC_H

#include <dengon/plugin.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>

typedef struct dg_rpc dg_rpc;

/* Longest method name accepted, in bytes. */
#define DG_RPC_METHOD_MAX 128
/* Error messages are cut to this many bytes (and made valid UTF-8). */
#define DG_RPC_MESSAGE_MAX 1024

/*
 * Completion: exactly one of result / error is non-NULL (both borrowed).
 * error is {"code":int,"message":str}.
 */
typedef void (*dg_rpc_done_fn)(void *done_user, const json_t *result, const json_t *error);

dg_rpc *dg_rpc_new(void);
/*
 * Pending calls are dropped without running their done callbacks (stop the
 * transports first, they detach their own calls); registrations freed. A
 * later answer to a dropped call is logged and ignored.
 */
void dg_rpc_free(dg_rpc *rpc);

/*
 * owner NULL = core. Names: two or more dot-separated segments of [a-z0-9_]
 * (see dg_rpc_method_valid). Returns DG_OK, DG_EEXIST if taken, DG_EINVAL for
 * a bad name or NULL fn, DG_EDENIED when a plugin (owner != NULL) tries the
 * reserved "core." namespace, DG_ENOMEM. On failure user_free is not called:
 * the caller keeps user.
 */
int dg_rpc_register(dg_rpc *rpc, dg_ctx *owner, const char *method, const char *summary,
                    dg_rpc_fn fn, void *user, dg_free_fn user_free);
/*
 * Unregisters every method of owner (user_free runs once no handler of the
 * method is executing) and fails the owner's unanswered calls with
 * DG_RPC_FAILED "plugin <name> stopped".
 */
void dg_rpc_remove_owner(dg_rpc *rpc, dg_ctx *owner);

/*
 * Calls method. done runs when the handler answers (possibly synchronously,
 * inside this call). Unknown method: done runs now with METHOD_NOT_FOUND;
 * params that are neither an object, an array nor NULL: INVALID_PARAMS.
 * params is borrowed. done may be NULL (answer discarded). Returns the call
 * (to detach it if the client goes away) or NULL when done already ran.
 */
dg_rpc_call *dg_rpc_invoke(dg_rpc *rpc, const char *method, const json_t *params,
                           dg_rpc_done_fn done, void *done_user);
/*
 * A result the handler answered as text (dg_rpc_reply_json): borrowed, len
 * bytes of one compact JSON value without raw newlines.
 */
typedef void (*dg_rpc_done_json_fn)(void *done_user, const char *json, size_t len);
/*
 * dg_rpc_invoke for a transport that can forward serialised results: a
 * dg_rpc_reply_json answer goes to done_json as it is (every other answer,
 * and every error, still goes to done). done_json NULL = dg_rpc_invoke.
 */
dg_rpc_call *dg_rpc_invoke_ex(dg_rpc *rpc, const char *method, const json_t *params,
                              dg_rpc_done_fn done, dg_rpc_done_json_fn done_json, void *done_user);
/* The client went away: the eventual answer is discarded. No-op if already answered. */
void dg_rpc_detach(dg_rpc_call *call);

void dg_rpc_reply(dg_rpc_call *call, json_t *result);
/*
 * The result as compact JSON text (malloc'd, stolen): to done_json when the
 * caller gave one, else parsed for done. Text with a raw newline, or that
 * does not parse for a done caller, fails the call with DG_RPC_INTERNAL_ERROR.
 */
void dg_rpc_reply_json(dg_rpc_call *call, char *json, size_t len);
void dg_rpc_fail(dg_rpc_call *call, int code, const char *fmt, ...) DG_PRINTF(3, 4);
void dg_rpc_failv(dg_rpc_call *call, int code, const char *fmt, va_list ap) DG_PRINTF(3, 0);

/*
 * {"code":code,"message":...} with the message formatted, cut to
 * DG_RPC_MESSAGE_MAX bytes and made valid UTF-8 (invalid bytes become '?').
 * New ref; NULL only when out of memory. Transports use it for their own errors.
 */
json_t *dg_rpc_error_new(int code, const char *fmt, ...) DG_PRINTF(2, 3);
json_t *dg_rpc_error_newv(int code, const char *fmt, va_list ap) DG_PRINTF(2, 0);

/* [{"method","summary","owner"}] sorted by method; new ref. */
json_t *dg_rpc_list(dg_rpc *rpc);
/* Number of calls invoked through rpc and not yet answered (detached ones included). */
size_t dg_rpc_pending(dg_rpc *rpc);
int dg_rpc_method_valid(const char *method);

/* Owner name for listings and errors; set by the plugin host ("core" for NULL). */
typedef const char *(*dg_rpc_owner_name_fn)(dg_ctx *owner);
void dg_rpc_set_owner_namer(dg_rpc *rpc, dg_rpc_owner_name_fn fn);

#endif
