/*
 * History commands: log, log export, log stats, log prune. They call the
 * history.* methods of the history plugin (plugins/history).
 */
#include "cli/cli.h"
#include "cli/print.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Flags of `log`, by index in its flags[]. */
enum { LOG_WITH, LOG_SEARCH, LOG_LIMIT, LOG_BEFORE };
/* Flags of `log export`. */
enum { EXPORT_WITH, EXPORT_FORCE };

/* A positive decimal number of at most max; -1 when text is not one. */
static long long positive(const char *text, long long max)
{
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end || errno || n < 1 || n > max)
        return -1;
    return n;
}

/* Sets params[key] to the string value of the flag, if given. -1 on bad UTF-8. */
static int set_flag_string(json_t *params, const char *key, int flag, char *err, size_t err_len)
{
    const char *v = cli_flag_value(flag);
    if (!v)
        return 0;
    json_t *s = cli_string_arg(v, err, err_len);
    if (!s)
        return -1;
    json_object_set_new(params, key, s);
    return 0;
}

/* log [--with USER] [--search TEXT] [--limit N] [--before ID] */
static int build_log(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const char **method, json_t **params, char *err, size_t err_len)
{
    *params = json_object();
    if (!*params) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    const char *search = cli_flag_value(LOG_SEARCH);
    *method = search ? "history.search" : cmd->method;
    if (set_flag_string(*params, "with", LOG_WITH, err, err_len) != 0 ||
        set_flag_string(*params, "text", LOG_SEARCH, err, err_len) != 0)
        goto fail;
    static const struct {
        int flag;
        const char *key, *what;
        long long max;
    } numbers[] = {
        {LOG_LIMIT, "limit", "--limit needs a number of messages from 1 to 10000", 10000},
        {LOG_BEFORE, "before", "--before needs a message id (see the ID column)", LLONG_MAX}};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        const char *v = cli_flag_value(numbers[i].flag);
        if (!v)
            continue;
        long long n = positive(v, numbers[i].max);
        if (n < 0) {
            snprintf(err, err_len, "%s, not '%.40s'", numbers[i].what, v);
            goto fail;
        }
        json_object_set_new(*params, numbers[i].key, json_integer(n));
    }
    return 0;
fail:
    json_decref(*params);
    *params = NULL;
    return -1;
}

/*
 * FILE as the daemon needs it: absolute. A relative FILE is taken from the
 * current folder (resolved, so the daemon sees no ".."); a plain name with
 * "./" in front is relative too, while a plain name alone goes to the
 * plugin's exports folder.
 */
static int export_path(const char *file, char *out, size_t len, char *err, size_t err_len)
{
    if (file[0] == '/' || !strchr(file, '/')) {
        snprintf(out, len, "%s", file);
        return 0;
    }
    const char *slash = strrchr(file, '/');
    size_t dlen = (size_t)(slash - file);
    char dir[PATH_MAX];
    if (dlen >= sizeof dir || !slash[1]) {
        snprintf(err, err_len, "'%.100s' is not a file name", file);
        return -1;
    }
    memcpy(dir, file, dlen);
    dir[dlen] = '\0';
    char *abs = realpath(dlen ? dir : "/", NULL);
    if (!abs) {
        snprintf(err, err_len, "cannot use folder '%.100s': %s", dir, strerror(errno));
        return -1;
    }
    int n = snprintf(out, len, "%s/%s", strcmp(abs, "/") == 0 ? "" : abs, slash + 1);
    free(abs);
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, err_len, "'%.100s' is too long", file);
        return -1;
    }
    return 0;
}

/* log export FORMAT [FILE] [--with USER] [--force] */
static int build_export(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    *params = NULL;
    if (strcmp(argv[0], "json") != 0 && strcmp(argv[0], "text") != 0) {
        snprintf(err, err_len, "FORMAT must be json or text, not '%.40s'", argv[0]);
        return -1;
    }
    json_t *p = json_pack("{s:s}", "format", argv[0]);
    if (!p || set_flag_string(p, "with", EXPORT_WITH, err, err_len) != 0) {
        json_decref(p);
        return -1;
    }
    if (argc > 1) {
        char path[PATH_MAX + 256];
        json_t *s = NULL;
        if (export_path(argv[1], path, sizeof path, err, err_len) != 0 ||
            !(s = cli_string_arg(path, err, err_len))) {
            json_decref(p);
            return -1;
        }
        json_object_set_new(p, "path", s);
        if (flags & (1u << EXPORT_FORCE))
            json_object_set_new(p, "overwrite", json_true());
    }
    *params = p;
    return 0;
}

/* log prune [DAYS] */
static int build_prune(const cli_command *cmd, int argc, char **argv, unsigned flags,
                       const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    *params = NULL;
    if (argc == 0)
        return 0;
    long long days = positive(argv[0], 36500);
    if (days < 0) {
        snprintf(err, err_len, "DAYS must be a number of days from 1 to 36500, not '%.40s'",
                 argv[0]);
        return -1;
    }
    *params = json_pack("{s:I}", "days", (json_int_t)days);
    return 0;
}

const cli_command cli_commands_history[] = {
    {.name = "log",
     .args = "",
     .summary = "show the message history, or search it",
     .help = "Shows messages sent and received, newest last: id, time, direction (in,\n"
             "out), the other side, the state (delivered, failed, sending, sent,\n"
             "partial, received; sealed, opened) and the first line of the text.\n"
             "--with USER keeps the messages exchanged with USER (a nickname, logon\n"
             "name or user@host). --search TEXT finds messages containing every word\n"
             "of TEXT, in any script (Japanese too; words of 1 or 2 characters work).\n"
             "--limit N shows the newest N (default 50); --before ID pages back.\n"
             "A received sealed message shows its text only once opened ('dengon\n"
             "read ID'). Needs the history plugin.",
     .method = "history.log",
     .params_help = "{\"with\": USER, \"limit\": N, \"before\": ID}, or history.search with\n"
                    "{\"text\": TEXT, ...} when --search is given",
     .flags = {"--with USER", "--search TEXT", "--limit N", "--before ID"},
     .build = build_log,
     .print = cli_print_log},
    {.name = "log export",
     .args = "FORMAT [FILE]",
     .summary = "export the history as json or text",
     .help = "Exports every message, oldest first (only those with USER with --with), as\n"
             "FORMAT: json (an array of messages) or text (one line per message: time,\n"
             "from -> to: text, with line breaks written as \\n). Without FILE the export\n"
             "is printed; a FILE with a folder is written there (mode 0600), a plain\n"
             "file name goes to the history plugin's exports folder. An existing FILE\n"
             "is kept unless --force.",
     .method = "history.export",
     .params_help = "{\"format\": FORMAT, \"with\": USER, \"path\": FILE (absolute),\n"
                    "\"overwrite\": --force}",
     .flags = {"--with USER", "--force"},
     .min_args = 1,
     .max_args = 2,
     .build = build_export,
     .print = cli_print_log_export},
    {.name = "log stats",
     .args = "",
     .summary = "show counts and the size of the history",
     .help = "Shows how many messages the history holds (sent, received, sealed), the\n"
             "peers and rooms, the oldest and newest message, the database file and its\n"
             "size, the retention setting (history.delete_days) and event counters.",
     .method = "history.stats",
     .print = cli_print_log_stats},
    {.name = "log prune",
     .args = "[DAYS]",
     .summary = "delete messages older than DAYS days",
     .help = "Deletes the messages older than DAYS days, or than history.delete_days\n"
             "when DAYS is not given (0 there keeps everything; the history plugin also\n"
             "applies it daily). Prints how many were deleted.",
     .method = "history.delete_old",
     .params_help = "{\"days\": DAYS}, or no params without DAYS",
     .max_args = 1,
     .build = build_prune,
     .print = cli_print_log_prune},
    {0},
};
