/*
 * Received offers and their downloads in SQLite (<data_dir>/files.db), so
 * offers and partial downloads survive a restart. The connection is
 * serialized (SQLITE_OPEN_FULLMUTEX): download threads record their
 * progress through it too.
 *
 * offers: id, sender key, nickname, address "a.b.c.d:port", packet_no,
 *         text, attach list (UTF-8), state, dest folder, error, time
 * items:  (offer, file_id) -> part name ("<name>.part" in dest), final
 *         name, done
 * shares: offers we sent (packet_no, created, definition as JSON: files and
 *         recipients), so a restarted sender still serves them (resume)
 */
#ifndef DG_FL_STORE_H
#define DG_FL_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "state.h"

typedef struct fl_offer {
    int64_t id;
    char *from, *nickname, *address, *text, *attach, *state, *dest, *error;
    uint32_t packet_no;
    int64_t time;
} fl_offer;

int store_open(fl_state *st);
void store_close(fl_state *st);
/* New offer in state "offered"; id or -1. */
int64_t store_add_offer(fl_state *st, const char *from, const char *nickname, const char *address,
                        uint32_t packet_no, const char *text, const char *attach);
/* true when (from, packet_no) is already stored (a duplicate offer). */
bool store_has_offer(fl_state *st, const char *from, uint32_t packet_no);
/* 0, or -1 when unknown. Free with store_offer_free. */
int store_get_offer(fl_state *st, int64_t id, fl_offer *out);
void store_offer_free(fl_offer *o);
int store_set_state(fl_state *st, int64_t id, const char *state, const char *dest,
                    const char *error);
/* Ids of offers in state (for resuming "downloading" ones). */
json_t *store_ids_in_state(fl_state *st, const char *state);

/* Item of an offer: part name (NULL when none yet), final name, done. */
int store_item_get(fl_state *st, int64_t offer, uint32_t file_id, char **part, char **final,
                   bool *done);
int store_item_set(fl_state *st, int64_t offer, uint32_t file_id, const char *part,
                   const char *final, bool done);
/* Offers we sent: def is {"files":[...],"recipients":[...]} (share.c). */
int store_share_put(fl_state *st, uint32_t packet_no, int64_t created, const json_t *def);
void store_share_del(fl_state *st, uint32_t packet_no);
/* [{"packet_no","created","def"}] */
json_t *store_shares(fl_state *st);

/* files.list "offers": newest first. */
json_t *store_list_json(fl_state *st);

#endif
