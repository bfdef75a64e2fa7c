/*
 * The hooks the crypto plugin installs in the ipmsg plugin (chat_crypto.h):
 * suite choice and encryption per recipient, decryption and signature
 * verification, GETPUBKEY answers, ANSPUBKEY pinning (trust on first use,
 * changed keys held back until accepted), key requests with a timeout.
 */
#ifndef DG_CR_HOOKS_H
#define DG_CR_HOOKS_H

#include "state.h"

/* Fills st->hooks. */
void hooks_init(cr_state *st);
cr_peer *peer_find(cr_state *st, const char *key);
/* keys.accept: the pending key of key becomes trusted. 0, or -1 with err. */
int hooks_accept(cr_state *st, const char *key, char *err, size_t errlen);
void peers_free(cr_state *st);
/* Our keys are there (keygen.c): advertise them and go on with held messages. */
void hooks_keys_ready(cr_state *st);
/* Our keys cannot be made: held messages follow the plaintext rules now. */
void hooks_keys_failed(cr_state *st);

#endif
