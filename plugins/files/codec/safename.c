/* Received-name sanitizer (safename.h). */
#include "safename.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXT_MAX 32

/* Decodes one UTF-8 character at s[0..len); returns its length or 0 when
 * invalid. */
static size_t utf8_char(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

int dg_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_char(p + i, len - i, &cp);
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}

size_t dg_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    /* Back off continuation bytes: the cut must land on a lead byte. */
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

static bool replaced_cp(uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
        return true;
    if (cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
        (cp >= 0x2066 && cp <= 0x2069))
        return true;
    return cp < 0x80 && strchr("<>:\"|?*", (int)cp) != NULL;
}

/* "CON", "com1.txt", "LPT1 .log": the part before the first '.', with
 * trailing spaces ignored, is a Windows device name. */
static bool reserved(const char *s, size_t len)
{
    static const char *const names[] = {"CON", "PRN", "AUX", "NUL"};
    size_t base = 0;
    while (base < len && s[base] != '.')
        base++;
    while (base > 0 && s[base - 1] == ' ')
        base--;
    if (base == 3) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strncasecmp(s, names[i], 3) == 0)
                return true;
    }
    if (base == 4 && s[3] >= '1' && s[3] <= '9' &&
        (strncasecmp(s, "COM", 3) == 0 || strncasecmp(s, "LPT", 3) == 0))
        return true;
    return false;
}

static size_t trim_tail(const char *s, size_t len)
{
    while (len > 0 && (s[len - 1] == '.' || s[len - 1] == ' '))
        len--;
    return len;
}

static bool has_parent_component(const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '/' || s[i] == '\\') {
            if (i - start == 2 && s[start] == '.' && s[start + 1] == '.')
                return true;
            start = i + 1;
        }
    }
    return false;
}

static int refuse(char *out, ipmsg_error *err, const char *reason, size_t off)
{
    out[0] = '\0';
    return ipmsg_fail(err, IPMSG_E_SYNTAX, reason, off);
}

int dg_safename(const char *in, size_t len, char out[DG_SAFENAME_MAX + 1], unsigned *changes,
                ipmsg_error *err)
{
    unsigned ch = 0;
    if (changes)
        *changes = 0;
    out[0] = '\0';
    if (!in || len == 0)
        return refuse(out, err, "empty file name", 0);
    const char *nul = memchr(in, '\0', len);
    if (nul)
        return refuse(out, err, "NUL byte in file name", (size_t)(nul - in));
    if (!dg_utf8_valid(in, len))
        return refuse(out, err, "file name is not valid UTF-8", 0);
    if (in[0] == '/' || in[0] == '\\' ||
        (len >= 3 && in[1] == ':' && (in[2] == '\\' || in[2] == '/') &&
         ((in[0] >= 'a' && in[0] <= 'z') || (in[0] >= 'A' && in[0] <= 'Z'))))
        return refuse(out, err, "absolute path as file name", 0);
    if (has_parent_component(in, len))
        return refuse(out, err, "parent directory reference (..) in file name", 0);
    if (len == 1 && in[0] == '.')
        return refuse(out, err, "'.' as file name", 0);
    const char *sep = memchr(in, '/', len);
    if (!sep)
        sep = memchr(in, '\\', len);
    if (sep)
        return refuse(out, err, "path separator inside a file name", (size_t)(sep - in));

    /* Replacement never makes the name longer (a character becomes one
     * byte), plus one byte for a reserved-name prefix. */
    char *tmp = malloc(len + 2);
    if (!tmp) {
        out[0] = '\0';
        return ipmsg_fail(err, IPMSG_E_NOMEM, "out of memory", 0);
    }
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)in;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = utf8_char(p + i, len - i, &cp);
        if (replaced_cp(cp)) {
            tmp[n++] = '_';
            ch |= DG_SAFENAME_REPLACED;
        } else {
            memcpy(tmp + n, in + i, k);
            n += k;
        }
        i += k;
    }
    size_t t = trim_tail(tmp, n);
    if (t != n)
        ch |= DG_SAFENAME_TRIMMED;
    n = t;
    if (n == 0) {
        free(tmp);
        return refuse(out, err, "file name made only of dots and spaces", 0);
    }
    if (reserved(tmp, n)) {
        memmove(tmp + 1, tmp, n);
        tmp[0] = '_';
        n++;
        ch |= DG_SAFENAME_RESERVED;
    }
    if (n > DG_SAFENAME_MAX) {
        size_t ext = 0;
        for (size_t i = n; i-- > 1;) {
            if (tmp[i] == '.') {
                if (n - i <= EXT_MAX)
                    ext = n - i;
                break;
            }
            if (n - i > EXT_MAX)
                break;
        }
        size_t stem = trim_tail(tmp, dg_utf8_cut(tmp, n - ext, DG_SAFENAME_MAX - ext));
        if (stem == 0) {
            free(tmp);
            return refuse(out, err, "file name made only of dots and spaces", 0);
        }
        memcpy(out, tmp, stem);
        memcpy(out + stem, tmp + n - ext, ext);
        n = stem + ext;
        ch |= DG_SAFENAME_CUT;
        /* The cut may have turned "CON    x..." into "CON": check again. A
         * stem cut down to a device name is short, so the prefix fits. */
        if (reserved(out, n) && n < DG_SAFENAME_MAX) {
            memmove(out + 1, out, n);
            out[0] = '_';
            n++;
            ch |= DG_SAFENAME_RESERVED;
        }
    } else {
        memcpy(out, tmp, n);
    }
    out[n] = '\0';
    free(tmp);
    if (changes)
        *changes = ch;
    return IPMSG_OK;
}
