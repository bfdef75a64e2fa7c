#include "nlparse.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

void ipm_nl_summarize(const void *buf, size_t len, ipm_nl_summary *out)
{
    memset(out, 0, sizeof(*out));
    const unsigned char *p = buf;
    size_t off = 0;
    while (p && len - off >= sizeof(struct nlmsghdr)) {
        /* Copied out: a datagram (or a fuzzer's input) need not be aligned. */
        struct nlmsghdr h;
        memcpy(&h, p + off, sizeof h);
        if (h.nlmsg_len < sizeof h || h.nlmsg_len > len - off) {
            out->malformed = true;
            return;
        }
        out->messages++;
        if (h.nlmsg_type == NLMSG_DONE)
            return;
        if (h.nlmsg_type == RTM_NEWADDR || h.nlmsg_type == RTM_DELADDR) {
            struct ifaddrmsg ifa;
            if (h.nlmsg_len < NLMSG_LENGTH(sizeof ifa)) {
                out->malformed = true;
                return;
            }
            memcpy(&ifa, p + off + NLMSG_HDRLEN, sizeof ifa);
            if (ifa.ifa_family == AF_INET && ifa.ifa_scope != RT_SCOPE_HOST)
                out->changes++;
            else
                out->ignored++;
        }
        size_t step = NLMSG_ALIGN(h.nlmsg_len);
        if (step > len - off)
            return; /* the last message, unpadded */
        off += step;
    }
}
