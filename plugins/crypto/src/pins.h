/*
 * Pinned peer keys in SQLite (<data dir>/crypto.db): the key trusted on
 * first use, and a different key the peer showed later, waiting for the
 * user's `dengon keys accept`. Protocol code does not write SQL: the hooks
 * call these functions.
 */
#ifndef DG_CR_PINS_H
#define DG_CR_PINS_H

#include <jansson.h>

#include "state.h"

int pins_open(cr_state *st);
void pins_close(cr_state *st);
/* Loads every pin into st->peers. 0 or -1. */
int pins_load(cr_state *st);
/* First use: pins p->pub. 0 or -1. */
int pins_add(cr_state *st, const cr_peer *p);
/* Records p->pending (a changed key). 0 or -1. */
int pins_set_pending(cr_state *st, const cr_peer *p);
/* The pending key became the trusted one. 0 or -1. */
int pins_accept(cr_state *st, const cr_peer *p);
/* Updates last_seen. */
void pins_seen(cr_state *st, const cr_peer *p);
/* [{"peer","bits","fingerprint","trust","first_seen","last_seen"[,"new_fingerprint",
 *   "new_bits","changed_at"]}] */
json_t *pins_list_json(cr_state *st);
/* Display fingerprint: §6.4 form for a 2048-bit key, else "sha256:<32 hex>" of the modulus. */
void cr_fingerprint(const EVP_PKEY *key, char out[48]);

#endif
