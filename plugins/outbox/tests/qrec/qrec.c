/*
 * Test-only plugin: records the events the outbox and rooms plugins publish
 * (queue.**, chat.room.**) and the chat.message.* events around them (to
 * check that no room envelope is published as a chat message), so the
 * integration tests can check them over the control socket.
 * qrec.events {clear?} returns [{"topic", "payload"}] in delivery order.
 */
#include <dengon/plugin.h>

#include <stdlib.h>

typedef struct qrec {
    const dg_host_api *api;
    json_t *events;
} qrec;

static void on_event(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    qrec *r = user;
    /* Bounded: a runaway test must not grow the daemon forever. */
    if (json_array_size(r->events) < 100000)
        json_array_append_new(
            r->events, json_pack("{s:s, s:O}", "topic", topic, "payload", (json_t *)payload));
}

static void rpc_events(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    qrec *r = user;
    r->api->rpc_reply(call, json_deep_copy(r->events));
    if (json_is_true(json_object_get(params, "clear")))
        json_array_clear(r->events);
}

static int qrec_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    qrec *r = calloc(1, sizeof(*r));
    if (!r)
        return DG_ENOMEM;
    r->api = api;
    r->events = json_array();
    *state = r;
    /* Queues large enough that the recorder never makes a publisher wait. */
    if (!api->subscribe(ctx, "queue.**", 0, 65536, on_event, r, NULL) ||
        !api->subscribe(ctx, "chat.**", 0, 65536, on_event, r, NULL) ||
        api->rpc_register(ctx, "qrec.events", "recorded events {clear?}", rpc_events, r, NULL) !=
            DG_OK) {
        json_decref(r->events);
        free(r);
        *state = NULL;
        return DG_ERR;
    }
    return DG_OK;
}

static void qrec_stop(dg_ctx *ctx, void *state)
{
    qrec *r = state;
    if (!r)
        return;
    json_decref(r->events);
    free(r);
}

static const dg_plugin_descriptor qrec_descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "qrec", qrec_start, qrec_stop, {NULL, NULL, NULL, NULL},
};

DG_PLUGIN_DEFINE(qrec_descriptor)
