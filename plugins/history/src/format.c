#include "format.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void hist_format_time(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S %z", &tm) == 0)
        snprintf(buf, len, "@%lld", (long long)t);
}

void hist_escape_line(hist_buf *b, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t run = 0; /* bytes copied as they are, flushed before an escape */
    for (size_t i = 0;;) {
        unsigned char c = p[i];
        char esc[8] = "";
        size_t n = 1; /* bytes the escape replaces */
        if (c == '\0') {
            hist_buf_add(b, text + i - run, run);
            return;
        }
        if (c == '\\')
            snprintf(esc, sizeof esc, "\\\\");
        else if (c == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (c == '\r')
            snprintf(esc, sizeof esc, "\\r");
        else if (c == '\t')
            snprintf(esc, sizeof esc, "\\t");
        else if (c < 0x20 || c == 0x7f)
            snprintf(esc, sizeof esc, "\\x%02x", c);
        else if (c == 0xC2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F) {
            /* C1 controls (U+0080..U+009F): a terminal would act on them. */
            snprintf(esc, sizeof esc, "\\u%04x", p[i + 1]);
            n = 2;
        } else if (c == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
            /* U+2028/U+2029 end a line for some readers. */
            snprintf(esc, sizeof esc, "\\u%04x", 0x2028 + (p[i + 2] - 0xA8));
            n = 3;
        }
        if (!esc[0]) {
            run++;
            i++;
            continue;
        }
        hist_buf_add(b, text + i - run, run);
        run = 0;
        hist_buf_adds(b, esc);
        i += n;
    }
}

/* Appends the strings of a JSON array joined by ", "; "?" when empty. */
static void add_keys(hist_buf *b, const json_t *keys)
{
    size_t i, n = 0;
    const json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *s = json_string_value(k);
        if (!s)
            continue;
        if (n++)
            hist_buf_adds(b, ", ");
        hist_escape_line(b, s);
    }
    if (!n)
        hist_buf_adds(b, "?");
}

void hist_text_line(hist_buf *b, const json_t *msg)
{
    char when[64];
    hist_format_time(json_integer_value(json_object_get(msg, "time")), when, sizeof when);
    hist_buf_adds(b, when);
    hist_buf_adds(b, " ");
    const char *from = json_string_value(json_object_get(msg, "from"));
    hist_escape_line(b, from ? from : "?");
    hist_buf_adds(b, " \xe2\x86\x92 "); /* → */
    add_keys(b, json_object_get(msg, "to"));
    const char *room = json_string_value(json_object_get(msg, "room"));
    if (room) {
        hist_buf_adds(b, " [room ");
        hist_escape_line(b, room);
        hist_buf_adds(b, "]");
    }
    hist_buf_adds(b, ": ");
    const char *text = json_string_value(json_object_get(msg, "text"));
    if (text)
        hist_escape_line(b, text);
    else
        hist_buf_adds(b, "[sealed, not opened]");
    hist_buf_adds(b, "\n");
}
