/*
 * hello: an example third-party dengon plugin.
 *
 * It builds against the installed SDK only (see Makefile / CMakeLists.txt)
 * and shows the parts every plugin uses:
 *
 *   - the entry point: DG_PLUGIN_DEFINE exports dg_plugin_entry, the one
 *     symbol the library exports (the manifest's "entry");
 *   - an RPC method, "hello.greet": params {"name": str} (optional) ->
 *     {"greeting": "<hello.greeting>, <name>!", "events_seen": n,
 *      "greetings_seen": m};
 *   - a live config key, "hello.greeting", declared in plugin.json with the
 *     default "Hello" and read on every call, so `dengon config set` applies
 *     at once;
 *   - bus subscriptions: "core.plugin.state" (counted in events_seen) and
 *     "hello.*" (counted in greetings_seen);
 *   - a topic of its own, "hello.greeted" (drop-oldest: it is a notification,
 *     losing one under load is harmless), published on every greeting.
 *
 * Ownership, in the SDK's words (borrowed / stolen / new):
 *   - api and ctx are borrowed from the host, valid from start() until stop()
 *     returns. The plugin keeps them in its state.
 *   - The state is the plugin's: allocated in start(), freed in stop() (or in
 *     start() itself when start fails, since stop() is then not called).
 *   - Every registration below (subscriptions, the RPC method, the topic) is
 *     owned by the host through ctx and removed by it after stop() or after a
 *     failed start(). They only borrow the state as their user pointer, so
 *     they are registered with user_free = NULL: the host must not free it.
 *   - Payloads and params handed to callbacks are borrowed; payloads given to
 *     publish() and results given to rpc_reply() are stolen.
 *
 * Threading: the host calls everything here on its loop thread, so the
 * counters need no locking.
 */
#include <dengon/plugin.h>

#include <stdlib.h>
#include <string.h>

/* Longest "name" accepted, in bytes. */
#define HELLO_NAME_MAX 128

typedef struct hello_state {
    const dg_host_api *api;       /* borrowed: valid until stop() returns */
    dg_ctx *ctx;                  /* borrowed: valid until stop() returns */
    unsigned long events_seen;    /* "core.plugin.state" events delivered to us */
    unsigned long greetings_seen; /* "hello.*" events delivered to us */
} hello_state;

/* A string member of a borrowed object, or "?" (for log lines). */
static const char *str_member(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? s : "?";
}

/* Bus callback for "core.plugin.state": payload is borrowed, nothing to free. */
static void on_plugin_state(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    hello_state *st = user;
    st->events_seen++;
    st->api->log(ctx, DG_LOG_DEBUG, "%s: %s is %s", topic, str_member(payload, "id"),
                 str_member(payload, "state"));
}

/*
 * Bus callback for "hello.*". Delivery is queued: the event published by a
 * greeting arrives after hello.greet has answered, never inside publish().
 */
static void on_hello(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    hello_state *st = user;
    (void)ctx;
    (void)topic;
    (void)payload;
    st->greetings_seen++;
}

/*
 * RPC "hello.greet". params is borrowed (NULL when the caller sent none). The
 * call is answered exactly once, with rpc_reply() or rpc_fail().
 */
static void hello_greet(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    hello_state *st = user;
    const dg_host_api *api = st->api;
    const char *name = "world";

    if (params != NULL) {
        if (!json_is_object(params)) {
            api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "params must be an object {\"name\": str}");
            return;
        }
        const json_t *jname = json_object_get(params, "name"); /* borrowed */
        if (json_object_size(params) != (jname != NULL ? 1u : 0u)) {
            api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                          "unknown parameter: only 'name' is accepted");
            return;
        }
        if (jname != NULL) {
            if (!json_is_string(jname) || json_string_length(jname) == 0 ||
                json_string_length(jname) > HELLO_NAME_MAX) {
                api->rpc_fail(call, DG_RPC_INVALID_PARAMS,
                              "'name' must be a non-empty string of at most %d bytes",
                              HELLO_NAME_MAX);
                return;
            }
            name = json_string_value(jname); /* borrowed from params */
        }
    }

    /* Read on every call (the key is "live"). Borrowed until we return. */
    const char *greeting = api->config_get(ctx, "hello.greeting", "Hello");

    /* new reference; NULL if greeting is not valid UTF-8 (config files can hold anything). */
    json_t *text = json_sprintf("%s, %s!", greeting, name);
    if (text == NULL) {
        api->rpc_fail(call, DG_RPC_FAILED, "hello.greeting is not valid UTF-8");
        return;
    }

    /* Tell whoever listens. publish() steals the payload, whatever it returns. */
    json_t *event = json_pack("{s:s, s:O}", "name", name, "greeting", text);
    if (event == NULL) {
        api->log(ctx, DG_LOG_WARN, "out of memory: hello.greeted not published");
    } else {
        int rc = api->publish(ctx, "hello.greeted", event);
        if (rc != DG_OK)
            api->log(ctx, DG_LOG_WARN, "cannot publish hello.greeted (status %d)", rc);
    }

    /* new; stolen by rpc_reply() below. set_new() steals the value, also on failure. */
    json_t *result = json_object();
    if (result == NULL) {
        json_decref(text);
        api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    int bad = json_object_set_new(result, "greeting", text);
    bad |= json_object_set_new(result, "events_seen", json_integer((json_int_t)st->events_seen));
    bad |=
        json_object_set_new(result, "greetings_seen", json_integer((json_int_t)st->greetings_seen));
    if (bad != 0) {
        json_decref(result);
        api->rpc_fail(call, DG_RPC_INTERNAL_ERROR, "out of memory");
        return;
    }
    api->rpc_reply(call, result);
}

static int hello_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    /* The host checked the manifest's api.abi_major before loading us; be defensive anyway. */
    if (api->abi_major != DG_ABI_MAJOR)
        return DG_EINVAL;

    hello_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return DG_ENOMEM;
    st->api = api;
    st->ctx = ctx;

    int rc = api->topic_declare(ctx, "hello.greeted", DG_OVERFLOW_DROP_OLDEST);
    if (rc != DG_OK) {
        api->log(ctx, DG_LOG_ERROR, "cannot declare hello.greeted (status %d)", rc);
        goto fail;
    }
    /* queue_capacity 0: the host's default (bus.queue_capacity). */
    if (api->subscribe(ctx, "core.plugin.state", 0, 0, on_plugin_state, st, NULL) == NULL ||
        api->subscribe(ctx, "hello.*", 0, 0, on_hello, st, NULL) == NULL) {
        api->log(ctx, DG_LOG_ERROR, "cannot subscribe");
        rc = DG_ERR;
        goto fail;
    }
    rc = api->rpc_register(ctx, "hello.greet", "greet {name}: greeting and event counters",
                           hello_greet, st, NULL);
    if (rc != DG_OK) {
        api->log(ctx, DG_LOG_ERROR, "cannot register hello.greet (status %d)", rc);
        goto fail;
    }

    api->log(ctx, DG_LOG_INFO, "started (greeting \"%s\")",
             api->config_get(ctx, "hello.greeting", "Hello"));
    *state = st;
    return DG_OK;

fail:
    /* stop() is not called after a failed start: free what is ours. The host
     * removes the registrations made so far (they do not free st). */
    free(st);
    return rc;
}

static void hello_stop(dg_ctx *ctx, void *state)
{
    hello_state *st = state;
    st->api->log(ctx, DG_LOG_INFO, "stopping after %lu plugin state events", st->events_seen);
    /* The host removes our subscriptions and method after we return; none of them
     * frees st (user_free was NULL), so this is the one place it is freed. */
    free(st);
}

static const dg_plugin_descriptor hello_descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, /* struct_size, abi_major, abi_minor of this build */
    "hello",                   /* must equal the manifest's "id" */
    hello_start,
    hello_stop,
    {NULL, NULL, NULL, NULL},
};

/* Exports dg_plugin_entry (no ';' after it: ISO C forbids an empty declaration). */
DG_PLUGIN_DEFINE(hello_descriptor)
