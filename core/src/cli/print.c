/* Human output of command results (see print.h). */
#include "cli/print.h"

#include "cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers ---- */

/* Text for a JSON value: strings as-is, null as NULL, anything else as compact JSON. New. */
static char *value_text(const json_t *v)
{
    if (!v || json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static const char *str_field(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* "k v, k v" for an object of counters (nested values as compact JSON). New. */
static char *flatten(const json_t *obj)
{
    if (!json_is_object(obj))
        return value_text(obj);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    const char *key;
    json_t *v;
    int first = 1;
    json_object_foreach((json_t *)obj, key, v)
    {
        char *text = value_text(v);
        fprintf(f, "%s%s %s", first ? "" : ", ", key, text ? text : "-");
        free(text);
        first = 0;
    }
    fclose(f);
    return out;
}

/* Label/value lines, values aligned: a two-column table without a header. */
static cli_table *kv_new(void)
{
    return cli_table_new(2, NULL);
}

static void kv_add(cli_table *kv, const char *label, const char *value)
{
    const char *cells[2] = {label, value ? value : "-"};
    cli_table_add(kv, cells);
}

static void kv_add_owned(cli_table *kv, const char *label, char *value)
{
    kv_add(kv, label, value);
    free(value);
}

static void kv_print(cli_table *kv)
{
    cli_table_print(kv, stdout);
    cli_table_free(kv);
}

static int in_list(const char *key, const char *const *keys)
{
    for (size_t i = 0; keys[i]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

/* Members of obj not named in known, in the daemon's order: new fields still show. */
static void kv_add_rest(cli_table *kv, const json_t *obj, const char *const *known)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!in_list(key, known))
            kv_add_owned(kv, key, flatten(v));
    }
}

static void format_uptime(long long ms, char *buf, size_t len)
{
    long long s = ms / 1000;
    long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
    if (d > 0)
        snprintf(buf, len, "%lldd %lldh %02lldm", d, h, m);
    else if (h > 0)
        snprintf(buf, len, "%lldh %02lldm %02llds", h, m, sec);
    else if (m > 0)
        snprintf(buf, len, "%lldm %02llds", m, sec);
    else
        snprintf(buf, len, "%llds", sec);
}

/* "locked, live" style flags of a config entry; "-" when none. */
static const char *config_flags(const json_t *entry, char *buf, size_t len)
{
    int locked = json_is_true(json_object_get(entry, "locked"));
    int live = json_is_true(json_object_get(entry, "live"));
    snprintf(buf, len, "%s%s%s", locked ? "locked" : "", locked && live ? "," : "",
             live ? "live" : "");
    return buf[0] ? buf : "-";
}

/* ---- printers ---- */

void cli_print_json(const cli_command *cmd, int argc, char **argv, unsigned flags,
                    const json_t *result)
{
    char *text = json_dumps(result, JSON_INDENT(2) | JSON_ENCODE_ANY);
    puts(text ? text : "null");
    free(text);
}

void cli_print_status(const cli_command *cmd, int argc, char **argv, unsigned flags,
                      const json_t *result)
{
    static const char *const head[] = {"version", "pid",     "uptime_ms", "home",
                                       "socket",  "profile", "allocator", NULL};
    static const char *const sections[] = {"plugins", "bus", "control", NULL};
    static const char *const known[] = {"version", "pid",     "uptime_ms", "home",
                                        "socket",  "profile", "allocator", "plugins",
                                        "bus",     "control", NULL};
    cli_table *kv = json_is_object(result) ? kv_new() : NULL;
    if (!kv) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    for (size_t i = 0; head[i]; i++) {
        const char *key = head[i];
        json_t *v = json_object_get(result, key);
        if (strcmp(key, "uptime_ms") == 0) {
            if (json_is_integer(v)) {
                char up[64];
                format_uptime((long long)json_integer_value(v), up, sizeof up);
                kv_add(kv, "uptime", up);
            }
        } else if (strcmp(key, "home") == 0 && json_is_null(v)) {
            kv_add(kv, key, "(XDG directories)");
        } else if (v) {
            kv_add_owned(kv, key, value_text(v));
        }
    }
    for (size_t i = 0; sections[i]; i++) {
        json_t *v = json_object_get(result, sections[i]);
        if (v)
            kv_add_owned(kv, sections[i], flatten(v));
    }
    kv_add_rest(kv, result, known);
    kv_print(kv);
}

void cli_print_whoami(const cli_command *cmd, int argc, char **argv, unsigned flags,
                      const json_t *result)
{
    static const char *const known[] = {"nickname", "user",      "host",   "group", "lan_key",
                                        "uuid",     "cloud_key", "tenant", NULL};
    cli_table *kv = json_is_object(result) ? kv_new() : NULL;
    if (!kv) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    for (size_t i = 0; known[i]; i++) {
        json_t *v = json_object_get(result, known[i]);
        if (v)
            kv_add_owned(kv, known[i], value_text(v));
    }
    kv_add_rest(kv, result, known);
    kv_print(kv);
}

void cli_print_plugins(const cli_command *cmd, int argc, char **argv, unsigned flags,
                       const json_t *result)
{
    if (!json_is_array(result)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    if (json_array_size(result) == 0) {
        puts("no plugins found");
        return;
    }
    static const char *const headers[] = {"ID", "VERSION", "STATE", "REASON"};
    static const char *const keys[] = {"id", "version", "state", "reason"};
    /* Premium plugins add a LICENCE column: licensed, trial (seconds left), locked. */
    static const char *const premium_headers[] = {"ID", "VERSION", "STATE", "LICENCE", "REASON"};
    size_t i;
    json_t *p;
    int premium = 0;
    json_array_foreach(result, i, p)
    {
        premium |= json_is_object(json_object_get(p, "licence"));
    }
    size_t ncols = premium ? 5 : 4;
    cli_table *t = cli_table_new(ncols, premium ? premium_headers : headers);
    if (!t)
        return;
    json_array_foreach(result, i, p)
    {
        char *cells[5];
        char licence[64] = "-";
        for (size_t k = 0; k < 4; k++)
            cells[k] = value_text(json_object_get(p, keys[k]));
        if (json_is_object(json_object_get(p, "licence")))
            cli_licence_state_text(json_object_get(p, "licence"), licence, sizeof licence);
        if (premium) {
            cells[4] = cells[3];
            cells[3] = strdup(licence);
        }
        cli_table_add(t, (const char *const *)cells);
        for (size_t k = 0; k < ncols; k++)
            free(cells[k]);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
}

void cli_print_plugin_action(const cli_command *cmd, int argc, char **argv, unsigned flags,
                             const json_t *result)
{
    const char *msg =
        json_is_string(result) ? json_string_value(result) : str_field(result, "message");
    const char *state = str_field(result, "state");
    char *safe = cli_safe_text(msg ? msg : state);
    if (msg)
        puts(safe ? safe : "");
    else if (state)
        printf("%s: %s\n", argc > 0 ? argv[0] : "plugin", safe ? safe : "");
    else
        puts("ok");
    free(safe);
}

void cli_print_config_get(const cli_command *cmd, int argc, char **argv, unsigned flags,
                          const json_t *result)
{
    if (!json_is_object(result)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    const char *key = str_field(result, "key");
    char *value = value_text(json_object_get(result, "value"));
    char *safe_key = cli_safe_text(key ? key : (argc > 0 ? argv[0] : "?"));
    char *safe_value = value ? cli_safe_text(value) : NULL;
    printf("%s = %s\n", safe_key ? safe_key : "", safe_value ? safe_value : "(unset)");
    free(safe_key);
    free(safe_value);
    free(value);

    /* Second line: where the value comes from and how changes apply. */
    char *details = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&details, &len);
    if (!f)
        return;
    static const char *const keys[] = {"source", "type", "owner", NULL};
    const char *sep = "";
    for (size_t i = 0; keys[i]; i++) {
        const char *v = str_field(result, keys[i]);
        if (v) {
            fprintf(f, "%s%s %s", sep, keys[i], v);
            sep = ", ";
        }
    }
    if (json_is_true(json_object_get(result, "locked"))) {
        fprintf(f, "%slocked by policy", sep);
        sep = ", ";
    }
    json_t *live = json_object_get(result, "live");
    if (json_is_boolean(live))
        fprintf(f, "%s%s", sep, json_is_true(live) ? "applied live" : "applied after a restart");
    fclose(f);
    if (details && details[0]) {
        char *safe = cli_safe_text(details);
        printf("  (%s)\n", safe ? safe : "");
        free(safe);
    }
    free(details);
}

void cli_print_config_set(const cli_command *cmd, int argc, char **argv, unsigned flags,
                          const json_t *result)
{
    const char *msg = str_field(result, "message");
    const char *how = str_field(result, "result");
    if (!msg && how)
        msg = strcmp(how, "live") == 0      ? "applied live"
              : strcmp(how, "restart") == 0 ? "saved; restart dengond to apply"
                                            : how;
    char *safe = cli_safe_text(msg ? msg : "saved");
    puts(safe ? safe : "");
    free(safe);
}

void cli_print_config_list(const cli_command *cmd, int argc, char **argv, unsigned flags,
                           const json_t *result)
{
    if (!json_is_array(result)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    static const char *const headers[] = {"KEY", "VALUE", "SOURCE", "FLAGS"};
    cli_table *t = cli_table_new(4, headers);
    if (!t)
        return;
    size_t i;
    json_t *e;
    json_array_foreach(result, i, e)
    {
        char fl[32];
        char *value = value_text(json_object_get(e, "value"));
        const char *cells[4] = {str_field(e, "key"), value ? value : "(unset)",
                                str_field(e, "source"), config_flags(e, fl, sizeof fl)};
        cli_table_add(t, cells);
        free(value);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
}

/* ---- shared by the feature printers ---- */

const char *cli_nonempty_field(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

void cli_put_safe(const char *line)
{
    char *safe = cli_safe_text(line);
    puts(safe ? safe : "");
    free(safe);
}

const char *cli_short_time(const json_t *v, char *buf, size_t len)
{
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return "-";
    time_t t = (time_t)json_integer_value(v), now = time(NULL);
    struct tm tm, today;
    if (!localtime_r(&t, &tm) || !localtime_r(&now, &today))
        return "-";
    size_t n = tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday
                   ? strftime(buf, len, "%H:%M", &tm)
                   : strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
    return n ? buf : "-";
}
