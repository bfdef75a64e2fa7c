/*
 * Short CJK search terms: a second FTS5 index, messages_cjk, tokenized into
 * overlapping character pairs (bigrams) of CJK runs. The trigram index
 * (messages_fts) answers terms of 3 or more characters but nothing shorter,
 * and Japanese and Chinese words are often 1 or 2 characters ("会議",
 * "東京", "鱧"): scanning every message with LIKE for those took over a
 * second on 1,000,000 messages when few matched.
 *
 * Document text: each maximal run of CJK characters (kana, ideographs,
 * hangul, fullwidth forms; CJK punctuation and spaces end a run) gives every
 * adjacent pair, then its last character alone. So a 2-character term is one
 * token ("会議"), and a 1-character term is the prefix query "鱧"*, which
 * finds the pairs that start with it and the run-final single. Text outside
 * CJK runs gives no token at all: an ASCII message costs nothing here.
 *
 * Query text (FTS5_TOKENIZE_QUERY): a run of 2 or more gives its pairs only,
 * a run of 1 that character, so the phrase "会議" is the single token
 * "会議" and "鱧"* a prefix of one.
 */
#ifndef DG_HIST_CJK_H
#define DG_HIST_CJK_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/* Name of the tokenizer in CREATE VIRTUAL TABLE ... tokenize='...'. */
#define HIST_CJK_TOKENIZER "dengon_cjk"

/* One token: bytes [start, end) of the text; returns 0 to go on (an SQLite code stops). */
typedef int (*hist_cjk_token_fn)(void *user, const char *token, int len, int start, int end);

/*
 * The tokens of text[0..len) (UTF-8; invalid bytes end a run and are
 * skipped). query: the query rule above. Returns 0 or fn's first non-zero.
 */
int hist_cjk_tokenize(const char *text, int len, bool query, hist_cjk_token_fn fn, void *user);

/* True when s[0..len) is 1 or 2 characters, all CJK in the sense above. */
bool hist_cjk_short_term(const char *s, size_t len);

/* Registers the tokenizer on db (every connection that reads or writes messages_cjk). */
int hist_cjk_register(sqlite3 *db);

#endif
