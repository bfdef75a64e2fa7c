/*
 * `dengon watch` output: one line per event. Humans get the local time, the
 * topic and a short payload (a chat message as "from: text"); --json gets the
 * event object itself, one per line, for scripts.
 */
#include "cli/print.h"
#include "cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "HH:MM:SS.mmm" of a wall-clock time in ms, in local time. */
static void clock_text(json_int_t ms, char *buf, size_t len)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    if (ms < 0 || !localtime_r(&secs, &tm)) {
        snprintf(buf, len, "--:--:--.---");
        return;
    }
    snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* "alice@pc" or "bob@pc, carol@pc" from a string or an array of strings; NULL otherwise. */
static char *party_text(const json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (!json_is_array(v) || json_array_size(v) == 0)
        return NULL;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        fprintf(f, "%s%s", i ? ", " : "", json_is_string(item) ? json_string_value(item) : "?");
    }
    fclose(f);
    return out;
}

/* "from alice@pc: hi" / "to bob@pc: hi" for chat.message.* with a text; else NULL. */
static char *chat_text(const char *topic, const json_t *payload)
{
    const char *text = json_string_value(json_object_get(payload, "text"));
    if (strncmp(topic, "chat.message.", 13) != 0 || !text)
        return NULL;
    const char *role = "from";
    char *who = party_text(json_object_get(payload, "from"));
    if (!who) {
        role = "to";
        who = party_text(json_object_get(payload, "to"));
    }
    char *out = NULL;
    if (who && asprintf(&out, "%s %s: %s", role, who, text) < 0)
        out = NULL;
    else if (!who && asprintf(&out, "%s", text) < 0)
        out = NULL;
    free(who);
    return out;
}

void cli_print_watch_event(const json_t *event, int json)
{
    if (json) {
        char *line = json_dumps(event, JSON_COMPACT | JSON_ENCODE_ANY);
        puts(line ? line : "null");
        free(line);
        return;
    }
    const char *topic = json_string_value(json_object_get(event, "topic"));
    json_t *payload = json_object_get(event, "payload");
    char when[32];
    clock_text(json_integer_value(json_object_get(event, "time_ms")), when, sizeof when);
    char *body = topic ? chat_text(topic, payload) : NULL;
    if (!body)
        body = payload ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("");
    /* Topics are validated by the daemon, but a payload may carry anything. */
    char *safe_topic = cli_safe_text(topic ? topic : "?");
    char *safe_body = cli_safe_text(body ? body : "");
    printf("%s %s %s\n", when, safe_topic ? safe_topic : "?", safe_body ? safe_body : "");
    free(safe_topic);
    free(safe_body);
    free(body);
}
