#include "ipmc_encode.h"

#include <stdlib.h>

#include "ipmc_error.h"

static const char hexdig[] = "0123456789abcdef";
static const char b64dig[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t ipmc_hex_encode(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdig[in[i] >> 4];
        out[2 * i + 1] = hexdig[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
    return 2 * n;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ipmc_hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen)
{
    if (slen % 2 != 0 || slen / 2 > cap)
        return IPMC_ERR_FORMAT;
    for (size_t i = 0; i < slen; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return IPMC_ERR_FORMAT;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = slen / 2;
    return IPMC_OK;
}

size_t ipmc_b64_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

size_t ipmc_b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64dig[v >> 18 & 63];
        out[o++] = b64dig[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64dig[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64dig[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int ipmc_b64_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen)
{
    if (slen % 4 != 0)
        return IPMC_ERR_FORMAT;
    size_t o = 0;
    for (size_t i = 0; i < slen; i += 4) {
        bool last = i + 4 == slen;
        int pad = 0;
        if (last && s[i + 3] == '=')
            pad = s[i + 2] == '=' ? 2 : 1;
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            int d;
            if (k >= 4 - pad) {
                d = 0;
            } else {
                d = b64val(s[i + (size_t)k]);
                if (d < 0)
                    return IPMC_ERR_FORMAT;
            }
            v = v << 6 | (uint32_t)d;
        }
        /* Canonical form only: bits hidden under the padding must be zero. */
        if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
            return IPMC_ERR_FORMAT;
        size_t nbytes = 3 - (size_t)pad;
        if (o + nbytes > cap)
            return IPMC_ERR_FORMAT;
        out[o++] = (uint8_t)(v >> 16);
        if (nbytes > 1)
            out[o++] = (uint8_t)(v >> 8);
        if (nbytes > 2)
            out[o++] = (uint8_t)v;
    }
    *outlen = o;
    return IPMC_OK;
}

char *ipmc_field_encode(bool b64, const uint8_t *in, size_t n)
{
    char *s = malloc((b64 ? ipmc_b64_len(n) : 2 * n) + 1);
    if (!s)
        return NULL;
    if (b64)
        ipmc_b64_encode(in, n, s);
    else
        ipmc_hex_encode(in, n, s);
    return s;
}

int ipmc_field_decode(bool b64, const char *s, size_t slen, uint8_t **out, size_t *outlen)
{
    if (slen == 0)
        return IPMC_ERR_FORMAT;
    size_t cap = b64 ? slen / 4 * 3 : slen / 2;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf)
        return IPMC_ERR_ARG;
    int rc = b64 ? ipmc_b64_decode(s, slen, buf, cap, outlen)
                 : ipmc_hex_decode(s, slen, buf, cap, outlen);
    if (rc != IPMC_OK || *outlen == 0) {
        free(buf);
        return IPMC_ERR_FORMAT;
    }
    *out = buf;
    return IPMC_OK;
}
