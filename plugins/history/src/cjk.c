#include "cjk.h"

#include <string.h>

/* The code point at s (length *n), or -1 for a byte that does not start valid UTF-8. */
static long decode(const unsigned char *s, const unsigned char *end, int *n)
{
    unsigned c = s[0];
    int len;
    long min;
    if (c < 0x80) {
        *n = 1;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        min = 0x10000;
    } else {
        *n = 1;
        return -1;
    }
    if (end - s < len) {
        *n = 1;
        return -1;
    }
    long cp = c & (0x7F >> len);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *n = 1;
            return -1;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *n = 1;
        return -1;
    }
    *n = len;
    return cp;
}

/* Characters that form words without spaces. CJK punctuation (U+3000-303F) is not. */
static bool is_cjk(long cp)
{
    return (cp >= 0x2E80 && cp <= 0x2FFF) || /* radicals, Kangxi */
           (cp >= 0x3040 && cp <= 0x31FF) || /* kana, bopomofo, hangul compatibility */
           (cp >= 0x3400 && cp <= 0x4DBF) || /* ideographs extension A */
           (cp >= 0x4E00 && cp <= 0x9FFF) || /* unified ideographs */
           (cp >= 0xA960 && cp <= 0xA97F) || /* hangul jamo extended-A */
           (cp >= 0xAC00 && cp <= 0xD7AF) || /* hangul syllables */
           (cp >= 0xF900 && cp <= 0xFAFF) || /* compatibility ideographs */
           (cp >= 0xFF10 && cp <= 0xFF19) || /* fullwidth digits */
           (cp >= 0xFF21 && cp <= 0xFF3A) || /* fullwidth Latin capitals */
           (cp >= 0xFF41 && cp <= 0xFF5A) || /* fullwidth Latin small */
           (cp >= 0xFF66 && cp <= 0xFF9F) || /* halfwidth katakana */
           (cp >= 0x20000 && cp <= 0x3FFFF); /* ideographs extensions B and later */
}

/* Emits the tokens of one run: chars at offsets start[0..n), each ending at start[i+1]. */
static int emit_run(const char *text, const int *start, int n, bool query, hist_cjk_token_fn fn,
                    void *user)
{
    int rc = 0;
    for (int i = 0; i + 1 < n && rc == 0; i++)
        rc = fn(user, text + start[i], start[i + 2] - start[i], start[i], start[i + 2]);
    /* The run's last character alone: in documents always, in queries only for a run of 1. */
    if (rc == 0 && n > 0 && (!query || n == 1))
        rc = fn(user, text + start[n - 1], start[n] - start[n - 1], start[n - 1], start[n]);
    return rc;
}

int hist_cjk_tokenize(const char *text, int len, bool query, hist_cjk_token_fn fn, void *user)
{
    const unsigned char *s = (const unsigned char *)text, *end = s + (len > 0 ? len : 0);
    /* Offsets of the current run's characters; a run is cut every 64 (the pair across
     * the cut is still emitted), so memory stays fixed whatever the text. */
    enum { RUN_MAX = 64 };
    int start[RUN_MAX + 1];
    int n = 0, rc = 0;
    while (s < end && rc == 0) {
        int clen;
        long cp = decode(s, end, &clen);
        int at = (int)(s - (const unsigned char *)text);
        if (cp >= 0 && is_cjk(cp)) {
            if (n == RUN_MAX) {
                /* Flush all but the last character, which starts the next part. */
                start[n] = at;
                rc = emit_run(text, start, n, true, fn, user); /* pairs only */
                start[0] = start[n - 1];
                n = 1;
                if (rc)
                    break;
            }
            start[n++] = at;
        } else {
            start[n] = at;
            rc = emit_run(text, start, n, query, fn, user);
            n = 0;
        }
        s += clen;
    }
    if (rc == 0 && n > 0) {
        start[n] = (int)(s - (const unsigned char *)text);
        rc = emit_run(text, start, n, query, fn, user);
    }
    return rc;
}

bool hist_cjk_short_term(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    int chars = 0;
    while (p < end) {
        int clen;
        long cp = decode(p, end, &clen);
        if (cp < 0 || !is_cjk(cp) || ++chars > 2)
            return false;
        p += clen;
    }
    return chars > 0;
}

/* ---- the FTS5 tokenizer around hist_cjk_tokenize ---- */

typedef struct fts_ctx {
    void *ctx;
    int (*token)(void *ctx, int flags, const char *token, int len, int start, int end);
} fts_ctx;

static int to_fts(void *user, const char *token, int len, int start, int end)
{
    fts_ctx *c = user;
    return c->token(c->ctx, 0, token, len, start, end);
}

static int tok_create(void *user, const char **args, int nargs, Fts5Tokenizer **out)
{
    (void)user;
    (void)args;
    if (nargs != 0)
        return SQLITE_ERROR;
    static int instance; /* stateless: any non-NULL handle */
    *out = (Fts5Tokenizer *)&instance;
    return SQLITE_OK;
}

static void tok_delete(Fts5Tokenizer *t)
{
    (void)t;
}

static int tok_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int len,
                        int (*token)(void *, int, const char *, int, int, int))
{
    (void)t;
    fts_ctx c = {ctx, token};
    return hist_cjk_tokenize(text, len, (flags & FTS5_TOKENIZE_QUERY) != 0, to_fts, &c);
}

/* SQLite's documented way to reach the FTS5 API of a connection. */
static fts5_api *fts5_of(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_pointer(s, 1, (void *)&api, "fts5_api_ptr", NULL);
        sqlite3_step(s);
    }
    sqlite3_finalize(s);
    return api;
}

int hist_cjk_register(sqlite3 *db)
{
    fts5_api *api = fts5_of(db);
    if (!api)
        return SQLITE_ERROR;
    static fts5_tokenizer tokenizer = {tok_create, tok_delete, tok_tokenize};
    return api->xCreateTokenizer(api, HIST_CJK_TOKENIZER, NULL, &tokenizer, NULL);
}
