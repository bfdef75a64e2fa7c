/*
 * The vendor's public key, compiled in from conf/keys/vendor.pub (the
 * private half never enters the repository). Licences it signed are trusted
 * everywhere; other licence keys only when team policy names them.
 */
#ifndef DG_LICENCE_VENDOR_H
#define DG_LICENCE_VENDOR_H

#include "licence/keys.h"

#define DG_VENDOR_KEY_NAME "vendor"

extern const char dg_vendor_public_key_pem[];

/* A new dg_key for the compiled-in vendor key (NULL only when out of memory). */
dg_key *dg_vendor_key(void);

#endif
