/*
 * api->post(): run a plugin callback on the loop thread, from any thread,
 * through dg_bus_post. The record carries the ctx's generation, and the
 * callback runs only if that exact ctx is still alive when the record comes
 * round: a plugin that stopped (or failed to start) after posting must not
 * have its code called, nor its freed ctx touched.
 *
 * The records reference a small hub instead of the host, so a post that is
 * still queued when the host is freed finds the hub detached and drops itself.
 */
#include "host_internal.h"

#include <stdatomic.h>
#include <stdlib.h>

struct dg_post_hub {
    atomic_uint refs;
    dg_plugin_host *host; /* NULL once the host is gone; read/written on the loop thread */
};

typedef struct post_rec {
    dg_post_hub *hub;
    const dg_ctx *ctx; /* compared, never dereferenced unless alive */
    uint64_t gen;
    dg_post_fn fn;
    void *user;
} post_rec;

dg_post_hub *dg_post_hub_new(dg_plugin_host *host)
{
    dg_post_hub *hub = calloc(1, sizeof(*hub));
    if (hub) {
        atomic_init(&hub->refs, 1);
        hub->host = host;
    }
    return hub;
}

static void hub_unref(dg_post_hub *hub)
{
    if (atomic_fetch_sub(&hub->refs, 1) == 1)
        free(hub);
}

void dg_post_hub_detach(dg_post_hub *hub)
{
    if (!hub)
        return;
    hub->host = NULL;
    hub_unref(hub);
}

static void run_post(void *arg)
{
    post_rec *r = arg;
    dg_plugin_host *host = r->hub->host;
    if (host && dg_host_ctx_alive(host, r->ctx, r->gen))
        r->fn(r->user);
    hub_unref(r->hub);
    free(r);
}

int dg_ctx_post(dg_ctx *ctx, dg_post_fn fn, void *user)
{
    /* May run on any thread: reads only fields fixed at ctx creation. */
    if (!ctx || ctx->magic != DG_CTX_MAGIC || !fn)
        return DG_EINVAL;
    dg_post_hub *hub = ctx->host->posts;
    post_rec *r = malloc(sizeof(*r));
    if (!r)
        return DG_ENOMEM;
    *r = (post_rec){.hub = hub, .ctx = ctx, .gen = ctx->gen, .fn = fn, .user = user};
    atomic_fetch_add(&hub->refs, 1);
    int rc = dg_bus_post(ctx->host->bus, run_post, r);
    if (rc != DG_OK) {
        hub_unref(hub);
        free(r);
    }
    return rc;
}
