/* A growable byte buffer for export output. */
#ifndef DG_HIST_BUF_H
#define DG_HIST_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hist_buf {
    char *data; /* NUL-terminated when not NULL */
    size_t len, cap;
    bool failed; /* an allocation failed: the content is incomplete */
} hist_buf;

void hist_buf_add(hist_buf *b, const char *data, size_t len);
void hist_buf_adds(hist_buf *b, const char *s);
void hist_buf_free(hist_buf *b);

#endif
