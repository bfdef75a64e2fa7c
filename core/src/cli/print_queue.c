/*
 * Human output of the offline queue commands (results of the queue.*
 * methods, docs/protocol/rooms.md "Offline queue"). Like print.c, every
 * printer tolerates missing fields and falls back to the JSON otherwise.
 */
#include "cli/print.h"

#include "cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "Bob (bob@pc)" or the one that is known. */
static void recipient(const json_t *m, char *buf, size_t len)
{
    const char *nick = cli_nonempty_field(m, "nickname"), *key = cli_nonempty_field(m, "to");
    if (nick && key && strcmp(nick, key) != 0)
        snprintf(buf, len, "%s (%s)", nick, key);
    else
        snprintf(buf, len, "%s", nick ? nick : key ? key : "?");
}

/* The first line of the text, at most 60 bytes, cut on a character boundary. */
static void first_line(const json_t *m, char *buf, size_t len)
{
    const char *text = cli_nonempty_field(m, "text");
    if (!text) {
        snprintf(buf, len, "-");
        return;
    }
    size_t n = strcspn(text, "\n"), max = len > 64 ? 60 : len - 4;
    int more = text[n] != '\0';
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--; /* not inside a UTF-8 sequence */
        more = 1;
    }
    snprintf(buf, len, "%.*s%s", (int)n, text, more ? "..." : "");
}

void cli_print_queue(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const json_t *result)
{
    if (!json_is_array(result)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    if (json_array_size(result) == 0) {
        puts((flags & 1u) ? "the queue is empty and has no recent history"
                          : "the queue is empty; 'dengon queue send TO MESSAGE' adds to it");
        return;
    }
    static const char *const headers[] = {"ID", "QUEUED", "TO", "STATE", "TRIES", "TEXT"};
    cli_table *t = cli_table_new(6, headers);
    if (!t)
        return;
    size_t i;
    const json_t *m;
    json_array_foreach(result, i, m)
    {
        char id[32], queued[64], to[512], tries[32], text[80];
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(m, "id")));
        snprintf(tries, sizeof tries, "%lld",
                 (long long)json_integer_value(json_object_get(m, "attempts")));
        recipient(m, to, sizeof to);
        first_line(m, text, sizeof text);
        const char *state = cli_nonempty_field(m, "state");
        const char *cells[6] = {
            id,    cli_short_time(json_object_get(m, "created"), queued, sizeof queued),
            to,    state ? state : "-",
            tries, text};
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    /* Why the last attempt failed, under the table: the reasons are long. */
    json_array_foreach(result, i, m)
    {
        const char *error = cli_nonempty_field(m, "error");
        const char *state = cli_nonempty_field(m, "state");
        if (error && state && (strcmp(state, "queued") == 0 || strcmp(state, "failed") == 0)) {
            char line[600];
            snprintf(line, sizeof line, "%lld: %s",
                     (long long)json_integer_value(json_object_get(m, "id")), error);
            cli_put_safe(line);
        }
    }
}

void cli_print_queue_send(const cli_command *cmd, int argc, char **argv, unsigned flags,
                          const json_t *result)
{
    const json_t *msgs = json_object_get(result, "messages");
    if (!json_is_array(msgs)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    size_t i;
    const json_t *m;
    json_array_foreach(msgs, i, m)
    {
        char to[512], line[700];
        recipient(m, to, sizeof to);
        const char *state = cli_nonempty_field(m, "state");
        long long id = (long long)json_integer_value(json_object_get(m, "id"));
        if (state && strcmp(state, "sending") == 0)
            snprintf(line, sizeof line, "%lld: %s is online: sending now", id, to);
        else if (state && strcmp(state, "failed") == 0)
            snprintf(line, sizeof line, "%lld: %s: failed: %s", id, to,
                     cli_nonempty_field(m, "error") ? cli_nonempty_field(m, "error") : "?");
        else
            snprintf(line, sizeof line, "%lld: queued for %s: sent when they come online", id, to);
        cli_put_safe(line);
    }
}

void cli_print_queue_discard(const cli_command *cmd, int argc, char **argv, unsigned flags,
                             const json_t *result)
{
    if (!json_is_object(result) || !json_is_integer(json_object_get(result, "id"))) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    char to[512], line[700];
    recipient(result, to, sizeof to);
    snprintf(line, sizeof line, "discarded message %lld to %s",
             (long long)json_integer_value(json_object_get(result, "id")), to);
    cli_put_safe(line);
    if (json_is_true(json_object_get(result, "in_flight")))
        puts("it was being sent at that moment: the recipient may still get it");
}
