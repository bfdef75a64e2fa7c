/*
 * Offline queue commands: queue (list), queue send, queue discard. They call
 * the queue.* methods an offline queue plugin registers (plugins/outbox,
 * docs/protocol/rooms.md "Offline queue").
 *
 * `dengon send` delivers now or fails; `dengon queue send` is the explicit
 * "deliver whenever they are back" (docs/adr/0008-rooms-and-offline-queue.md).
 */
#include "cli/cli.h"
#include "cli/print.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* queue [--all] and queue list [--all] */
static int build_list(const cli_command *cmd, int argc, char **argv, unsigned flags,
                      const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    *params = (flags & 1u) ? json_pack("{s:b}", "all", 1) : NULL;
    return 0;
}

/* queue send [--seal] TO... MESSAGE: every argument but the last names a recipient. */
static int build_send(const cli_command *cmd, int argc, char **argv, unsigned flags,
                      const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    *params = NULL;
    json_t *to = json_array();
    json_t *text = cli_string_arg(argv[argc - 1], err, err_len);
    if (!to || !text)
        goto fail;
    for (int i = 0; i < argc - 1; i++) {
        json_t *s = cli_string_arg(argv[i], err, err_len);
        if (!s)
            goto fail;
        json_array_append_new(to, s);
    }
    *params = json_pack("{s:o, s:o, s:b}", "to", to, "text", text, "seal", (flags & 1u) != 0);
    if (!*params)
        snprintf(err, err_len, "out of memory");
    return *params ? 0 : -1;
fail:
    json_decref(to);
    json_decref(text);
    return -1;
}

#define QUEUE_LIST_HELP                                                                            \
    "Lists the messages waiting in the offline queue, oldest first: id, when it\n"                 \
    "was queued, the recipient, its state (queued, or sending while the recipient\n"               \
    "is acknowledging it), the attempts so far and the first line of the text.\n"                  \
    "--all also lists the delivered, failed and discarded ones of the last\n"                      \
    "outbox.keep_days days. See also: dengon queue send, dengon queue discard.\n"                  \
    "Needs the outbox plugin."

const cli_command cli_commands_queue[] = {
    {.name = "queue",
     .args = "",
     .summary = "list messages waiting for offline users",
     .help = QUEUE_LIST_HELP,
     .method = "queue.list",
     .params_help = "{\"all\": true} with --all, else no params",
     .flags = {"--all"},
     .build = build_list,
     .print = cli_print_queue},
    {.name = "queue list",
     .args = "",
     .summary = "list messages waiting for offline users",
     .help = QUEUE_LIST_HELP,
     .method = "queue.list",
     .params_help = "{\"all\": true} with --all, else no params",
     .flags = {"--all"},
     .build = build_list,
     .print = cli_print_queue},
    {.name = "queue send",
     .args = "TO... MESSAGE",
     .summary = "send a message now or whenever its recipients come online",
     .help = "Keeps MESSAGE on disk for every TO (a nickname or user@host of a user seen\n"
             "on the LAN, online or not) and sends it, after the messages queued before it,\n"
             "as soon as that user is online: at once if they are. It survives restarts\n"
             "of this daemon. --seal sends it sealed. A MESSAGE starting with '-' goes\n"
             "after '--'. Needs the outbox plugin.",
     .method = "queue.send",
     .params_help = "{\"to\": [TO...], \"text\": MESSAGE, \"seal\": --seal}",
     .flags = {"--seal"},
     .min_args = 2,
     .max_args = INT_MAX,
     .build = build_send,
     .print = cli_print_queue_send},
    {.name = "queue discard",
     .args = "ID",
     .summary = "drop a queued message",
     .help = "Drops message ID (see 'dengon queue') from the offline queue so it is never\n"
             "sent. A message being sent at that moment may still arrive; the command\n"
             "says so. Needs the outbox plugin.",
     .method = "queue.discard",
     .params = {"id"},
     .min_args = 1,
     .max_args = 1,
     .build = cli_build_id,
     .print = cli_print_queue_discard},
    {0},
};
