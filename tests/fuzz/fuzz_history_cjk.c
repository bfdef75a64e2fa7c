/*
 * libFuzzer harness for the history's CJK pair tokenizer
 * (plugins/history/src/cjk.c): the input is a message text as a peer sent it
 * (any bytes). For both document and query mode, every token must lie inside
 * the text, be 1 or 2 whole characters of valid UTF-8, and the document mode
 * must give at least as many tokens as the query mode. The short-term check
 * must agree with what the tokenizer sees. Violations abort.
 * Seeds: corpus/history_cjk/.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cjk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

typedef struct seen {
    const char *text;
    int len;
    size_t tokens;
} seen;

/* Characters in s[0..n) if it is valid UTF-8, else -1. */
static int utf8_chars(const unsigned char *s, int n)
{
    int chars = 0;
    for (int i = 0; i < n;) {
        unsigned c = s[i];
        int len = c < 0x80                 ? 1
                  : c >= 0xC2 && c <= 0xDF ? 2
                  : c >= 0xE0 && c <= 0xEF ? 3
                  : c >= 0xF0 && c <= 0xF4 ? 4
                                           : 0;
        if (!len || i + len > n)
            return -1;
        for (int k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return -1;
        i += len;
        chars++;
    }
    return chars;
}

static int on_token(void *user, const char *token, int len, int start, int end)
{
    seen *s = user;
    CHECK(start >= 0 && end <= s->len && start < end && end - start == len);
    CHECK(token == s->text + start);
    int chars = utf8_chars((const unsigned char *)token, len);
    CHECK(chars == 1 || chars == 2);
    CHECK(hist_cjk_short_term(token, (size_t)len)); /* a token is a short CJK term itself */
    s->tokens++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    seen doc = {(const char *)data, (int)size, 0}, query = doc;
    CHECK(hist_cjk_tokenize((const char *)data, (int)size, false, on_token, &doc) == 0);
    CHECK(hist_cjk_tokenize((const char *)data, (int)size, true, on_token, &query) == 0);
    CHECK(doc.tokens >= query.tokens);
    /* A short CJK term gives exactly one query token: the phrase the index is asked for. */
    if (hist_cjk_short_term((const char *)data, size))
        CHECK(query.tokens == 1 && doc.tokens >= 1);
    return 0;
}
