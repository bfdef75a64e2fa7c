/*
 * Our logon name with the crypto provider's fingerprint (§6.4, ADR 0017):
 * IP Messenger v3+ appends "-<16 hex>" of its RSA-2048 key to the user
 * name so peers can check the key it sends against the name. The provider
 * gives the suffix (chat_crypto.h name_suffix); the name is decided once per
 * run, before our first BR_ENTRY: a peer that saw the plain name and then
 * the fingerprinted one would list us twice. On a first start the keys are
 * still being made, so the first announce waits for the provider, at most
 * IPM_NAME_WAIT_MS, and then goes out with the plain name.
 */
#ifndef DG_IPM_FPNAME_H
#define DG_IPM_FPNAME_H

#include "state.h"

#define IPM_NAME_WAIT_MS 3000

/* A provider was installed or installed its table again (cryptohook_set). */
void fpname_provider_changed(ipm_state *st);
/* At stop. */
void fpname_free(ipm_state *st);

#endif
