/*
 * The in-memory inbox: the last `max` received messages, for chat.inbox and
 * chat.read. It is bounded so a flood cannot grow the daemon without limit;
 * the oldest message leaves first. Nothing is lost by that: every message
 * was also published as chat.message.received, and storing them is the
 * history plugin's job (issue 3), not the protocol's.
 *
 * Ids are local and unique across restarts: they come from a time-based
 * generator like packet numbers (max(now, last + 1), pktno.h), because the
 * sender's packet number is only unique per sender.
 */
#ifndef DG_IPM_INBOX_H
#define DG_IPM_INBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addrlist.h"

typedef struct ipm_msg {
    uint32_t id;        /* local id */
    uint32_t packet_no; /* the sender's */
    char *from;         /* sender key user@host */
    char *nickname;     /* sender's nickname when known, else its user name */
    ipm_addr addr;
    char *text;
    char *attachments; /* FILEATTACHOPT attach list in UTF-8 (§5.1), or NULL */
    bool sealed;       /* SECRETOPT: shown only after chat.read */
    bool readcheck;    /* READCHECKOPT: our READMSG must be acked */
    bool broadcast;    /* BROADCASTOPT */
    bool multicast;    /* MULTICASTOPT: sent to several users */
    bool autoret;      /* AUTORETOPT: an absence auto-reply */
    bool utf8;         /* the packet was UTF-8 (answer the same way) */
    bool opened;       /* read by the local user */
    bool encrypted;    /* came as SENDMSG|ENCRYPTOPT and decrypted (§6.3) */
    bool verified;     /* encrypted and signed by the sender's trusted key */
    char *crypto_note; /* encrypted and not verified: why (NULL otherwise) */
    char *suite;       /* encrypted: the suite's name */
    json_t *to;        /* encrypted with a TO list (§6.5): the other recipients, or NULL */
    int64_t time;      /* Unix seconds when received */
} ipm_msg;

typedef struct ipm_inbox {
    ipm_msg **v; /* oldest first */
    size_t n, max;
    uint64_t evicted; /* messages dropped because the inbox was full */
} ipm_inbox;

void ipm_inbox_init(ipm_inbox *b, size_t max); /* max 0 means 1000 */
void ipm_inbox_free(ipm_inbox *b);
/* Takes m (also on failure, when it frees it); NULL on out of memory. */
ipm_msg *ipm_inbox_add(ipm_inbox *b, ipm_msg *m);
ipm_msg *ipm_inbox_find(const ipm_inbox *b, uint32_t id);
void ipm_msg_free(ipm_msg *m);
size_t ipm_inbox_unread(const ipm_inbox *b);

/*
 * {"id","packet_no","from","nickname","address","sealed","broadcast",
 *  "multicast","auto_reply","opened","encrypted","time"[,"text"][,"attachments"]},
 * and for an encrypted message "verified", "suite", (when not verified)
 * "verify_note" and (when it listed them inside, §6.5) "to"; the
 * text (and the attach list) are left out when with_text is false. New
 * reference.
 */
json_t *ipm_msg_json(const ipm_msg *m, bool with_text);

#endif
