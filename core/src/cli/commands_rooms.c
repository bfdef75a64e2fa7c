/*
 * Room commands: room create, invite, join, leave, list, say, log. They call
 * the room.* methods a rooms plugin registers (plugins/rooms,
 * docs/protocol/rooms.md). ROOM is a room name (with or without '#') or id.
 */
#include "cli/cli.h"
#include "cli/print.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Flags of `room log`, by index in its flags[]. */
enum { ROOM_LOG_LIMIT };

/* room create [--private] NAME */
static int build_create(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    json_t *name = cli_string_arg(argv[0], err, err_len);
    *params = name ? json_pack("{s:o, s:b}", "name", name, "private", (flags & 1u) != 0) : NULL;
    if (name && !*params)
        snprintf(err, err_len, "out of memory");
    return *params ? 0 : -1;
}

/* room invite ROOM USER...: every argument after ROOM names a user. */
static int build_invite(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    *params = NULL;
    json_t *room = cli_string_arg(argv[0], err, err_len);
    json_t *users = json_array();
    if (!room || !users)
        goto fail;
    for (int i = 1; i < argc; i++) {
        json_t *u = cli_string_arg(argv[i], err, err_len);
        if (!u)
            goto fail;
        json_array_append_new(users, u);
    }
    *params = json_pack("{s:o, s:o}", "room", room, "users", users);
    if (!*params)
        snprintf(err, err_len, "out of memory");
    return *params ? 0 : -1;
fail:
    json_decref(room);
    json_decref(users);
    return -1;
}

/* room log ROOM [--limit N] */
static int build_log(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    json_t *room = cli_string_arg(argv[0], err, err_len);
    *params = room ? json_pack("{s:o}", "room", room) : NULL;
    if (!*params)
        return -1;
    const char *limit = cli_flag_value(ROOM_LOG_LIMIT);
    if (limit) {
        char *end;
        errno = 0;
        long long n = strtoll(limit, &end, 10);
        if (limit[0] < '0' || limit[0] > '9' || *end || errno || n < 1 || n > 100000) {
            snprintf(err, err_len,
                     "--limit needs a number of messages from 1 to 100000, not '%.40s'", limit);
            json_decref(*params);
            *params = NULL;
            return -1;
        }
        json_object_set_new(*params, "limit", json_integer(n));
    }
    return 0;
}

const cli_command cli_commands_rooms[] = {
    {.name = "room create",
     .args = "NAME",
     .summary = "create a chat room and join it",
     .help = "Creates the room NAME (1 to 64 bytes, no spaces) and makes you its first\n"
             "member. A public room is announced to the dengon peers online and anyone\n"
             "can join it by name; a --private room is seen only by the members you\n"
             "invite. Rooms work among dengon peers (not plain IP Messenger clients).\n"
             "Needs the rooms plugin.",
     .method = "room.create",
     .params_help = "{\"name\": NAME, \"private\": --private}",
     .flags = {"--private"},
     .min_args = 1,
     .max_args = 1,
     .build = build_create,
     .print = cli_print_room},
    {.name = "room invite",
     .args = "ROOM USER...",
     .summary = "add users to a room",
     .help = "Adds every USER (a nickname, user@host or address of a dengon peer) to\n"
             "ROOM (a name or an id). Any member may invite; the new members get the\n"
             "room's history from the others. Needs the rooms plugin.",
     .method = "room.invite",
     .params_help = "{\"room\": ROOM, \"users\": [USER...]}",
     .min_args = 2,
     .max_args = INT_MAX,
     .build = build_invite,
     .print = cli_print_room_invite},
    {.name = "room join",
     .args = "ROOM",
     .summary = "join a public room by name",
     .help = "Joins the public room ROOM: the dengon peers online are asked who is in a\n"
             "room of that name (waiting up to rooms.join_timeout_ms), then you join and\n"
             "receive its history. Private rooms need an invitation. Needs the rooms\n"
             "plugin.",
     .method = "room.join",
     .params = {"room"},
     .min_args = 1,
     .max_args = 1,
     .print = cli_print_room},
    {.name = "room leave",
     .args = "ROOM",
     .summary = "leave a room",
     .help = "Leaves ROOM: the other members stop sending you its messages. Its history\n"
             "stays readable here with 'dengon room log'. Needs the rooms plugin.",
     .method = "room.leave",
     .params = {"room"},
     .min_args = 1,
     .max_args = 1,
     .print = cli_print_room},
    {.name = "room list",
     .args = "",
     .summary = "list rooms",
     .help = "Lists the rooms this node knows: the ones you are a member of, the ones you\n"
             "left, and public rooms others announced that you can join. Needs the rooms\n"
             "plugin.",
     .method = "room.list",
     .print = cli_print_rooms},
    {.name = "room say",
     .args = "ROOM TEXT",
     .summary = "post a message to a room",
     .help = "Posts TEXT to ROOM. Members online get it now; the others when they come\n"
             "back online. A TEXT starting with '-' goes after '--':\n"
             "dengon room say general -- '-)'. Needs the rooms plugin.",
     .method = "room.say",
     .params = {"room", "text"},
     .min_args = 2,
     .max_args = 2,
     .print = cli_print_room_say},
    {.name = "room log",
     .args = "ROOM",
     .summary = "show a room's messages",
     .help = "Shows the last messages of ROOM (200, or --limit N) with joins, leaves and\n"
             "invitations, in the room's order: every member sees the same order, whatever\n"
             "order the messages arrived in. Needs the rooms plugin.",
     .method = "room.log",
     .params_help = "{\"room\": ROOM, \"limit\": N}",
     .flags = {"--limit N"},
     .min_args = 1,
     .max_args = 1,
     .build = build_log,
     .print = cli_print_room_log},
    {0},
};
