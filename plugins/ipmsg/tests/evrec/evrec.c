/*
 * Test-only plugin: records the events the ipmsg plugin publishes, so the
 * integration test can check them end to end over the control socket
 * (the daemon has no event-watch RPC yet). evrec.events {clear?} returns
 * [{"topic", "payload"}] in delivery order.
 */
#include <dengon/plugin.h>

#include <stdlib.h>

typedef struct evrec {
    const dg_host_api *api;
    json_t *events;
} evrec;

static void on_event(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    evrec *r = user;
    /* Bounded: a runaway test must not grow the daemon forever. */
    if (json_array_size(r->events) < 100000)
        json_array_append_new(
            r->events, json_pack("{s:s, s:O}", "topic", topic, "payload", (json_t *)payload));
}

static void rpc_events(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    evrec *r = user;
    r->api->rpc_reply(call, json_deep_copy(r->events));
    if (json_is_true(json_object_get(params, "clear")))
        json_array_clear(r->events);
}

static int evrec_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    evrec *r = calloc(1, sizeof(*r));
    if (!r)
        return DG_ENOMEM;
    r->api = api;
    r->events = json_array();
    *state = r;
    /*
     * By default a queue large enough that the recorder never makes a
     * publisher wait; a test sets a tiny one to make chat events wait for it.
     */
    int64_t cap = api->config_get_int(ctx, "evrec.queue_capacity", 65536);
    if (cap < 1 || cap > 65536)
        cap = 65536;
    if (!api->subscribe(ctx, "chat.**", 0, (size_t)cap, on_event, r, NULL) ||
        !api->subscribe(ctx, "presence.**", 0, 65536, on_event, r, NULL) ||
        api->rpc_register(ctx, "evrec.events", "recorded events {clear?}", rpc_events, r, NULL) !=
            DG_OK) {
        json_decref(r->events);
        free(r);
        *state = NULL;
        return DG_ERR;
    }
    return DG_OK;
}

static void evrec_stop(dg_ctx *ctx, void *state)
{
    evrec *r = state;
    if (!r)
        return;
    json_decref(r->events);
    free(r);
}

static const dg_plugin_descriptor evrec_descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "evrec", evrec_start, evrec_stop, {NULL, NULL, NULL, NULL},
};

DG_PLUGIN_DEFINE(evrec_descriptor)
