/*
 * Human output of the user directory commands: priority, forget (results:
 * the user object of users.get, plugins/users/README.md). Like print.c, the
 * printers tolerate missing fields and fall back to the JSON.
 */
#include "cli/print.h"

#include "cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *text_field(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

/* "Bob (bob@host)", or the one of the two that is known. */
static void who(const json_t *u, char *buf, size_t len)
{
    const char *nick = text_field(u, "nickname"), *key = text_field(u, "key");
    if (nick && key && strcmp(nick, key) != 0)
        snprintf(buf, len, "%s (%s)", nick, key);
    else
        snprintf(buf, len, "%s", nick ? nick : key ? key : "?");
}

void cli_print_priority(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const json_t *result)
{
    const char *level = text_field(result, "priority");
    if (!json_is_object(result) || !level) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    char name[512], line[1200];
    who(result, name, sizeof name);
    if (json_is_true(json_object_get(result, "hidden")))
        snprintf(line, sizeof line,
                 "%s: hidden (listed by 'dengon users --all'; 'dengon priority %s %s' shows "
                 "them again)",
                 name, text_field(result, "key") ? text_field(result, "key") : "USER", level);
    else
        snprintf(line, sizeof line, "%s: %s", name, level);
    cli_put_safe(line);
}

void cli_print_forget(const cli_command *cmd, int argc, char **argv, unsigned flags,
                      const json_t *result)
{
    if (!json_is_object(result)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    char name[512], line[600];
    who(result, name, sizeof name);
    snprintf(line, sizeof line, "forgot %s", name);
    cli_put_safe(line);
}
