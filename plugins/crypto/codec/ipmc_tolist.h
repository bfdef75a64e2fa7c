/*
 * The recipient list ("TO:") extension inside an encrypted plaintext (§6.5,
 * Draft 13; msgmng.cpp UserToUList): with ENCEXTMSGOPT peers and more than
 * one recipient (at most 30), the third section of the plaintext is
 *
 *   TO:user1:host1\auser2:host2\a...
 *
 * (BEL after every entry), so each recipient learns who else got the
 * message without trusting a clear-text field. Names are in the packet's
 * wire encoding; a user or host can hold neither ':' nor BEL nor control
 * bytes (they could not be told apart on the wire).
 */
#ifndef DG_IPMC_TOLIST_H
#define DG_IPMC_TOLIST_H

#include <stddef.h>

#define IPMC_TOLIST_MAX 30

typedef struct ipmc_rcpt {
    const char *user;
    const char *host;
} ipmc_rcpt;

/*
 * "TO:" + "user:host\a" per recipient, malloc'd into *out. IPMC_ERR_ARG when
 * n is 0 or above IPMC_TOLIST_MAX, or a name is empty or holds ':', BEL or
 * a control byte.
 */
int ipmc_tolist_build(const ipmc_rcpt *r, size_t n, char **out, char *err, size_t errlen);

typedef struct ipmc_tolist {
    char *buf; /* the names point into it (malloc'd copy of the list) */
    size_t n;
    ipmc_rcpt v[IPMC_TOLIST_MAX];
} ipmc_tolist;

/*
 * Parses the section (NUL-terminated, without its NUL). IPMC_ERR_FORMAT with
 * a reason when it does not start with "TO:", an entry is not exactly
 * "user:host" with both non-empty, a name holds a control byte, or there
 * are more than IPMC_TOLIST_MAX entries; the BEL after the last entry may be
 * missing. On failure *out is empty (nothing to free).
 */
int ipmc_tolist_parse(const char *s, ipmc_tolist *out, char *err, size_t errlen);

void ipmc_tolist_free(ipmc_tolist *t);

#endif
