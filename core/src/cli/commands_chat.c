/*
 * Chat commands: users, send, inbox, read. They call capability-named methods:
 * users.* of the user directory plugin (users), chat.* of a chat transport.
 */
#include "cli/cli.h"
#include "cli/print.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* users [--all]: online and absent users, or (--all) everybody kept, offline and hidden too. */
static int build_users(const cli_command *cmd, int argc, char **argv, unsigned flags,
                       const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    *params = json_pack("{s:b}", (flags & 1u) ? "all" : "online", 1);
    if (!*params) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

/* Joins argv[0..argc) with single spaces: the words of a MESSAGE given unquoted. */
static json_t *joined_args(int argc, char **argv, char *err, size_t err_len)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *buf = malloc(len);
    if (!buf) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    size_t used = 0;
    for (int i = 0; i < argc; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " " : "", argv[i]);
    json_t *s = cli_string_arg(buf, err, err_len);
    free(buf);
    return s;
}

/*
 * send [--seal] TO... MESSAGE: every argument but the last names a recipient.
 * send --broadcast MESSAGE...: every argument is a word of the message.
 */
static int build_send(const cli_command *cmd, int argc, char **argv, unsigned flags,
                      const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    *params = NULL;
    if (flags & 2u) {
        if (flags & 1u) {
            snprintf(err, err_len, "--seal and --broadcast cannot be combined");
            return -1;
        }
        json_t *words = joined_args(argc, argv, err, err_len);
        *params = words ? json_pack("{s:b, s:o}", "broadcast", 1, "text", words) : NULL;
        if (words && !*params)
            snprintf(err, err_len, "out of memory");
        return *params ? 0 : -1;
    }
    if (argc < 2) {
        snprintf(err, err_len, "'send' needs TO... MESSAGE (or --broadcast MESSAGE)");
        return -1;
    }
    json_t *to = json_array();
    json_t *text = cli_string_arg(argv[argc - 1], err, err_len);
    if (!to || !text) {
        json_decref(to);
        json_decref(text);
        return -1;
    }
    for (int i = 0; i < argc - 1; i++) {
        json_t *s = cli_string_arg(argv[i], err, err_len);
        if (!s) {
            json_decref(to);
            json_decref(text);
            return -1;
        }
        json_array_append_new(to, s);
    }
    *params = json_pack("{s:o, s:o, s:b}", "to", to, "text", text, "wait", 1);
    if (!*params) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (flags & 1u)
        json_object_set_new(*params, "seal", json_true());
    return 0;
}

/* inbox [--unread] */
static int build_inbox(const cli_command *cmd, int argc, char **argv, unsigned flags,
                       const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    *params = (flags & 1u) ? json_pack("{s:b}", "unread", 1) : NULL;
    return 0;
}

const cli_command cli_commands_chat[] = {
    {.name = "users",
     .args = "",
     .summary = "list users on the LAN",
     .help = "Lists the users on the LAN who are online or absent, sorted by priority\n"
             "(highest, high, medium, low), then group, nickname and address, with their\n"
             "nickname, group, status, priority, key (user@host) and address. --all also\n"
             "lists the users kept while offline (for users.offline_days) and the hidden\n"
             "ones (see 'dengon priority'). Needs the users plugin.",
     .method = "users.list",
     .params_help = "{\"online\": true}, or {\"all\": true} with --all",
     .flags = {"--all"},
     .build = build_users,
     .print = cli_print_users},
    {.name = "send",
     .args = "TO... MESSAGE",
     .summary = "send a message and wait for delivery",
     .help = "Sends MESSAGE to every TO (a nickname, user@host, logon name or address\n"
             "a.b.c.d[:port]) and waits until each recipient acknowledged it or failed;\n"
             "prints one line per recipient. --seal sends it sealed: the recipient must\n"
             "open it, and you are told when they do (event chat.message.opened).\n"
             "--broadcast sends to everybody instead: no TO, every argument is a word of\n"
             "the message, and nobody acknowledges it (dengon send --broadcast lunch at\n"
             "noon). Exits with 1 when every recipient failed. A MESSAGE starting with\n"
             "'-' goes after '--': dengon send bob -- '-)'. Needs a chat plugin (ipmsg).",
     .method = "chat.send",
     .params_help = "{\"to\": [TO...], \"text\": MESSAGE, \"seal\": --seal, \"wait\": true}, or "
                    "{\"broadcast\": true, \"text\": MESSAGE} with --broadcast",
     .flags = {"--seal", "--broadcast"},
     .min_args = 1,
     .max_args = INT_MAX,
     .build = build_send,
     .print = cli_print_send,
     .status = cli_status_send},
    {.name = "inbox",
     .args = "",
     .summary = "list received messages",
     .help = "Lists received messages, oldest first: id, time, sender, flags (sealed,\n"
             "opened, auto for automatic replies, broadcast) and the first line of the\n"
             "text. A sealed message shows its text only once opened with 'dengon read\n"
             "ID'. --unread lists only the messages not read yet. Needs a chat plugin (ipmsg).",
     .method = "chat.inbox",
     .params_help = "{\"unread\": true} with --unread, else no params",
     .flags = {"--unread"},
     .build = build_inbox,
     .print = cli_print_inbox},
    {.name = "read",
     .args = "ID",
     .summary = "show a received message in full",
     .help = "Shows message ID of the inbox (see 'dengon inbox') with its sender, time and\n"
             "whole text, and marks it read. Reading a sealed message opens it: the\n"
             "sender is told. Needs a chat plugin (ipmsg).",
     .method = "chat.read",
     .params = {"id"},
     .min_args = 1,
     .max_args = 1,
     .build = cli_build_id,
     .print = cli_print_read},
    {0},
};
