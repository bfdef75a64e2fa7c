/*
 * Plugin timers on libuv, owned by their ctx.
 *
 * user_free runs when the timer is removed (cancel, after a one-shot timer
 * fired, or teardown), synchronously, so it never runs after the plugin's
 * library is unmapped. The uv handle itself is freed in its close callback,
 * which is host code and only touches host memory: that is why the daemon
 * must let the loop turn once after stopping plugins.
 */
#include "host_internal.h"

#include "util/log.h"

#include <stdlib.h>

struct dg_timer {
    uv_timer_t uv;
    dg_ctx *ctx;
    dg_timer_fn fn;
    void *user;
    dg_free_fn user_free;
    uint64_t repeat_ms;
    int removed;
    struct dg_timer *prev, *next;
};

static void timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void timer_remove(dg_timer *t)
{
    if (t->removed)
        return;
    t->removed = 1;
    dg_ctx *ctx = t->ctx;
    if (t->prev)
        t->prev->next = t->next;
    else
        ctx->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        ctx->timers_tail = t->prev;
    uv_timer_stop(&t->uv);
    if (t->user_free)
        t->user_free(t->user);
    uv_close((uv_handle_t *)&t->uv, timer_closed);
}

static void timer_fired(uv_timer_t *h)
{
    dg_timer *t = h->data;
    if (t->removed)
        return;
    t->fn(t->ctx, t, t->user);
    /* The callback may have cancelled it (memory is freed only in the close callback). */
    if (!t->removed && t->repeat_ms == 0)
        timer_remove(t);
}

dg_timer *dg_ctx_timer_add(dg_ctx *ctx, uint64_t timeout_ms, uint64_t repeat_ms, dg_timer_fn fn,
                           void *user, dg_free_fn user_free)
{
    if (!dg_ctx_check(ctx) || !fn)
        return NULL;
    dg_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    if (uv_timer_init(ctx->host->loop, &t->uv) != 0) {
        free(t);
        return NULL;
    }
    t->uv.data = t;
    t->ctx = ctx;
    t->fn = fn;
    t->user = user;
    t->user_free = user_free;
    t->repeat_ms = repeat_ms;
    /*
     * The loop's clock is cached per iteration; a long start_all would make
     * "after timeout_ms" fire early. One clock_gettime is cheap.
     */
    uv_update_time(ctx->host->loop);
    if (uv_timer_start(&t->uv, timer_fired, timeout_ms, repeat_ms) != 0) {
        uv_close((uv_handle_t *)&t->uv, timer_closed);
        return NULL;
    }
    t->next = ctx->timers;
    if (t->next)
        t->next->prev = t;
    else
        ctx->timers_tail = t;
    ctx->timers = t;
    return t;
}

void dg_ctx_timer_cancel(dg_ctx *ctx, dg_timer *timer)
{
    if (!dg_ctx_check(ctx) || !timer)
        return;
    /*
     * Only the caller's own, live timers: a stale or foreign handle is ignored
     * (compared, never dereferenced). From the oldest: a plugin with many
     * timers in flight (one retry timer per unacknowledged message) mostly
     * cancels them in the order it set them.
     */
    for (dg_timer *t = ctx->timers_tail; t; t = t->prev) {
        if (t == timer) {
            timer_remove(t);
            return;
        }
    }
    dg_log(DG_LOG_WARN, ctx->id, "timer_cancel: not a live timer of this plugin");
}

void dg_ctx_timers_close_all(dg_ctx *ctx)
{
    while (ctx->timers)
        timer_remove(ctx->timers);
}
