/*
 * Human output of the ipmsg plugin's chat commands: users, send, inbox, read
 * (results in docs/protocol/ipmsg-plugin.md). Like print.c, every printer
 * tolerates missing fields and falls back to the JSON for unexpected shapes.
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

/* ---- helpers ---- */

static const char *str_field(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* A non-empty string field, else NULL. */
static const char *text_field(const json_t *obj, const char *key)
{
    const char *s = str_field(obj, key);
    return s && *s ? s : NULL;
}

static int true_field(const json_t *obj, const char *key)
{
    return json_is_true(json_object_get(obj, key));
}

/* "Bob (bob@host)", or the one of the two that is known; "?" when neither. */
static void who(const char *nickname, const char *key, char *buf, size_t len)
{
    if (nickname && key && strcmp(nickname, key) != 0)
        snprintf(buf, len, "%s (%s)", nickname, key);
    else
        snprintf(buf, len, "%s", nickname ? nickname : key ? key : "?");
}

/*
 * Local time of a Unix time in seconds: "HH:MM" today, the date otherwise;
 * with full, "YYYY-MM-DD HH:MM:SS". "-" when missing.
 */
static const char *format_time(const json_t *v, int full, char *buf, size_t len)
{
    if (!json_is_integer(v))
        return "-";
    time_t t = (time_t)json_integer_value(v), now = time(NULL);
    struct tm tm, today;
    if (!localtime_r(&t, &tm) || !localtime_r(&now, &today))
        return "-";
    size_t n;
    if (full)
        n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
    else if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
        n = strftime(buf, len, "%H:%M", &tm);
    else
        n = strftime(buf, len, "%Y-%m-%d", &tm);
    if (n == 0)
        return "-";
    return buf;
}

/* Length of the UTF-8 sequence starting at p (1 for a stray byte), within left bytes. */
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
 * Copy of len bytes of text safe for a terminal: C0 controls (except, with
 * keep_lines, LF and TAB), DEL and C1 controls (U+0080..U+009F) become '?'.
 */
static char *safe_copy(const char *text, size_t len, int keep_lines)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(p + i, len - i);
        if (n == 2 && p[i] == 0xC2 && p[i + 1] < 0xA0) {
            out[o++] = '?';
        } else if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f) &&
                   !(keep_lines && (p[i] == '\n' || p[i] == '\t'))) {
            out[o++] = '?';
        } else {
            memcpy(out + o, p + i, n);
            o += n;
        }
        i += n;
    }
    out[o] = '\0';
    return out;
}

static const char *ellipsis(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && strcmp(cs, "UTF-8") == 0 ? "\xe2\x80\xa6" : "...";
}

/*
 * text cut to at most max display columns (0: no limit), never inside a
 * character, with an ellipsis when cut or when more follows. New string.
 */
static char *fit(const char *text, size_t max, int more)
{
    const char *dots = ellipsis();
    size_t dots_w = cli_text_width(dots), len = strlen(text);
    if (max == 0 || cli_text_width(text) + (more ? dots_w : 0) <= max) {
        char *out = malloc(len + strlen(dots) + 1);
        if (out)
            snprintf(out, len + strlen(dots) + 1, "%s%s", text, more ? dots : "");
        return out;
    }
    size_t budget = max > dots_w ? max - dots_w : 0, width = 0, end = 0;
    while (end < len) {
        size_t n = utf8_len((const unsigned char *)text + end, len - end);
        char one[5] = {0};
        memcpy(one, text + end, n);
        size_t w = cli_text_width(one);
        if (width + w > budget)
            break;
        width += w;
        end += n;
    }
    char *out = malloc(end + strlen(dots) + 1);
    if (out)
        snprintf(out, end + strlen(dots) + 1, "%.*s%s", (int)end, text, dots);
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

/* ---- users ---- */

void cli_print_users(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const json_t *result)
{
    if (!json_is_array(result)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    if (json_array_size(result) == 0) {
        puts((flags & 1u)
                 ? "no users seen yet"
                 : "no users online; 'dengon users --all' also lists offline and hidden ones");
        return;
    }
    static const char *const headers[] = {"NICKNAME", "GROUP", "STATUS",
                                          "PRIORITY", "KEY",   "ADDRESS"};
    cli_table *t = cli_table_new(6, headers);
    if (!t)
        return;
    size_t i;
    json_t *u;
    json_array_foreach(result, i, u)
    {
        char key[512];
        const char *user = text_field(u, "user"), *host = text_field(u, "host");
        if (text_field(u, "key"))
            snprintf(key, sizeof key, "%s", text_field(u, "key"));
        else
            snprintf(key, sizeof key, "%s@%s", user ? user : "?", host ? host : "?");
        const char *nick = text_field(u, "nickname");
        const char *group = text_field(u, "group");
        const char *status = text_field(u, "status");
        const char *address = text_field(u, "address");
        /* A hidden user (listed with --all) shows as such; the level is kept for later. */
        const char *priority = true_field(u, "hidden") ? "hidden" : text_field(u, "priority");
        const char *cells[6] = {nick   ? nick
                                : user ? user
                                       : "-",
                                group ? group : "-",
                                status ? status : "-",
                                priority ? priority : "-",
                                key,
                                address ? address : "-"};
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
}

/* ---- send ---- */

void cli_print_send(const cli_command *cmd, int argc, char **argv, unsigned flags,
                    const json_t *result)
{
    const json_t *rs = json_object_get(result, "recipients");
    if (!json_is_array(rs)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    int sealed = true_field(result, "sealed");
    size_t i;
    json_t *r;
    json_array_foreach(rs, i, r)
    {
        char name[512];
        who(text_field(r, "nickname"), text_field(r, "key"), name, sizeof name);
        const char *state = str_field(r, "state");
        const char *reason = text_field(r, "reason");
        char line[1024];
        if (true_field(r, "opened"))
            snprintf(line, sizeof line, "opened by %s", name);
        else if (state && strcmp(state, "delivered") == 0)
            snprintf(line, sizeof line, "delivered to %s%s", name, sealed ? ", sealed" : "");
        else if (state && strcmp(state, "failed") == 0)
            snprintf(line, sizeof line, "failed: %s: %s", name, reason ? reason : "no answer");
        else if (state && strcmp(state, "sending") == 0)
            snprintf(line, sizeof line, "sent to %s, not acknowledged yet", name);
        else
            snprintf(line, sizeof line, "%s: %s", name, state ? state : "unknown state");
        char *safe = cli_safe_text(line);
        puts(safe ? safe : "");
        free(safe);
    }
}

int cli_status_send(const json_t *result)
{
    const json_t *rs = json_object_get(result, "recipients");
    size_t i;
    json_t *r;
    if (!json_is_array(rs) || json_array_size(rs) == 0)
        return CLI_EXIT_OK;
    json_array_foreach(rs, i, r)
    {
        const char *state = str_field(r, "state");
        if (!state || strcmp(state, "failed") != 0)
            return CLI_EXIT_OK;
    }
    return CLI_EXIT_FAIL;
}

/* ---- inbox ---- */

/* "sealed,opened" for a message; "-" when none. */
static const char *message_flags(const json_t *m, char *buf, size_t len)
{
    static const struct {
        const char *field, *label;
    } known[] = {{"sealed", "sealed"},
                 {"opened", "opened"},
                 {"auto_reply", "auto"},
                 {"broadcast", "broadcast"}};
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof known / sizeof known[0] && used < len; i++)
        if (true_field(m, known[i].field))
            used +=
                (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "", known[i].label);
    return buf[0] ? buf : "-";
}

enum { INBOX_COLS = 5 };

void cli_print_inbox(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const json_t *result)
{
    const json_t *msgs = json_object_get(result, "messages");
    if (!json_is_array(msgs)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    json_int_t evicted = json_integer_value(json_object_get(result, "evicted"));
    size_t n = json_array_size(msgs);
    if (n == 0) {
        puts((flags & 1u) ? "no unread messages" : "no messages");
    } else {
        static const char *const headers[INBOX_COLS] = {"ID", "TIME", "FROM", "FLAGS", "TEXT"};
        /* Cells of the first four columns, kept to size the text column to the terminal. */
        char *(*rows)[INBOX_COLS - 1] = calloc(n, sizeof *rows);
        cli_table *t = rows ? cli_table_new(INBOX_COLS, headers) : NULL;
        if (!t) {
            free(rows);
            return;
        }
        size_t widths[INBOX_COLS - 1];
        for (size_t c = 0; c < INBOX_COLS - 1; c++)
            widths[c] = cli_text_width(headers[c]);
        size_t i;
        json_t *m;
        json_array_foreach(msgs, i, m)
        {
            char id[32], when[64], from[512], fl[64];
            json_t *idv = json_object_get(m, "id");
            if (json_is_integer(idv))
                snprintf(id, sizeof id, "%lld", (long long)json_integer_value(idv));
            else
                snprintf(id, sizeof id, "-");
            who(text_field(m, "nickname"), text_field(m, "from"), from, sizeof from);
            const char *cells[INBOX_COLS - 1] = {
                id, format_time(json_object_get(m, "time"), 0, when, sizeof when), from,
                message_flags(m, fl, sizeof fl)};
            for (size_t c = 0; c < INBOX_COLS - 1; c++) {
                rows[i][c] = cli_safe_text(cells[c]);
                size_t w = cli_text_width(rows[i][c] ? rows[i][c] : "");
                if (w > widths[c])
                    widths[c] = w;
            }
        }
        size_t cols = terminal_columns(), used = 0;
        for (size_t c = 0; c < INBOX_COLS - 1; c++)
            used += widths[c] + 2;
        size_t room = cols == 0 ? 0 : cols > used + 12 ? cols - used - 1 : 12;
        json_array_foreach(msgs, i, m)
        {
            const char *text = str_field(m, "text");
            char *cell = NULL;
            if (text) {
                size_t line = strcspn(text, "\n");
                char *first = safe_copy(text, line, 0);
                int more = text[line] == '\n' && text[line + 1] != '\0';
                cell = first ? fit(first, room, more) : NULL;
                free(first);
            } else if (true_field(m, "sealed") && !true_field(m, "opened")) {
                size_t len = strlen(rows[i][0] ? rows[i][0] : "") + 32;
                cell = malloc(len);
                if (cell)
                    snprintf(cell, len, "[sealed: dengon read %s]", rows[i][0] ? rows[i][0] : "ID");
            }
            const char *cells[INBOX_COLS] = {rows[i][0], rows[i][1], rows[i][2], rows[i][3],
                                             cell ? cell : ""};
            cli_table_add(t, cells);
            free(cell);
            for (size_t c = 0; c < INBOX_COLS - 1; c++)
                free(rows[i][c]);
        }
        free(rows);
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    if (evicted > 0)
        printf("(%lld older messages were dropped: the inbox keeps ipmsg.inbox_size)\n",
               (long long)evicted);
}

/* ---- read ---- */

void cli_print_read(const cli_command *cmd, int argc, char **argv, unsigned flags,
                    const json_t *result)
{
    if (!json_is_object(result)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    char from[512], line[1024], when[64], fl[64];
    who(text_field(result, "nickname"), text_field(result, "from"), from, sizeof from);
    const char *address = text_field(result, "address");
    snprintf(line, sizeof line, "From: %s%s%s", from, address ? " at " : "",
             address ? address : "");
    char *safe = cli_safe_text(line);
    puts(safe ? safe : "From: ?");
    free(safe);
    printf("Time: %s\n", format_time(json_object_get(result, "time"), 1, when, sizeof when));
    const char *f = message_flags(result, fl, sizeof fl);
    if (strcmp(f, "-") != 0)
        printf("Flags: %s\n", f);
    putchar('\n');
    const char *text = str_field(result, "text");
    char *body = text ? safe_copy(text, strlen(text), 1) : NULL;
    if (body) {
        size_t len = strlen(body);
        fputs(body, stdout);
        if (len == 0 || body[len - 1] != '\n')
            putchar('\n');
    } else {
        puts("(no text)");
    }
    free(body);
}
