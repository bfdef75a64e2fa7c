#include "charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#define CS_NAME_MAX 64
#define ICONV_BAD ((iconv_t)-1)

static const char REPL_UTF8[] = "\xEF\xBF\xBD"; /* U+FFFD */

struct ipmsg_charset {
    unsigned flags;
    size_t n; /* entries in the list */
    char names[IPMSG_CHARSET_MAX_FALLBACK][CS_NAME_MAX];
    iconv_t dec[IPMSG_CHARSET_MAX_FALLBACK]; /* names[i] -> UTF-8 */
    iconv_t enc;                             /* UTF-8 -> names[0] */
};

/* ---- UTF-8 helpers ---- */

size_t ipmsg_utf8_seq_len(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    if (len == 0)
        return 0;
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* > U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

bool ipmsg_utf8_valid(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = ipmsg_utf8_seq_len(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

bool ipmsg_is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

/* ---- open / close ---- */

static void cs_free(ipmsg_charset *cs)
{
    for (size_t i = 0; i < IPMSG_CHARSET_MAX_FALLBACK; i++)
        if (cs->dec[i] != ICONV_BAD)
            iconv_close(cs->dec[i]);
    if (cs->enc != ICONV_BAD)
        iconv_close(cs->enc);
    free(cs);
}

/* Splits "A, B" into cs->names (trimmed). */
static int cs_split(ipmsg_charset *cs, const char *list, ipmsg_error *err)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        size_t n = (size_t)(p - start);
        while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t'))
            n--;
        if (cs->n == IPMSG_CHARSET_MAX_FALLBACK)
            return ipmsg_fail(err, IPMSG_E_INVAL, "too many code pages in the list", 0);
        if (n >= CS_NAME_MAX)
            return ipmsg_fail(err, IPMSG_E_INVAL, "code page name too long", 0);
        memcpy(cs->names[cs->n], start, n);
        cs->names[cs->n][n] = '\0';
        cs->n++;
    }
    if (cs->n == 0)
        return ipmsg_fail(err, IPMSG_E_INVAL, "empty code page list", 0);
    return IPMSG_OK;
}

int ipmsg_charset_open(ipmsg_charset **out, const char *legacy, unsigned flags, ipmsg_error *err)
{
    if (!out)
        return ipmsg_fail(err, IPMSG_E_INVAL, "no output pointer", 0);
    *out = NULL;
    ipmsg_charset *cs = calloc(1, sizeof(*cs));
    if (!cs)
        return ipmsg_fail(err, IPMSG_E_NOMEM, NULL, 0);
    cs->flags = flags;
    cs->enc = ICONV_BAD;
    for (size_t i = 0; i < IPMSG_CHARSET_MAX_FALLBACK; i++)
        cs->dec[i] = ICONV_BAD;

    int rc = cs_split(cs, (legacy && *legacy) ? legacy : IPMSG_DEFAULT_LEGACY_CHARSET, err);
    if (rc != IPMSG_OK) {
        cs_free(cs);
        return rc;
    }
    for (size_t i = 0; i < cs->n; i++) {
        cs->dec[i] = iconv_open("UTF-8", cs->names[i]);
        if (cs->dec[i] == ICONV_BAD) {
            cs_free(cs);
            return ipmsg_fail(err, IPMSG_E_CHARSET, "code page unknown to iconv", 0);
        }
    }
    cs->enc = iconv_open(cs->names[0], "UTF-8");
    if (cs->enc == ICONV_BAD) {
        cs_free(cs);
        return ipmsg_fail(err, IPMSG_E_CHARSET, "code page unknown to iconv", 0);
    }
    *out = cs;
    return IPMSG_OK;
}

void ipmsg_charset_close(ipmsg_charset *cs)
{
    if (cs)
        cs_free(cs);
}

const char *ipmsg_charset_name(const ipmsg_charset *cs)
{
    return cs ? cs->names[0] : IPMSG_DEFAULT_LEGACY_CHARSET;
}

/* ---- conversion cores (all write into a bounded buffer) ---- */

typedef struct outbuf {
    char *p;
    size_t left;
} outbuf;

static int out_put(outbuf *o, const char *s, size_t n)
{
    if (o->left < n)
        return IPMSG_E_NOSPACE;
    memcpy(o->p, s, n);
    o->p += n;
    o->left -= n;
    return IPMSG_OK;
}

/* UTF-8 -> UTF-8, each invalid byte replaced by U+FFFD. */
static int sanitize_utf8(const char *in, size_t len, outbuf *o, size_t *replaced)
{
    size_t i = 0;
    while (i < len) {
        size_t n = ipmsg_utf8_seq_len(in + i, len - i);
        int rc;
        if (n == 0) {
            rc = out_put(o, REPL_UTF8, 3);
            n = 1;
            ++*replaced;
        } else {
            rc = out_put(o, in + i, n);
        }
        if (rc != IPMSG_OK)
            return rc;
        i += n;
    }
    return IPMSG_OK;
}

/*
 * One iconv pass. to_legacy selects the replacement: '?' pushed through iconv
 * (so stateful code pages such as ISO-2022-JP stay in a valid shift state),
 * or U+FFFD written directly (UTF-8 output has no state). strict: fail with
 * E_CHARSET on the first bad sequence instead (used to probe fallbacks).
 */
static int iconv_pass(iconv_t cd, bool to_legacy, bool strict, const char *in, size_t len,
                      outbuf *o, size_t *replaced)
{
    iconv(cd, NULL, NULL, NULL, NULL); /* reset the shift state */
    char *ip = (char *)(uintptr_t)in;  /* iconv's prototype is not const-correct */
    size_t il = len;
    while (il > 0) {
        if (iconv(cd, &ip, &il, &o->p, &o->left) != (size_t)-1)
            break;
        if (errno == E2BIG)
            return IPMSG_E_NOSPACE;
        if (errno != EILSEQ && errno != EINVAL)
            return IPMSG_E_CHARSET;
        if (strict)
            return IPMSG_E_CHARSET;
        size_t skip = 1;
        if (errno == EINVAL) {
            skip = il; /* truncated sequence at the end: one replacement */
        } else if (to_legacy) {
            size_t n = ipmsg_utf8_seq_len(ip, il); /* unrepresentable char: skip it whole */
            skip = n ? n : 1;
        }
        ip += skip;
        il -= skip;
        ++*replaced;
        if (to_legacy) {
            char q[] = "?";
            char *qp = q;
            size_t ql = 1;
            if (iconv(cd, &qp, &ql, &o->p, &o->left) == (size_t)-1)
                return errno == E2BIG ? IPMSG_E_NOSPACE : IPMSG_E_CHARSET;
        } else if (out_put(o, REPL_UTF8, 3) != IPMSG_OK) {
            return IPMSG_E_NOSPACE;
        }
    }
    /* Emit the final shift sequence of stateful encodings. */
    if (iconv(cd, NULL, NULL, &o->p, &o->left) == (size_t)-1)
        return errno == E2BIG ? IPMSG_E_NOSPACE : IPMSG_E_CHARSET;
    return IPMSG_OK;
}

static int decode_legacy(ipmsg_charset *cs, const char *in, size_t len, outbuf *o, size_t *replaced)
{
    if ((cs->flags & IPMSG_CHARSET_SNIFF_UTF8) && ipmsg_utf8_valid(in, len))
        return out_put(o, in, len);
    if (cs->n > 1) {
        for (size_t i = 0; i < cs->n; i++) {
            outbuf try = *o;
            int rc = iconv_pass(cs->dec[i], false, true, in, len, &try, replaced);
            if (rc == IPMSG_OK) {
                *o = try;
                return IPMSG_OK;
            }
            if (rc == IPMSG_E_NOSPACE)
                return rc;
        }
    }
    return iconv_pass(cs->dec[0], false, false, in, len, o, replaced);
}

static int convert(ipmsg_charset *cs, ipmsg_enc enc, bool encode, const char *in, size_t len,
                   outbuf *o, size_t *replaced)
{
    switch (enc) {
    case IPMSG_ENC_RAW:
        return out_put(o, in, len);
    case IPMSG_ENC_UTF8:
        return sanitize_utf8(in, len, o, replaced);
    case IPMSG_ENC_LEGACY:
        if (ipmsg_is_ascii(in, len))
            return out_put(o, in, len); /* ASCII is the same in every code page we accept */
        if (!cs)
            return IPMSG_E_INVAL;
        if (encode)
            return iconv_pass(cs->enc, true, false, in, len, o, replaced);
        return decode_legacy(cs, in, len, o, replaced);
    }
    return IPMSG_E_INVAL;
}

static int conv_error(ipmsg_error *err, int rc)
{
    switch (rc) {
    case IPMSG_E_NOSPACE:
        return ipmsg_fail(err, rc, "converted text does not fit", 0);
    case IPMSG_E_INVAL:
        return ipmsg_fail(err, rc, "legacy text without a charset", 0);
    default:
        return ipmsg_fail(err, rc, "iconv failed", 0);
    }
}

int ipmsg_encode_into(ipmsg_charset *cs, ipmsg_enc enc, const char *in, size_t len, char *out,
                      size_t cap, size_t *written, size_t *replaced, ipmsg_error *err)
{
    size_t rep = 0;
    if ((!in && len) || (!out && cap) || !written)
        return ipmsg_fail(err, IPMSG_E_INVAL, "null buffer", 0);
    outbuf o = {out, cap};
    int rc = convert(cs, enc, true, in ? in : "", len, &o, &rep);
    if (replaced)
        *replaced = rep;
    if (rc != IPMSG_OK)
        return conv_error(err, rc);
    *written = cap - o.left;
    return IPMSG_OK;
}

/* Converts into a growing heap buffer (doubling on NOSPACE), NUL-terminated. */
static int convert_alloc(ipmsg_charset *cs, ipmsg_enc enc, bool encode, const char *in, size_t len,
                         char **out, size_t *out_len, size_t *replaced, ipmsg_error *err)
{
    if ((!in && len) || !out)
        return ipmsg_fail(err, IPMSG_E_INVAL, "null buffer", 0);
    *out = NULL;
    if (len > (SIZE_MAX - 64) / 4)
        return ipmsg_fail(err, IPMSG_E_TOOBIG, "text too large", 0);
    size_t cap = len * 4 + 16; /* legacy byte -> at most 3 UTF-8 bytes (U+FFFD) */
    for (;;) {
        char *buf = malloc(cap + 1);
        if (!buf)
            return ipmsg_fail(err, IPMSG_E_NOMEM, NULL, 0);
        size_t rep = 0;
        outbuf o = {buf, cap};
        int rc = convert(cs, enc, encode, in ? in : "", len, &o, &rep);
        if (rc == IPMSG_OK) {
            size_t n = cap - o.left;
            buf[n] = '\0';
            *out = buf;
            if (out_len)
                *out_len = n;
            if (replaced)
                *replaced = rep;
            return IPMSG_OK;
        }
        free(buf);
        if (rc != IPMSG_E_NOSPACE || cap > SIZE_MAX / 4)
            return conv_error(err, rc);
        cap *= 2; /* only stateful encodings can get here */
    }
}

int ipmsg_encode(ipmsg_charset *cs, ipmsg_enc enc, const char *in, size_t len, char **out,
                 size_t *out_len, size_t *replaced, ipmsg_error *err)
{
    return convert_alloc(cs, enc, true, in, len, out, out_len, replaced, err);
}

int ipmsg_decode(ipmsg_charset *cs, ipmsg_enc enc, const char *in, size_t len, char **out,
                 size_t *out_len, size_t *replaced, ipmsg_error *err)
{
    return convert_alloc(cs, enc, false, in, len, out, out_len, replaced, err);
}

int ipmsg_decode_slice(ipmsg_charset *cs, ipmsg_enc enc, ipmsg_slice s, char **out,
                       size_t *replaced, ipmsg_error *err)
{
    return convert_alloc(cs, enc, false, s.ptr ? s.ptr : "", s.ptr ? s.len : 0, out, NULL, replaced,
                         err);
}
