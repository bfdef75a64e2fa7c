/*
 * Writes to the history: a message sent or received, a recipient's delivery
 * state, a received message read by the local user, retention. Each write
 * joins the open batch (db.h) and flushes it when full; the caller commits
 * the rest with hist_db_flush when it has written what it had.
 */
#ifndef DG_HIST_STORE_H
#define DG_HIST_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

typedef struct hist_msg {
    bool out;              /* sent by us; else received */
    const char *transport; /* "ipmsg" */
    int64_t msg_id;        /* the transport's id of the message */
    int64_t packet_no;     /* received: the sender's packet number; < 0 when unknown */
    const char *local;     /* our key (user@host) */
    const char *peer;      /* received: the sender's key; NULL for sent */
    const char *nickname;  /* received: the sender's nickname, or NULL */
    const char *address;   /* received: the sender's address, or NULL */
    const char *room;      /* room id, NULL for a direct message */
    const char *text;
    bool sealed, opened, broadcast, multicast, auto_reply;
    int64_t time;          /* Unix seconds */
    const char *const *to; /* sent: recipient keys */
    size_t n_to;
    /*
     * sent: the recipients' state: NULL for "sending" (acknowledgements
     * follow), "sent" when none will come (broadcast, room post),
     * "delivered" or "failed" when it is known already (offline queue).
     */
    const char *rcpt_state;
    const char *rcpt_nickname; /* sent, one recipient: their nickname, or NULL */
    const char *rcpt_reason;   /* sent, failed: why */
} hist_msg;

/* Stores m; *id gets its history id. 0, or -1 (hist_db_error says why). */
int hist_store_message(hist_db *h, const hist_msg *m, int64_t *id);

typedef enum hist_rcpt_kind { HIST_DELIVERED, HIST_FAILED, HIST_OPENED } hist_rcpt_kind;

typedef struct hist_rcpt_update {
    hist_rcpt_kind kind;
    const char *transport;
    int64_t msg_id;       /* the sent message's transport id */
    const char *peer;     /* the recipient's key */
    const char *nickname; /* NULL keeps the stored one */
    const char *address;
    const char *reason; /* failed: why */
    int64_t time;
} hist_rcpt_update;

/* hist_store_recipient's answers besides -1 (error). */
enum {
    HIST_NO_MESSAGE = 0, /* no sent message with that id (yet) */
    HIST_CHANGED = 1,    /* the recipient's row changed */
    HIST_UNCHANGED = 2   /* the message is there, but not that recipient, or the state stays */
};

/* Records a recipient's new state: HIST_NO_MESSAGE, HIST_CHANGED, HIST_UNCHANGED or -1. */
int hist_store_recipient(hist_db *h, const hist_rcpt_update *u);

/* The local user read received message msg_id: its text shows from now on. 1, 0 (unknown), -1. */
int hist_store_mark_read(hist_db *h, const char *transport, int64_t msg_id, int64_t time);

/* Oldest time kept when deleting after days at time now; INT64_MIN when days <= 0 (keep all). */
int64_t hist_retention_cutoff(int64_t now, int64_t days);

/*
 * Deletes up to max_rows messages older than cutoff in one transaction (the
 * open batch is committed first); when none is left, also the peers not
 * heard from since cutoff. *deleted gets the count. Returns 1 when more may
 * remain, 0 when done, -1 on error.
 */
int hist_store_delete_before(hist_db *h, int64_t cutoff, int max_rows, int64_t *deleted);

#endif
