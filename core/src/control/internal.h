/* Shared between server.c (listener, lifetime, stats) and client.c (one connection). */
#ifndef DG_CONTROL_INTERNAL_H
#define DG_CONTROL_INTERNAL_H

#include "control/control.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Limits. A line this long is an error (the connection then closes). */
#define DG_CONTROL_MAX_LINE ((size_t)1024 * 1024)
/* Connections beyond this get one error response and are closed. */
#define DG_CONTROL_MAX_CLIENTS 256
/*
 * Flow control per client: with this many calls unanswered, or this many
 * response bytes not yet taken by the client, its input is not read further
 * until things drain. A fast pipeliner then costs bounded memory.
 */
#define DG_CONTROL_MAX_INFLIGHT 128
#define DG_CONTROL_MAX_QUEUED ((size_t)4 * 1024 * 1024)

typedef struct ctl_client ctl_client;

struct dg_control {
    uv_loop_t *loop;
    dg_rpc *rpc;
    char *path;
    dev_t sock_dev; /* identity of the socket file we bound, so stop unlinks only ours */
    ino_t sock_ino;
    int lock_fd;
    uv_pipe_t listener;
    ctl_client *clients; /* every client not yet freed (closing ones included) */
    size_t n_clients;    /* connected and not closing */
    size_t open_units;   /* listener + clients not yet freed; ctl is freed at 0 after stop */
    size_t pending;      /* calls in flight over all clients */
    uint64_t requests;
    uint64_t errors;
    int stopping;
};

/* client.c */
void dg_control_client_accept(dg_control *ctl);
/* Detaches the client's calls and closes it now: answers given so far are written if the
 * socket takes them at once, the rest is dropped. */
void dg_control_client_close(ctl_client *c);
ctl_client *dg_control_client_next(ctl_client *c);

/* server.c: a client finished closing (its memory is gone). */
void dg_control_unit_closed(dg_control *ctl);

#endif
