/* Line framing (see linebuf.h). */
#include "control/linebuf.h"

#include <stdlib.h>
#include <string.h>

void dg_linebuf_init(dg_linebuf *lb, size_t max_line)
{
    memset(lb, 0, sizeof *lb);
    lb->max_line = max_line;
}

void dg_linebuf_free(dg_linebuf *lb)
{
    free(lb->data);
    memset(lb, 0, sizeof *lb);
}

char *dg_linebuf_reserve(dg_linebuf *lb, size_t want, size_t *avail)
{
    if (lb->cap - lb->len < want && lb->start > 0) {
        memmove(lb->data, lb->data + lb->start, lb->len - lb->start);
        lb->len -= lb->start;
        lb->start = 0;
    }
    if (lb->cap - lb->len < want) {
        size_t cap = lb->cap ? lb->cap : 4096;
        while (cap - lb->len < want)
            cap *= 2;
        char *grown = realloc(lb->data, cap);
        if (!grown)
            return NULL;
        lb->data = grown;
        lb->cap = cap;
    }
    *avail = lb->cap - lb->len;
    return lb->data + lb->len;
}

void dg_linebuf_commit(dg_linebuf *lb, size_t n)
{
    lb->len += n;
}

int dg_linebuf_next(dg_linebuf *lb, const char **line, size_t *len)
{
    if (!lb->data)
        return DG_LINEBUF_NONE;
    const char *begin = lb->data + lb->start;
    size_t have = lb->len - lb->start;
    /* Only look at bytes not scanned before: a slow sender must not cost quadratic time. */
    const char *nl = have > lb->scan ? memchr(begin + lb->scan, '\n', have - lb->scan) : NULL;
    if (!nl) {
        lb->scan = have;
        return have > lb->max_line ? DG_LINEBUF_TOO_LONG : DG_LINEBUF_NONE;
    }
    size_t n = (size_t)(nl - begin);
    if (n > lb->max_line)
        return DG_LINEBUF_TOO_LONG;
    *line = begin;
    *len = n;
    lb->start += n + 1;
    lb->scan = 0;
    if (lb->start == lb->len)
        lb->start = lb->len = 0; /* empty: next data lands at the front, no memmove */
    return DG_LINEBUF_LINE;
}

int dg_linebuf_rest(dg_linebuf *lb, const char **line, size_t *len)
{
    size_t have = lb->len - lb->start;
    if (!lb->data || have == 0 || have > lb->max_line)
        return 0;
    *line = lb->data + lb->start;
    *len = have;
    lb->start = lb->len = lb->scan = 0;
    return 1;
}

size_t dg_linebuf_pending(const dg_linebuf *lb)
{
    return lb->len - lb->start;
}
