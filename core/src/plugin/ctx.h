/*
 * The per-plugin context (dg_ctx) behind the SDK's opaque handle, and the
 * owner-scoped resources the host API creates through it (timers, fd
 * watchers, posts). Internal to core/src/plugin.
 *
 * A ctx exists from just before a plugin's start() until its registrations
 * have been removed after stop() or a failed start. Every registration in the
 * bus, RPC and service registries carries the ctx as owner, so one
 * dg_ctx_teardown() removes all of them.
 */
#ifndef DG_PLUGIN_CTX_H
#define DG_PLUGIN_CTX_H

#include "plugin/host.h"

#include <dengon/plugin.h>
#include <jansson.h>
#include <stdint.h>

#define DG_CTX_MAGIC 0x64676378u /* "dgcx": catches stray pointers passed as ctx */

struct dg_plugin_rec;

struct dg_ctx {
    uint32_t magic;
    int alive;    /* 0 once teardown began: the API refuses new registrations */
    uint64_t gen; /* unique per host, never reused: lets posts detect a dead ctx */
    dg_plugin_host *host;
    struct dg_plugin_rec *plugin;
    const char *id;               /* borrowed from the plugin record */
    struct dg_timer *timers;      /* newest first */
    struct dg_timer *timers_tail; /* oldest: timer_cancel looks from here */
    struct dg_io *ios;
    json_t *identity;     /* built on first use */
    char *data_dir;       /* created on first use */
    char last_error[256]; /* last message logged at ERROR, for failure reasons */
};

/* The host function table handed to every plugin's start(). */
const dg_host_api *dg_plugin_api(void);

dg_ctx *dg_ctx_new(dg_plugin_host *host, struct dg_plugin_rec *plugin, uint64_t gen);
/*
 * Removes everything the plugin registered through ctx (bus subscriptions,
 * interceptors and topics, RPC methods, services, timers, fd watchers; posted
 * callbacks will not run) and frees it. user_free callbacks run now, while
 * the plugin's code is still mapped.
 */
void dg_ctx_teardown(dg_ctx *ctx);
/* NULL unless ctx looks like a live context. */
dg_ctx *dg_ctx_check(dg_ctx *ctx);

/* timer.c */
dg_timer *dg_ctx_timer_add(dg_ctx *ctx, uint64_t timeout_ms, uint64_t repeat_ms, dg_timer_fn fn,
                           void *user, dg_free_fn user_free);
void dg_ctx_timer_cancel(dg_ctx *ctx, dg_timer *timer);
void dg_ctx_timers_close_all(dg_ctx *ctx);

/* io.c */
dg_io *dg_ctx_io_watch(dg_ctx *ctx, int fd, int events, dg_io_fn fn, void *user,
                       dg_free_fn user_free);
int dg_ctx_io_update(dg_ctx *ctx, dg_io *io, int events);
void dg_ctx_io_close(dg_ctx *ctx, dg_io *io);
void dg_ctx_ios_close_all(dg_ctx *ctx);

/* post.c: cross-thread posts that never run after their ctx is gone. */
typedef struct dg_post_hub dg_post_hub;
dg_post_hub *dg_post_hub_new(dg_plugin_host *host);
/* The host is going away: pending posts are dropped when they come round. */
void dg_post_hub_detach(dg_post_hub *hub);
int dg_ctx_post(dg_ctx *ctx, dg_post_fn fn, void *user);

#endif
