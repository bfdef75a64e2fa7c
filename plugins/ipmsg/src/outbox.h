/*
 * Packets that wait for an answer and are resent until it comes
 * (docs/ipmsg-protocol.md §4.3, §4.4): SENDMSG with SENDCHECKOPT until
 * RECVMSG, READMSG with READCHECKOPT until ANSREADMSG. The identical bytes
 * (same packet number) are resent every ipmsg.retry_interval_ms, at most
 * ipmsg.retries times, like Windows and iptux do; then the packet has
 * failed. Each pending packet has its own timer, so retries need no polling.
 */
#ifndef DG_IPM_OUTBOX_H
#define DG_IPM_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

typedef enum ipm_pend_kind {
    IPM_PEND_SENDMSG = 0, /* waits for RECVMSG */
    IPM_PEND_READMSG = 1, /* waits for ANSREADMSG */
} ipm_pend_kind;

struct ipm_sent;

typedef struct ipm_pending {
    struct ipm_pending *next, *prev;
    ipm_state *st; /* for the timer callback */
    ipm_pend_kind kind;
    uint32_t packet_no;
    ipm_addr addr;
    char *key; /* the peer's user@host (or address text for an unknown host) */
    char *data;
    size_t len;
    int64_t sends; /* times sent so far */
    dg_timer *timer;
    struct ipm_sent *sent; /* SENDMSG: the message ... */
    size_t rcpt;           /* ... and which of its recipients */
    uint32_t msg_id;       /* READMSG: the inbox message that was opened */
} ipm_pending;

/*
 * Copies the packet, sends it now and arms the retry timer. Returns the
 * pending entry (owned by the outbox) or NULL on out of memory.
 */
ipm_pending *outbox_send(ipm_state *st, ipm_pend_kind kind, uint32_t packet_no, ipm_addr addr,
                         const char *key, const char *data, size_t len);
/* The entry an answer acknowledges: same kind and number, from the same address or key. */
ipm_pending *outbox_find(ipm_state *st, ipm_pend_kind kind, uint32_t packet_no, ipm_addr from,
                         const char *key);
/* Answered (or abandoned): stops the timer and frees the entry. */
void outbox_done(ipm_state *st, ipm_pending *p);
/* At stop: frees every entry without callbacks (the host removes the timers). */
void outbox_free_all(ipm_state *st);

/* Called by the outbox when the last retry got no answer; the entry is freed after it. */
void messages_on_give_up(ipm_state *st, ipm_pending *p);

#endif
