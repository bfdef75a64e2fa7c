/*
 * The core's RPC methods. Plugins add theirs through the host API; transports
 * (the control socket, later the web UI) see one registry.
 */
#include "daemon/allocator.h"
#include "daemon/daemon.h"

#include "util/log.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef DENGON_VERSION
#define DENGON_VERSION "0.0.0"
#endif

static const char *string_param(const json_t *params, const char *name)
{
    json_t *v = json_is_object(params) ? json_object_get(params, name) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Fails the call and returns NULL when the string parameter is missing. */
static const char *require_string(dg_rpc_call *call, const json_t *params, const char *name)
{
    const char *v = string_param(params, name);
    if (!v)
        dg_rpc_fail(call, DG_RPC_INVALID_PARAMS, "missing string parameter '%s'", name);
    return v;
}

static json_t *plugin_counts(dg_daemon *d)
{
    json_t *counts = json_object();
    size_t total = 0;
    for (int s = DG_PLUGIN_DISCOVERED; s <= DG_PLUGIN_LOCKED; s++) {
        size_t n = d->plugins ? dg_plugin_host_count(d->plugins, (dg_plugin_state)s) : 0;
        total += n;
        if (n > 0)
            json_object_set_new(counts, dg_plugin_state_name((dg_plugin_state)s),
                                json_integer((json_int_t)n));
    }
    json_object_set_new(counts, "total", json_integer((json_int_t)total));
    if (!json_object_get(counts, "active"))
        json_object_set_new(counts, "active", json_integer(0));
    return counts;
}

static void rpc_status(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_daemon *d = user;
    uint64_t now_ms = uv_hrtime() / 1000000u;
    json_t *r = json_pack("{s:s, s:I, s:I, s:s?, s:s, s:s, s:s, s:s, s:b}", "version",
                          DENGON_VERSION, "pid", (json_int_t)getpid(), "uptime_ms",
                          (json_int_t)(now_ms - d->started_ms), "home", d->home.root,
                          "config_dir", d->home.config_dir, "data_dir", d->home.data_dir,
                          "socket", d->home.socket_path, "profile", d->opts.profile,
                          "safe_mode", d->opts.safe_mode);
    json_object_set_new(r, "allocator", json_string(dg_allocator_name()));
    json_object_set_new(r, "plugins", plugin_counts(d));
    json_object_set_new(r, "bus", dg_bus_stats(d->bus));
    if (d->control)
        json_object_set_new(r, "control", dg_control_stats(d->control));
    json_t *methods = dg_rpc_list(d->rpc);
    json_object_set_new(r, "rpc_methods", json_integer((json_int_t)json_array_size(methods)));
    json_decref(methods);
    dg_rpc_reply(call, r);
}

static void rpc_whoami(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_daemon *d = user;
    dg_rpc_reply(call, dg_identity_to_json(&d->identity));
}

static void rpc_plugins(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_daemon *d = user;
    dg_rpc_reply(call, dg_plugin_host_list(d->plugins));
}

static void reply_plugin_change(dg_daemon *d, dg_rpc_call *call, const char *id, int rc,
                                char *msg)
{
    if (rc == DG_OK) {
        dg_rpc_reply(call, json_pack("{s:s, s:s}", "id", id, "message", msg ? msg : id));
    } else {
        int code = rc == DG_ENOENT    ? DG_RPC_INVALID_PARAMS
                   : rc == DG_EDENIED ? DG_RPC_DENIED
                                      : DG_RPC_FAILED;
        dg_rpc_fail(call, code, "%s", msg ? msg : "failed");
    }
    free(msg);
}

static void rpc_plugin_enable(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_daemon *d = user;
    const char *id = require_string(call, params, "id");
    if (!id)
        return;
    char *msg = NULL;
    int rc = dg_plugin_host_enable(d->plugins, id, d->home.user_config_file, &msg);
    reply_plugin_change(d, call, id, rc, msg);
}

static void rpc_plugin_disable(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_daemon *d = user;
    const char *id = require_string(call, params, "id");
    if (!id)
        return;
    char *msg = NULL;
    int rc = dg_plugin_host_disable(d->plugins, id, d->home.user_config_file, &msg);
    reply_plugin_change(d, call, id, rc, msg);
}

static void rpc_methods(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_daemon *d = user;
    dg_rpc_reply(call, dg_rpc_list(d->rpc));
}

static void rpc_config_get(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_daemon *d = user;
    const char *key = require_string(call, params, "key");
    if (!key)
        return;
    json_t *entry = dg_config_describe(d->config, key);
    if (!entry) {
        dg_rpc_fail(call, DG_RPC_INVALID_PARAMS, "unknown key '%s'", key);
        return;
    }
    dg_rpc_reply(call, entry);
}

static void rpc_config_set(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_daemon *d = user;
    const char *key = require_string(call, params, "key");
    if (!key)
        return;
    json_t *jv = json_object_get(params, "value");
    char number[32];
    const char *value = NULL;
    /* Scripts may send JSON numbers and booleans; the config stores text. */
    if (json_is_string(jv))
        value = json_string_value(jv);
    else if (json_is_integer(jv))
        value = (snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(jv)),
                 number);
    else if (json_is_boolean(jv))
        value = json_is_true(jv) ? "true" : "false";
    if (!value) {
        dg_rpc_fail(call, DG_RPC_INVALID_PARAMS, "missing parameter 'value' (string)");
        return;
    }
    char *err = NULL;
    int rc = dg_config_user_set(d->config, d->home.user_config_file, key, value, &err);
    if (rc == DG_OK || rc == DG_ERESTART) {
        int live = rc == DG_OK;
        /* The user layer may be shadowed by -o for this run: say so rather than mislead. */
        int source = dg_config_source(d->config, key);
        const char *msg = source == DG_LAYER_CMDLINE
                              ? "saved; this run keeps the value given with -o"
                          : live ? "saved and applied live"
                                 : "saved; restart dengond to apply";
        dg_rpc_reply(call, json_pack("{s:s, s:s, s:s, s:s}", "key", key, "value", value,
                                     "result", live ? "live" : "restart", "message", msg));
    } else {
        int code = rc == DG_EDENIED ? DG_RPC_DENIED
                   : rc == DG_EINVAL || rc == DG_ENOENT ? DG_RPC_INVALID_PARAMS
                                                        : DG_RPC_FAILED;
        dg_rpc_fail(call, code, "%s", err ? err : "cannot set the key");
    }
    free(err);
}

static void rpc_config_list(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_daemon *d = user;
    dg_rpc_reply(call, dg_config_list(d->config));
}

int dg_daemon_register_rpc(dg_daemon *d)
{
    static const struct {
        const char *name;
        const char *summary;
        dg_rpc_fn fn;
    } methods[] = {
        {"core.status", "daemon version, uptime, plugin counts, bus counters", rpc_status},
        {"core.whoami", "this installation's identity", rpc_whoami},
        {"core.plugins", "every discovered plugin with its state and reason", rpc_plugins},
        {"core.plugin.enable", "enable a plugin {id} (persisted, applied live)",
         rpc_plugin_enable},
        {"core.plugin.disable", "disable a plugin {id} (persisted, applied live)",
         rpc_plugin_disable},
        {"core.methods", "every registered RPC method", rpc_methods},
        {"config.get", "one key {key}: value, source, type, locked, live", rpc_config_get},
        {"config.set", "write {key, value} to the user file, live where possible",
         rpc_config_set},
        {"config.list", "every known or set key", rpc_config_list},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        int rc = dg_rpc_register(d->rpc, NULL, methods[i].name, methods[i].summary,
                                 methods[i].fn, d, NULL);
        if (rc != DG_OK) {
            dg_log(DG_LOG_ERROR, "core", "cannot register %s", methods[i].name);
            return -1;
        }
    }
    return 0;
}
