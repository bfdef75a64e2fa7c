#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipmsg_proto.h"

/*
 * Datagrams read per wake-up, so one busy peer cannot starve the loop. The
 * watch is level-triggered: what is left is read on the next loop turn.
 */
#define RX_BURST 256

/*
 * Socket buffers. The kernel default (~208 KiB) holds only a few hundred
 * datagrams: a peer pipelining messages overran it, so SENDMSGs and RECVMSGs
 * were dropped and only retries one interval later got them through. 4 MiB
 * absorbs thousands of datagrams while the loop is busy elsewhere.
 */
#define SOCK_BUF_BYTES (4 * 1024 * 1024)

typedef struct rx_ctx {
    ipm_state *st;
    net_rx_fn fn;
    /* One byte more than the limit: with MSG_TRUNC the real size tells oversize apart. */
    char buf[IPMSG_MAX_UDPBUF + 1];
} rx_ctx;

static void on_readable(dg_ctx *ctx, dg_io *io, int fd, int events, int status, void *user)
{
    rx_ctx *rx = user;
    ipm_state *st = rx->st;
    if (status < 0) {
        st->api->log(ctx, DG_LOG_WARN, "UDP socket poll error %d", status);
        return;
    }
    char *buf = rx->buf;
    for (int i = 0; i < RX_BURST; i++) {
        struct sockaddr_in sa;
        socklen_t slen = sizeof sa;
        ssize_t n = recvfrom(fd, buf, sizeof rx->buf, MSG_TRUNC, (struct sockaddr *)&sa, &slen);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                st->api->log(ctx, DG_LOG_DEBUG, "recvfrom: %s", strerror(errno));
            return;
        }
        if (sa.sin_family != AF_INET)
            continue;
        size_t real = (size_t)n;
        size_t got = real < sizeof rx->buf ? real : sizeof rx->buf;
        ipm_addr from = {ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)};
        rx->fn(st, buf, got, real, from);
    }
}

/*
 * Asks for SOCK_BUF_BYTES: SO_*BUFFORCE first (allowed with CAP_NET_ADMIN,
 * above net.core.[rw]mem_max), then the plain option, which the kernel caps
 * at that limit. Returns the size getsockopt reports, 0 if unknown.
 */
static int grow_buffer(int fd, int force_opt, int opt)
{
    int want = SOCK_BUF_BYTES;
    if (setsockopt(fd, SOL_SOCKET, force_opt, &want, sizeof want) != 0)
        (void)setsockopt(fd, SOL_SOCKET, opt, &want, sizeof want);
    int got = 0;
    socklen_t len = sizeof got;
    if (getsockopt(fd, SOL_SOCKET, opt, &got, &len) != 0)
        return 0;
    return got;
}

static void size_buffers(ipm_state *st, int fd)
{
    /* The kernel reports twice what it grants (its bookkeeping counted in): halve it. */
    int rcv = grow_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF) / 2;
    int snd = grow_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF) / 2;
    /* Less than asked means a capped limit: worth saying at the default log level. */
    int level = rcv < SOCK_BUF_BYTES || snd < SOCK_BUF_BYTES ? DG_LOG_INFO : DG_LOG_DEBUG;
    st->api->log(st->ctx, level,
                 "UDP socket buffers: receive %d KiB, send %d KiB (asked %d KiB; without "
                 "CAP_NET_ADMIN net.core.rmem_max/wmem_max cap them)",
                 rcv / 1024, snd / 1024, SOCK_BUF_BYTES / 1024);
}

int net_open(ipm_state *st, net_rx_fn on_rx)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        st->api->log(st->ctx, DG_LOG_ERROR, "UDP socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(st->cfg.bind.port),
                             .sin_addr.s_addr = htonl(st->cfg.bind.ip)};
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0) {
        st->api->log(st->ctx, DG_LOG_ERROR, "UDP socket options: %s", strerror(errno));
        close(fd);
        return -1;
    }
    size_buffers(st, fd);
    /*
     * The duplicate window must outlast a retry interval at the rate this
     * buffer can deliver datagrams, or a resent SENDMSG is stored twice.
     * Out of memory keeps the smaller window (logged): duplicates, not losses.
     */
    if (ipm_dedup_reserve(&st->dedup, IPM_DEDUP_BURST_SLOTS) != 0)
        st->api->log(st->ctx, DG_LOG_WARN, "duplicate window stays at %zu packets (out of memory)",
                     st->dedup.cap);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        char a[IPM_ADDR_TEXT];
        st->api->log(st->ctx, DG_LOG_ERROR, "cannot bind UDP %s: %s",
                     ipm_addr_format(st->cfg.bind, a), strerror(errno));
        close(fd);
        return -1;
    }
    rx_ctx *rx = malloc(sizeof *rx);
    if (!rx) {
        close(fd);
        return -1;
    }
    rx->st = st;
    rx->fn = on_rx;
    /* From here the host owns fd, also if io_watch fails. */
    st->io = st->api->io_watch(st->ctx, fd, DG_IO_READ, on_readable, rx, free);
    if (!st->io) {
        free(rx);
        st->api->log(st->ctx, DG_LOG_ERROR, "cannot watch the UDP socket");
        return -1;
    }
    st->fd = fd;
    return 0;
}

int net_send(ipm_state *st, ipm_addr to, const char *data, size_t len)
{
    if (st->fd < 0)
        return -1;
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(to.port), .sin_addr.s_addr = htonl(to.ip)};
    ssize_t n;
    do
        n = sendto(st->fd, data, len, 0, (struct sockaddr *)&sa, sizeof sa);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        /* EAGAIN included: UDP gives no guarantee anyway, and retries cover messages. */
        char a[IPM_ADDR_TEXT];
        st->stats.tx_errors++;
        st->api->log(st->ctx, DG_LOG_DEBUG, "sendto %s: %s", ipm_addr_format(to, a),
                     strerror(errno));
        return -1;
    }
    st->stats.tx_packets++;
    st->stats.tx_bytes += (uint64_t)n;
    return 0;
}

/* Directed broadcast of every IPv4 interface that has one (§1.1 "ExtendBroadcast"). */
static void interface_broadcasts(ipm_state *st, ipm_addr_list *out)
{
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0) {
        st->api->log(st->ctx, DG_LOG_DEBUG, "getifaddrs: %s", strerror(errno));
        return;
    }
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
            !(i->ifa_flags & IFF_BROADCAST) || (i->ifa_flags & IFF_LOOPBACK) || !i->ifa_broadaddr)
            continue;
        const struct sockaddr_in *b = (const struct sockaddr_in *)i->ifa_broadaddr;
        ipm_addr a = {ntohl(b->sin_addr.s_addr), st->cfg.port};
        if (a.ip != 0)
            ipm_addrlist_add(out, a);
    }
    freeifaddrs(ifs);
}

void net_entry_targets(ipm_state *st, ipm_addr_list *out)
{
    ipm_addrlist_free(out);
    /*
     * A socket bound to a loopback address can only reach loopback
     * addresses: broadcasting from it is pointless, and the tests that run
     * several daemons on 127.0.0.x must not put traffic on a real LAN.
     */
    if (!ipm_ip_is_loopback(st->cfg.bind.ip)) {
        ipm_addrlist_add(out, (ipm_addr){0xffffffffu, st->cfg.port});
        interface_broadcasts(st, out);
    }
    for (size_t i = 0; i < st->cfg.broadcast.n; i++)
        ipm_addrlist_add(out, st->cfg.broadcast.v[i]);
    for (size_t i = 0; i < st->cfg.hosts.n; i++)
        ipm_addrlist_add(out, st->cfg.hosts.v[i]);
    for (size_t i = 0; i < st->users.n; i++) {
        const ipm_user *u = st->users.v[i];
        if ((u->status & IPMSG_DIALUPOPT) && u->presence != IPM_OFFLINE)
            ipm_addrlist_add(out, u->addr);
    }
    for (size_t i = 0; i < st->list_peers.n; i++)
        ipm_addrlist_add(out, st->list_peers.v[i]);
}
