/*
 * Messages (docs/ipmsg-protocol.md §4.3, §4.4, §4.6): sending SENDMSG with
 * SENDCHECKOPT to each recipient (one packet number, per-recipient delivery
 * state, MULTICASTOPT when there are several), receiving SENDMSG (RECVMSG
 * ack also for duplicates, never for BROADCASTOPT/AUTORETOPT; duplicates
 * dropped; the inbox and chat.message.received), sealed messages
 * (SECRETOPT|READCHECKOPT; READMSG when opened, retried until ANSREADMSG;
 * ANSREADMSG for a READMSG with READCHECKOPT; chat.message.opened), the
 * absence auto-reply, and GETINFO / GETABSENCEINFO answers.
 */
#ifndef DG_IPM_MESSAGES_H
#define DG_IPM_MESSAGES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "packet.h"
#include "state.h"

typedef enum ipm_rcpt_state {
    IPM_RCPT_SENDING = 0,   /* waiting for RECVMSG */
    IPM_RCPT_DELIVERED = 1, /* RECVMSG came */
    IPM_RCPT_FAILED = 2,    /* no RECVMSG after every retry */
} ipm_rcpt_state;

typedef struct ipm_rcpt {
    char *key; /* user@host, or the address for a host nobody knows */
    char *nickname;
    ipm_addr addr;
    ipm_rcpt_state state;
    bool opened;
} ipm_rcpt;

/* A message we sent, kept while recipients are pending and a while after (opened notices). */
typedef struct ipm_sent {
    struct ipm_sent *next;
    uint32_t id; /* its packet number */
    bool sealed;
    int64_t time;
    size_t n, open; /* recipients, and how many are still SENDING */
    ipm_rcpt *r;
    dg_rpc_call *wait; /* chat.send {wait: true}: answered when open reaches 0 */
    char *via;         /* send_ex's via: named in the delivered/failed events; or NULL */
} ipm_sent;

/* One resolved recipient (borrowed strings). */
typedef struct ipm_target {
    const char *key;
    const char *nickname;
    ipm_addr addr;
    bool utf8; /* the peer showed CAPUTF8: send UTF8OPT (§1.3) */
} ipm_target;

/*
 * Sends text (UTF-8, LF line ends, no NUL) to n targets. On error (too long
 * for a datagram, out of memory) sends nothing, returns NULL and says why in
 * err. The record is owned by the state. attach (UTF-8, NULL for none) is a
 * FILEATTACHOPT attach list (§5.1) sent as the section after the text.
 * via (NULL for none) names the plugin that sent it in its delivered and
 * failed events (chat_transport.h send_ex).
 */
ipm_sent *messages_send(ipm_state *st, const ipm_target *t, size_t n, const char *text, size_t len,
                        bool seal, const char *attach, const char *via, char *err, size_t errlen);
/*
 * Builds and sends one recipient's SENDMSG (extra: text or ciphertext, attach
 * in clear or NULL) with the sent record's packet number; UTF8OPT added when
 * utf8. A failure finishes the recipient as failed.
 */
void messages_send_one(ipm_state *st, ipm_sent *s, size_t i, uint32_t no, uint32_t cmd, bool utf8,
                       const char *extra, size_t extra_len, const char *attach);
/* Finishes recipient i as failed with a reason (chat.message.failed). */
void messages_rcpt_failed(ipm_state *st, ipm_sent *s, size_t i, const char *reason);
/* {"id","sealed","time","recipients":[{"key","nickname","address","state","opened"}]} */
/* Answers call (chat.send) with s: its id, time and each recipient's state. */
void messages_reply_sent(ipm_state *st, dg_rpc_call *call, const ipm_sent *s);

/*
 * A broadcast message (§3.1 BROADCASTOPT): SENDMSG|BROADCASTOPT, one packet
 * number, sent once to every known user who is not offline (UTF-8 to those
 * that showed CAPUTF8) and then to every entry target not already served
 * (broadcast addresses, ipmsg.hosts, dial-up and listed hosts) in the
 * legacy code page, since broadcasts reach old clients too. Receivers never
 * acknowledge it, so nothing waits and nothing is resent; a receiver that
 * gets it twice (unicast and broadcast) drops the copy by its number. Returns
 * {"id","sealed":false,"broadcast":true,"time","recipients":[{"key",
 * "nickname","address","state":"sent","opened":false}]} with one recipient
 * per known user and per extra target address, or NULL with the reason in
 * err (too long, nobody to send to, out of memory).
 */
json_t *messages_broadcast(ipm_state *st, const char *text, size_t len, char *err, size_t errlen);

/* chat.read: marks m opened; for a sealed message sends READMSG (§4.4). */
void messages_open(ipm_state *st, ipm_msg *m);

void messages_on_sendmsg(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from);
void messages_on_recvmsg(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from);
void messages_on_readmsg(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from);
void messages_on_ansreadmsg(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from);
/* GETINFO -> SENDINFO, GETABSENCEINFO -> SENDABSENCEINFO (§4.6). */
void messages_on_query(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from);
/* RELEASEFILES (§5.4): the peer will not fetch the files of an offer of ours. */
void messages_on_releasefiles(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from);

/*
 * Publishes a chat.message.* event (payload stolen; NULL, a failed json_pack,
 * is logged and not published) with the host's publish_ordered: never
 * dropped, in order, kept by the host while a subscriber is full. Returns
 * DG_STOP when an interceptor vetoed it (another plugin consumed it), else
 * the host's result (an error is logged).
 */
int messages_publish(ipm_state *st, const char *topic, json_t *payload);

/* At stop: answers waiting chat.send calls and frees the records. */
void messages_free(ipm_state *st);

#endif
