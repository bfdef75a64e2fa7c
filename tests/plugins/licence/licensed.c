/*
 * Plugins for the licence and policy tests (one source, built four times
 * with PLUGIN_ID = testpremium, testoutside, testoff, testwatch; their
 * manifests differ):
 *   RPC <id>.status  {"id", "has": core.licence has("test-premium"), "seats",
 *                     "licence": info() or null}
 *   RPC <id>.events  [{"topic", "payload"}] received on core.licence.* and
 *                    core.policy.* since start (the last 100)
 * It leaves "<id>.started" / "<id>.stopped" markers (marker.h), so a test can
 * tell a clean stop from a kill.
 */
#include "marker.h"

#include <dengon/licence.h>
#include <dengon/plugin.h>
#include <stdlib.h>

typedef struct licensed {
    const dg_host_api *api;
    const dg_licence_service_v1 *licence; /* NULL if the core does not offer it */
    json_t *events;
} licensed;

static void on_event(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    licensed *l = user;
    if (json_array_size(l->events) >= 100)
        json_array_remove(l->events, 0);
    json_array_append_new(l->events, json_pack("{s:s, s:O?}", "topic", topic, "payload", payload));
}

static void rpc_events(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    licensed *l = user;
    l->api->rpc_reply(call, json_deep_copy(l->events));
}

static void rpc_status(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    licensed *l = user;
    const dg_licence_service_v1 *s = l->licence;
    json_t *info = s ? s->info(s) : NULL;
    l->api->rpc_reply(call, json_pack("{s:s, s:b, s:I, s:o}", "id", PLUGIN_ID, "has",
                                      s && s->has(s, "test-premium"), "seats",
                                      (json_int_t)(s ? s->seats(s) : -1), "licence",
                                      info ? info : json_null()));
}

static int licensed_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    licensed *l = calloc(1, sizeof(*l));
    if (!l)
        return DG_ENOMEM;
    size_t size = 0;
    l->api = api;
    l->events = json_array();
    l->licence = api->service_require(ctx, DG_LICENCE_SERVICE, DG_LICENCE_SERVICE_VERSION, &size);
    if (l->licence && size < sizeof(*l->licence))
        l->licence = NULL; /* an older, smaller table: do without */
    *state = l;
    if (api->rpc_register(ctx, PLUGIN_ID ".status", "licence as this plugin sees it", rpc_status, l,
                          NULL) != DG_OK ||
        api->rpc_register(ctx, PLUGIN_ID ".events", "licence and policy events seen", rpc_events, l,
                          NULL) != DG_OK ||
        !api->subscribe(ctx, "core.licence.*", 0, 0, on_event, l, NULL) ||
        !api->subscribe(ctx, "core.policy.*", 0, 0, on_event, l, NULL)) {
        json_decref(l->events);
        free(l);
        *state = NULL;
        return DG_ERR;
    }
    test_marker(PLUGIN_ID, "started");
    return DG_OK;
}

static void licensed_stop(dg_ctx *ctx, void *state)
{
    licensed *l = state;
    test_marker(PLUGIN_ID, "stopped");
    json_decref(l->events);
    free(l);
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, PLUGIN_ID, licensed_start, licensed_stop, {0},
};
DG_PLUGIN_DEFINE(descriptor)
