/*
 * Input framing for JSON lines: bytes go in as they arrive, complete lines
 * come out, and a line longer than the limit is reported instead of growing
 * the buffer without bound. Pure (no I/O), so it is fuzzed with the parser.
 */
#ifndef DG_CONTROL_LINEBUF_H
#define DG_CONTROL_LINEBUF_H

#include <stddef.h>

typedef struct dg_linebuf {
    char *data;
    size_t start; /* first byte not yet returned as a line */
    size_t scan;  /* bytes before this (from start) are known to hold no '\n' */
    size_t len;   /* bytes stored */
    size_t cap;
    size_t max_line; /* longest line accepted, without its '\n' */
} dg_linebuf;

enum {
    DG_LINEBUF_NONE = 0,     /* no complete line yet */
    DG_LINEBUF_LINE = 1,     /* *line / *len set */
    DG_LINEBUF_TOO_LONG = -1 /* the next line exceeds max_line (complete or not) */
};

void dg_linebuf_init(dg_linebuf *lb, size_t max_line);
void dg_linebuf_free(dg_linebuf *lb);

/*
 * Room for at least want more bytes at the end (moving unread data to the
 * front first). Invalidates lines returned before. NULL when out of memory.
 */
char *dg_linebuf_reserve(dg_linebuf *lb, size_t want, size_t *avail);
/* n bytes were written at the pointer reserve returned. */
void dg_linebuf_commit(dg_linebuf *lb, size_t n);

/*
 * The next complete line, without its '\n' (a trailing '\r' is left for the
 * parser). *line points into the buffer and stays valid until the next
 * reserve. After TOO_LONG the buffer is in an unspecified state: close.
 */
int dg_linebuf_next(dg_linebuf *lb, const char **line, size_t *len);
/* At end of input: the unterminated rest as a last line, if any (then 1), else 0. */
int dg_linebuf_rest(dg_linebuf *lb, const char **line, size_t *len);
/* Bytes buffered and not yet returned. */
size_t dg_linebuf_pending(const dg_linebuf *lb);

#endif
