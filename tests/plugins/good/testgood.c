/*
 * testgood: a well-behaved plugin exercising most of the host API.
 *   RPC testgood.echo     returns its params
 *   RPC testgood.publish  publishes "test.ping" (params as payload)
 *   RPC testgood.count    {"count": events received on "test.*", "timer": timer runs,
 *                          "io": bytes read by fd watchers}
 *   RPC testgood.pipe     {"write": bool} -> {"fd": n}: watches the read end of a new
 *                          pipe; with write, one byte is written (the watcher reads it and
 *                          closes itself), else the write end stays open until stop
 *   RPC testgood.info     {"id", "data_dir", "identity", "api_size"} from the host API
 *   service test.counter@1 (same count, for testdep)
 *   config testgood.ping_interval_ms > 0: also publishes "test.ping" from a timer
 */
#include "marker.h"
#include "test_counter.h"

#include <dengon/plugin.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct good {
    test_counter_v1 counter; /* first: the service vtable points at the state */
    const dg_host_api *api;
    dg_ctx *ctx;
    int64_t events;
    int64_t timer_runs;
    int64_t io_bytes;
    int kept_fd; /* write end of a pipe kept open (-1 if none) */
} good;

static int64_t counter_count(const test_counter_v1 *self)
{
    return ((const good *)self)->events;
}

static void on_test_event(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    ((good *)user)->events++;
}

/* Runs when the host removes the subscription (after stop): must not touch the freed state. */
static void on_sub_freed(void *user)
{
    test_marker("testgood", "sub-freed");
}

static void rpc_echo(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    good *g = user;
    g->api->rpc_reply(call, params ? json_deep_copy(params) : json_null());
}

static void rpc_publish(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    good *g = user;
    int rc = g->api->publish(ctx, "test.ping", params ? json_deep_copy(params) : NULL);
    if (rc != DG_OK)
        g->api->rpc_fail(call, DG_RPC_FAILED, "publish failed: %d", rc);
    else
        g->api->rpc_reply(call, json_pack("{s:b}", "ok", 1));
}

static void rpc_count(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    good *g = user;
    g->api->rpc_reply(call, json_pack("{s:I, s:I, s:I}", "count", (json_int_t)g->events, "timer",
                                      (json_int_t)g->timer_runs, "io", (json_int_t)g->io_bytes));
}

static void rpc_info(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    good *g = user;
    const json_t *who = g->api->identity(ctx);
    g->api->rpc_reply(call, json_pack("{s:s?, s:s?, s:O?, s:i}", "id", g->api->plugin_id(ctx),
                                      "data_dir", g->api->data_dir(ctx), "identity", who,
                                      "api_size", (int)g->api->struct_size));
}

static void on_ping_timer(dg_ctx *ctx, dg_timer *timer, void *user)
{
    good *g = user;
    g->timer_runs++;
    g->api->publish(ctx, "test.ping", json_pack("{s:s}", "from", "timer"));
}

static void on_readable(dg_ctx *ctx, dg_io *io, int fd, int events, int status, void *user)
{
    good *g = user;
    char c;
    if (status == 0 && (events & DG_IO_READ) && read(fd, &c, 1) == 1)
        g->io_bytes++;
    g->api->io_close(ctx, io); /* the host closes fd */
}

static void rpc_pipe(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    good *g = user;
    int fds[2];
    if (pipe(fds) != 0) {
        g->api->rpc_fail(call, DG_RPC_FAILED, "pipe failed");
        return;
    }
    if (!g->api->io_watch(ctx, fds[0], DG_IO_READ, on_readable, g, NULL)) {
        close(fds[1]);
        g->api->rpc_fail(call, DG_RPC_FAILED, "io_watch failed");
        return;
    }
    if (json_is_true(json_object_get(params, "write"))) {
        if (write(fds[1], "x", 1) != 1)
            g->api->log(ctx, DG_LOG_WARN, "pipe write failed");
        close(fds[1]);
    } else {
        if (g->kept_fd >= 0)
            close(g->kept_fd);
        g->kept_fd = fds[1];
    }
    g->api->rpc_reply(call, json_pack("{s:i}", "fd", fds[0]));
}

static int good_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    good *g = calloc(1, sizeof(*g));
    if (!g)
        return DG_ENOMEM;
    g->counter.count = counter_count;
    g->api = api;
    g->ctx = ctx;
    g->kept_fd = -1;
    *state = g;
    int64_t interval = api->config_get_int(ctx, "testgood.ping_interval_ms", 0);
    if (api->topic_declare(ctx, "test.ping", DG_OVERFLOW_BLOCK) != DG_OK ||
        !api->subscribe(ctx, "test.*", 0, 0, on_test_event, g, on_sub_freed) ||
        api->rpc_register(ctx, "testgood.echo", "Returns its params", rpc_echo, g, NULL) != DG_OK ||
        api->rpc_register(ctx, "testgood.publish", "Publishes test.ping", rpc_publish, g, NULL) !=
            DG_OK ||
        api->rpc_register(ctx, "testgood.count", "Events seen on test.*", rpc_count, g, NULL) !=
            DG_OK ||
        api->rpc_register(ctx, "testgood.pipe", "Watches a new pipe", rpc_pipe, g, NULL) != DG_OK ||
        api->rpc_register(ctx, "testgood.info", "What the host API says", rpc_info, g, NULL) !=
            DG_OK ||
        api->service_provide(ctx, TEST_COUNTER_SERVICE, TEST_COUNTER_VERSION, &g->counter,
                             sizeof(g->counter)) != DG_OK ||
        (interval > 0 &&
         !api->timer_add(ctx, (uint64_t)interval, (uint64_t)interval, on_ping_timer, g, NULL))) {
        api->log(ctx, DG_LOG_ERROR, "registration failed");
        free(g);
        *state = NULL;
        return DG_ERR;
    }
    api->log(ctx, DG_LOG_INFO, "started");
    return DG_OK;
}

/* Registrations are removed by the host after this returns. */
static void good_stop(dg_ctx *ctx, void *state)
{
    good *g = state;
    test_marker_append("stop-order", "testgood");
    if (g->kept_fd >= 0)
        close(g->kept_fd);
    free(g);
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "testgood", good_start, good_stop, {0},
};
DG_PLUGIN_DEFINE(descriptor)
