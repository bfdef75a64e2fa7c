/* Field tokens of the attach list and directory stream (wirefield.h). */
#include "wirefield.h"

#include <string.h>

static int digit_value(char c, int base)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (base == 16) {
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
    }
    return -1;
}

int dg_wf_number(const char *p, size_t len, int base, uint64_t max, uint64_t *out, size_t off,
                 ipmsg_error *err)
{
    *out = 0;
    if (len == 0)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "empty number field", off);
    if (len > DG_WF_MAX_DIGITS)
        return ipmsg_fail(err, IPMSG_E_RANGE, "number field has too many digits", off);
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        int d = digit_value(p[i], base);
        if (d < 0)
            return ipmsg_fail(err, IPMSG_E_SYNTAX,
                              base == 16 ? "not a hex digit in a number field"
                                         : "not a decimal digit in a number field",
                              off + i);
        /* v * base + d > max, without overflowing v. */
        if (v > (max - (uint64_t)d) / (uint64_t)base)
            return ipmsg_fail(err, IPMSG_E_RANGE, "number out of range", off);
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return IPMSG_OK;
}

size_t dg_wf_span(const char *p, const char *end, const char *stops)
{
    const char *q = p;
    while (q < end && !strchr(stops, *q))
        q++;
    return (size_t)(q - p);
}

size_t dg_wf_name_scan(const char *p, const char *end, size_t *unescaped_len)
{
    size_t n = 0;
    const char *q = p;
    while (q < end) {
        if (*q == ':') {
            if (q + 1 < end && q[1] == ':') {
                q += 2;
                n++;
                continue;
            }
            *unescaped_len = n;
            return (size_t)(q - p);
        }
        q++;
        n++;
    }
    *unescaped_len = n;
    return (size_t)-1;
}

void dg_wf_name_unescape(const char *p, size_t esc_len, char *out)
{
    size_t i = 0;
    while (i < esc_len) {
        *out++ = p[i];
        i += (p[i] == ':') ? 2 : 1;
    }
}

size_t dg_wf_name_escaped_len(const char *name, size_t len)
{
    size_t n = len;
    for (size_t i = 0; i < len; i++)
        n += name[i] == ':';
    return n;
}

void dg_wf_name_escape(const char *name, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        *out++ = name[i];
        if (name[i] == ':')
            *out++ = ':';
    }
}

void dg_wf_put(dg_wf_out *o, const char *s, size_t n)
{
    if (!o->buf) {
        o->len += n;
        return;
    }
    if (o->overflow || n > o->cap - o->len) {
        o->overflow = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

void dg_wf_putc(dg_wf_out *o, char c)
{
    dg_wf_put(o, &c, 1);
}

void dg_wf_put_num(dg_wf_out *o, uint64_t v, int base)
{
    char tmp[24];
    size_t n = sizeof(tmp);
    do {
        unsigned d = (unsigned)(v % (uint64_t)base);
        tmp[--n] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= (uint64_t)base;
    } while (v);
    dg_wf_put(o, tmp + n, sizeof(tmp) - n);
}

void dg_wf_put_name(dg_wf_out *o, const char *name, size_t len)
{
    size_t n = dg_wf_name_escaped_len(name, len);
    if (!o->buf) {
        o->len += n;
        return;
    }
    if (o->overflow || n > o->cap - o->len) {
        o->overflow = 1;
        return;
    }
    dg_wf_name_escape(name, len, o->buf + o->len);
    o->len += n;
}
