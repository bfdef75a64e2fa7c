#include "resolve.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef enum { BY_NICK_EXACT, BY_NICK_CASE, BY_LOGON, BY_LOGON_BASE } match_kind;

static int matches(const ipm_user *u, const char *to, match_kind kind)
{
    size_t b;
    switch (kind) {
    case BY_LOGON_BASE: /* "bob" for "bob-<16 hex>" (§6.4) */
        b = ipm_user_base_len(u->user);
        return b != strlen(u->user) && b == strlen(to) && strncasecmp(u->user, to, b) == 0;
    case BY_NICK_EXACT:
        return u->nickname && strcmp(u->nickname, to) == 0;
    case BY_NICK_CASE:
        return u->nickname && strcasecmp(u->nickname, to) == 0;
    case BY_LOGON:
        return strcasecmp(u->user, to) == 0;
    }
    return 0;
}

/* 1 unique match, 0 none, -1 ambiguous (keys listed in err). */
static int find_unique(const ipm_users *t, const char *to, match_kind kind, ipm_user **out,
                       char *err, size_t errlen)
{
    size_t count = 0;
    for (size_t i = 0; i < t->n; i++)
        if (matches(t->v[i], to, kind) && count++ == 0)
            *out = t->v[i];
    if (count <= 1)
        return (int)count;
    int w = snprintf(err, errlen, "'%s' matches %zu users, name one by user@host:", to, count);
    for (size_t i = 0; i < t->n && w >= 0 && (size_t)w < errlen; i++)
        if (matches(t->v[i], to, kind))
            w += snprintf(err + w, errlen - (size_t)w, " %s", t->v[i]->key);
    return -1;
}

ipm_resolve_rc ipm_resolve(const ipm_users *t, const char *to, uint16_t default_port,
                           ipm_user **user, ipm_addr *addr, char *err, size_t errlen)
{
    *user = NULL;
    if (!to || !*to) {
        snprintf(err, errlen, "empty recipient");
        return IPM_RESOLVE_UNKNOWN;
    }
    if (strchr(to, '@')) {
        *user = ipm_users_find_key(t, to);
        if (*user) {
            *addr = (*user)->addr;
            return IPM_RESOLVE_USER;
        }
    }
    if (ipm_addr_parse(to, strlen(to), default_port, addr) == 0) {
        *user = ipm_users_find_addr(t, *addr);
        return *user ? IPM_RESOLVE_USER : IPM_RESOLVE_ADDR;
    }
    static const match_kind order[] = {BY_NICK_EXACT, BY_NICK_CASE, BY_LOGON, BY_LOGON_BASE};
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        int rc = find_unique(t, to, order[k], user, err, errlen);
        if (rc < 0)
            return IPM_RESOLVE_AMBIGUOUS;
        if (rc == 1) {
            *addr = (*user)->addr;
            return IPM_RESOLVE_USER;
        }
    }
    snprintf(err, errlen, "unknown recipient '%s' (not a known user@host, address or nickname)",
             to);
    return IPM_RESOLVE_UNKNOWN;
}
