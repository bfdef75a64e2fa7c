/*
 * Unmapping a plugin's library is deferred to the next loop turn.
 *
 * The bus and the RPC registry defer user_free of registrations removed while
 * one of their callbacks is running (bus: any subscriber, interceptor or post;
 * RPC: a handler of that method). If a stop is triggered from inside such a
 * callback (a core subscriber reacting to a licence change, say), those
 * user_free calls still point into the plugin's library. By the next loop
 * turn every dispatch in progress has returned and reaped its dead entries,
 * so lt_dlclose is safe then. A re-enable in between simply reopens the same
 * handle (libltdl counts references).
 */
#include "host_internal.h"

#include "util/log.h"

#include <stdlib.h>

static void close_pending(dg_plugin_host *host)
{
    for (size_t i = 0; i < host->n_unmap; i++)
        dg_loader_close(&host->unmap[i]);
    host->n_unmap = 0;
}

static void on_turn(uv_timer_t *t)
{
    dg_plugin_host *host = t->data;
    if (host)
        close_pending(host);
}

static void timer_closed(uv_handle_t *h)
{
    free(h);
}

int dg_host_unloader_init(dg_plugin_host *host)
{
    host->unmap_timer = malloc(sizeof(*host->unmap_timer));
    if (!host->unmap_timer || uv_timer_init(host->loop, host->unmap_timer) != 0) {
        free(host->unmap_timer);
        host->unmap_timer = NULL;
        return -1;
    }
    host->unmap_timer->data = host;
    return 0;
}

void dg_host_release_library(dg_plugin_host *host, dg_loaded *lib)
{
    if (!lib->handle || lib->resident) {
        dg_loader_close(lib); /* resident: only forgets the handle */
        return;
    }
    if (host->n_unmap == host->cap_unmap) {
        size_t cap = host->cap_unmap ? host->cap_unmap * 2 : 8;
        dg_loaded *n = realloc(host->unmap, cap * sizeof(*n));
        if (!n) {
            /* Keeping it mapped forever is safe; closing now might not be. */
            dg_log(DG_LOG_WARN, "plugin", "out of memory: library stays mapped");
            lib->handle = NULL;
            return;
        }
        host->unmap = n;
        host->cap_unmap = cap;
    }
    host->unmap[host->n_unmap++] = *lib;
    lib->handle = NULL;
    lib->desc = NULL;
    uv_timer_start(host->unmap_timer, on_turn, 0, 0);
}

void dg_host_unloader_free(dg_plugin_host *host)
{
    close_pending(host);
    free(host->unmap);
    host->unmap = NULL;
    host->cap_unmap = 0;
    if (host->unmap_timer) {
        host->unmap_timer->data = NULL;
        uv_close((uv_handle_t *)host->unmap_timer, timer_closed);
        host->unmap_timer = NULL;
    }
}
