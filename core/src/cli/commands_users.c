/*
 * User directory commands: priority, forget. They call the users.* methods
 * of a directory plugin (users); `dengon users` itself is in commands_chat.c.
 */
#include "cli/cli.h"
#include "cli/print.h"

const cli_command cli_commands_users[] = {
    {.name = "priority",
     .args = "USER LEVEL",
     .summary = "set a user's priority, or hide them",
     .help = "Sets the priority of USER (a nickname, user@host or address) to LEVEL:\n"
             "highest, high, medium or low. 'dengon users' lists users by priority, then\n"
             "group, nickname and address. LEVEL hidden takes the user out of the list\n"
             "(they still show with 'dengon users --all'); any other level brings them\n"
             "back. A low user becomes medium after the first message either way. The\n"
             "choice is kept across restarts and a move to a new PC. Needs the users\n"
             "plugin.",
     .method = "users.priority",
     .params = {"user", "level"},
     .min_args = 2,
     .max_args = 2,
     .print = cli_print_priority},
    {.name = "forget",
     .args = "USER",
     .summary = "remove a user from the user list now",
     .help = "Removes USER (a nickname, user@host or address) from the user list with\n"
             "its priority, as if not seen for users.offline_days. Someone still on the\n"
             "LAN comes back as a new user when they next announce themselves; to keep\n"
             "someone out of the list, use 'dengon priority USER hidden'. Needs the users\n"
             "plugin.",
     .method = "users.forget",
     .params = {"user"},
     .min_args = 1,
     .max_args = 1,
     .print = cli_print_forget},
    {0},
};
