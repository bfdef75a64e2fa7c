/*
 * testdep: depends on testgood and uses its test.counter@1 service.
 *   RPC testdep.count  {"count": testgood's count, read through the service}
 */
#include "marker.h"
#include "test_counter.h"

#include <dengon/plugin.h>
#include <stdlib.h>

typedef struct dep {
    const dg_host_api *api;
    const test_counter_v1 *counter;
} dep;

static void rpc_count(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dep *d = user;
    d->api->rpc_reply(call, json_pack("{s:I}", "count", (json_int_t)d->counter->count(d->counter)));
}

static int dep_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    size_t size = 0;
    const test_counter_v1 *counter =
        api->service_require(ctx, TEST_COUNTER_SERVICE, TEST_COUNTER_VERSION, &size);
    if (!counter || size < sizeof(*counter)) {
        api->log(ctx, DG_LOG_ERROR, "service %s@%d is not available", TEST_COUNTER_SERVICE,
                 TEST_COUNTER_VERSION);
        return DG_ERR;
    }
    dep *d = calloc(1, sizeof(*d));
    if (!d)
        return DG_ENOMEM;
    d->api = api;
    d->counter = counter;
    *state = d;
    if (api->rpc_register(ctx, "testdep.count", "testgood's count via the service", rpc_count, d,
                          NULL) != DG_OK) {
        free(d);
        *state = NULL;
        return DG_ERR;
    }
    return DG_OK;
}

static void dep_stop(dg_ctx *ctx, void *state)
{
    test_marker_append("stop-order", "testdep");
    free(state);
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "testdep", dep_start, dep_stop, {0},
};
DG_PLUGIN_DEFINE(descriptor)
