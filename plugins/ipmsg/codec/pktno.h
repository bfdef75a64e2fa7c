/*
 * Packet numbers (docs/ipmsg-protocol.md §1.2, §9.9): Windows uses
 * max(time(NULL), last + 1). That keeps numbers unique and rising across
 * restarts, which matters because Windows drops (packetNo, user, host)
 * repeats among the last 32 packets and iptux drops any SENDMSG whose number
 * is not above the last one it saw from that address. iptux's own scheme
 * (count from 1 at each start) gets early messages dropped after a quick
 * restart; this one does not.
 *
 * Numbers stay below 2^32: peers parse them as uint32 and wrap (iptux
 * echoed 17952559020 back as 772689836, iptux-interop.md §6). The generator
 * never returns 0 (a RECVMSG carrying "0" looks like a parse failure to
 * atoi-based peers).
 */
#ifndef DG_IPMSG_PKTNO_H
#define DG_IPMSG_PKTNO_H

#include <stdint.h>

typedef struct ipmsg_pktno {
    uint32_t last; /* last number handed out, 0 = none yet */
} ipmsg_pktno;

/* last_used: a number persisted from a previous run, or 0. */
void ipmsg_pktno_init(ipmsg_pktno *g, uint32_t last_used);

/*
 * Next number for the wall-clock time now (Unix seconds; the caller passes it
 * so the codec stays free of I/O and tests are deterministic). Strictly
 * greater than the previous result, also when the clock steps back. After
 * 0xFFFFFFFF (the year 2106, or a burst of 4 billion packets) it restarts
 * from the clock value modulo 2^32: the only point where it is not monotonic.
 */
uint32_t ipmsg_pktno_next(ipmsg_pktno *g, int64_t now);

/* ipmsg_pktno_next(g, time(NULL)). */
uint32_t ipmsg_pktno_next_now(ipmsg_pktno *g);

#endif
