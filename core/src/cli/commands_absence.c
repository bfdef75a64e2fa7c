/*
 * Absence commands: absence on [TEXT...], absence off, absence status. They
 * call chat.absence, which a chat transport plugin registers (ipmsg).
 */
#include "cli/cli.h"
#include "cli/print.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* absence on [TEXT...]: the words, joined by spaces, are the absence text. */
static int build_on(const cli_command *cmd, int argc, char **argv, unsigned flags,
                    const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    *params = json_pack("{s:b}", "on", 1);
    if (!*params) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (argc == 0)
        return 0;
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *text = malloc(len);
    if (!text) {
        json_decref(*params);
        *params = NULL;
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    size_t used = 0;
    for (int i = 0; i < argc; i++)
        used += (size_t)snprintf(text + used, len - used, "%s%s", i ? " " : "", argv[i]);
    json_t *s = cli_string_arg(text, err, err_len);
    free(text);
    if (!s) {
        json_decref(*params);
        *params = NULL;
        return -1;
    }
    json_object_set_new(*params, "text", s);
    return 0;
}

static int build_off(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    *params = json_pack("{s:b}", "on", 0);
    if (!*params) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

const cli_command cli_commands_absence[] = {
    {.name = "absence on",
     .args = "[TEXT...]",
     .summary = "go absent, with an automatic reply",
     .help = "Turns absence mode on: peers see you as absent, with the absence title after\n"
             "your nickname (ipmsg.absence_title, as Windows IP Messenger shows it), and\n"
             "direct messages are answered automatically with TEXT (the words joined by\n"
             "spaces; without TEXT, ipmsg.absence_text). It stays on until 'dengon absence\n"
             "off' or a restart; ipmsg.absence=true in the config makes it permanent.\n"
             "Needs a chat plugin (ipmsg).",
     .method = "chat.absence",
     .params_help = "{\"on\": true, \"text\": TEXT} (no text without TEXT)",
     .min_args = 0,
     .max_args = INT_MAX,
     .build = build_on,
     .print = cli_print_absence},
    {.name = "absence off",
     .args = "",
     .summary = "come back from absence",
     .help = "Turns absence mode off: peers see you as present again and messages are no\n"
             "longer answered automatically. Needs a chat plugin (ipmsg).",
     .method = "chat.absence",
     .params_help = "{\"on\": false}",
     .build = build_off,
     .print = cli_print_absence},
    {.name = "absence status",
     .args = "",
     .summary = "show whether you are absent, and why",
     .help = "Shows whether absence mode is on, since when and why (config, manual, or idle\n"
             "time: ipmsg.auto_absence_minutes without sending or reading a message), with\n"
             "the absence text and title. Needs a chat plugin (ipmsg).",
     .method = "chat.absence",
     .params_help = "no params",
     .print = cli_print_absence},
    {0},
};
