#include "addrlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WILD (-1)

/* Decimal 0..max without sign or leading zeros beyond "0"; -2 on error. */
static long parse_num(const char *s, size_t len, long max)
{
    if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
        return -2;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -2;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -2;
}

/* Octets into oct[4] (WILD for '*' when allowed), port into *port. */
static int parse_endpoint(const char *s, size_t len, bool allow_wildcard, int oct[4], long *port)
{
    const char *end = s + len;
    const char *colon = memchr(s, ':', len);
    const char *ip_end = colon ? colon : end;
    *port = -1;
    if (colon) {
        *port = parse_num(colon + 1, (size_t)(end - colon - 1), 65535);
        if (*port <= 0)
            return -1;
    }
    const char *p = s;
    for (int i = 0; i < 4; i++) {
        const char *dot = i < 3 ? memchr(p, '.', (size_t)(ip_end - p)) : ip_end;
        if (!dot)
            return -1;
        size_t n = (size_t)(dot - p);
        if (allow_wildcard && n == 1 && *p == '*') {
            oct[i] = WILD;
        } else {
            long v = parse_num(p, n, 255);
            if (v < 0)
                return -1;
            oct[i] = (int)v;
        }
        p = dot + 1;
    }
    return p - 1 == ip_end ? 0 : -1;
}

int ipm_addr_parse(const char *s, size_t len, uint16_t default_port, ipm_addr *out)
{
    int oct[4];
    long port;
    if (!s || !out || parse_endpoint(s, len, false, oct, &port) != 0)
        return -1;
    out->ip =
        (uint32_t)oct[0] << 24 | (uint32_t)oct[1] << 16 | (uint32_t)oct[2] << 8 | (uint32_t)oct[3];
    out->port = port > 0 ? (uint16_t)port : default_port;
    return 0;
}

char *ipm_ip_format(uint32_t ip, char *buf)
{
    snprintf(buf, IPM_ADDR_TEXT, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xffu, (ip >> 8) & 0xffu,
             ip & 0xffu);
    return buf;
}

char *ipm_addr_format(ipm_addr a, char *buf)
{
    /* One format call: gcc can then bound every field (a nested %s it cannot). */
    snprintf(buf, IPM_ADDR_TEXT, "%u.%u.%u.%u:%u", (a.ip >> 24) & 0xffu, (a.ip >> 16) & 0xffu,
             (a.ip >> 8) & 0xffu, a.ip & 0xffu, (unsigned)a.port);
    return buf;
}

bool ipm_addr_eq(ipm_addr a, ipm_addr b)
{
    return a.ip == b.ip && a.port == b.port;
}

bool ipm_ip_is_loopback(uint32_t ip)
{
    return (ip >> 24) == 127;
}

bool ipm_addrlist_has(const ipm_addr_list *l, ipm_addr a)
{
    for (size_t i = 0; i < l->n; i++)
        if (ipm_addr_eq(l->v[i], a))
            return true;
    return false;
}

int ipm_addrlist_add(ipm_addr_list *l, ipm_addr a)
{
    if (ipm_addrlist_has(l, a))
        return 0;
    /* Grow in powers of two: n is a power of two exactly when the array is full. */
    if ((l->n & (l->n - 1)) == 0) {
        size_t cap = l->n ? l->n * 2 : 4;
        ipm_addr *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -1;
        l->v = v;
    }
    l->v[l->n++] = a;
    return 0;
}

void ipm_addrlist_remove(ipm_addr_list *l, ipm_addr a)
{
    /* The capacity stays: add() grows again only when n reaches a power of two. */
    for (size_t i = 0; i < l->n; i++) {
        if (ipm_addr_eq(l->v[i], a)) {
            l->v[i] = l->v[--l->n];
            return;
        }
    }
}

void ipm_addrlist_free(ipm_addr_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Adds every address the octets (with wildcards) stand for. */
static int expand(ipm_addr_list *l, const int oct[4], uint16_t port, size_t *budget)
{
    int lo[4], hi[4];
    size_t count = 1;
    for (int i = 0; i < 4; i++) {
        lo[i] = oct[i] == WILD ? 0 : oct[i];
        hi[i] = oct[i] == WILD ? 255 : oct[i];
        count *= (size_t)(hi[i] - lo[i] + 1);
    }
    if (count > *budget)
        return -1;
    *budget -= count;
    for (int a = lo[0]; a <= hi[0]; a++)
        for (int b = lo[1]; b <= hi[1]; b++)
            for (int c = lo[2]; c <= hi[2]; c++)
                for (int d = lo[3]; d <= hi[3]; d++) {
                    ipm_addr x = {(uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 |
                                      (uint32_t)d,
                                  port};
                    if (ipm_addrlist_add(l, x) != 0)
                        return -2;
                }
    return 0;
}

static bool is_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';';
}

int ipm_addrlist_parse(const char *text, uint16_t default_port, bool allow_wildcard,
                       ipm_addr_list *out, char *err, size_t errlen)
{
    ipm_addr_list l = {0};
    size_t budget = IPM_ADDRLIST_MAX;
    const char *p = text ? text : "";
    while (*p) {
        while (*p && is_sep(*p))
            p++;
        const char *start = p;
        while (*p && !is_sep(*p))
            p++;
        size_t n = (size_t)(p - start);
        if (n == 0)
            continue;
        int oct[4];
        long port;
        int w = (int)(n > 64 ? 64 : n);
        const char *why = NULL;
        if (parse_endpoint(start, n, allow_wildcard, oct, &port) != 0)
            why = allow_wildcard ? "is not an IPv4 address[:port] (an octet may be *)"
                                 : "is not an IPv4 address[:port]";
        else {
            int rc = expand(&l, oct, port > 0 ? (uint16_t)port : default_port, &budget);
            if (rc == -1)
                why = "makes the list longer than " IPM_ADDRLIST_MAX_TEXT " addresses";
            else if (rc != 0)
                why = "cannot be stored: out of memory";
        }
        if (why) {
            if (err)
                snprintf(err, errlen, "'%.*s' %s", w, start, why);
            ipm_addrlist_free(&l);
            *out = (ipm_addr_list){0};
            return -1;
        }
    }
    *out = l;
    return 0;
}
