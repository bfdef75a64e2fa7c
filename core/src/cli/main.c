/*
 * dengon: the command-line client of dengond. Parses global options (which
 * may appear anywhere before "--"), finds the command in the table
 * (commands.c), sends one request over the control socket and prints the
 * answer for humans or, with --json, as JSON.
 */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/print.h"
#include "cli/table.h"
#include "util/home.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DENGON_VERSION
#define DENGON_VERSION "unknown"
#endif

typedef struct options {
    const char *home;
    const char *socket;
    int json;
    int help;
    int version;
    double timeout;
    /* Command options ("--seal") seen before "--", checked once the command is known. */
    const char **flags;
    const char **flag_values; /* flag_values[k]: the value of flags[k] ("--with USER"), or NULL */
    int nflags;
} options;

/* ---- help ---- */

static size_t word_count(const char *name)
{
    size_t n = 1;
    for (const char *p = name; *p; p++)
        n += *p == ' ';
    return n;
}

/* "send [--seal] TO... MESSAGE": the command's words, its options, its arguments. */
static void synopsis(const cli_command *c, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "%s", c->name);
    for (int i = 0; i < 4 && c->flags[i] && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, " [%s]", c->flags[i]);
    if (c->args[0] && used < len)
        snprintf(buf + used, len - used, " %s", c->args);
}

/* Longer synopses go on a line of their own, so the summaries stay within 80 columns. */
#define SYNOPSIS_MAX 42

/* Width of the synopsis column of the overview: the longest one up to SYNOPSIS_MAX. */
static int synopsis_width(void)
{
    size_t width = 22;
    for (const cli_command *c = cli_commands(); c->name; c++) {
        char buf[128];
        synopsis(c, buf, sizeof buf);
        if (strlen(buf) > width && strlen(buf) <= SYNOPSIS_MAX)
            width = strlen(buf);
    }
    return (int)width;
}

static void print_command_line(const cli_command *c, FILE *out)
{
    char buf[128];
    synopsis(c, buf, sizeof buf);
    int width = synopsis_width();
    if (strlen(buf) > (size_t)width)
        fprintf(out, "  %s\n  %-*s  %s\n", buf, width, "", c->summary);
    else
        fprintf(out, "  %-*s  %s\n", width, buf, c->summary);
}

static void usage_overview(FILE *out)
{
    fputs("Usage: dengon [OPTIONS] COMMAND [ARGS...]\n"
          "\n"
          "Controls a running dengond (the dengon LAN messenger daemon) through its\n"
          "control socket.\n"
          "\n"
          "Commands:\n",
          out);
    for (const cli_command *c = cli_commands(); c->name; c++)
        print_command_line(c, out);
    fputs("\n"
          "Options:\n"
          "  --home DIR      use the home folder DIR (default: $DENGON_HOME, else the\n"
          "                  XDG directories)\n"
          "  --socket PATH   connect to the control socket at PATH (overrides --home)\n"
          "  --json          print JSON: the raw result, or {\"error\":{...}}\n"
          "  --timeout SEC   give up after SEC seconds (default 10; 0 waits forever)\n"
          "  -h, --help      show this help; 'dengon COMMAND --help' shows a command's\n"
          "  --version       show the version\n"
          "\n"
          "Options, also a command's own (like send --seal), may appear anywhere;\n"
          "'--' ends them.\n"
          "Exit status: 0 ok, 1 failed, 2 usage error, 3 daemon not running.\n",
          out);
}

static void usage_command(const cli_command *c, FILE *out)
{
    char buf[128];
    synopsis(c, buf, sizeof buf);
    fprintf(out, "Usage: dengon [OPTIONS] %s\n\n%s\n\n", buf, c->help);
    if (c->method && c->params_help) {
        /* Long params descriptions push the --json note to a line of its own. */
        int len = fprintf(out, "Calls %s with %s;", c->method, c->params_help);
        fputs(len > 46 ? "\nwith --json prints its raw result.\n"
                       : " with --json prints its raw result.\n",
              out);
    } else if (c->method) {
        /* "Calls config.set with {"key": KEY, "value": VALUE}": params named by the synopsis. */
        fprintf(out, "Calls %s", c->method);
        const char *arg = c->args;
        for (int i = 0; i < 4 && c->params[i]; i++) {
            size_t len = strcspn(arg, " ");
            fprintf(out, "%s\"%s\": %.*s", i == 0 ? " with {" : ", ", c->params[i], (int)len, arg);
            arg += len + (arg[len] == ' ');
        }
        fprintf(out, "%s; with --json prints its raw result.\n", c->params[0] ? "}" : "");
    }
    fputs("Options: see 'dengon --help'.\n", out);
}

/* Help for a command group ("plugin", "config"): its subcommands. */
static void usage_group(const char *group, FILE *out)
{
    fprintf(out, "Usage: dengon [OPTIONS] %s SUBCOMMAND [ARGS...]\n\nSubcommands:\n", group);
    size_t len = strlen(group);
    for (const cli_command *c = cli_commands(); c->name; c++)
        if (strncmp(c->name, group, len) == 0 && c->name[len] == ' ')
            print_command_line(c, out);
}

/* ---- errors ---- */

/* Prints an error the way the mode wants it; returns status. */
static int report_error(const options *o, int status, const json_t *error)
{
    const char *msg = json_string_value(json_object_get(error, "message"));
    if (o->json) {
        json_t *wrapped = json_pack("{s:O}", "error", (json_t *)error);
        char *text = wrapped ? json_dumps(wrapped, JSON_COMPACT) : NULL;
        puts(text ? text : "{\"error\":{\"message\":\"out of memory\"}}");
        free(text);
        json_decref(wrapped);
    } else {
        char *safe = cli_safe_text(msg ? msg : "unknown error");
        fprintf(stderr, "dengon: %s\n", safe ? safe : "error");
        free(safe);
    }
    return status;
}

static int usage_error(const options *o, const char *help_for, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int usage_error(const options *o, const char *help_for, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (o->json) {
        json_t *e = json_pack("{s:s,s:s}", "message", msg, "kind", "usage");
        report_error(o, CLI_EXIT_USAGE, e);
        json_decref(e);
    } else {
        char *safe = cli_safe_text(msg);
        fprintf(stderr, "dengon: %s\nTry 'dengon %s%s--help'.\n", safe ? safe : "usage error",
                help_for ? help_for : "", help_for ? " " : "");
        free(safe);
    }
    return CLI_EXIT_USAGE;
}

/* ---- arguments ---- */

/* "-5", "-0.5": values, not options (config set audio.gain -5). */
static int looks_numeric(const char *a)
{
    return a[0] == '-' &&
           ((a[1] >= '0' && a[1] <= '9') || (a[1] == '.' && a[2] >= '0' && a[2] <= '9'));
}

static int parse_timeout(const char *text, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !isfinite(v) || v < 0 || v > 86400 * 365)
        return -1;
    *out = v;
    return 0;
}

/*
 * Does argument a ("--seal", "--with", "--with=bob") name the command option
 * flag ("--seal", or "--with USER" for one taking a value)?
 */
static int flag_matches(const char *a, const char *flag)
{
    size_t len = strcspn(flag, " ");
    return strncmp(a, flag, len) == 0 && (a[len] == '\0' || (a[len] == '=' && flag[len] == ' '));
}

/* Is a one of the options of some command? 0 no, 1 yes, 2 yes and it takes a value. */
static int is_command_flag(const char *a)
{
    for (const cli_command *c = cli_commands(); c->name; c++)
        for (int i = 0; i < 4 && c->flags[i]; i++)
            if (flag_matches(a, c->flags[i]))
                return strchr(c->flags[i], ' ') ? 2 : 1;
    return 0;
}

/*
 * Splits argv into options and positional arguments; command options go to
 * o->flags (room for argc). Returns -1 after reporting a usage error
 * (*status set), else 0.
 */
static int parse_args(int argc, char **argv, options *o, char **pos, int *npos, int *status)
{
    int only_positional = 0;
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_positional || a[0] != '-' || strcmp(a, "-") == 0 || looks_numeric(a)) {
            pos[(*npos)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = 1;
        } else if (strcmp(a, "--version") == 0) {
            o->version = 1;
        } else {
            static const char *const with_value[] = {"--home", "--socket", "--timeout"};
            const char *value = NULL;
            size_t which = 3;
            for (size_t k = 0; k < 3; k++) {
                size_t n = strlen(with_value[k]);
                if (strncmp(a, with_value[k], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
                    which = k;
                    value = a[n] == '=' ? a + n + 1 : (i + 1 < argc ? argv[++i] : NULL);
                    break;
                }
            }
            int kind = which == 3 ? is_command_flag(a) : 0;
            if (kind == 2) {
                /* "--with USER" or "--with=USER" */
                size_t n = strcspn(a, "=");
                value = a[n] == '=' ? a + n + 1 : (i + 1 < argc ? argv[++i] : NULL);
                if (!value || !*value) {
                    *status = usage_error(o, NULL, "option %.*s needs a value", (int)n, a);
                    return -1;
                }
            }
            if (kind) {
                o->flag_values[o->nflags] = value;
                o->flags[o->nflags++] = a;
                continue;
            }
            if (which == 3) {
                *status = usage_error(o, NULL, "unknown option '%s'", a);
                return -1;
            }
            if (!value || !*value) {
                *status = usage_error(o, NULL, "option %s needs a value", with_value[which]);
                return -1;
            }
            if (which == 0) {
                o->home = value;
            } else if (which == 1) {
                o->socket = value;
            } else if (parse_timeout(value, &o->timeout) != 0) {
                *status = usage_error(o, NULL,
                                      "invalid --timeout '%s' (seconds, like 10 or 0.5; 0 = no "
                                      "limit)",
                                      value);
                return -1;
            }
        }
    }
    return 0;
}

/* The command whose words start pos (longest match), with *words set; else NULL. */
static const cli_command *find_command(int npos, char **pos, int *words)
{
    const cli_command *best = NULL;
    int best_words = 0;
    for (const cli_command *c = cli_commands(); c->name; c++) {
        int n = (int)word_count(c->name);
        if (n > npos || n <= best_words)
            continue;
        const char *p = c->name;
        int ok = 1;
        for (int w = 0; w < n && ok; w++) {
            size_t len = strcspn(p, " ");
            ok = strlen(pos[w]) == len && strncmp(p, pos[w], len) == 0;
            p += len + (p[len] == ' ');
        }
        if (ok) {
            best = c;
            best_words = n;
        }
    }
    *words = best_words;
    return best;
}

/* Is word the first word of multi-word commands ("plugin", "config")? */
static int is_group(const char *word)
{
    size_t len = strlen(word);
    for (const cli_command *c = cli_commands(); c->name; c++)
        if (strncmp(c->name, word, len) == 0 && c->name[len] == ' ')
            return 1;
    return 0;
}

/* "enable, disable" for a group. */
static void group_members(const char *group, char *buf, size_t len)
{
    size_t glen = strlen(group), used = 0;
    buf[0] = '\0';
    for (const cli_command *c = cli_commands(); c->name; c++)
        if (strncmp(c->name, group, glen) == 0 && c->name[glen] == ' ' && used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                                     c->name + glen + 1);
}

/* Values of the running command's options that take one (cli_flag_value). */
static const char *flag_values[4];

const char *cli_flag_value(int i)
{
    return i >= 0 && i < 4 ? flag_values[i] : NULL;
}

/*
 * The bits of the command options given (bit i: cmd->flags[i]), and their
 * values; -1 after reporting an option the command does not take.
 */
static int command_flags(const options *o, const cli_command *cmd, unsigned *bits, int *status)
{
    *bits = 0;
    for (int k = 0; k < o->nflags; k++) {
        int i = 0;
        while (i < 4 && cmd->flags[i] && !flag_matches(o->flags[k], cmd->flags[i]))
            i++;
        if (i == 4 || !cmd->flags[i]) {
            *status = usage_error(o, cmd->name, "'%s' has no option '%.*s'", cmd->name,
                                  (int)strcspn(o->flags[k], "="), o->flags[k]);
            return -1;
        }
        *bits |= 1u << i;
        flag_values[i] = o->flag_values[k]; /* the last one given wins */
    }
    return 0;
}

/* ---- running a command ---- */

/* The daemon's socket, resolved by the same code dengond uses (util/home.c). */
static char *control_socket_path(const char *explicit_home)
{
    dg_home home;
    char *err = NULL;
    if (dg_home_resolve(&home, explicit_home, &err) != 0) {
        fprintf(stderr, "dengon: %s\n", err ? err : "cannot resolve the home folder");
        free(err);
        return NULL;
    }
    char *path = strdup(home.socket_path);
    dg_home_free(&home);
    return path;
}

static int run(const options *o, const cli_command *cmd, int argc, char **argv, unsigned flags)
{
    const char *method = NULL;
    json_t *params = NULL;
    char err[512];
    cli_build_fn build = cmd->build ? cmd->build : cli_build_strings;
    if (build(cmd, argc, argv, flags, &method, &params, err, sizeof err) != 0)
        return usage_error(o, cmd->name, "%s", err);

    char *socket_path = o->socket ? strdup(o->socket) : control_socket_path(o->home);
    if (!socket_path) {
        json_decref(params);
        return CLI_EXIT_FAIL;
    }
    json_t *result = NULL, *error = NULL;
    if (cmd->loop) {
        int status = cmd->loop(cmd, socket_path, method, params, o->json, &error);
        json_decref(params);
        free(socket_path);
        if (status != CLI_EXIT_OK)
            report_error(o, status, error);
        json_decref(error);
        if (fflush(stdout) != 0 && status == CLI_EXIT_OK)
            status = CLI_EXIT_FAIL;
        return status;
    }
    if (o->json && !cmd->status) {
        /* Printed as the daemon sent it: nothing here needs the parsed result. */
        char *text = NULL;
        int status = cli_call_text(socket_path, method, params, o->timeout, &text, &error);
        json_decref(params);
        free(socket_path);
        if (status == CLI_EXIT_OK)
            puts(text);
        else
            report_error(o, status, error);
        free(text);
        json_decref(error);
        if (fflush(stdout) != 0 && status == CLI_EXIT_OK)
            status = CLI_EXIT_FAIL;
        return status;
    }
    int status = cli_call(socket_path, method, params, o->timeout, &result, &error);
    json_decref(params);
    free(socket_path);

    if (status != CLI_EXIT_OK) {
        report_error(o, status, error);
    } else if (o->json) {
        char *text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
        puts(text ? text : "null");
        free(text);
    } else {
        (cmd->print ? cmd->print : cli_print_json)(cmd, argc, argv, flags, result);
    }
    if (status == CLI_EXIT_OK && cmd->status)
        status = cmd->status(result);
    json_decref(result);
    json_decref(error);
    if (fflush(stdout) != 0 && status == CLI_EXIT_OK)
        status = CLI_EXIT_FAIL; /* e.g. a full disk: the output is incomplete */
    return status;
}

int main(int argc, char **argv)
{
    /* Table widths count display columns of the user's locale (CJK names). */
    setlocale(LC_CTYPE, "");
    options o = {.timeout = 10};
    /* Know --json before any error so that even usage errors come out as JSON. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--json") == 0)
            o.json = 1;

    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    o.flags = calloc((size_t)argc + 1, sizeof *o.flags);
    o.flag_values = calloc((size_t)argc + 1, sizeof *o.flag_values);
    int npos = 0, status = CLI_EXIT_OK;
    if (!pos || !o.flags || !o.flag_values) {
        free(pos);
        free(o.flags);
        free(o.flag_values);
        fputs("dengon: out of memory\n", stderr);
        return CLI_EXIT_FAIL;
    }
    if (parse_args(argc, argv, &o, pos, &npos, &status) != 0)
        goto out;
    if (o.version) {
        printf("dengon %s\n", DENGON_VERSION);
        goto out;
    }
    /* "dengon help [COMMAND...]" is "dengon [COMMAND...] --help". */
    char **cmd_pos = pos;
    if (npos > 0 && strcmp(pos[0], "help") == 0) {
        o.help = 1;
        cmd_pos++;
        npos--;
    }
    if (npos == 0) {
        if (o.help)
            usage_overview(stdout);
        else
            status = usage_error(&o, NULL, "missing command");
        goto out;
    }
    int words = 0;
    const cli_command *cmd = find_command(npos, cmd_pos, &words);
    if (!cmd) {
        if (is_group(cmd_pos[0])) {
            if (o.help) {
                usage_group(cmd_pos[0], stdout);
            } else {
                char members[256];
                group_members(cmd_pos[0], members, sizeof members);
                status = npos == 1
                             ? usage_error(&o, cmd_pos[0], "'%s' needs a subcommand: %s",
                                           cmd_pos[0], members)
                             : usage_error(&o, cmd_pos[0], "unknown subcommand '%s %s' (try: %s)",
                                           cmd_pos[0], cmd_pos[1], members);
            }
        } else {
            status = usage_error(&o, NULL, "unknown command '%s'", cmd_pos[0]);
        }
        goto out;
    }
    unsigned flags = 0;
    if (command_flags(&o, cmd, &flags, &status) != 0)
        goto out;
    if (o.help) {
        usage_command(cmd, stdout);
        goto out;
    }
    int nargs = npos - words;
    if (nargs < cmd->min_args || nargs > cmd->max_args) {
        char buf[128];
        synopsis(cmd, buf, sizeof buf);
        status = usage_error(
            &o, cmd->name, "'%s' %s (usage: dengon %s)", cmd->name,
            nargs < cmd->min_args ? "needs more arguments" : "takes fewer arguments", buf);
        goto out;
    }
    status = run(&o, cmd, nargs, cmd_pos + words, flags);
out:
    free(pos);
    free(o.flags);
    free(o.flag_values);
    return status;
}
