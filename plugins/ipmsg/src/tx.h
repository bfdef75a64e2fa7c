/*
 * Building outgoing packets with our names (docs/ipmsg-protocol.md §1.2):
 * header user/host from the identity (identity.user/host), a
 * fresh time-based packet number, UTF8OPT only where the caller asks for it
 * (peers that showed CAPUTF8, §1.3), the trailing NUL always (the codec
 * writes it).
 */
#ifndef DG_IPM_TX_H
#define DG_IPM_TX_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* Largest datagram we build: Windows' receive buffer (§1.1). */
#define IPM_TX_MAX IPMSG_MAX_UDPBUF

/*
 * Builds "1:<no>:<user>:<host>:<command>:<extra>\0" into out[0..cap).
 * extra is UTF-8 text, encoded per UTF8OPT in command. 0, or -1 when it does
 * not fit (E_NOSPACE) or cannot be encoded.
 */
int tx_build(ipm_state *st, uint32_t packet_no, uint32_t command, const char *extra,
             size_t extra_len, char *out, size_t cap, size_t *len);
/* The same with a FILEATTACHOPT attach list (UTF-8 text, NULL for none) as
 * the section after the extra's NUL, encoded like the extra (§5.1). */
int tx_build_attach(ipm_state *st, uint32_t packet_no, uint32_t command, const char *extra,
                    size_t extra_len, const char *attach, char *out, size_t cap, size_t *len);
/* The same with an extra already in wire form (an ANSLIST page built by the codec). */
int tx_build_raw(ipm_state *st, uint32_t packet_no, uint32_t command, const char *extra,
                 size_t extra_len, char *out, size_t cap, size_t *len);
/* Builds with a new packet number and sends one datagram; returns the number or 0. */
uint32_t tx_simple(ipm_state *st, ipm_addr to, uint32_t command, const char *extra);
/* The same with a decimal number as extra (RECVMSG, READMSG, ANSREADMSG: §1.4). */
uint32_t tx_number(ipm_state *st, ipm_addr to, uint32_t command, uint32_t number);

/* Our entry status word (§3.1, §10): CAPUTF8OPT, ABSENCEOPT while absent, DIALUPOPT if set. */
uint32_t tx_status(const ipm_state *st);
/*
 * An entry-family packet (BR_ENTRY, ANSENTRY, BR_ABSENCE, BR_EXIT,
 * NOOPERATION) with nickname, group, the UTF-8 block and our UUID line
 * (entry.h), command = mode | tx_status() | extra_opts. While absent the
 * nickname is "nick[title]", in the extra and in NN: (§4.2). 0 or -1.
 */
int tx_entry(ipm_state *st, uint32_t mode, uint32_t extra_opts, char *out, size_t cap, size_t *len);
/*
 * "nick\0group\0" with the given full command and a new packet number: what
 * Windows' BroadcastEntrySub sends for commands outside the entry family
 * (BR_ISGETLIST2). No UTF-8 block: Windows adds it to broadcasts only. 0 or -1.
 */
int tx_named(ipm_state *st, uint32_t command, char *out, size_t cap, size_t *len);

#endif
