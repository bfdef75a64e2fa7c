/* Creation and teardown of a plugin's context: the unit of ownership. */
#include "host_internal.h"

#include "util/log.h"

#include <stdlib.h>
#include <string.h>

dg_ctx *dg_ctx_new(dg_plugin_host *host, dg_plugin_rec *plugin, uint64_t gen)
{
    dg_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return NULL;
    ctx->magic = DG_CTX_MAGIC;
    ctx->alive = 1;
    ctx->gen = gen;
    ctx->host = host;
    ctx->plugin = plugin;
    ctx->id = plugin->id;
    return ctx;
}

dg_ctx *dg_ctx_check(dg_ctx *ctx)
{
    return ctx && ctx->magic == DG_CTX_MAGIC && ctx->alive ? ctx : NULL;
}

void dg_ctx_teardown(dg_ctx *ctx)
{
    if (!ctx)
        return;
    dg_plugin_host *host = ctx->host;
    /* From here on the API refuses new registrations and pending posts are skipped. */
    ctx->alive = 0;
    /*
     * Order: first what can call into the plugin unprompted (events, RPC calls,
     * timers, fds), then what others hold from it (services). user_free
     * callbacks run inside these calls, while the library is still mapped.
     */
    size_t lost = dg_bus_remove_owner(host->bus, ctx);
    if (lost)
        dg_log(DG_LOG_WARN, ctx->id, "%zu ordered events still waiting for room dropped at stop",
               lost);
    dg_rpc_remove_owner(host->rpc, ctx);
    dg_ctx_timers_close_all(ctx);
    dg_ctx_ios_close_all(ctx);
    dg_services_remove_owner(host->services, ctx);
    json_decref(ctx->identity);
    free(ctx->data_dir);
    /* Poison, so a plugin keeping the pointer past stop() fails dg_ctx_check. */
    memset(ctx, 0, sizeof(*ctx));
    free(ctx);
}
