#include "ipmc_plain.h"

#include <stdlib.h>
#include <string.h>

#include "ipmc_error.h"

int ipmc_plain_compose(const char *text, const char *attach, const char *tolist, uint8_t **out,
                       size_t *outlen)
{
    if (!text || !out || !outlen)
        return IPMC_ERR_ARG;
    size_t tl = strlen(text) + 1;
    size_t al = attach ? strlen(attach) + 1 : 0;
    size_t ul = tolist ? strlen(tolist) + 1 : 0;
    if (tolist && !attach)
        al = 1; /* the empty attach list before the TO list */
    uint8_t *b = malloc(tl + al + ul);
    if (!b)
        return IPMC_ERR_ARG;
    memcpy(b, text, tl);
    if (attach)
        memcpy(b + tl, attach, al);
    else if (al)
        b[tl] = '\0';
    if (tolist)
        memcpy(b + tl + al, tolist, ul);
    *out = b;
    *outlen = tl + al + ul;
    return IPMC_OK;
}

int ipmc_plain_split(const uint8_t *buf, size_t len, int ext, ipmc_plain_parts *parts)
{
    if (!buf || !parts)
        return IPMC_ERR_ARG;
    parts->text = parts->attach = parts->tolist = NULL;
    if (len == 0 || buf[len - 1] != '\0')
        return IPMC_ERR_FORMAT;
    const char *s = (const char *)buf;
    parts->text = s;
    if (!ext)
        return IPMC_OK;
    size_t p = strlen(s) + 1;
    if (p < len) {
        const char *a = s + p;
        p += strlen(a) + 1;
        if (*a)
            parts->attach = a;
        if (p < len && s[p])
            parts->tolist = s + p;
    }
    return IPMC_OK;
}
