/*
 * Recently seen (packet number, user, host) triples, to drop repeated
 * SENDMSG/READMSG packets (docs/ipmsg-protocol.md §1.2): a sender that missed
 * our RECVMSG resends the identical packet, and the user must see the
 * message once. Windows remembers the last 32; a fixed ring of `cap` slots
 * keeps memory bounded whatever arrives, and a larger ring covers many peers
 * retrying at once. The oldest triple is forgotten first.
 *
 * The window has to outlast the sender's retry period at the highest rate
 * packets can come in: a peer pipelining thousands of messages gets a resend
 * one retry interval later, when 1,024 slots are long overwritten and the
 * resent message would be stored twice. So the ring can be grown
 * (ipm_dedup_reserve) to tens of thousands of slots, and a hash index keeps
 * each check O(1) however large it is.
 *
 * User and host are compared byte for byte as they were on the wire: a
 * resent packet is identical, so no decoding or case folding is needed.
 */
#ifndef DG_IPM_DEDUP_H
#define DG_IPM_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Slots for bursts: at 20,000 messages/s a ring this size remembers the last
 * ~3 s, longer than a 1 s retry interval, for about 3 MB at the most.
 */
#define IPM_DEDUP_BURST_SLOTS 65536u

typedef struct ipm_dedup_slot {
    uint32_t packet_no;
    uint32_t hash;
    uint32_t chain; /* next slot (index + 1) in the same bucket, 0 = end */
    char *names;    /* user '\0' host, NULL when the slot is empty */
    size_t len;
} ipm_dedup_slot;

typedef struct ipm_dedup {
    ipm_dedup_slot *slots;
    size_t cap;
    size_t next;      /* slot the next new triple overwrites */
    uint32_t *bucket; /* hash index: first slot (index + 1) of each bucket, 0 = empty */
    size_t nbuckets;  /* a power of two, >= cap */
} ipm_dedup;

/* 0, or -1 on out of memory. cap 0 means 256. */
int ipm_dedup_init(ipm_dedup *d, size_t cap);
/*
 * Grows the ring to at least cap slots (at most IPM_DEDUP_BURST_SLOTS * 16),
 * keeping what it remembers. 0, or -1 on out of memory (the ring is then
 * unchanged).
 */
int ipm_dedup_reserve(ipm_dedup *d, size_t cap);
void ipm_dedup_free(ipm_dedup *d);

/*
 * True when the triple was seen among the last cap ones; otherwise records it
 * and returns false. Out of memory records nothing and returns false (a
 * duplicate shown twice beats a message lost).
 */
bool ipm_dedup_check(ipm_dedup *d, uint32_t packet_no, const char *user, size_t user_len,
                     const char *host, size_t host_len);

#endif
