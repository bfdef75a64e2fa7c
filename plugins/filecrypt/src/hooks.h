/*
 * The files.crypto hooks (<dengon/files_crypto.h>) made of the §6.6 codec
 * (ipmc_filereq.h, ipmc_ctr.h) and the crypto.keys service: sealed requests
 * for downloads, opened and checked requests (signature, replay guard) for
 * uploads, and the AES-256-CTR streams.
 */
#ifndef DG_FC_HOOKS_H
#define DG_FC_HOOKS_H

#include "state.h"

/* Fills st->hooks. */
void fc_hooks_init(fc_state *st);

#endif
