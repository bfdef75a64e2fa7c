#include "ipmc_keyex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipmc_consts.h"
#include "ipmc_error.h"
#include "ipmc_pubkey.h"

int ipmc_capa_parse(const char *s, size_t len, uint32_t *capa)
{
    if (!s || len < 1 || len > 8)
        return IPMC_ERR_FORMAT;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return IPMC_ERR_FORMAT;
        v = v << 4 | (uint32_t)d;
    }
    *capa = v;
    return IPMC_OK;
}

int ipmc_getpubkey_build(uint32_t capa, char *out, size_t cap)
{
    if (!out || cap < 9)
        return IPMC_ERR_ARG;
    snprintf(out, cap, "%X", (unsigned)capa);
    return IPMC_OK;
}

int ipmc_getpubkey_parse(const char *extra, size_t len, uint32_t *capa, char *err, size_t errlen)
{
    if (ipmc_capa_parse(extra, len, capa) != IPMC_OK)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                         "GETPUBKEY extra is not a 1-8 digit hex capability word");
    return IPMC_OK;
}

int ipmc_anspubkey_build(uint32_t capa, const EVP_PKEY *key, char **out, char *err, size_t errlen)
{
    char *wire = NULL;
    int rc = ipmc_pubkey_to_wire(key, &wire, err, errlen);
    if (rc != IPMC_OK)
        return rc;
    size_t n = strlen(wire) + 10;
    char *s = malloc(n);
    if (!s) {
        free(wire);
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "out of memory");
    }
    snprintf(s, n, "%X:%s", (unsigned)capa, wire);
    free(wire);
    *out = s;
    return IPMC_OK;
}

int ipmc_anspubkey_parse(const char *extra, size_t len, uint32_t *capa, EVP_PKEY **key, char *err,
                         size_t errlen)
{
    if (!extra || !capa || !key)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "no ANSPUBKEY text");
    const char *colon = memchr(extra, ':', len);
    if (!colon)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "ANSPUBKEY has no ':' after the capability");
    if (ipmc_capa_parse(extra, (size_t)(colon - extra), capa) != IPMC_OK)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                         "ANSPUBKEY capability is not 1-8 hex digits");
    size_t rest = len - (size_t)(colon - extra) - 1;
    return ipmc_pubkey_from_wire(colon + 1, rest, key, err, errlen);
}

const EVP_PKEY *ipmc_getpubkey_answer_key(const ipmc_keys *ours, uint32_t local_capa,
                                          uint32_t requester_capa, bool requester_fingerprinted)
{
    if (!ours)
        return NULL;
    if (requester_fingerprinted && (!(requester_capa & IPMC_RSA_2048) ||
                                    !(requester_capa & (IPMC_SIGN_SHA1 | IPMC_SIGN_SHA256))))
        return NULL;
    uint32_t common = requester_capa & local_capa;
    if (!common)
        return NULL;
    if (common & IPMC_RSA_2048)
        return ours->rsa2048;
    if (common & IPMC_RSA_1024)
        return ours->rsa1024;
    return NULL;
}
