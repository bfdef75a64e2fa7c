/*
 * Human output of the history commands: log, log export, log stats, log
 * prune (results of the history.* methods, docs/adr/0006-history-store.md).
 * Like print.c, every printer tolerates missing fields and falls back to the
 * JSON for unexpected shapes.
 */
#include "cli/print.h"

#include "cli/table.h"

#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

enum { LOG_COLS = 6 }; /* ID TIME DIR PEER STATE TEXT */

static const char *str_field(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

static int true_field(const json_t *obj, const char *key)
{
    return json_is_true(json_object_get(obj, key));
}

/* "YYYY-MM-DD HH:MM" in local time, "-" when missing. */
static const char *when(const json_t *v, char *buf, size_t len)
{
    if (!json_is_integer(v))
        return "-";
    time_t t = (time_t)json_integer_value(v);
    struct tm tm;
    if (!localtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
        return "-";
    return buf;
}

/* "Bob (bob@pc)", or the one of the two that is known. */
static void who(char *buf, size_t len, const char *nickname, const char *key)
{
    if (nickname && key && strcmp(nickname, key) != 0)
        snprintf(buf, len, "%s (%s)", nickname, key);
    else
        snprintf(buf, len, "%s", nickname ? nickname : key ? key : "?");
}

/* The other side: the sender of a received message, the recipients of a sent one. */
static void peer_cell(const json_t *m, char *buf, size_t len)
{
    const json_t *rs = json_object_get(m, "recipients");
    if (!json_is_array(rs)) {
        who(buf, len, str_field(m, "nickname"), str_field(m, "from"));
        return;
    }
    size_t used = 0, i;
    const json_t *r;
    buf[0] = '\0';
    json_array_foreach(rs, i, r)
    {
        char one[256];
        if (json_array_size(rs) == 1)
            who(one, sizeof one, str_field(r, "nickname"), str_field(r, "key"));
        else
            snprintf(one, sizeof one, "%s",
                     str_field(r, "nickname") ? str_field(r, "nickname")
                     : str_field(r, "key")    ? str_field(r, "key")
                                              : "?");
        if (used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", one);
    }
    if (!buf[0])
        snprintf(buf, len, "?");
}

/* "delivered", "delivered,opened", "received,sealed", "partial,auto", ... */
static void state_cell(const json_t *m, char *buf, size_t len)
{
    const char *state = str_field(m, "state");
    size_t used = (size_t)snprintf(buf, len, "%s", state ? state : "-");
    if (true_field(m, "sealed") && used < len)
        used += (size_t)snprintf(buf + used, len - used, ",%s",
                                 true_field(m, "opened") ? "opened" : "sealed");
    if (true_field(m, "auto_reply") && used < len)
        used += (size_t)snprintf(buf + used, len - used, ",auto");
    if (true_field(m, "broadcast") && used < len)
        snprintf(buf + used, len - used, ",broadcast");
}

/* Length of the UTF-8 sequence at p (1 for a stray byte), within left bytes. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
    size_t n = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
    if (n > left)
        return 1;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 1;
    return n;
}

/*
 * The first line of text, safe for a terminal (controls and C1 controls as
 * '?'), cut to max display columns (0: no limit) with an ellipsis when cut
 * or when more lines follow. New string.
 */
static char *first_line(const char *text, size_t max)
{
    const char *cs = nl_langinfo(CODESET);
    const char *dots = cs && strcmp(cs, "UTF-8") == 0 ? "\xe2\x80\xa6" : "...";
    size_t line = strcspn(text, "\n");
    int more = text[line] == '\n' && text[line + 1] != '\0';
    size_t dots_w = cli_text_width(dots);
    char *out = malloc(line + strlen(dots) + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)text;
    size_t o = 0, width = 0;
    int cut = 0;
    for (size_t i = 0; i < line;) {
        size_t n = utf8_len(p + i, line - i);
        char one[5] = {0};
        if ((n == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ||
            (n == 2 && p[i] == 0xC2 && p[i + 1] < 0xA0))
            one[0] = '?';
        else
            memcpy(one, p + i, n);
        size_t w = cli_text_width(one);
        int last = i + n >= line && !more; /* no ellipsis needed after it */
        if (max && width + w + (last ? 0 : dots_w) > max) {
            cut = 1;
            break;
        }
        memcpy(out + o, one, strlen(one));
        o += strlen(one);
        width += w;
        i += n;
    }
    out[o] = '\0';
    if (cut || more)
        strcat(out, dots);
    return out;
}

/* Columns of the terminal on standard output; 0 when it is not one (no cutting). */
static size_t terminal_columns(void)
{
    struct winsize ws;
    if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0)
        return 0;
    return ws.ws_col;
}

/* Why the list is empty, in the words of the command line. */
static void print_empty(void)
{
    const char *with = cli_flag_value(0), *search = cli_flag_value(1);
    char line[512];
    if (search)
        snprintf(line, sizeof line, "no messages contain '%s'%s%s", search, with ? " with " : "",
                 with ? with : "");
    else if (with)
        snprintf(line, sizeof line, "no messages with '%s'", with);
    else
        snprintf(line, sizeof line, "no messages in the history");
    char *safe = cli_safe_text(line);
    puts(safe ? safe : "no messages");
    free(safe);
}

void cli_print_log(const cli_command *cmd, int argc, char **argv, unsigned flags,
                   const json_t *result)
{
    const json_t *msgs = json_object_get(result, "messages");
    if (!json_is_array(msgs)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    size_t n = json_array_size(msgs);
    if (n == 0) {
        print_empty();
        return;
    }
    static const char *const headers[LOG_COLS] = {"ID", "TIME", "DIR", "PEER", "STATE", "TEXT"};
    char *(*rows)[LOG_COLS - 1] = calloc(n, sizeof *rows);
    cli_table *t = rows ? cli_table_new(LOG_COLS, headers) : NULL;
    if (!t) {
        free(rows);
        return;
    }
    /* The first five columns first, to give the text what is left of the terminal. */
    size_t widths[LOG_COLS - 1], i;
    for (size_t c = 0; c < LOG_COLS - 1; c++)
        widths[c] = cli_text_width(headers[c]);
    const json_t *m;
    json_array_foreach(msgs, i, m)
    {
        char id[32] = "-", time_buf[32], peer[1024], state[96];
        const json_t *idv = json_object_get(m, "id");
        if (json_is_integer(idv))
            snprintf(id, sizeof id, "%lld", (long long)json_integer_value(idv));
        const char *dir = str_field(m, "direction");
        peer_cell(m, peer, sizeof peer);
        state_cell(m, state, sizeof state);
        const char *cells[LOG_COLS - 1] = {
            id, when(json_object_get(m, "time"), time_buf, sizeof time_buf), dir ? dir : "-", peer,
            state};
        for (size_t c = 0; c < LOG_COLS - 1; c++) {
            rows[i][c] = cli_safe_text(cells[c]);
            size_t w = cli_text_width(rows[i][c] ? rows[i][c] : "");
            if (w > widths[c])
                widths[c] = w;
        }
    }
    size_t cols = terminal_columns(), used = 0;
    for (size_t c = 0; c < LOG_COLS - 1; c++)
        used += widths[c] + 2;
    size_t room = cols == 0 ? 0 : cols > used + 12 ? cols - used - 1 : 12;
    json_array_foreach(msgs, i, m)
    {
        const char *text = json_string_value(json_object_get(m, "text"));
        char *cell = text ? first_line(text, room) : NULL;
        const char *hidden = true_field(m, "sealed") ? "[sealed: not opened yet]" : "";
        const char *cells[LOG_COLS] = {rows[i][0], rows[i][1], rows[i][2],
                                       rows[i][3], rows[i][4], cell ? cell : hidden};
        cli_table_add(t, cells);
        free(cell);
        for (size_t c = 0; c < LOG_COLS - 1; c++)
            free(rows[i][c]);
    }
    free(rows);
    cli_table_print(t, stdout);
    cli_table_free(t);
    if (true_field(result, "more")) {
        const json_t *first = json_object_get(json_array_get(msgs, 0), "id");
        printf("(older messages: dengon log --before %lld%s)\n",
               (long long)json_integer_value(first),
               cli_flag_value(0) || cli_flag_value(1) ? " with the same options" : "");
    }
}

void cli_print_log_export(const cli_command *cmd, int argc, char **argv, unsigned flags,
                          const json_t *result)
{
    const char *path = str_field(result, "path");
    json_int_t count = json_integer_value(json_object_get(result, "count"));
    if (path) {
        char line[4200];
        snprintf(line, sizeof line, "exported %lld messages to %s (%lld bytes)", (long long)count,
                 path, (long long)json_integer_value(json_object_get(result, "bytes")));
        char *safe = cli_safe_text(line);
        puts(safe ? safe : "exported");
        free(safe);
        return;
    }
    const char *text = json_string_value(json_object_get(result, "text"));
    const json_t *msgs = json_object_get(result, "messages");
    if (text) {
        /* Already one escaped line per message (no control characters). */
        fputs(text, stdout);
    } else if (json_is_array(msgs)) {
        char *s = json_dumps(msgs, JSON_INDENT(2));
        if (s)
            puts(s);
        free(s);
    } else {
        cli_print_json(cmd, argc, argv, flags, result);
    }
}

void cli_print_log_stats(const cli_command *cmd, int argc, char **argv, unsigned flags,
                         const json_t *result)
{
    if (!json_is_object(result)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    cli_table *t = cli_table_new(2, NULL);
    if (!t)
        return;
    char buf[512], a[32], b[32];
    static const struct {
        const char *label, *key;
    } counts[] = {{"messages", "messages"}, {"sent", "sent"},   {"received", "received"},
                  {"sealed", "sealed"},     {"peers", "peers"}, {"rooms", "rooms"}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        snprintf(buf, sizeof buf, "%lld",
                 (long long)json_integer_value(json_object_get(result, counts[i].key)));
        const char *cells[2] = {counts[i].label, buf};
        cli_table_add(t, cells);
    }
    if (json_integer_value(json_object_get(result, "messages")) > 0) {
        snprintf(buf, sizeof buf, "%s .. %s", when(json_object_get(result, "oldest"), a, sizeof a),
                 when(json_object_get(result, "newest"), b, sizeof b));
        const char *cells[2] = {"period", buf};
        cli_table_add(t, cells);
    }
    const char *path = str_field(result, "path");
    snprintf(buf, sizeof buf, "%s (%lld KiB)", path ? path : "-",
             (long long)(json_integer_value(json_object_get(result, "db_bytes")) / 1024));
    const char *file[2] = {"database", buf};
    cli_table_add(t, file);
    json_int_t days = json_integer_value(json_object_get(result, "delete_days"));
    if (days > 0)
        snprintf(buf, sizeof buf, "delete after %lld days", (long long)days);
    else
        snprintf(buf, sizeof buf, "keep forever (history.delete_days = 0)");
    const char *keep[2] = {"retention", buf};
    cli_table_add(t, keep);
    const json_t *ev = json_object_get(result, "events");
    if (json_is_object(ev)) {
        snprintf(buf, sizeof buf, "%lld stored, %lld updates, %lld unmatched, %lld errors",
                 (long long)json_integer_value(json_object_get(ev, "stored")),
                 (long long)json_integer_value(json_object_get(ev, "updates")),
                 (long long)json_integer_value(json_object_get(ev, "unmatched")),
                 (long long)json_integer_value(json_object_get(ev, "errors")));
        const char *cells[2] = {"since start", buf};
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
}

void cli_print_log_prune(const cli_command *cmd, int argc, char **argv, unsigned flags,
                         const json_t *result)
{
    json_int_t days = json_integer_value(json_object_get(result, "days"));
    json_int_t deleted = json_integer_value(json_object_get(result, "deleted"));
    if (!json_is_object(result))
        cli_print_json(cmd, argc, argv, flags, result);
    else if (days <= 0)
        puts("nothing deleted: history.delete_days is 0 (keep forever); give DAYS to prune now");
    else
        printf("deleted %lld messages older than %lld days\n", (long long)deleted, (long long)days);
}
