/*
 * What the writer connection wrote recently, to skip work SQLite would do for
 * nothing. Two direct-mapped tables, one entry per slot, overwritten freely:
 *
 *  - sent messages: (transport, msg_id) -> messages.id of the newest row, so
 *    the delivery update that follows a send moments later needs no lookup;
 *  - peers: the nickname, address and last_time last written for a peer, so
 *    a message to or from someone already written within HIST_PEER_REFRESH_S
 *    with the same names does not rewrite the row (last_time may then lag by
 *    that much; it only serves day-based retention).
 *
 * Only committed facts may be trusted: the owner clears everything when a
 * batch is rolled back or rows are deleted (hist_recent_clear).
 */
#ifndef DG_HIST_RECENT_H
#define DG_HIST_RECENT_H

#include <stdbool.h>
#include <stdint.h>

#define HIST_PEER_REFRESH_S 60

typedef struct hist_recent hist_recent;

hist_recent *hist_recent_new(void);
void hist_recent_free(hist_recent *r);
void hist_recent_clear(hist_recent *r);

/* A sent message was stored as row. */
void hist_recent_sent(hist_recent *r, const char *transport, int64_t msg_id, int64_t row);
/* The row of the newest sent message with this id, or 0 when not remembered. */
int64_t hist_recent_sent_row(const hist_recent *r, const char *transport, int64_t msg_id);

/*
 * True when writing (peer, nickname, address, time) would change nothing
 * worth a write: same peer and names (NULL = keep the stored one) and time
 * at most HIST_PEER_REFRESH_S after the time last written.
 */
bool hist_recent_peer_fresh(const hist_recent *r, const char *peer, const char *nickname,
                            const char *address, int64_t time);
/* The peer row was written with these values (nickname/address NULL = unchanged). */
void hist_recent_peer_written(hist_recent *r, const char *peer, const char *nickname,
                              const char *address, int64_t time);

#endif
