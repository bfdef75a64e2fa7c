/*
 * Human output of the room commands (results of the room.* methods,
 * docs/protocol/rooms.md). Like print.c, every printer tolerates missing
 * fields and falls back to the JSON for unexpected shapes. Names and texts
 * come from other people: everything goes through cli_safe_text.
 */
#include "cli/print.h"

#include "cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A member's display name: the nickname, else the key. */
static const char *member_name(const json_t *m)
{
    const char *n = cli_nonempty_field(m, "nickname");
    return n ? n : cli_nonempty_field(m, "key") ? cli_nonempty_field(m, "key") : "?";
}

/* "Alice, Bob (you), Carol" into buf. */
static void member_names(const json_t *members, char *buf, size_t len)
{
    size_t used = 0, i;
    const json_t *m;
    buf[0] = '\0';
    json_array_foreach(members, i, m)
    {
        if (used >= len)
            break;
        used += (size_t)snprintf(buf + used, len - used, "%s%s%s", i ? ", " : "", member_name(m),
                                 json_is_true(json_object_get(m, "me")) ? " (you)" : "");
    }
}

/* "#general (public, 3 members: Alice, Bob, Carol)" */
static void room_line(const json_t *r, char *buf, size_t len)
{
    const json_t *members = json_object_get(r, "members");
    char names[768];
    member_names(members, names, sizeof names);
    size_t n = json_array_size(members);
    snprintf(buf, len, "#%s (%s, %zu member%s%s%s)",
             cli_nonempty_field(r, "name") ? cli_nonempty_field(r, "name") : "?",
             json_is_true(json_object_get(r, "private")) ? "private" : "public", n,
             n == 1 ? "" : "s", n ? ": " : "", names);
}

/* create, join, leave: the room as it is now. */
void cli_print_room(const cli_command *cmd, int argc, char **argv, unsigned flags,
                    const json_t *result)
{
    if (!json_is_object(result) || !cli_nonempty_field(result, "id")) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    const char *verb = strstr(cmd->name, "create")  ? "created"
                       : strstr(cmd->name, "leave") ? "left"
                       : strstr(cmd->name, "join")  ? "joined"
                                                    : "room";
    char line[1024], desc[900];
    room_line(result, desc, sizeof desc);
    snprintf(line, sizeof line, "%s %s", verb, desc);
    cli_put_safe(line);
    snprintf(line, sizeof line, "id %s", cli_nonempty_field(result, "id"));
    cli_put_safe(line);
}

void cli_print_room_invite(const cli_command *cmd, int argc, char **argv, unsigned flags,
                           const json_t *result)
{
    const json_t *invited = json_object_get(result, "invited");
    const json_t *room = json_object_get(result, "room");
    if (!json_is_array(invited) || !json_is_object(room)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    const char *name = cli_nonempty_field(room, "name") ? cli_nonempty_field(room, "name") : "?";
    char line[1024], names[768];
    if (json_array_size(invited) > 0) {
        member_names(invited, names, sizeof names);
        snprintf(line, sizeof line, "invited %s to #%s", names, name);
        cli_put_safe(line);
    }
    const json_t *already = json_object_get(result, "already");
    size_t i;
    const json_t *a;
    json_array_foreach(already, i, a)
    {
        snprintf(line, sizeof line, "%s is already a member of #%s",
                 json_string_value(a) ? json_string_value(a) : "?", name);
        cli_put_safe(line);
    }
    json_int_t unreachable = json_integer_value(json_object_get(result, "unreachable"));
    if (unreachable > 0)
        printf("%lld member%s offline: told when they come back online\n", (long long)unreachable,
               unreachable == 1 ? " is" : "s are");
}

void cli_print_rooms(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const json_t *result)
{
    if (!json_is_array(result)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    if (json_array_size(result) == 0) {
        puts("no rooms yet; 'dengon room create NAME' creates one");
        return;
    }
    static const char *const headers[] = {"ROOM", "TYPE", "STATE", "MEMBERS", "LAST", "ID"};
    cli_table *t = cli_table_new(6, headers);
    if (!t)
        return;
    size_t i;
    const json_t *r;
    json_array_foreach(result, i, r)
    {
        char name[160], members[32], last[64];
        snprintf(name, sizeof name, "#%s",
                 cli_nonempty_field(r, "name") ? cli_nonempty_field(r, "name") : "?");
        snprintf(members, sizeof members, "%zu", json_array_size(json_object_get(r, "members")));
        const char *state = cli_nonempty_field(r, "state");
        const char *cells[6] = {name,
                                json_is_true(json_object_get(r, "private")) ? "private" : "public",
                                state ? state : "-",
                                members,
                                cli_short_time(json_object_get(r, "last"), last, sizeof last),
                                cli_nonempty_field(r, "id") ? cli_nonempty_field(r, "id") : "-"};
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
}

void cli_print_room_say(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const json_t *result)
{
    if (!json_is_object(result) || !json_is_integer(json_object_get(result, "seq"))) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    json_int_t sent = json_integer_value(json_object_get(result, "sent"));
    json_int_t unreachable = json_integer_value(json_object_get(result, "unreachable"));
    char line[512];
    snprintf(line, sizeof line, "posted to #%s: sent to %lld member%s",
             cli_nonempty_field(result, "room_name") ? cli_nonempty_field(result, "room_name")
                                                     : "?",
             (long long)sent, sent == 1 ? "" : "s");
    cli_put_safe(line);
    if (unreachable > 0)
        printf("%lld member%s offline: they get it when they come back online\n",
               (long long)unreachable, unreachable == 1 ? " is" : "s are");
}

/* One log entry: "[12:03] Alice: text" (more lines indented), or "* Bob joined". */
static void print_entry(const json_t *m)
{
    char stamp[64], line[1024];
    const char *kind = cli_nonempty_field(m, "kind");
    const char *who = cli_nonempty_field(m, "nickname") ? cli_nonempty_field(m, "nickname")
                      : cli_nonempty_field(m, "from")   ? cli_nonempty_field(m, "from")
                                                        : "?";
    cli_short_time(json_object_get(m, "time"), stamp, sizeof stamp);
    if (!kind || strcmp(kind, "post") != 0) {
        char names[768] = "";
        if (kind && strcmp(kind, "invite") == 0)
            member_names(json_object_get(m, "invited"), names, sizeof names);
        snprintf(line, sizeof line, "[%s] * %s %s%s", stamp, who,
                 !kind                         ? "did something"
                 : strcmp(kind, "join") == 0   ? "joined"
                 : strcmp(kind, "leave") == 0  ? "left"
                 : strcmp(kind, "invite") == 0 ? "invited "
                                               : kind,
                 names);
        cli_put_safe(line);
        return;
    }
    const char *text = json_string_value(json_object_get(m, "text"));
    text = text ? text : "";
    /* The first line after the name, the others indented under it. */
    const char *p = text;
    int first = 1;
    do {
        size_t n = strcspn(p, "\n");
        if (first)
            snprintf(line, sizeof line, "[%s] %s: %.*s", stamp, who, (int)n, p);
        else
            snprintf(line, sizeof line, "    %.*s", (int)n, p);
        cli_put_safe(line);
        first = 0;
        p += n + (p[n] == '\n');
    } while (*p);
}

void cli_print_room_log(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const json_t *result)
{
    const json_t *room = json_object_get(result, "room");
    const json_t *msgs = json_object_get(result, "messages");
    if (!json_is_object(room) || !json_is_array(msgs)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    char desc[900];
    room_line(room, desc, sizeof desc);
    cli_put_safe(desc);
    const char *state = cli_nonempty_field(room, "state");
    if (state && strcmp(state, "member") != 0)
        printf("(you are not a member: %s)\n", state);
    if (json_array_size(msgs) == 0)
        puts("no messages yet");
    size_t i;
    const json_t *m;
    json_array_foreach(msgs, i, m) print_entry(m);
}
