/*
 * Recently seen (packet number, user, host) triples, to drop repeated
 * SENDMSG/READMSG packets (docs/ipmsg-protocol.md §1.2): a sender that missed
 * our RECVMSG resends the identical packet, and the user must see the
 * message once. Windows remembers the last 32; a fixed ring of `cap` slots
 * keeps memory bounded whatever arrives, and a larger ring covers many peers
 * retrying at once. The oldest triple is forgotten first.
 *
 * User and host are compared byte for byte as they were on the wire: a
 * resent packet is identical, so no decoding or case folding is needed.
 */
#ifndef DG_IPM_DEDUP_H
#define DG_IPM_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ipm_dedup_slot {
    uint32_t packet_no;
    uint32_t hash;
    char *names; /* user '\0' host, NULL when the slot is empty */
    size_t len;
} ipm_dedup_slot;

typedef struct ipm_dedup {
    ipm_dedup_slot *slots;
    size_t cap;
    size_t next; /* slot the next new triple overwrites */
} ipm_dedup;

/* 0, or -1 on out of memory. cap 0 means 256. */
int ipm_dedup_init(ipm_dedup *d, size_t cap);
void ipm_dedup_free(ipm_dedup *d);

/*
 * True when the triple was seen among the last cap ones; otherwise records it
 * and returns false. Out of memory records nothing and returns false (a
 * duplicate shown twice beats a message lost).
 */
bool ipm_dedup_check(ipm_dedup *d, uint32_t packet_no, const char *user, size_t user_len,
                     const char *host, size_t host_len);

#endif
