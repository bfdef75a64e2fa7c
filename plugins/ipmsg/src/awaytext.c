#include "awaytext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ipm_nick_decorate(const char *nick, const char *title)
{
    if (!nick)
        nick = "";
    size_t n = strlen(nick), t = title ? strlen(title) : 0;
    char *out = malloc(n + t + 3);
    if (!out)
        return NULL;
    if (t)
        snprintf(out, n + t + 3, "%s[%s]", nick, title);
    else
        memcpy(out, nick, n + 1);
    return out;
}

size_t ipm_nick_undecorated_len(const char *nick, size_t len)
{
    if (!nick || len < 3 || nick[len - 1] != ']')
        return len;
    /* The '[' matching the final ']': the last one (titles have no brackets). */
    for (size_t i = len - 1; i-- > 0;) {
        if (nick[i] == ']')
            return len; /* "a]b]": not a decoration we made */
        if (nick[i] == '[')
            return i > 0 && nick[i - 1] != ' ' ? i : len;
    }
    return len;
}

int ipm_parse_minutes(const char *s, int64_t *ms)
{
    if (!s || !ms)
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    int64_t whole = 0, frac = 0;
    int digits = 0, fdigits = 0;
    while (*s >= '0' && *s <= '9') {
        whole = whole * 10 + (*s++ - '0');
        if (++digits > 6)
            return -1;
    }
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9') {
            if (++fdigits > 3)
                return -1;
            frac = frac * 10 + (*s++ - '0');
        }
        if (fdigits == 0)
            return -1;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '\0')
        return -1;
    if (digits == 0 && fdigits == 0) {
        *ms = 0; /* empty: off */
        return 0;
    }
    for (int i = fdigits; i < 3; i++)
        frac *= 10;
    int64_t total = whole * 60000 + frac * 60; /* frac is in thousandths of a minute */
    if (total > (int64_t)IPM_AWAY_MAX_MINUTES * 60000)
        return -1;
    *ms = total;
    return 0;
}
