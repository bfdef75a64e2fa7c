/*
 * Registers one of everything, then fails (the Redis "noload" pattern). The
 * host must roll all of it back: after the failure nothing it registered may
 * remain, and none of its callbacks may run ("ran" marker file).
 */
#include "marker.h"

#include <dengon/plugin.h>

static void ran(void *user)
{
    test_marker("start-fails", "ran");
}

static void on_event(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    ran(user);
}

static void on_timer(dg_ctx *ctx, dg_timer *timer, void *user)
{
    ran(user);
}

static void on_call(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    ran(user);
}

static const struct {
    int (*nothing)(void);
} vtable = {0};

static int start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    api->topic_declare(ctx, "test.startfails", DG_OVERFLOW_BLOCK);
    api->subscribe(ctx, "test.**", 0, 0, on_event, NULL, NULL);
    api->timer_add(ctx, 0, 5, on_timer, NULL, NULL);
    api->rpc_register(ctx, "startfails.method", "must vanish", on_call, NULL, NULL);
    api->service_provide(ctx, "test.startfails", 1, &vtable, sizeof(vtable));
    api->post(ctx, ran, NULL);
    api->log(ctx, DG_LOG_ERROR, "deliberate failure after registering everything");
    return DG_ERR;
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "start-fails", start, NULL, {0},
};
DG_PLUGIN_DEFINE(descriptor)
