/*
 * The dg_host_api table given to plugins. Each entry validates its arguments
 * and routes to the core module with the calling plugin's ctx as owner, so
 * that dg_ctx_teardown() can remove everything the plugin registered.
 *
 * Policy enforced here (not in the modules, which the core also uses):
 *   - topics under "core." are declared and published only by the core;
 *   - RPC methods under "core." and "config." belong to the core.
 * On a refused registration the host does not call user_free: the caller
 * still owns user.
 */
#include "host_internal.h"

#include "util/fs.h"
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int has_prefix(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void api_log(dg_ctx *ctx, dg_log_level level, const char *fmt, ...) DG_PRINTF(3, 4);
static void api_log(dg_ctx *ctx, dg_log_level level, const char *fmt, ...)
{
    if (!fmt)
        return;
    if (level < DG_LOG_ERROR || level > DG_LOG_DEBUG)
        level = DG_LOG_INFO;
    ctx = dg_ctx_check(ctx);
    va_list ap;
    va_start(ap, fmt);
    if (ctx && level == DG_LOG_ERROR) {
        /* Kept for the failure reason: "start failed: DG_ERR (<this message>)". */
        va_list copy;
        va_copy(copy, ap);
        vsnprintf(ctx->last_error, sizeof(ctx->last_error), fmt, copy);
        va_end(copy);
    }
    dg_logv(level, ctx ? ctx->id : "plugin", fmt, ap);
    va_end(ap);
}

static int api_topic_declare(dg_ctx *ctx, const char *topic, dg_overflow overflow)
{
    if (!dg_ctx_check(ctx) || !topic)
        return DG_EINVAL;
    if (has_prefix(topic, "core."))
        return DG_EDENIED;
    return dg_bus_declare(ctx->host->bus, ctx, topic, overflow);
}

/*
 * publish and publish_ordered. Thread-safe as the bus functions are: touches
 * only fields fixed at ctx creation.
 */
static int checked_publish(dg_ctx *ctx, const char *topic, json_t *payload,
                           int (*publish)(dg_bus *, dg_ctx *, const char *, json_t *))
{
    int valid = ctx && ctx->magic == DG_CTX_MAGIC && topic;
    if (valid && !has_prefix(topic, "core."))
        return publish(ctx->host->bus, ctx, topic, payload);
    json_decref(payload);
    return valid ? DG_EDENIED : DG_EINVAL;
}

static int api_publish(dg_ctx *ctx, const char *topic, json_t *payload)
{
    return checked_publish(ctx, topic, payload, dg_bus_publish);
}

static int api_publish_ordered(dg_ctx *ctx, const char *topic, json_t *payload)
{
    return checked_publish(ctx, topic, payload, dg_bus_publish_ordered);
}

static dg_sub *api_subscribe(dg_ctx *ctx, const char *pattern, int priority, size_t queue_capacity,
                             dg_event_fn fn, void *user, dg_free_fn user_free)
{
    if (!dg_ctx_check(ctx) || !pattern || !fn)
        return NULL;
    return dg_bus_subscribe(ctx->host->bus, ctx, pattern, priority, queue_capacity, fn, user,
                            user_free);
}

static dg_sub *api_intercept(dg_ctx *ctx, const char *pattern, int priority, dg_intercept_fn fn,
                             void *user, dg_free_fn user_free)
{
    if (!dg_ctx_check(ctx) || !pattern || !fn)
        return NULL;
    return dg_bus_intercept(ctx->host->bus, ctx, pattern, priority, fn, user, user_free);
}

static void api_unsubscribe(dg_ctx *ctx, dg_sub *sub)
{
    if (dg_ctx_check(ctx) && sub && dg_bus_unsubscribe_owned(ctx->host->bus, ctx, sub) != DG_OK)
        dg_log(DG_LOG_WARN, ctx->id, "unsubscribe: not a live subscription of this plugin");
}

static int api_post(dg_ctx *ctx, dg_post_fn fn, void *user)
{
    return dg_ctx_post(ctx, fn, user);
}

static int api_rpc_register(dg_ctx *ctx, const char *method, const char *summary, dg_rpc_fn fn,
                            void *user, dg_free_fn user_free)
{
    if (!dg_ctx_check(ctx) || !method || !fn)
        return DG_EINVAL;
    if (has_prefix(method, "core.") || has_prefix(method, "config."))
        return DG_EDENIED;
    return dg_rpc_register(ctx->host->rpc, ctx, method, summary, fn, user, user_free);
}

static void api_rpc_reply_json(dg_rpc_call *call, char *json, size_t len)
{
    if (!call) {
        free(json);
        return;
    }
    dg_rpc_reply_json(call, json, len);
}

static void api_rpc_reply(dg_rpc_call *call, json_t *result)
{
    if (!call) {
        json_decref(result);
        return;
    }
    dg_rpc_reply(call, result);
}

static void api_rpc_fail(dg_rpc_call *call, int code, const char *fmt, ...) DG_PRINTF(3, 4);
static void api_rpc_fail(dg_rpc_call *call, int code, const char *fmt, ...)
{
    if (!call)
        return;
    va_list ap;
    va_start(ap, fmt);
    dg_rpc_failv(call, code, fmt ? fmt : "failed", ap);
    va_end(ap);
}

static int api_service_provide(dg_ctx *ctx, const char *name, uint32_t version, const void *vtable,
                               size_t size)
{
    if (!dg_ctx_check(ctx))
        return DG_EINVAL;
    return dg_services_provide(ctx->host->services, ctx, name, version, vtable, size);
}

static const void *api_service_require(dg_ctx *ctx, const char *name, uint32_t min_version,
                                       size_t *size)
{
    if (!dg_ctx_check(ctx))
        return NULL;
    return dg_services_require(ctx->host->services, ctx, name, min_version, size);
}

static const char *api_config_get(dg_ctx *ctx, const char *key, const char *dflt)
{
    if (!dg_ctx_check(ctx) || !key || !ctx->host->config)
        return dflt;
    const char *v = dg_config_get(ctx->host->config, key);
    return v ? v : dflt;
}

static int64_t api_config_get_int(dg_ctx *ctx, const char *key, int64_t dflt)
{
    if (!dg_ctx_check(ctx) || !key || !ctx->host->config)
        return dflt;
    return dg_config_get_int(ctx->host->config, key, dflt);
}

static int api_config_get_bool(dg_ctx *ctx, const char *key, int dflt)
{
    if (!dg_ctx_check(ctx) || !key || !ctx->host->config)
        return dflt;
    return dg_config_get_bool(ctx->host->config, key, dflt);
}

static const json_t *api_identity(dg_ctx *ctx)
{
    if (!dg_ctx_check(ctx) || !ctx->host->identity)
        return NULL;
    /* Built once: the borrowed object must stay valid until the plugin stops. */
    if (!ctx->identity)
        ctx->identity = dg_identity_to_json(ctx->host->identity);
    return ctx->identity;
}

static const char *api_data_dir(dg_ctx *ctx)
{
    if (!dg_ctx_check(ctx) || !ctx->host->data_dir)
        return NULL;
    if (ctx->data_dir)
        return ctx->data_dir;
    /* Under data/plugin-data/: no id can collide with core files or the XDG user plugin dir. */
    char *plugins = dg_path_join(ctx->host->data_dir, "plugin-data");
    char *dir = plugins ? dg_path_join(plugins, ctx->id) : NULL;
    free(plugins);
    if (!dir)
        return NULL;
    int rc = dg_mkdir_p(dir, 0700);
    if (rc != 0) {
        dg_log(DG_LOG_ERROR, ctx->id, "cannot create data folder %s: %s", dir, strerror(-rc));
        free(dir);
        return NULL;
    }
    ctx->data_dir = dir;
    return dir;
}

static const char *api_plugin_id(dg_ctx *ctx)
{
    return dg_ctx_check(ctx) ? ctx->id : NULL;
}

static dg_timer *api_timer_add(dg_ctx *ctx, uint64_t timeout_ms, uint64_t repeat_ms, dg_timer_fn fn,
                               void *user, dg_free_fn user_free)
{
    return dg_ctx_timer_add(ctx, timeout_ms, repeat_ms, fn, user, user_free);
}

static void api_timer_cancel(dg_ctx *ctx, dg_timer *timer)
{
    dg_ctx_timer_cancel(ctx, timer);
}

static dg_io *api_io_watch(dg_ctx *ctx, int fd, int events, dg_io_fn fn, void *user,
                           dg_free_fn user_free)
{
    return dg_ctx_io_watch(ctx, fd, events, fn, user, user_free);
}

static int api_io_update(dg_ctx *ctx, dg_io *io, int events)
{
    return dg_ctx_io_update(ctx, io, events);
}

static void api_io_close(dg_ctx *ctx, dg_io *io)
{
    dg_ctx_io_close(ctx, io);
}

static const dg_host_api host_api = {
    .struct_size = sizeof(dg_host_api),
    .abi_major = DG_ABI_MAJOR,
    .abi_minor = DG_ABI_MINOR,
    .log = api_log,
    .topic_declare = api_topic_declare,
    .publish = api_publish,
    .subscribe = api_subscribe,
    .intercept = api_intercept,
    .unsubscribe = api_unsubscribe,
    .timer_add = api_timer_add,
    .timer_cancel = api_timer_cancel,
    .io_watch = api_io_watch,
    .io_update = api_io_update,
    .io_close = api_io_close,
    .post = api_post,
    .rpc_register = api_rpc_register,
    .rpc_reply = api_rpc_reply,
    .rpc_fail = api_rpc_fail,
    .service_provide = api_service_provide,
    .service_require = api_service_require,
    .config_get = api_config_get,
    .config_get_int = api_config_get_int,
    .config_get_bool = api_config_get_bool,
    .identity = api_identity,
    .data_dir = api_data_dir,
    .plugin_id = api_plugin_id,
    .publish_ordered = api_publish_ordered,
    .rpc_reply_json = api_rpc_reply_json,
};

const dg_host_api *dg_plugin_api(void)
{
    return &host_api;
}
