#include "sockio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int fl_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void fl_sock_timeouts(int fd, int64_t seconds)
{
    struct timeval tv = {.tv_sec = (time_t)seconds};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int fl_connect(uint32_t ip, uint16_t port, uint32_t local_ip, int64_t timeout_s)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in la = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(local_ip)};
    if (local_ip && bind(fd, (struct sockaddr *)&la, sizeof la) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        rc = poll(&p, 1, (int)(timeout_s * 1000));
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (rc == 0) {
            errno = ETIMEDOUT;
            rc = -1;
        } else if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr) {
            errno = soerr;
            rc = -1;
        } else if (rc > 0) {
            rc = 0;
        }
    }
    if (rc < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    /* Back to blocking: the worker thread waits on it, bounded by the timeouts. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    fl_sock_timeouts(fd, timeout_s);
    return fd;
}

int fl_parse_addr(const char *s, uint32_t *ip, uint16_t *port)
{
    char buf[32];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(colon - s));
    buf[colon - s] = '\0';
    struct in_addr a;
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (inet_pton(AF_INET, buf, &a) != 1 || *end || p == 0 || p > 65535)
        return -1;
    *ip = ntohl(a.s_addr);
    *port = (uint16_t)p;
    return 0;
}
