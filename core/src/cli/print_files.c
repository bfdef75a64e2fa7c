/*
 * Human output of the file transfer commands (files.* methods,
 * docs/protocol/files-plugin.md). Missing fields fall back to "?".
 */
#include "cli/print.h"

#include <stdio.h>
#include <string.h>

static const char *field(const json_t *o, const char *key)
{
    const char *v = cli_nonempty_field(o, key);
    return v ? v : "?";
}

void cli_print_files_sent(const cli_command *cmd, int argc, char **argv, unsigned flags,
                          const json_t *result)
{
    printf("offer %lld sent: %zu item(s), %lld bytes\n",
           (long long)json_integer_value(json_object_get(result, "id")),
           json_array_size(json_object_get(result, "files")),
           (long long)json_integer_value(json_object_get(result, "total")));
}

void cli_print_files_id(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const json_t *result)
{
    printf("%s %lld\n", strcmp(cmd->name, "accept") == 0 ? "downloading offer" : "rejected offer",
           (long long)json_integer_value(json_object_get(result, "id")));
}

/* The names in an attach list "<id>:<name>:...:\a" (first 3, then "..."). */
static void names(const char *attach)
{
    int n = 0;
    for (const char *p = attach; p && *p && n < 4; n++) {
        const char *s = strchr(p, ':');
        if (!s)
            break;
        const char *e = s + 1;
        while (*e && !(e[0] == ':' && e[1] != ':'))
            e += e[0] == ':' ? 2 : 1;
        printf("%s%.*s", n ? ", " : "  ", n < 3 ? (int)(e - s - 1) : 3, n < 3 ? s + 1 : "...");
        const char *next = strchr(e, '\a');
        p = next ? next + 1 : NULL;
        while (p && *p == ':')
            p++;
    }
}

void cli_print_files(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const json_t *result)
{
    const json_t *offers = json_object_get(result, "offers");
    const json_t *dls = json_object_get(result, "downloads");
    const json_t *shares = json_object_get(result, "shares");
    size_t i;
    const json_t *o;
    if (json_array_size(offers) == 0)
        printf("no offers received\n");
    json_array_foreach(offers, i, o)
    {
        printf("%4lld  %-11s %s", (long long)json_integer_value(json_object_get(o, "id")),
               field(o, "state"), field(o, "from"));
        names(json_string_value(json_object_get(o, "attachments")));
        const json_t *d;
        size_t k;
        json_array_foreach(dls, k, d)
        {
            if (json_integer_value(json_object_get(d, "id")) !=
                json_integer_value(json_object_get(o, "id")))
                continue;
            long long b = json_integer_value(json_object_get(d, "bytes"));
            long long t = json_integer_value(json_object_get(d, "total"));
            printf("  %lld/%lld bytes (%lld%%)", b, t, t > 0 ? b * 100 / t : 0);
        }
        if (cli_nonempty_field(o, "error"))
            printf("\n      %s", field(o, "error"));
        printf("\n");
    }
    json_array_foreach(shares, i, o)
    {
        printf("sent %lld: %zu item(s) to %zu recipient(s), still fetchable\n",
               (long long)json_integer_value(json_object_get(o, "id")),
               json_array_size(json_object_get(o, "files")),
               json_array_size(json_object_get(o, "recipients")));
    }
}
