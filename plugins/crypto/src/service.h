/*
 * The crypto.keys service (<dengon/crypto_keys.h>): sealing and opening
 * bodies for other plugins with our keys and the pinned ones.
 */
#ifndef DG_CR_SERVICE_H
#define DG_CR_SERVICE_H

#include "state.h"

/* Registers the service (start). 0 or -1. */
int service_provide(cr_state *st);

#endif
