/* Aligned tables and terminal-safe text (see table.h). */
#include "cli/table.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

struct cli_table {
    size_t ncols;
    char **headers;
    char **cells; /* rows * ncols */
    size_t rows, cap;
    int has_header;
};

char *cli_safe_text(const char *text)
{
    char *s = strdup(text ? text : "");
    if (!s)
        return NULL;
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
    return s;
}

size_t cli_text_width(const char *text)
{
    size_t width = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    const char *p = text;
    size_t left = strlen(text);
    while (left > 0) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, p, left, &st);
        if (n == (size_t)-1 || n == (size_t)-2) {
            /* Not decodable in this locale: one column per byte, like most terminals show it. */
            memset(&st, 0, sizeof st);
            width++;
            p++;
            left--;
            continue;
        }
        if (n == 0)
            break;
        int w = wcwidth(wc);
        width += w > 0 ? (size_t)w : 0;
        p += n;
        left -= n;
    }
    return width;
}

cli_table *cli_table_new(size_t ncols, const char *const *headers)
{
    cli_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols;
    t->headers = calloc(ncols, sizeof *t->headers);
    if (!t->headers) {
        free(t);
        return NULL;
    }
    for (size_t i = 0; headers && i < ncols; i++)
        t->headers[i] = cli_safe_text(headers[i]);
    t->has_header = headers != NULL;
    return t;
}

void cli_table_add(cli_table *t, const char *const *cells)
{
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **grown = realloc(t->cells, cap * t->ncols * sizeof *grown);
        if (!grown)
            return;
        t->cells = grown;
        t->cap = cap;
    }
    for (size_t i = 0; i < t->ncols; i++)
        t->cells[t->rows * t->ncols + i] = cli_safe_text(cells[i]);
    t->rows++;
}

size_t cli_table_rows(const cli_table *t)
{
    return t->rows;
}

static void print_row(const cli_table *t, char *const *row, const size_t *widths, FILE *out)
{
    /* Trailing empty cells are not padded either: no invisible spaces at line ends. */
    size_t last = t->ncols;
    while (last > 1 && (!row[last - 1] || !*row[last - 1]))
        last--;
    for (size_t i = 0; i < last; i++) {
        const char *cell = row[i] ? row[i] : "";
        fputs(cell, out);
        if (i + 1 < last) {
            for (size_t w = cli_text_width(cell); w < widths[i] + 2; w++)
                fputc(' ', out);
        }
    }
    fputc('\n', out);
}

void cli_table_print(const cli_table *t, FILE *out)
{
    size_t *widths = calloc(t->ncols, sizeof *widths);
    if (!widths)
        return;
    for (size_t i = 0; i < t->ncols; i++)
        widths[i] = cli_text_width(t->headers[i] ? t->headers[i] : "");
    for (size_t r = 0; r < t->rows; r++)
        for (size_t i = 0; i < t->ncols; i++) {
            const char *cell = t->cells[r * t->ncols + i];
            size_t w = cli_text_width(cell ? cell : "");
            if (w > widths[i])
                widths[i] = w;
        }
    if (t->has_header)
        print_row(t, t->headers, widths, out);
    for (size_t r = 0; r < t->rows; r++)
        print_row(t, &t->cells[r * t->ncols], widths, out);
    free(widths);
}

void cli_table_free(cli_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ncols; i++)
        free(t->headers[i]);
    for (size_t i = 0; i < t->rows * t->ncols; i++)
        free(t->cells[i]);
    free(t->headers);
    free(t->cells);
    free(t);
}
