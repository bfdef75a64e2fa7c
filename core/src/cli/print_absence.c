/*
 * Human output of the absence commands (result of chat.absence, see
 * docs/protocol/ipmsg-plugin.md). Tolerates missing fields; falls back to the
 * JSON for unexpected shapes.
 */
#include "cli/print.h"

#include "cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void put_safe(const char *label, const char *text)
{
    char *safe = cli_safe_text(text);
    printf("%s%s\n", label, safe ? safe : "?");
    free(safe);
}

void cli_print_absence(const cli_command *cmd, int argc, char **argv, unsigned flags,
                       const json_t *result)
{
    const json_t *absent = json_object_get(result, "absent");
    if (!json_is_boolean(absent)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    const char *text = json_string_value(json_object_get(result, "text"));
    const char *title = json_string_value(json_object_get(result, "title"));
    const char *reason = json_string_value(json_object_get(result, "reason"));
    json_int_t auto_s = json_integer_value(json_object_get(result, "auto_absence_s"));
    if (json_is_true(absent)) {
        char when[64] = "";
        const json_t *since = json_object_get(result, "since");
        time_t t = (time_t)json_integer_value(since);
        struct tm tm;
        if (json_is_integer(since) && localtime_r(&t, &tm))
            strftime(when, sizeof when, " since %Y-%m-%d %H:%M", &tm);
        printf("absent%s%s%s\n", when, reason ? ", " : "", reason ? reason : "");
        if (title && *title)
            put_safe("title: ", title);
        if (text)
            put_safe("automatic reply: ", *text ? text : "(none: the text is empty)");
    } else {
        puts("present");
    }
    if (auto_s > 0)
        printf("auto-absence after %lld:%02lld min without sending or reading\n",
               (long long)(auto_s / 60), (long long)(auto_s % 60));
}
