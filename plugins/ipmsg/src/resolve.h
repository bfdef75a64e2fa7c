/*
 * Recipient resolution for chat.send: what the user typed after `dengon send`
 * becomes a known user or a bare address. Accepted, in this order:
 *   1. a LAN key "user@host" (case-insensitive), with or without the
 *      fingerprint field of the user name (§6.4; keys never carry it,
 *      users.h);
 *   2. an address "a.b.c.d[:port]": the user there if known, else the bare
 *      address (a one-shot message to a host that never announced itself);
 *   3. a nickname, exact then case-insensitive;
 *   4. a logon name alone ("bob"), then without a fingerprint field.
 * A nickname or logon name shared by several users is ambiguous: the error
 * lists the keys to pick from rather than guessing. Offline users resolve
 * too (the message may still reach them; retries decide).
 */
#ifndef DG_IPM_RESOLVE_H
#define DG_IPM_RESOLVE_H

#include <stddef.h>

#include "users.h"

typedef enum ipm_resolve_rc {
    IPM_RESOLVE_USER = 1, /* *user set */
    IPM_RESOLVE_ADDR = 2, /* only *addr set: nobody known there */
    IPM_RESOLVE_UNKNOWN = -1,
    IPM_RESOLVE_AMBIGUOUS = -2,
} ipm_resolve_rc;

/* err gets a one-line message for the negative results. */
ipm_resolve_rc ipm_resolve(const ipm_users *t, const char *to, uint16_t default_port,
                           ipm_user **user, ipm_addr *addr, char *err, size_t errlen);

#endif
