/*
 * RPC chat.absence: absence mode on or off, or its state (absence.h).
 * `dengon absence on [TEXT] | off | status` calls it.
 */
#include "rpc.h"

#include <string.h>

#include "absence.h"
#include "rpc_util.h"

/* Longest texts accepted: a SENDABSENCEINFO or auto-reply must fit one datagram. */
#define MAX_TEXT 4096
#define MAX_TITLE 128

/* Optional string param: *out stays NULL when absent; false (answered) when bad. */
static bool get_text(ipm_state *st, dg_rpc_call *call, const json_t *params, const char *key,
                     size_t max, const char **out)
{
    const json_t *v = params ? json_object_get(params, key) : NULL;
    *out = NULL;
    if (!v)
        return true;
    if (!json_is_string(v) || memchr(json_string_value(v), '\0', json_string_length(v)) ||
        json_string_length(v) > max) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "'%s' must be a string of at most %zu bytes without NUL", key, max);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static void rpc_absence(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    ipm_state *st = user;
    static const char *const keys[] = {"on", "text", "title", NULL};
    bool on = false;
    const char *text, *title;
    if (!dg_params_check(st->api, call, params, keys) ||
        !rpc_get_bool(st, call, params, "on", &on) ||
        !get_text(st, call, params, "text", MAX_TEXT, &text) ||
        !get_text(st, call, params, "title", MAX_TITLE, &title))
        return;
    bool set = params && json_object_get(params, "on");
    if ((text || title) && !(set && on)) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'text' and 'title' go with \"on\": true");
        return;
    }
    if (set)
        away_set_manual(st, on, text, title);
    st->api->rpc_reply(call, away_json(st));
}

int rpc_absence_register(ipm_state *st)
{
    int rc = st->api->rpc_register(st->ctx, "chat.absence",
                                   "absence mode: {on, text?, title?} sets it, no params shows it",
                                   rpc_absence, st, NULL);
    if (rc != DG_OK)
        st->api->log(st->ctx, DG_LOG_ERROR, "cannot register chat.absence (%d)", rc);
    return rc;
}
