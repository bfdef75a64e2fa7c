/*
 * SemVer 2.0.0 parsing and precedence, and npm-style version ranges.
 *
 * Ranges are evaluated in one pass over the text without allocating: each
 * comparator is expanded (x-ranges, "^", "~") into at most two primitive
 * bounds and tested at once. The whole text is always parsed, even after a
 * set has matched, so an invalid range is reported as invalid whatever the
 * version.
 */
#include "plugin/manifest.h"

#include <limits.h>
#include <string.h>

#define SEMVER_TEXT_MAX 256 /* longer version strings are rejected */
#define RANGE_TOKEN_MAX 128 /* longest version inside a range */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_ident_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static int sign_of(int v)
{
    return (v > 0) - (v < 0);
}

/* A numeric identifier: digits, no leading zero, fits an unsigned long. */
static int parse_number(const char **p, unsigned long *out)
{
    const char *s = *p;
    if (!is_digit(*s) || (s[0] == '0' && is_digit(s[1])))
        return -1;
    unsigned long v = 0;
    for (; is_digit(*s); s++) {
        unsigned long d = (unsigned long)(*s - '0');
        if (v > (ULONG_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *p = s;
    *out = v;
    return 0;
}

/*
 * Scans dot-separated identifiers ([0-9A-Za-z-]+). For a prerelease, numeric
 * identifiers must not have leading zeros (SemVer §9); build metadata may.
 * Returns the length scanned, or -1.
 */
static long scan_identifiers(const char *s, int prerelease)
{
    const char *p = s;
    for (;;) {
        const char *start = p;
        int numeric = 1;
        for (; is_ident_char(*p); p++)
            numeric &= is_digit(*p);
        size_t len = (size_t)(p - start);
        if (len == 0)
            return -1;
        if (prerelease && numeric && len > 1 && start[0] == '0')
            return -1;
        if (*p != '.')
            return (long)(p - s);
        p++;
    }
}

int dg_semver_parse(const char *text, dg_semver *out)
{
    if (!text || !out || strnlen(text, SEMVER_TEXT_MAX + 1) > SEMVER_TEXT_MAX)
        return -1;
    dg_semver v;
    memset(&v, 0, sizeof v);
    const char *p = text;
    if (parse_number(&p, &v.major) != 0 || *p++ != '.' || parse_number(&p, &v.minor) != 0 ||
        *p++ != '.' || parse_number(&p, &v.patch) != 0)
        return -1;
    if (*p == '-') {
        long n = scan_identifiers(++p, 1);
        if (n < 0 || (size_t)n >= sizeof v.prerelease)
            return -1;
        memcpy(v.prerelease, p, (size_t)n);
        v.prerelease[n] = '\0';
        p += n;
    }
    if (*p == '+') {
        long n = scan_identifiers(++p, 0);
        if (n < 0)
            return -1;
        p += n;
    }
    if (*p != '\0')
        return -1;
    *out = v;
    return 0;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return 0;
    return n > 0;
}

/* One prerelease identifier against another (SemVer §11.4). */
static int compare_identifier(const char *a, size_t al, const char *b, size_t bl)
{
    int an = all_digits(a, al), bn = all_digits(b, bl);
    if (an && bn) {
        /* No leading zeros, so the longer number is the larger one. */
        if (al != bl)
            return al < bl ? -1 : 1;
        return sign_of(memcmp(a, b, al));
    }
    if (an != bn)
        return an ? -1 : 1; /* numeric identifiers sort before alphanumeric ones */
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c != 0)
        return sign_of(c);
    return al == bl ? 0 : (al < bl ? -1 : 1);
}

static int compare_prerelease(const char *a, const char *b)
{
    if (*a == '\0' || *b == '\0')
        return (*a == '\0') - (*b == '\0'); /* a release outranks its prereleases */
    for (;;) {
        size_t al = strcspn(a, "."), bl = strcspn(b, ".");
        int c = compare_identifier(a, al, b, bl);
        if (c != 0)
            return c;
        a += al;
        b += bl;
        if (*a == '\0' || *b == '\0')
            return (*a != '\0') - (*b != '\0'); /* more identifiers rank higher */
        a++;
        b++;
    }
}

static int compare_ulong(unsigned long a, unsigned long b)
{
    return (a > b) - (a < b);
}

int dg_semver_compare(const dg_semver *a, const dg_semver *b)
{
    int c = compare_ulong(a->major, b->major);
    if (c == 0)
        c = compare_ulong(a->minor, b->minor);
    if (c == 0)
        c = compare_ulong(a->patch, b->patch);
    if (c == 0)
        c = compare_prerelease(a->prerelease, b->prerelease);
    return c;
}

/* ---- ranges ---- */

typedef enum range_op {
    OP_NONE, /* bare version: x-range or exact */
    OP_EQ,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_TILDE,
    OP_CARET
} range_op;

/* A possibly partial version from a range: "1", "1.2", "1.x", "*", "1.2.3-rc.1". */
typedef struct partial {
    int n;              /* numeric components given before the first wildcard (0..3) */
    unsigned long c[3]; /* components; missing ones are 0 */
    char pre[64];       /* prerelease, only when n == 3 */
} partial;

/* State of one comparator set while it is being evaluated. */
typedef struct set_state {
    const dg_semver *v;
    int match;  /* every comparator so far matched */
    int pre_ok; /* a comparator names v's major.minor.patch with a prerelease */
} set_state;

static int is_wildcard(const char *s, size_t n)
{
    return n == 1 && (*s == 'x' || *s == 'X' || *s == '*');
}

static int parse_partial(const char *tok, partial *out)
{
    memset(out, 0, sizeof *out);
    dg_semver full;
    if (dg_semver_parse(tok, &full) == 0) {
        out->n = 3;
        out->c[0] = full.major;
        out->c[1] = full.minor;
        out->c[2] = full.patch;
        memcpy(out->pre, full.prerelease, sizeof out->pre);
        return 0;
    }
    /* Otherwise up to three components, and once one is a wildcard the rest are too. */
    const char *p = tok;
    int wild = 0;
    for (int i = 0; i < 3; i++) {
        size_t len = strcspn(p, ".");
        if (is_wildcard(p, len)) {
            wild = 1;
            p += len;
        } else if (wild || parse_number(&p, &out->c[i]) != 0) {
            return -1;
        } else {
            out->n++;
        }
        if (*p == '\0')
            return 0;
        if (*p != '.' || i == 2)
            return -1;
        p++;
    }
    return -1;
}

static void semver_set(dg_semver *s, unsigned long ma, unsigned long mi, unsigned long pa,
                       const char *pre)
{
    s->major = ma;
    s->minor = mi;
    s->patch = pa;
    size_t n = strnlen(pre, sizeof s->prerelease - 1);
    memcpy(s->prerelease, pre, n);
    s->prerelease[n] = '\0';
}

/* The lowest version of the partial: missing components are 0. */
static void partial_low(const partial *p, dg_semver *s)
{
    semver_set(s, p->c[0], p->c[1], p->c[2], p->n == 3 ? p->pre : "");
}

/*
 * The version just above the partial when component `which` is bumped and the
 * later ones zeroed, e.g. (1.2, which 0) -> 2.0.0. -1 when it would overflow:
 * no such version exists.
 */
static int partial_bump(const partial *p, int which, const char *pre, dg_semver *s)
{
    if (p->c[which] == ULONG_MAX)
        return -1;
    unsigned long c[3] = {p->c[0], p->c[1], p->c[2]};
    c[which]++;
    for (int i = which + 1; i < 3; i++)
        c[i] = 0;
    semver_set(s, c[0], c[1], c[2], pre);
    return 0;
}

static void apply_bound(set_state *st, range_op op, const dg_semver *bound)
{
    int c = dg_semver_compare(st->v, bound);
    int ok = 0;
    switch (op) {
    case OP_EQ:
        ok = c == 0;
        break;
    case OP_LT:
        ok = c < 0;
        break;
    case OP_LE:
        ok = c <= 0;
        break;
    case OP_GT:
        ok = c > 0;
        break;
    case OP_GE:
        ok = c >= 0;
        break;
    default:
        break;
    }
    if (!ok)
        st->match = 0;
    if (bound->prerelease[0] != '\0' && bound->major == st->v->major &&
        bound->minor == st->v->minor && bound->patch == st->v->patch)
        st->pre_ok = 1;
}

static void apply_never(set_state *st)
{
    st->match = 0;
}

/* Lower bound from the partial, upper bound exclusive at bumping component `which`. */
static void apply_span(set_state *st, const partial *p, int which)
{
    dg_semver b;
    partial_low(p, &b);
    apply_bound(st, OP_GE, &b);
    if (partial_bump(p, which, "0", &b) == 0) /* "-0": below every prerelease of it */
        apply_bound(st, OP_LT, &b);
}

/* x-ranges and operators with a partial version, the way npm's semver desugars them. */
static void apply_partial_op(set_state *st, range_op op, const partial *p)
{
    dg_semver b;
    int last = p->n - 1; /* index of the last given component */
    switch (op) {
    case OP_GT: /* ">1.2" means ">=1.3.0"; ">*" means nothing */
        if (p->n == 0 || partial_bump(p, last, "", &b) != 0)
            apply_never(st);
        else
            apply_bound(st, OP_GE, &b);
        break;
    case OP_GE:
        partial_low(p, &b);
        apply_bound(st, OP_GE, &b);
        break;
    case OP_LT: /* "<1.2" means "<1.2.0-0"; "<*" means nothing */
        if (p->n == 0) {
            apply_never(st);
        } else {
            semver_set(&b, p->c[0], p->c[1], p->c[2], "0");
            apply_bound(st, OP_LT, &b);
        }
        break;
    case OP_LE: /* "<=1.2" means "<1.3.0-0" */
        if (p->n > 0 && partial_bump(p, last, "0", &b) == 0)
            apply_bound(st, OP_LT, &b);
        break;
    default: /* bare or "=": "1.2" means ">=1.2.0 <1.3.0-0", "*" anything */
        if (p->n == 0) {
            partial_low(p, &b);
            apply_bound(st, OP_GE, &b);
        } else {
            apply_span(st, p, last);
        }
        break;
    }
}

/* "^": changes that do not modify the left-most non-zero component. */
static void apply_caret(set_state *st, const partial *p)
{
    if (p->n == 0) {
        apply_partial_op(st, OP_NONE, p); /* "^*" is "*" */
        return;
    }
    int which = 0;
    if (p->c[0] == 0 && p->n >= 2)
        which = (p->c[1] == 0 && p->n == 3) ? 2 : 1;
    apply_span(st, p, which);
}

static void apply_comparator(set_state *st, range_op op, const partial *p)
{
    dg_semver b;
    if (op == OP_CARET) {
        apply_caret(st, p);
    } else if (op == OP_TILDE) {
        /* "~1.2.3" and "~1.2": patch-level changes; "~1": minor-level; "~*": anything */
        if (p->n == 0)
            apply_partial_op(st, OP_NONE, p);
        else
            apply_span(st, p, p->n >= 2 ? 1 : 0);
    } else if (p->n == 3) {
        partial_low(p, &b);
        apply_bound(st, op == OP_NONE ? OP_EQ : op, &b);
    } else {
        apply_partial_op(st, op, p);
    }
}

static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static range_op scan_operator(const char **pp)
{
    const char *p = *pp;
    range_op op = OP_NONE;
    if (p[0] == '>' && p[1] == '=')
        op = OP_GE, p += 2;
    else if (p[0] == '<' && p[1] == '=')
        op = OP_LE, p += 2;
    else if (p[0] == '>')
        op = OP_GT, p++;
    else if (p[0] == '<')
        op = OP_LT, p++;
    else if (p[0] == '=')
        op = OP_EQ, p++;
    else if (p[0] == '~')
        op = OP_TILDE, p++;
    else if (p[0] == '^')
        op = OP_CARET, p++;
    *pp = p;
    return op;
}

/* One comparator ("op version", a blank allowed after op). 0 ok, -1 invalid. */
static int eval_comparator(const char **pp, set_state *st)
{
    const char *p = *pp;
    range_op op = scan_operator(&p);
    if (op != OP_NONE)
        p = skip_blanks(p);
    size_t len = strcspn(p, " \t|");
    if (len == 0 || len >= RANGE_TOKEN_MAX)
        return -1;
    char tok[RANGE_TOKEN_MAX];
    memcpy(tok, p, len);
    tok[len] = '\0';
    partial part;
    if (parse_partial(tok, &part) != 0)
        return -1;
    apply_comparator(st, op, &part);
    *pp = p + len;
    return 0;
}

/* One comparator set, up to "||" or the end. Returns 1/0 (match) or -1 (invalid). */
static int eval_set(const char **pp, const dg_semver *v)
{
    set_state st = {v, 1, v->prerelease[0] == '\0'};
    const char *p = skip_blanks(*pp);
    if (*p == '\0' || *p == '|')
        return -1; /* empty set, e.g. "1.0.0 ||" */
    while (*p != '\0' && *p != '|') {
        if (eval_comparator(&p, &st) != 0)
            return -1;
        p = skip_blanks(p);
    }
    *pp = p;
    return st.match && st.pre_ok;
}

int dg_semver_range_match(const char *range, const dg_semver *v)
{
    if (!range || !v)
        return -1;
    const char *p = range;
    int any = 0;
    for (;;) {
        int r = eval_set(&p, v);
        if (r < 0)
            return -1;
        any |= r;
        if (*p == '\0')
            return any;
        if (p[0] != '|' || p[1] != '|')
            return -1;
        p += 2;
    }
}

int dg_semver_range_valid(const char *range)
{
    dg_semver zero;
    memset(&zero, 0, sizeof zero);
    return dg_semver_range_match(range, &zero) < 0 ? -1 : 0;
}
