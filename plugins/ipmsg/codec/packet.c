#include "packet.h"

#include <stdio.h>

/* ---- parsing ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Decimal digits only, value <= UINT32_MAX. */
static int parse_dec_u32(const char *p, size_t n, uint32_t *out)
{
    if (n == 0)
        return IPMSG_E_SYNTAX;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return IPMSG_E_SYNTAX;
        v = v * 10 + (uint64_t)(p[i] - '0');
        if (v > UINT32_MAX)
            return IPMSG_E_RANGE;
    }
    *out = (uint32_t)v;
    return IPMSG_OK;
}

int ipmsg_parse_u32(ipmsg_slice s, uint32_t *out, ipmsg_error *err)
{
    if (!out)
        return ipmsg_fail(err, IPMSG_E_INVAL, "no output pointer", 0);
    const char *p = s.ptr ? s.ptr : "";
    size_t a = 0, b = s.ptr ? s.len : 0;
    while (a < b && p[a] == ' ')
        a++;
    while (b > a && p[b - 1] == ' ')
        b--;
    int rc = parse_dec_u32(p + a, b - a, out);
    if (rc == IPMSG_E_RANGE)
        return ipmsg_fail(err, rc, "number larger than 2^32-1", a);
    if (rc != IPMSG_OK)
        return ipmsg_fail(err, rc, "not a decimal number", a);
    return IPMSG_OK;
}

/* Field [*cur, ':') of the header. Returns false when no ':' is left. */
static bool next_field(const char **cur, const char *hend, ipmsg_slice *f)
{
    const char *c = memchr(*cur, ':', (size_t)(hend - *cur));
    f->ptr = *cur;
    f->len = (size_t)((c ? c : hend) - *cur);
    *cur = c ? c + 1 : hend;
    return c != NULL;
}

/* "1" alone or followed by a non-digit (§1.2, §9.1). */
static bool version_ok(ipmsg_slice v)
{
    return v.len >= 1 && v.ptr[0] == '1' && (v.len == 1 || !is_digit(v.ptr[1]));
}

void ipmsg_sections_begin(const ipmsg_packet *pkt, ipmsg_section_iter *it)
{
    it->p = pkt->tail.ptr;
    it->end = pkt->tail.ptr ? pkt->tail.ptr + pkt->tail.len : NULL;
}

bool ipmsg_sections_next(ipmsg_section_iter *it, ipmsg_slice *out, bool *terminated)
{
    if (!it->p || it->p >= it->end)
        return false;
    const char *nul = memchr(it->p, '\0', (size_t)(it->end - it->p));
    out->ptr = it->p;
    out->len = (size_t)((nul ? nul : it->end) - it->p);
    if (terminated)
        *terminated = nul != NULL;
    it->p = nul ? nul + 1 : it->end;
    return true;
}

static int parse_fail(ipmsg_packet *out, ipmsg_error *err, ipmsg_status code, const char *why,
                      const char *base, const char *at)
{
    memset(out, 0, sizeof(*out));
    return ipmsg_fail(err, code, why, (size_t)(at - base));
}

static int parse_header(const char *base, const char *hend, ipmsg_packet *out, ipmsg_error *err)
{
    const char *cur = base;
    ipmsg_slice f;
    int rc;

    if (!next_field(&cur, hend, &out->version))
        return parse_fail(out, err, IPMSG_E_SYNTAX, "header ends after the version", base, cur);
    if (!version_ok(out->version))
        return parse_fail(out, err, IPMSG_E_VERSION, "version is not 1", base, base);

    if (!next_field(&cur, hend, &f))
        return parse_fail(out, err, IPMSG_E_SYNTAX, "header ends after the packet number", base,
                          f.ptr);
    if ((rc = parse_dec_u32(f.ptr, f.len, &out->packet_no)) != IPMSG_OK)
        return parse_fail(out, err, rc,
                          rc == IPMSG_E_RANGE ? "packet number >= 2^32"
                                              : "packet number is not decimal",
                          base, f.ptr);

    if (!next_field(&cur, hend, &out->user))
        return parse_fail(out, err, IPMSG_E_SYNTAX, "header ends after the user name", base,
                          out->user.ptr);
    if (out->user.len == 0)
        return parse_fail(out, err, IPMSG_E_SYNTAX, "empty user name", base, out->user.ptr);

    if (!next_field(&cur, hend, &out->host))
        return parse_fail(out, err, IPMSG_E_SYNTAX, "header ends after the host name (no command)",
                          base, out->host.ptr);
    if (out->host.len == 0)
        return parse_fail(out, err, IPMSG_E_SYNTAX, "empty host name", base, out->host.ptr);

    /* The command may end the header ("1:2:u:h:32" has an empty extra). */
    bool has_extra = next_field(&cur, hend, &f);
    if ((rc = parse_dec_u32(f.ptr, f.len, &out->command)) != IPMSG_OK)
        return parse_fail(out, err, rc,
                          rc == IPMSG_E_RANGE ? "command >= 2^32" : "command is not decimal", base,
                          f.ptr);
    out->mode = IPMSG_GET_MODE(out->command);
    out->opts = IPMSG_GET_OPT(out->command);
    out->extra.ptr = has_extra ? cur : hend;
    out->extra.len = (size_t)(hend - out->extra.ptr);
    return IPMSG_OK;
}

int ipmsg_parse(const void *data, size_t len, size_t max_size, ipmsg_packet *out, ipmsg_error *err)
{
    if (!out || (!data && len))
        return ipmsg_fail(err, IPMSG_E_INVAL, "null argument", 0);
    memset(out, 0, sizeof(*out));
    if (max_size == 0)
        max_size = IPMSG_PARSE_DEFAULT_MAX;
    if (len == 0)
        return ipmsg_fail(err, IPMSG_E_SYNTAX, "empty packet", 0);
    if (len > max_size)
        return ipmsg_fail(err, IPMSG_E_TOOBIG, "packet larger than the configured maximum",
                          max_size);

    const char *base = data;
    const char *end = base + len;
    const char *nul = memchr(base, '\0', len);
    const char *hend = nul ? nul : end;

    int rc = parse_header(base, hend, out, err);
    if (rc != IPMSG_OK)
        return rc;

    out->size = len;
    out->extra_nul = nul != NULL;
    out->tail.ptr = nul ? nul + 1 : end;
    out->tail.len = (size_t)(end - out->tail.ptr);

    ipmsg_section_iter it;
    ipmsg_slice s;
    bool term = false;
    ipmsg_sections_begin(out, &it);
    while (ipmsg_sections_next(&it, &s, &term)) {
        if (out->n_sections < IPMSG_MAX_SECTIONS)
            out->sections[out->n_sections] = s;
        out->n_sections++;
        out->last_section_nul = term;
    }
    return IPMSG_OK;
}

/* ---- building ---- */

typedef struct wbuf {
    char *p;
    size_t cap;
    size_t len;
} wbuf;

static int w_put(wbuf *w, const char *s, size_t n)
{
    if (w->cap - w->len < n)
        return IPMSG_E_NOSPACE;
    if (n)
        memcpy(w->p + w->len, s, n);
    w->len += n;
    return IPMSG_OK;
}

static int w_fail(ipmsg_error *err, int rc, const char *what)
{
    if (rc == IPMSG_E_NOSPACE)
        return ipmsg_fail(err, rc, "packet does not fit the output buffer", 0);
    if (rc == IPMSG_E_INVAL)
        return ipmsg_fail(err, rc, "non-ASCII legacy text but no charset given", 0);
    return ipmsg_fail(err, rc, what, 0);
}

/* Converts (or copies) one part; ':' handling is the caller's business. */
static int w_part(wbuf *w, ipmsg_charset *cs, ipmsg_enc enc, const char *s, size_t n, bool raw)
{
    if (raw)
        return w_put(w, s, n);
    size_t wrote = 0;
    int rc = ipmsg_encode_into(cs, enc, s, n, w->p + w->len, w->cap - w->len, &wrote, NULL, NULL);
    if (rc == IPMSG_OK)
        w->len += wrote;
    return rc;
}

/*
 * User/host: ':' becomes ';' (§1.2). Text is converted piece by piece around
 * the colons so that even a stateful code page stays consistent; afterwards
 * the bytes are checked, since a code page could still produce ':' or NUL.
 */
static int w_name(wbuf *w, ipmsg_charset *cs, ipmsg_enc enc, ipmsg_part part, ipmsg_error *err)
{
    const char *what = "cannot encode name";
    if (!part.ptr || part.len == 0)
        return ipmsg_fail(err, IPMSG_E_INVAL, "empty user or host name", 0);
    if (memchr(part.ptr, '\0', part.len))
        return ipmsg_fail(err, IPMSG_E_INVAL, "NUL in user or host name", 0);
    size_t start = w->len;
    bool raw = (part.flags & IPMSG_PART_RAW) != 0;
    const char *s = part.ptr, *end = part.ptr + part.len;
    for (;;) {
        const char *c = memchr(s, ':', (size_t)(end - s));
        int rc = w_part(w, cs, enc, s, (size_t)((c ? c : end) - s), raw);
        if (rc == IPMSG_OK && c)
            rc = w_put(w, ";", 1);
        if (rc != IPMSG_OK)
            return w_fail(err, rc, what);
        if (!c)
            break;
        s = c + 1;
    }
    if (w->len == start)
        return ipmsg_fail(err, IPMSG_E_INVAL, "empty user or host name", 0);
    if (memchr(w->p + start, ':', w->len - start) || memchr(w->p + start, '\0', w->len - start))
        return ipmsg_fail(err, IPMSG_E_CHARSET, "code page produced ':' or NUL in a name", 0);
    return IPMSG_OK;
}

static int w_text_part(wbuf *w, ipmsg_charset *cs, ipmsg_enc enc, ipmsg_part part, bool nul_allowed,
                       ipmsg_error *err)
{
    if (!part.ptr && part.len)
        return ipmsg_fail(err, IPMSG_E_INVAL, "null part", 0);
    bool raw = (part.flags & IPMSG_PART_RAW) != 0;
    if (part.len && (!raw || !nul_allowed) && memchr(part.ptr, '\0', part.len))
        return ipmsg_fail(err, IPMSG_E_INVAL, "NUL inside text (would split the packet)", 0);
    int rc = w_part(w, cs, enc, part.ptr ? part.ptr : "", part.len, raw);
    return rc == IPMSG_OK ? rc : w_fail(err, rc, "cannot encode text");
}

int ipmsg_build(const ipmsg_build_in *in, ipmsg_charset *cs, char *out, size_t cap, size_t *out_len,
                ipmsg_error *err)
{
    if (!in || !out || !out_len || (in->n_sections && !in->sections))
        return ipmsg_fail(err, IPMSG_E_INVAL, "null argument", 0);
    if (in->extra.flags & IPMSG_PART_NO_NUL)
        return ipmsg_fail(err, IPMSG_E_INVAL, "the extra is always NUL-terminated", 0);
    for (size_t i = 0; i + 1 < in->n_sections; i++)
        if (in->sections[i].flags & IPMSG_PART_NO_NUL)
            return ipmsg_fail(err, IPMSG_E_INVAL, "only the last section may omit its NUL", 0);

    ipmsg_enc enc = ipmsg_packet_enc(in->command);
    wbuf w = {out, cap, 0};
    char num[16];
    int rc, n;

    n = snprintf(num, sizeof(num), "%d:%lu:", IPMSG_VERSION, (unsigned long)in->packet_no);
    if ((rc = w_put(&w, num, (size_t)n)) != IPMSG_OK)
        return w_fail(err, rc, NULL);
    if ((rc = w_name(&w, cs, enc, in->user, err)) != IPMSG_OK)
        return rc;
    if ((rc = w_put(&w, ":", 1)) != IPMSG_OK)
        return w_fail(err, rc, NULL);
    if ((rc = w_name(&w, cs, enc, in->host, err)) != IPMSG_OK)
        return rc;
    n = snprintf(num, sizeof(num), ":%lu:", (unsigned long)in->command);
    if ((rc = w_put(&w, num, (size_t)n)) != IPMSG_OK)
        return w_fail(err, rc, NULL);
    if ((rc = w_text_part(&w, cs, enc, in->extra, false, err)) != IPMSG_OK)
        return rc;
    if ((rc = w_put(&w, "", 1)) != IPMSG_OK)
        return w_fail(err, rc, NULL);
    for (size_t i = 0; i < in->n_sections; i++) {
        const ipmsg_part *s = &in->sections[i];
        if ((rc = w_text_part(&w, cs, enc, *s, true, err)) != IPMSG_OK)
            return rc;
        if (!(s->flags & IPMSG_PART_NO_NUL) && (rc = w_put(&w, "", 1)) != IPMSG_OK)
            return w_fail(err, rc, NULL);
    }
    *out_len = w.len;
    return IPMSG_OK;
}

const char *ipmsg_command_name(uint32_t command)
{
    static const struct {
        uint32_t mode;
        const char *name;
    } names[] = {
        {IPMSG_NOOPERATION, "NOOPERATION"},
        {IPMSG_BR_ENTRY, "BR_ENTRY"},
        {IPMSG_BR_EXIT, "BR_EXIT"},
        {IPMSG_ANSENTRY, "ANSENTRY"},
        {IPMSG_BR_ABSENCE, "BR_ABSENCE"},
        {IPMSG_BR_ISGETLIST, "BR_ISGETLIST"},
        {IPMSG_OKGETLIST, "OKGETLIST"},
        {IPMSG_GETLIST, "GETLIST"},
        {IPMSG_ANSLIST, "ANSLIST"},
        {IPMSG_ANSLIST_DICT, "ANSLIST_DICT"},
        {IPMSG_BR_ISGETLIST2, "BR_ISGETLIST2"},
        {IPMSG_SENDMSG, "SENDMSG"},
        {IPMSG_RECVMSG, "RECVMSG"},
        {IPMSG_READMSG, "READMSG"},
        {IPMSG_DELMSG, "DELMSG"},
        {IPMSG_ANSREADMSG, "ANSREADMSG"},
        {IPMSG_GETINFO, "GETINFO"},
        {IPMSG_SENDINFO, "SENDINFO"},
        {IPMSG_GETABSENCEINFO, "GETABSENCEINFO"},
        {IPMSG_SENDABSENCEINFO, "SENDABSENCEINFO"},
        {IPMSG_GETFILEDATA, "GETFILEDATA"},
        {IPMSG_RELEASEFILES, "RELEASEFILES"},
        {IPMSG_GETDIRFILES, "GETDIRFILES"},
        {IPMSG_DIRFILES_AUTH, "DIRFILES_AUTH"},
        {IPMSG_DIRFILES_AUTHRET, "DIRFILES_AUTHRET"},
        {IPMSG_GETPUBKEY, "GETPUBKEY"},
        {IPMSG_ANSPUBKEY, "ANSPUBKEY"},
        {IPMSG_AGENT_REQ, "AGENT_REQ"},
        {IPMSG_AGENT_ANSREQ, "AGENT_ANSREQ"},
        {IPMSG_AGENT_PACKET, "AGENT_PACKET"},
        {IPMSG_AGENT_PROXYREQ, "AGENT_PROXYREQ"},
        {IPMSG_DIR_POLL, "DIR_POLL"},
        {IPMSG_DIR_POLLAGENT, "DIR_POLLAGENT"},
        {IPMSG_DIR_BROADCAST, "DIR_BROADCAST"},
        {IPMSG_DIR_ANSBROAD, "DIR_ANSBROAD"},
        {IPMSG_DIR_PACKET, "DIR_PACKET"},
        {IPMSG_DIR_REQUEST, "DIR_REQUEST"},
        {IPMSG_DIR_AGENTPACKET, "DIR_AGENTPACKET"},
        {IPMSG_DIR_EVBROAD, "DIR_EVBROAD"},
        {IPMSG_DIR_AGENTREJECT, "DIR_AGENTREJECT"},
        {IPTUX_SENDMSG_GROUP, "IPTUX_SENDMSG_GROUP"},
        {IPTUX_SEND_SIGN, "IPTUX_SEND_SIGN"},
        {IPTUX_SENDSUBLAYER, "IPTUX_SENDSUBLAYER"},
        {IPTUX_SENDICON, "IPTUX_SENDICON"},
        {IPTUX_ASKSHARED, "IPTUX_ASKSHARED"},
    };
    uint32_t m = IPMSG_GET_MODE(command);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].mode == m)
            return names[i].name;
    return NULL;
}
