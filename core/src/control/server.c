/*
 * The control server: claims the socket path, accepts clients, keeps the
 * counters, and tears everything down on stop. The dg_control struct outlives
 * dg_control_stop until the last handle's close callback has run.
 */
#include "control/internal.h"

#include "control/sockpath.h"
#include "util/log.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void set_err(char **err, const char *msg)
{
    if (err)
        *err = msg ? strdup(msg) : NULL;
}

static void free_control(dg_control *ctl)
{
    free(ctl->path);
    free(ctl);
}

void dg_control_unit_closed(dg_control *ctl)
{
    if (--ctl->open_units == 0 && ctl->stopping)
        free_control(ctl);
}

static void on_listener_closed(uv_handle_t *handle)
{
    dg_control_unit_closed(handle->data);
}

static void on_connection(uv_stream_t *server, int status)
{
    dg_control *ctl = server->data;
    if (status < 0) {
        dg_log(DG_LOG_WARN, "control", "accept failed: %s", uv_strerror(status));
        return;
    }
    dg_control_client_accept(ctl);
}

/* A daemon serving sockets must not die when a client hangs up mid-answer. */
static void ignore_sigpipe(void)
{
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, NULL);
    }
}

/* Unlinks the socket only if it is still the one we bound. */
static void unlink_own_socket(dg_control *ctl)
{
    struct stat st;
    if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->sock_dev && st.st_ino == ctl->sock_ino)
        unlink(ctl->path);
}

dg_control *dg_control_start(uv_loop_t *loop, dg_rpc *rpc, const char *path, char **err)
{
    set_err(err, NULL);
    dg_control *ctl = calloc(1, sizeof *ctl);
    if (!ctl || !(ctl->path = path ? strdup(path) : NULL)) {
        free(ctl);
        set_err(err, path ? "out of memory" : "no control socket path");
        return NULL;
    }
    ctl->loop = loop;
    ctl->rpc = rpc;

    char *bind_err = NULL;
    int fd = dg_control_bind(path, &ctl->lock_fd, &bind_err);
    if (fd < 0) {
        set_err(err, bind_err ? bind_err : "out of memory");
        free(bind_err);
        free_control(ctl);
        return NULL;
    }
    struct stat st;
    if (lstat(path, &st) == 0) {
        ctl->sock_dev = st.st_dev;
        ctl->sock_ino = st.st_ino;
    }
    ignore_sigpipe();

    uv_pipe_init(loop, &ctl->listener, 0);
    ctl->listener.data = ctl;
    ctl->open_units = 1;
    int rc = uv_pipe_open(&ctl->listener, fd);
    if (rc != 0)
        close(fd); /* not adopted by the handle */
    else
        rc = uv_listen((uv_stream_t *)&ctl->listener, 128, on_connection);
    if (rc != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "cannot listen on control socket %s: %s", path, uv_strerror(rc));
        set_err(err, msg);
        unlink_own_socket(ctl);
        close(ctl->lock_fd);
        /* The handle is registered with the loop: freed by its close callback. */
        ctl->stopping = 1;
        uv_close((uv_handle_t *)&ctl->listener, on_listener_closed);
        return NULL;
    }
    dg_log(DG_LOG_INFO, "control", "listening on %s", path);
    return ctl;
}

void dg_control_stop(dg_control *ctl)
{
    if (!ctl || ctl->stopping)
        return;
    ctl->stopping = 1;
    /* Closing does not free synchronously, so walking the list is safe. */
    for (ctl_client *c = ctl->clients; c; c = dg_control_client_next(c))
        dg_control_client_close(c);
    uv_close((uv_handle_t *)&ctl->listener, on_listener_closed);
    unlink_own_socket(ctl);
    /* The lock file stays: removing it would let two starting daemons lock different files. */
    close(ctl->lock_fd);
    ctl->lock_fd = -1;
}

json_t *dg_control_stats(dg_control *ctl)
{
    return json_pack("{s:I,s:I,s:I,s:I}", "clients", (json_int_t)ctl->n_clients, "requests",
                     (json_int_t)ctl->requests, "errors", (json_int_t)ctl->errors, "pending",
                     (json_int_t)ctl->pending);
}
