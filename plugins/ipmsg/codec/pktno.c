#include "pktno.h"

#include <time.h>

void ipmsg_pktno_init(ipmsg_pktno *g, uint32_t last_used)
{
    g->last = last_used;
}

uint32_t ipmsg_pktno_next(ipmsg_pktno *g, int64_t now)
{
    /* Clock before 1970 (broken RTC): treat as 0 and just count up. */
    uint32_t t = now > 0 ? (uint32_t)((uint64_t)now & 0xffffffffu) : 0;
    uint32_t next;
    if (g->last == UINT32_MAX)
        next = t; /* wrapped: start again from the clock */
    else
        next = t > g->last ? t : g->last + 1;
    if (next == 0)
        next = 1;
    g->last = next;
    return next;
}

uint32_t ipmsg_pktno_next_now(ipmsg_pktno *g)
{
    return ipmsg_pktno_next(g, (int64_t)time(NULL));
}
