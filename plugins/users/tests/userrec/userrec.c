/*
 * Test-only plugin: records users.changed, so the integration test can check
 * the directory's events end to end over the control socket (the daemon has
 * no event-watch RPC yet). userrec.events returns [payload, ...] in delivery
 * order.
 */
#include <dengon/plugin.h>

#include <stdlib.h>

typedef struct userrec {
    const dg_host_api *api;
    json_t *events;
} userrec;

static void on_event(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    userrec *r = user;
    /* Bounded: a runaway test must not grow the daemon forever. */
    if (json_array_size(r->events) < 100000)
        json_array_append_new(r->events, json_deep_copy(payload));
}

static void rpc_events(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    userrec *r = user;
    r->api->rpc_reply(call, json_deep_copy(r->events));
}

static int userrec_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    userrec *r = calloc(1, sizeof(*r));
    if (!r)
        return DG_ENOMEM;
    r->api = api;
    r->events = json_array();
    *state = r;
    if (!api->subscribe(ctx, "users.changed", 0, 65536, on_event, r, NULL) ||
        api->rpc_register(ctx, "userrec.events", "recorded users.changed payloads", rpc_events, r,
                          NULL) != DG_OK) {
        json_decref(r->events);
        free(r);
        *state = NULL;
        return DG_ERR;
    }
    return DG_OK;
}

static void userrec_stop(dg_ctx *ctx, void *state)
{
    userrec *r = state;
    if (!r)
        return;
    json_decref(r->events);
    free(r);
}

static const dg_plugin_descriptor userrec_descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "userrec", userrec_start, userrec_stop, {NULL, NULL, NULL, NULL},
};

DG_PLUGIN_DEFINE(userrec_descriptor)
