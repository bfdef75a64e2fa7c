/*
 * Reads from the history: pages of messages (history.log), full-text search
 * (history.search), every message in order (history.export), peer names,
 * counters (history.stats).
 *
 * Search: the trigram index finds substrings of 3 or more characters in any
 * script (Japanese has no spaces between words). Terms of 1 or 2 characters
 * are too short for trigrams: when all their characters are CJK ("会議",
 * "东京", "鱧") the CJK pair index answers them (cjk.h), others ("ok", "a1")
 * are matched with LIKE over the rows found. A query may mix all three, and
 * every term must match.
 * Received sealed messages that were not opened are never matched, so a
 * search cannot reveal their text.
 */
#ifndef DG_HIST_QUERY_H
#define DG_HIST_QUERY_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* Limits of a search text. */
#define HIST_SEARCH_MAX_BYTES 1024
#define HIST_SEARCH_MAX_TERMS 16

typedef struct hist_terms {
    char *match;      /* FTS5 expression of the terms of >= 3 characters, or NULL */
    char *cjk;        /* FTS5 expression for messages_cjk of the 1-2 CJK character terms, or NULL */
    json_t *cjk_like; /* the same terms as LIKE patterns: used beside a trigram MATCH */
    json_t *like;     /* LIKE patterns (escaped with '\') of the shorter terms, or NULL */
} hist_terms;

/*
 * Splits text at white space (ASCII, U+3000 ideographic space, U+00A0) into
 * terms. Returns 0, or -1 with a reason in err (nothing to search for, too
 * long, too many terms).
 */
int hist_terms_parse(const char *text, hist_terms *out, char *err, size_t errlen);
void hist_terms_free(hist_terms *t);

typedef struct hist_query {
    const json_t *peers;      /* array of keys: only messages exchanged with them; NULL: all */
    const hist_terms *terms;  /* search terms, or NULL */
    const char *room;         /* only this room, or NULL */
    int64_t before;           /* only history ids below this; 0: no bound */
    int64_t limit;            /* hist_query_page: the newest limit messages */
    const atomic_int *cancel; /* the query stops with an error once it is set; or NULL */
} hist_query;

/*
 * A page: {"messages": [...], "more": bool}, oldest first, holding the
 * newest q->limit matching messages; more is true when older ones match too.
 * NULL on error (hist_db_error).
 */
json_t *hist_query_page(hist_db *h, const hist_query *q);

/*
 * Calls fn with every matching message (borrowed), oldest first. fn returns
 * 0 to go on, or -1 to stop with an error. Returns the count, or -1.
 */
typedef int (*hist_row_fn)(const json_t *msg, void *user);
int64_t hist_query_each(hist_db *h, const hist_query *q, hist_row_fn fn, void *user);

/*
 * Keys of the peers who is: the key itself (any case), a nickname they had,
 * or their logon name (the part before '@'). New array, possibly empty; NULL
 * on error.
 */
json_t *hist_resolve_peers(hist_db *h, const char *who);

/*
 * Counters: messages, sent, received, sealed, rooms, peers, oldest, newest,
 * db_bytes, schema_version. New object, or NULL on error.
 */
json_t *hist_stats(hist_db *h);

#endif
