/*
 * Plugin fd watchers on libuv (uv_poll_t), owned by their ctx. The host owns
 * the fd from io_watch() on (also when io_watch fails) and closes it after
 * the poll handle is closed, as libuv requires. user_free runs synchronously
 * at removal, while the plugin's code is still mapped.
 */
#include "host_internal.h"

#include "util/log.h"

#include <stdlib.h>
#include <unistd.h>

struct dg_io {
    uv_poll_t uv;
    dg_ctx *ctx;
    int fd;
    dg_io_fn fn;
    void *user;
    dg_free_fn user_free;
    int removed;
    struct dg_io *prev, *next;
};

static int to_uv(int events)
{
    return ((events & DG_IO_READ) ? UV_READABLE : 0) | ((events & DG_IO_WRITE) ? UV_WRITABLE : 0);
}

static int from_uv(int events)
{
    return ((events & UV_READABLE) ? DG_IO_READ : 0) | ((events & UV_WRITABLE) ? DG_IO_WRITE : 0);
}

static void io_closed(uv_handle_t *h)
{
    dg_io *io = h->data;
    close(io->fd);
    free(io);
}

static void io_remove(dg_io *io)
{
    if (io->removed)
        return;
    io->removed = 1;
    dg_ctx *ctx = io->ctx;
    if (io->prev)
        io->prev->next = io->next;
    else
        ctx->ios = io->next;
    if (io->next)
        io->next->prev = io->prev;
    uv_poll_stop(&io->uv);
    if (io->user_free)
        io->user_free(io->user);
    uv_close((uv_handle_t *)&io->uv, io_closed);
}

static void io_ready(uv_poll_t *h, int status, int events)
{
    dg_io *io = h->data;
    if (io->removed)
        return;
    io->fn(io->ctx, io, io->fd, status < 0 ? 0 : from_uv(events), status, io->user);
}

dg_io *dg_ctx_io_watch(dg_ctx *ctx, int fd, int events, dg_io_fn fn, void *user,
                       dg_free_fn user_free)
{
    int valid = dg_ctx_check(ctx) && fn && fd >= 0 && (events & ~(DG_IO_READ | DG_IO_WRITE)) == 0;
    dg_io *io = valid ? calloc(1, sizeof(*io)) : NULL;
    int rc = io ? uv_poll_init(ctx->host->loop, &io->uv, fd) : 0;
    if (!io || rc != 0) {
        if (rc != 0)
            dg_log(DG_LOG_WARN, ctx->id, "io_watch(fd %d): %s", fd, uv_strerror(rc));
        free(io); /* uv_poll_init failed before registering the handle */
        if (fd >= 0)
            close(fd); /* ownership passed to the host, also on failure */
        return NULL;
    }
    io->uv.data = io;
    io->ctx = ctx;
    io->fd = fd;
    io->fn = fn;
    io->user = user;
    io->user_free = user_free;
    if (events && (rc = uv_poll_start(&io->uv, to_uv(events), io_ready)) != 0) {
        dg_log(DG_LOG_WARN, ctx->id, "io_watch(fd %d): %s", fd, uv_strerror(rc));
        uv_close((uv_handle_t *)&io->uv, io_closed);
        return NULL;
    }
    io->next = ctx->ios;
    if (io->next)
        io->next->prev = io;
    ctx->ios = io;
    return io;
}

static dg_io *find_io(dg_ctx *ctx, dg_io *io)
{
    for (dg_io *i = ctx->ios; i; i = i->next)
        if (i == io)
            return i;
    return NULL;
}

int dg_ctx_io_update(dg_ctx *ctx, dg_io *io, int events)
{
    if (!dg_ctx_check(ctx) || !io || (events & ~(DG_IO_READ | DG_IO_WRITE)) != 0)
        return DG_EINVAL;
    if (!find_io(ctx, io))
        return DG_ENOENT;
    int rc = events ? uv_poll_start(&io->uv, to_uv(events), io_ready) : uv_poll_stop(&io->uv);
    return rc == 0 ? DG_OK : DG_ERR;
}

void dg_ctx_io_close(dg_ctx *ctx, dg_io *io)
{
    if (!dg_ctx_check(ctx) || !io)
        return;
    if (find_io(ctx, io))
        io_remove(io);
    else
        dg_log(DG_LOG_WARN, ctx->id, "io_close: not a live watcher of this plugin");
}

void dg_ctx_ios_close_all(dg_ctx *ctx)
{
    while (ctx->ios)
        io_remove(ctx->ios);
}
