/*
 * The offline queue on disk: <data_dir>/outbox.db (SQLite, WAL, synchronous
 * FULL: a queued message is on disk before queue.send answers, and survives
 * kill -9 and power loss). One row per (message, recipient), in the order
 * the user queued them; finished rows (delivered, failed, discarded) stay
 * for outbox.keep_days so `dengon queue list --all` can show what happened.
 *
 * "Sending" is not stored: after a restart a message that was in flight is
 * simply queued again (at-least-once delivery, see the ADR).
 *
 * Pure storage: no network, no bus. Times are passed in (Unix seconds).
 */
#ifndef DG_OUTBOX_QSTORE_H
#define DG_OUTBOX_QSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qstore qstore;

typedef enum q_state {
    Q_QUEUED = 0,
    Q_DELIVERED = 1,
    Q_FAILED = 2,
    Q_DISCARDED = 3,
} q_state;

const char *q_state_name(q_state s); /* "queued", "delivered", "failed", "discarded" */

typedef struct qmsg {
    int64_t id;
    char *to_key;   /* user@host as the chat transport names the recipient */
    char *to_uuid;  /* the recipient's dengon identity, NULL for other clients */
    char *nickname; /* for display */
    char *text;
    bool sealed;
    int64_t created;
    q_state state;
    int64_t attempts;
    int64_t last_attempt; /* 0 = never tried */
    char *error;          /* why the last attempt or the message failed, or NULL */
    int64_t finished;     /* 0 while queued */
    uint32_t message_id;  /* transport id of the delivering attempt, 0 if none */
} qmsg;

int qstore_open(const char *path, qstore **out, char *err, size_t errlen);
void qstore_close(qstore *s);
const char *qstore_error(qstore *s);

/* Adds a queued message (id set on success). 0 or -1. */
int qstore_add(qstore *s, qmsg *m);
/* Several in one transaction: all or nothing. */
int qstore_add_all(qstore *s, qmsg *v, size_t n);
/* 1 found, 0 unknown, -1 error. */
int qstore_get(qstore *s, int64_t id, qmsg *out);
/* The oldest queued message for key (case-insensitive): 1, 0 none, -1 error. */
int qstore_oldest(qstore *s, const char *key, qmsg *out);
/* Queued messages (all: also the finished ones), oldest first. */
int qstore_list(qstore *s, bool all, qmsg **out, size_t *n);
/* Distinct recipients with queued messages. */
int qstore_recipients(qstore *s, char ***keys, size_t *n);
void qstore_keys_free(char **keys, size_t n);
/* One more attempt, now. */
int qstore_attempt(qstore *s, int64_t id, int64_t now);
/* Why the last attempt failed (stays queued). */
int qstore_set_error(qstore *s, int64_t id, const char *error);
/* Final state of a queued message; 1 done, 0 it was not queued (any more), -1 error. */
int qstore_finish(qstore *s, int64_t id, q_state state, const char *error, uint32_t message_id,
                  int64_t now);
/*
 * The recipient is now known as new_key: queued rows for old_key (when not
 * NULL) or for uuid (when not NULL) follow it. Returns rows changed or -1.
 */
int qstore_retarget(qstore *s, const char *old_key, const char *uuid, const char *new_key);
/* Queued messages created before `before` (to be failed as expired). */
int qstore_expired(qstore *s, int64_t before, qmsg **out, size_t *n);
/* Deletes finished rows that finished before `before`; rows deleted or -1. */
int qstore_purge(qstore *s, int64_t before);

void qmsg_clear(qmsg *m);
void qmsgs_free(qmsg *v, size_t n);

#endif
