/*
 * Topic names and segment globs. Pure functions over NUL-terminated strings:
 * no allocation and no state, so a fuzzer can call them on anything.
 */
#include "bus/bus.h"
#include <string.h>

static int seg_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Length of the segment starting at s (up to '.' or the end). */
static size_t seg_len(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0' && s[n] != '.')
        n++;
    return n;
}

static int literal_segment(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!seg_char(s[i]))
            return 0;
    }
    return 1;
}

static int is_star(const char *s, size_t n)
{
    return n == 1 && s[0] == '*';
}

static int is_globstar(const char *s, size_t n)
{
    return n == 2 && s[0] == '*' && s[1] == '*';
}

/* Length within 1..DG_TOPIC_MAX, read without running past DG_TOPIC_MAX + 1. */
static int length_ok(const char *s)
{
    size_t n = strnlen(s, DG_TOPIC_MAX + 1);
    return n > 0 && n <= DG_TOPIC_MAX;
}

int dg_topic_valid(const char *topic)
{
    if (topic == NULL || !length_ok(topic))
        return 0;
    for (const char *s = topic;; s++) {
        size_t n = seg_len(s);
        if (!literal_segment(s, n))
            return 0;
        s += n;
        if (*s == '\0')
            return 1;
    }
}

int dg_topic_pattern_valid(const char *pattern)
{
    if (pattern == NULL || !length_ok(pattern))
        return 0;
    for (const char *s = pattern;; s++) {
        size_t n = seg_len(s);
        int last = s[n] == '\0';
        if (!literal_segment(s, n) && !is_star(s, n) && !(last && is_globstar(s, n)))
            return 0;
        s += n;
        if (last)
            return 1;
    }
}

int dg_topic_match(const char *pattern, const char *topic)
{
    if (pattern == NULL || topic == NULL)
        return 0;
    const char *p = pattern, *t = topic;
    for (;;) {
        size_t pn = seg_len(p), tn = seg_len(t);
        /* A final "**" takes the rest, which must hold at least one segment. */
        if (is_globstar(p, pn) && p[pn] == '\0')
            return tn > 0;
        if (is_star(p, pn)) {
            if (tn == 0)
                return 0;
        } else if (pn != tn || memcmp(p, t, pn) != 0) {
            return 0;
        }
        if (p[pn] == '\0' || t[tn] == '\0')
            return p[pn] == t[tn];
        p += pn + 1;
        t += tn + 1;
    }
}

const char *dg_overflow_name(dg_overflow overflow)
{
    switch (overflow) {
    case DG_OVERFLOW_BLOCK:
        return "block";
    case DG_OVERFLOW_DROP_OLDEST:
        return "drop_oldest";
    case DG_OVERFLOW_COALESCE:
        return "coalesce";
    }
    return "unknown";
}
