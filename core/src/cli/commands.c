/*
 * The command table: each CLI command is one entry naming its RPC method,
 * how its arguments become params, and how its result is printed. A new
 * command (send, users, ...) is one more entry here (and a printer in
 * print.c when the JSON is not good enough for humans).
 */
#include "cli/cli.h"
#include "cli/print.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_build_strings(const cli_command *cmd, int argc, char **argv, unsigned flags,
                      const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    *params = NULL;
    if (!cmd->params[0])
        return 0;
    json_t *obj = json_object();
    for (int i = 0; i < argc && i < 4 && cmd->params[i]; i++) {
        json_t *s = json_string(argv[i]);
        if (!s) {
            snprintf(err, err_len, "argument '%s' is not valid UTF-8", argv[i]);
            json_decref(obj);
            return -1;
        }
        json_object_set_new(obj, cmd->params[i], s);
    }
    *params = obj;
    return 0;
}

static int method_name_ok(const char *m)
{
    int segments = 1, seg_len = 0;
    for (; *m; m++) {
        if (*m == '.') {
            if (seg_len == 0)
                return 0;
            segments++;
            seg_len = 0;
        } else if ((*m >= 'a' && *m <= 'z') || (*m >= '0' && *m <= '9') || *m == '_') {
            seg_len++;
        } else {
            return 0;
        }
    }
    return seg_len > 0 && segments >= 2;
}

/* call METHOD [JSON|-]: params parsed from the argument (or stdin for "-"). */
static int build_call(const cli_command *cmd, int argc, char **argv, unsigned flags,
                      const char **method, json_t **params, char *err, size_t err_len)
{
    *params = NULL;
    if (!method_name_ok(argv[0])) {
        snprintf(err, err_len, "'%.100s' is not a method name (like core.status)", argv[0]);
        return -1;
    }
    *method = argv[0];
    if (argc < 2)
        return 0;
    json_error_t jerr;
    const int decode = JSON_DECODE_ANY | JSON_REJECT_DUPLICATES;
    json_t *p = strcmp(argv[1], "-") == 0 ? json_loadf(stdin, decode, &jerr)
                                          : json_loads(argv[1], decode, &jerr);
    if (!p) {
        snprintf(err, err_len, "invalid JSON params: %s (line %d, column %d)", jerr.text, jerr.line,
                 jerr.column);
        return -1;
    }
    if (!json_is_object(p) && !json_is_array(p)) {
        json_decref(p);
        snprintf(err, err_len, "JSON params must be an object or an array");
        return -1;
    }
    *params = p;
    return 0;
}

int cli_build_id(const cli_command *cmd, int argc, char **argv, unsigned flags, const char **method,
                 json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    const char *a = argv[0];
    char *end;
    errno = 0;
    long long n = strtoll(a, &end, 10);
    json_t *id = a[0] >= '0' && a[0] <= '9' && !*end && errno == 0
                     ? json_integer(n)
                     : cli_string_arg(a, err, err_len);
    *params = id ? json_pack("{s:o}", "id", id) : NULL;
    if (id && !*params)
        snprintf(err, err_len, "out of memory");
    return *params ? 0 : -1;
}

json_t *cli_string_arg(const char *arg, char *err, size_t err_len)
{
    json_t *s = json_string(arg);
    if (!s)
        snprintf(err, err_len, "argument '%.100s' is not valid UTF-8", arg);
    return s;
}

static const cli_command commands[] = {
    {.name = "status",
     .args = "",
     .summary = "show the daemon's version, uptime, paths and counters",
     .help = "Shows what dengond is running: version, pid, uptime, home folder, control\n"
             "socket, profile, and counters of the plugins, the event bus and the control\n"
             "socket.",
     .method = "core.status",
     .print = cli_print_status},
    {.name = "whoami",
     .args = "",
     .summary = "show this node's identity",
     .help = "Shows the identity peers see: nickname, user, host, group, the LAN key\n"
             "(user@host, as IP Messenger uses it), the UUID kept in the home folder, and\n"
             "the cloud key derived from it.",
     .method = "core.whoami",
     .print = cli_print_whoami},
    {.name = "plugins",
     .args = "",
     .summary = "list plugins and their states",
     .help = "Lists every plugin dengond found, with its version, its state (active,\n"
             "disabled, start_failed, ...) and, when it is not active, the reason.",
     .method = "core.plugins",
     .print = cli_print_plugins},
    {.name = "plugin enable",
     .args = "ID",
     .summary = "enable a plugin and start it",
     .help = "Enables plugin ID (remembered in the user config file) and starts it now,\n"
             "with the plugins that were waiting for it.",
     .method = "core.plugin.enable",
     .params = {"id"},
     .min_args = 1,
     .max_args = 1,
     .print = cli_print_plugin_action},
    {.name = "plugin disable",
     .args = "ID",
     .summary = "disable a plugin and stop it",
     .help = "Disables plugin ID (remembered in the user config file) and stops it now,\n"
             "after the plugins that depend on it.",
     .method = "core.plugin.disable",
     .params = {"id"},
     .min_args = 1,
     .max_args = 1,
     .print = cli_print_plugin_action},
    {.name = "config get",
     .args = "KEY",
     .summary = "show a config value and where it comes from",
     .help = "Shows the effective value of KEY (dotted, like http.proxyHost), the layer\n"
             "it comes from (default, profile, system, user, policy, cmdline), and\n"
             "whether it is locked by team policy or applied live.",
     .method = "config.get",
     .params = {"key"},
     .min_args = 1,
     .max_args = 1,
     .print = cli_print_config_get},
    {.name = "config set",
     .args = "KEY VALUE",
     .summary = "set a config value in the user config file",
     .help = "Sets KEY to VALUE in the user config file. Keys their owner applies live\n"
             "take effect at once; the others after dengond restarts. Keys locked by team\n"
             "policy cannot be set.",
     .method = "config.set",
     .params = {"key", "value"},
     .min_args = 2,
     .max_args = 2,
     .print = cli_print_config_set},
    {.name = "config list",
     .args = "",
     .summary = "list config keys with values and sources",
     .help = "Lists every known config key with its effective value, the layer it comes\n"
             "from, and its flags: locked (by team policy), live (applied without a\n"
             "restart).",
     .method = "config.list",
     .print = cli_print_config_list},
    {.name = "call",
     .args = "METHOD [JSON]",
     .summary = "call any RPC method, with optional JSON params",
     .help = "Calls METHOD (like core.status) with params given as a JSON object or array\n"
             "(\"-\" reads them from standard input) and prints the result as JSON.\n"
             "Example: dengon call config.get '{\"key\":\"http.proxyHost\"}'",
     .min_args = 1,
     .max_args = 2,
     .build = build_call,
     .print = cli_print_json},
    {0},
};

/*
 * Every command group, in the order `dengon --help` lists them. A feature's
 * commands live in their own commands_<feature>.c; adding a group is one line.
 */
static const cli_command *const groups[] = {
    commands,
    cli_commands_chat,
    cli_commands_licence,
    cli_commands_policy,
    cli_commands_absence,
    cli_commands_users,
    cli_commands_history,
    cli_commands_rooms,
    cli_commands_queue,
    cli_commands_watch,
    cli_commands_files,
    cli_commands_keys,
    NULL,
};

const cli_command *cli_commands(void)
{
    static cli_command all[256];
    static int merged;
    if (!merged) {
        size_t n = 0;
        for (size_t g = 0; groups[g]; g++)
            for (const cli_command *c = groups[g]; c->name; c++)
                if (n + 1 < sizeof all / sizeof all[0])
                    all[n++] = *c;
        merged = 1; /* all[n] stays zeroed: the terminator */
    }
    return all;
}
