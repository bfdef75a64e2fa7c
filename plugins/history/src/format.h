/*
 * The text export format: one line per message,
 *
 *     2024-05-01 10:00:00 +0900 alice@pc1 → bob@pc2, carol@pc3: text
 *
 * (local time with its UTC offset, sender key, recipient keys, the text).
 * The text is escaped so that a line is a message: backslash as "\\", line
 * feed "\n", carriage return "\r", tab "\t", other C0 controls and DEL
 * "\xNN", C1 controls and U+2028/U+2029 "\uNNNN". A received sealed
 * message not opened yet shows "[sealed, not opened]" instead of its text.
 */
#ifndef DG_HIST_FORMAT_H
#define DG_HIST_FORMAT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* "YYYY-MM-DD HH:MM:SS +ZZZZ" in local time. */
void hist_format_time(int64_t t, char *buf, size_t len);
/* Appends text escaped for one line. */
void hist_escape_line(hist_buf *b, const char *text);
/* Appends the line of msg (a message as hist_query returns it), with its '\n'. */
void hist_text_line(hist_buf *b, const json_t *msg);

#endif
