/*
 * Human output of `dengon licence show`, and the LICENCE column text of
 * `dengon plugins` (licensed, trial with seconds left, locked). Like print.c,
 * missing fields are skipped and unexpected shapes fall back to JSON.
 */
#include "cli/print.h"

#include "cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Label/value line with the value made terminal-safe. */
static void kv(cli_table *t, const char *label, const char *value)
{
    const char *cells[2] = {label, value ? value : "-"};
    cli_table_add(t, cells);
}

void cli_licence_state_text(const json_t *licence, char *buf, size_t len)
{
    const char *state = str(licence, "state");
    json_t *left = json_object_get(licence, "seconds_left");
    if (state && strcmp(state, "trial") == 0 && json_is_integer(left))
        snprintf(buf, len, "trial (%lld s left)", (long long)json_integer_value(left));
    else
        snprintf(buf, len, "%s", state ? state : "-");
}

static void print_licence(cli_table *t, const json_t *r)
{
    const json_t *lic = json_object_get(r, "licence");
    const char *status = str(r, "status");
    const char *reason = str(r, "reason");
    char line[1024];
    if (status && reason)
        snprintf(line, sizeof line, "%s: %s", status, reason);
    else
        snprintf(line, sizeof line, "%s", status ? status : "?");
    kv(t, "status", line);
    if (!json_is_object(lic))
        return;
    snprintf(line, sizeof line, "%s for %s", str(lic, "id") ? str(lic, "id") : "?",
             str(lic, "licensee") ? str(lic, "licensee") : "?");
    kv(t, "licence", line);
    json_t *seats = json_object_get(lic, "seats");
    snprintf(line, sizeof line, "%s, %lld seats", str(lic, "plan") ? str(lic, "plan") : "?",
             json_is_integer(seats) ? (long long)json_integer_value(seats) : 0LL);
    kv(t, "plan", line);
    const char *until = str(lic, "expires");
    snprintf(line, sizeof line, "from %s %s%s",
             str(lic, "not_before") ? str(lic, "not_before") : "?",
             until ? "until " : "(no expiry)", until ? until : "");
    kv(t, "valid", line);
    size_t used = 0, i;
    json_t *e;
    line[0] = '\0';
    json_array_foreach(json_object_get(lic, "entitlements"), i, e)
    {
        int n = snprintf(line + used, sizeof line - used, "%s%s", i ? ", " : "",
                         json_string_value(e) ? json_string_value(e) : "?");
        if (n < 0 || (size_t)n >= sizeof line - used)
            break;
        used += (size_t)n;
    }
    kv(t, "entitlements", line[0] ? line : "none");
    snprintf(line, sizeof line, "key %s (%s)", str(lic, "key_id") ? str(lic, "key_id") : "?",
             str(lic, "key") ? str(lic, "key") : "?");
    kv(t, "signed by", line);
}

void cli_print_licence_show(const cli_command *cmd, int argc, char **argv, unsigned flags,
                            const json_t *result)
{
    cli_table *t = json_is_object(result) ? cli_table_new(2, NULL) : NULL;
    if (!t) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    print_licence(t, result);
    kv(t, "file", str(result, "file"));
    json_t *trial = json_object_get(result, "trial_seconds");
    char line[1024];
    if (json_is_integer(trial)) {
        snprintf(line, sizeof line, "%lld s per daemon start for premium plugins without a licence",
                 (long long)json_integer_value(trial));
        kv(t, "trial", line);
    }
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(result, "trusted_keys"), i, k)
    {
        snprintf(line, sizeof line, "%s %s (%s)", str(k, "key_id") ? str(k, "key_id") : "?",
                 str(k, "name") ? str(k, "name") : "?", str(k, "source") ? str(k, "source") : "?");
        kv(t, i == 0 ? "trusted keys" : "", line);
    }
    json_array_foreach(json_object_get(result, "problems"), i, k)
    {
        kv(t, "problem", json_string_value(k));
    }
    cli_table_print(t, stdout);
    cli_table_free(t);

    json_t *plugins = json_object_get(result, "plugins");
    if (!json_is_array(plugins) || json_array_size(plugins) == 0) {
        puts("\nno premium plugins installed");
        return;
    }
    static const char *const headers[] = {"PLUGIN", "ENTITLEMENT", "LICENCE", "STATE"};
    cli_table *p = cli_table_new(4, headers);
    if (!p)
        return;
    json_array_foreach(plugins, i, k)
    {
        char state[64];
        cli_licence_state_text(k, state, sizeof state);
        const char *cells[4] = {str(k, "id"), str(k, "entitlement"), state, str(k, "plugin_state")};
        cli_table_add(p, cells);
    }
    puts("");
    cli_table_print(p, stdout);
    cli_table_free(p);
}
