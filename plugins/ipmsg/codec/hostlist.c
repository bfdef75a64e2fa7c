#include "hostlist.h"

#include <stdio.h>
#include <string.h>

#include "ipmsg_proto.h"
#include "packet.h"

#define SEP IPMSG_HOSTLIST_SEPARATOR
#define DUMMY IPMSG_HOSTLIST_DUMMY
/* "%5u\a%5u\a" with the largest value we may print (UINT32_MAX, 10 digits). */
#define HDR_MAX 22

/* ---- parsing ---- */

/* Field up to the next \a; false when there is none (truncated). */
static bool take_field(const char **p, const char *end, ipmsg_slice *f)
{
    const char *s = memchr(*p, SEP, (size_t)(end - *p));
    if (!s)
        return false;
    f->ptr = *p;
    f->len = (size_t)(s - *p);
    *p = s + 1;
    return true;
}

int ipmsg_hostlist_parse(ipmsg_slice extra, ipmsg_hostlist_page *page, ipmsg_error *err)
{
    if (!page || (!extra.ptr && extra.len))
        return ipmsg_fail(err, IPMSG_E_INVAL, "null argument", 0);
    memset(page, 0, sizeof(*page));
    const char *base = extra.ptr ? extra.ptr : "";
    const char *p = base, *end = base + extra.len;
    if (memchr(base, '\0', extra.len))
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "NUL inside the host list", 0);
    ipmsg_slice f;
    int rc;
    if (!take_field(&p, end, &f))
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "missing next-start field", 0);
    if ((rc = ipmsg_parse_u32(f, &page->next_start, NULL)) != IPMSG_OK)
        return ipmsg_fail(err, rc, "bad next-start field", 0);
    const char *at = p;
    if (!take_field(&p, end, &f))
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "missing host count field", (size_t)(at - base));
    if ((rc = ipmsg_parse_u32(f, &page->count, NULL)) != IPMSG_OK)
        return ipmsg_fail(err, rc, "bad host count field", (size_t)(at - base));
    page->body.ptr = p;
    page->body.len = (size_t)(end - p);
    return IPMSG_OK;
}

void ipmsg_hostlist_begin(const ipmsg_hostlist_page *page, ipmsg_hostlist_iter *it)
{
    it->p = page->body.ptr;
    it->end = page->body.ptr ? page->body.ptr + page->body.len : NULL;
    it->base = page->body.ptr;
}

static ipmsg_slice undummy(ipmsg_slice s)
{
    if (s.len == 1 && s.ptr[0] == DUMMY)
        s.len = 0;
    return s;
}

int ipmsg_hostlist_next(ipmsg_hostlist_iter *it, ipmsg_hostlist_entry *e, ipmsg_error *err)
{
    if (!it || !e)
        return ipmsg_fail(err, IPMSG_E_INVAL, "null argument", 0);
    if (!it->p || it->p >= it->end)
        return 0;
    memset(e, 0, sizeof(*e));
    size_t off = (size_t)(it->p - it->base);
    const char *p = it->p;
    ipmsg_slice status, port;
    if (!take_field(&p, it->end, &e->user) || !take_field(&p, it->end, &e->host) ||
        !take_field(&p, it->end, &status) || !take_field(&p, it->end, &e->addr) ||
        !take_field(&p, it->end, &port) || !take_field(&p, it->end, &e->nick) ||
        !take_field(&p, it->end, &e->group)) {
        it->p = it->end;
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "truncated host entry", off);
    }
    it->p = p;
    uint32_t v;
    if (e->user.len == 0 || e->host.len == 0)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "empty user or host in host entry", off);
    if (ipmsg_parse_u32(status, &e->status, NULL) != IPMSG_OK)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "bad status in host entry", off);
    if (e->addr.len == 0)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "empty address in host entry", off);
    if (ipmsg_parse_u32(port, &v, NULL) != IPMSG_OK || v > 0xffff)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "bad port in host entry", off);
    e->port_wire = (uint16_t)v;
    e->nick = undummy(e->nick);
    e->group = undummy(e->group);
    return 1;
}

uint16_t ipmsg_hostlist_port_encode(uint16_t port)
{
    return (uint16_t)((port >> 8) | (port << 8));
}

uint16_t ipmsg_hostlist_port_decode(uint16_t wire)
{
    if (wire == IPMSG_DEFAULT_PORT)
        return wire;
    return ipmsg_hostlist_port_encode(wire);
}

bool ipmsg_parse_ipv4(ipmsg_slice s, uint8_t out[4])
{
    if (!s.ptr || s.len < 7 || s.len > 15)
        return false;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= s.len || s.ptr[i] != '.')
                return false;
            i++;
        }
        unsigned v = 0, digits = 0;
        while (i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(s.ptr[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255)
            return false;
        out[part] = (uint8_t)v;
    }
    return i == s.len;
}

int ipmsg_getlist_start(ipmsg_slice extra, uint32_t *start, ipmsg_error *err)
{
    if (!start)
        return ipmsg_fail(err, IPMSG_E_INVAL, "null argument", 0);
    size_t i = 0;
    while (extra.ptr && i < extra.len && extra.ptr[i] == ' ')
        i++;
    if (!extra.ptr || i == extra.len) {
        *start = 0;
        return IPMSG_OK;
    }
    return ipmsg_parse_u32(extra, start, err);
}

/* ---- building ---- */

typedef struct hl_out {
    char *p;
    size_t cap;
    size_t len;
} hl_out;

static int put(hl_out *o, const char *s, size_t n)
{
    if (o->cap - o->len < n)
        return IPMSG_E_NOSPACE;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    return IPMSG_OK;
}

/* One value + \a; empty -> \b when allowed; \a inside becomes ' '. */
static int put_value(hl_out *o, ipmsg_charset *cs, ipmsg_enc enc, const char *v, bool dummy)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0) {
        if (!dummy)
            return IPMSG_E_INVAL;
        char d[2] = {DUMMY, SEP};
        return put(o, d, 2);
    }
    size_t wrote = 0;
    int rc = ipmsg_encode_into(cs, enc, v, n, o->p + o->len, o->cap - o->len, &wrote, NULL, NULL);
    if (rc != IPMSG_OK)
        return rc;
    for (size_t i = o->len; i < o->len + wrote; i++)
        if (o->p[i] == SEP)
            o->p[i] = ' ';
    o->len += wrote;
    if (!dummy && wrote == 0)
        return IPMSG_E_INVAL;
    char sep = SEP;
    return put(o, &sep, 1);
}

static int put_entry(hl_out *o, const ipmsg_hostlist_host *h, ipmsg_charset *cs, ipmsg_enc enc)
{
    char num[16];
    int rc;
    if ((rc = put_value(o, cs, enc, h->user, false)) != IPMSG_OK ||
        (rc = put_value(o, cs, enc, h->host, false)) != IPMSG_OK)
        return rc;
    snprintf(num, sizeof(num), "%lu", (unsigned long)h->status);
    if ((rc = put_value(o, NULL, IPMSG_ENC_RAW, num, false)) != IPMSG_OK)
        return rc;
    /* The address is ASCII; only sanitized, never converted to a code page. */
    ipmsg_enc addr_enc = enc == IPMSG_ENC_RAW ? IPMSG_ENC_RAW : IPMSG_ENC_UTF8;
    if ((rc = put_value(o, NULL, addr_enc, h->addr, false)) != IPMSG_OK)
        return rc;
    snprintf(num, sizeof(num), "%u", (unsigned)ipmsg_hostlist_port_encode(h->port));
    if ((rc = put_value(o, NULL, IPMSG_ENC_RAW, num, false)) != IPMSG_OK ||
        (rc = put_value(o, cs, enc, h->nick, true)) != IPMSG_OK ||
        (rc = put_value(o, cs, enc, h->group, true)) != IPMSG_OK)
        return rc;
    return IPMSG_OK;
}

static size_t dec_width(size_t v)
{
    size_t w = 1;
    while (v >= 10) {
        v /= 10;
        w++;
    }
    return w < 5 ? 5 : w;
}

int ipmsg_hostlist_build(const ipmsg_hostlist_host *hosts, size_t n, size_t start,
                         ipmsg_charset *cs, ipmsg_enc enc, char *out, size_t cap, size_t *out_len,
                         size_t *n_written, uint32_t *next_start, ipmsg_error *err)
{
    if ((!hosts && n) || !out || !out_len || !n_written || !next_start)
        return ipmsg_fail(err, IPMSG_E_INVAL, "null argument", 0);
    if (n > UINT32_MAX)
        return ipmsg_fail(err, IPMSG_E_RANGE, "host table larger than 2^32-1", 0);
    if (start > n)
        start = n;
    /* Entries go after room for the widest header these numbers can need;
     * the real header is written afterwards and the entries moved up. */
    size_t hdr_room = 2 * dec_width(n) + 2;
    if (cap < hdr_room)
        return ipmsg_fail(err, IPMSG_E_NOSPACE, "no room for the page header", 0);
    hl_out o = {out + hdr_room, cap - hdr_room, 0};
    size_t i = start;
    for (; i < n; i++) {
        size_t mark = o.len;
        int rc = put_entry(&o, &hosts[i], cs, enc);
        if (rc == IPMSG_E_NOSPACE) {
            o.len = mark;
            break;
        }
        if (rc == IPMSG_E_INVAL)
            return ipmsg_fail(err, rc,
                              "host entry with empty user/host/addr, or legacy text "
                              "without a charset",
                              i);
        if (rc != IPMSG_OK)
            return ipmsg_fail(err, rc, "cannot encode host entry", i);
    }
    size_t written = i - start;
    if (written == 0 && start < n)
        return ipmsg_fail(err, IPMSG_E_NOSPACE, "not even one host entry fits", start);
    uint32_t next = i < n ? (uint32_t)i : 0;
    char hdr[HDR_MAX + 2];
    int hl = snprintf(hdr, sizeof(hdr), "%5lu%c%5lu%c", (unsigned long)next, SEP,
                      (unsigned long)written, SEP);
    memcpy(out, hdr, (size_t)hl);
    memmove(out + hl, out + hdr_room, o.len);
    *out_len = (size_t)hl + o.len;
    *n_written = written;
    *next_start = next;
    return IPMSG_OK;
}
