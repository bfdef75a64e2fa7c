#include "ifwatch.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nlparse.h"
#include "presence.h"

/* Datagrams read per wake-up, so a flood of route changes cannot starve the loop. */
#define NL_BURST 16

typedef struct ipm_ifwatch {
    ipm_state *st;
    dg_io *io;
    dg_timer *debounce; /* one-shot, restarted by every change */
    uint64_t changes;   /* address messages that mattered */
    uint64_t rounds;    /* re-announces they caused */
    /* One page: a burst of address messages fits; longer ones arrive in parts. */
    char buf[8192] __attribute__((aligned(4)));
} ipm_ifwatch;

static void on_quiet(dg_ctx *ctx, dg_timer *timer, void *user)
{
    ipm_ifwatch *w = user;
    w->debounce = NULL; /* one-shot: gone after this call */
    w->rounds++;
    w->st->api->log(ctx, DG_LOG_INFO, "the machine's addresses changed: announcing again");
    presence_announce(w->st);
}

static void changed(ipm_ifwatch *w)
{
    ipm_state *st = w->st;
    if (w->debounce)
        st->api->timer_cancel(st->ctx, w->debounce);
    w->debounce = st->api->timer_add(st->ctx, IPM_READDRESS_DELAY_MS, 0, on_quiet, w, NULL);
}

static void on_readable(dg_ctx *ctx, dg_io *io, int fd, int events, int status, void *user)
{
    ipm_ifwatch *w = user;
    if (status < 0)
        return;
    bool any = false;
    for (int i = 0; i < NL_BURST; i++) {
        struct sockaddr_nl sa;
        struct iovec iov = {w->buf, sizeof w->buf};
        struct msghdr mh = {
            .msg_name = &sa, .msg_namelen = sizeof sa, .msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n = recvmsg(fd, &mh, 0);
        if (n < 0) {
            /* ENOBUFS: the kernel dropped notifications; something changed for sure. */
            if (errno == ENOBUFS)
                any = true;
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                w->st->api->log(ctx, DG_LOG_DEBUG, "netlink recvmsg: %s", strerror(errno));
            if (errno != ENOBUFS && errno != EINTR)
                break;
            continue;
        }
        /* Only the kernel (port id 0) speaks on this group; ignore anything else. */
        if (mh.msg_namelen != sizeof sa || sa.nl_pid != 0)
            continue;
        ipm_nl_summary sum;
        ipm_nl_summarize(w->buf, (size_t)n, &sum);
        if (sum.changes) {
            w->changes += sum.changes;
            any = true;
        }
    }
    if (any)
        changed(w);
}

int ifwatch_open(ipm_state *st)
{
    ipm_ifwatch *w = calloc(1, sizeof(*w));
    if (!w)
        return -1;
    w->st = st;
    st->ifwatch = w;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) {
        st->api->log(st->ctx, DG_LOG_WARN,
                     "no netlink socket (%s): address changes are noticed only by the periodic "
                     "re-announce",
                     strerror(errno));
        return 0;
    }
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR};
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        st->api->log(st->ctx, DG_LOG_WARN,
                     "cannot subscribe to address changes (%s): only the periodic re-announce "
                     "notices them",
                     strerror(errno));
        close(fd);
        return 0;
    }
    /* From here the host owns fd. */
    w->io = st->api->io_watch(st->ctx, fd, DG_IO_READ, on_readable, w, NULL);
    if (!w->io)
        st->api->log(st->ctx, DG_LOG_WARN, "cannot watch the netlink socket");
    return 0;
}

void ifwatch_free(ipm_state *st)
{
    free(st->ifwatch); /* the host closes the socket and removes the timer */
    st->ifwatch = NULL;
}

json_t *ifwatch_json(const ipm_state *st)
{
    const ipm_ifwatch *w = st->ifwatch;
    return json_pack("{s:b, s:I, s:I}", "watching", w && w->io, "address_changes",
                     (json_int_t)(w ? w->changes : 0), "reannounces",
                     (json_int_t)(w ? w->rounds : 0));
}
