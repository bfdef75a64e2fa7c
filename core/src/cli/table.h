/*
 * Aligned text tables and safe terminal text for the CLI's human output.
 * Widths count display columns (wide CJK characters take two), so names in
 * any script line up.
 */
#ifndef DG_CLI_TABLE_H
#define DG_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct cli_table cli_table;

/* headers: ncols strings (copied), or NULL for no header row (label/value lists). */
cli_table *cli_table_new(size_t ncols, const char *const *headers);
/* Adds a row of ncols cells (copied and made terminal-safe; NULL prints as empty). */
void cli_table_add(cli_table *t, const char *const *cells);
size_t cli_table_rows(const cli_table *t);
/* Columns separated by two spaces; the last column is not padded. */
void cli_table_print(const cli_table *t, FILE *out);
void cli_table_free(cli_table *t);

/*
 * Copy of text with control characters (ESC, CR, ...) replaced by '?', so
 * that names chosen by other people cannot drive the terminal. New string.
 */
char *cli_safe_text(const char *text);
/* Display width of text in terminal columns. */
size_t cli_text_width(const char *text);

#endif
