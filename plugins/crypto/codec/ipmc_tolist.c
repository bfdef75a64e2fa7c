#include "ipmc_tolist.h"

#include <stdlib.h>
#include <string.h>

#include "ipmc_error.h"

/* A name the list can carry unambiguously: not empty, no ':' nor control byte (BEL is one). */
static int name_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p == ':' || *p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

int ipmc_tolist_build(const ipmc_rcpt *r, size_t n, char **out, char *err, size_t errlen)
{
    if (!out)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "no output");
    *out = NULL;
    if (!r || n == 0 || n > IPMC_TOLIST_MAX)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "a TO list has 1 to %d recipients",
                         IPMC_TOLIST_MAX);
    size_t len = 3 + 1;
    for (size_t i = 0; i < n; i++) {
        if (!name_ok(r[i].user) || !name_ok(r[i].host))
            return ipmc_fail(err, errlen, IPMC_ERR_ARG,
                             "recipient %zu: user and host must be non-empty, without ':' or "
                             "control characters",
                             i + 1);
        len += strlen(r[i].user) + strlen(r[i].host) + 2;
    }
    char *b = malloc(len);
    if (!b)
        return ipmc_fail(err, errlen, IPMC_ERR_CRYPTO, "out of memory");
    char *p = b;
    memcpy(p, "TO:", 3);
    p += 3;
    for (size_t i = 0; i < n; i++) {
        size_t ul = strlen(r[i].user), hl = strlen(r[i].host);
        memcpy(p, r[i].user, ul);
        p += ul;
        *p++ = ':';
        memcpy(p, r[i].host, hl);
        p += hl;
        *p++ = '\a';
    }
    *p = '\0';
    *out = b;
    return IPMC_OK;
}

int ipmc_tolist_parse(const char *s, ipmc_tolist *out, char *err, size_t errlen)
{
    if (!out)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "no output");
    memset(out, 0, sizeof *out);
    if (!s || strncmp(s, "TO:", 3) != 0)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                         "the recipient list does not start with TO:");
    if (!(out->buf = strdup(s + 3)))
        return ipmc_fail(err, errlen, IPMC_ERR_CRYPTO, "out of memory");
    char *p = out->buf;
    while (*p) {
        char *end = strchr(p, '\a');
        if (end)
            *end = '\0';
        char *colon = strchr(p, ':');
        if (colon)
            *colon = '\0';
        int rc = IPMC_OK;
        if (!colon || !name_ok(p) || !name_ok(colon + 1))
            rc = ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                           "recipient %zu of the TO list is not user:host", out->n + 1);
        else if (out->n == IPMC_TOLIST_MAX)
            rc = ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "the TO list has more than %d recipients",
                           IPMC_TOLIST_MAX);
        if (rc != IPMC_OK) {
            ipmc_tolist_free(out);
            return rc;
        }
        out->v[out->n].user = p;
        out->v[out->n].host = colon + 1;
        out->n++;
        if (!end)
            break;
        p = end + 1;
    }
    if (out->n == 0) {
        ipmc_tolist_free(out);
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "the TO list names no recipient");
    }
    return IPMC_OK;
}

void ipmc_tolist_free(ipmc_tolist *t)
{
    if (!t)
        return;
    free(t->buf);
    memset(t, 0, sizeof *t);
}
