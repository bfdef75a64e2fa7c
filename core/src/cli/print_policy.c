/*
 * Human output of `dengon policy show`: the files read, the teams matched and
 * every effective rule with the file and rule it came from.
 */
#include "cli/print.h"

#include "cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* "label: text" with text made terminal-safe (file names and groups come from others). */
static void line(const char *label, const char *text)
{
    char *safe = cli_safe_text(text);
    printf("%-18s%s\n", label, safe ? safe : "");
    free(safe);
}

static void print_files(const json_t *files)
{
    if (!json_is_array(files) || json_array_size(files) == 0) {
        puts("no policy files: no team policy applies");
        return;
    }
    static const char *const headers[] = {"FILE", "POLICY", "SIGNED", "STATUS"};
    cli_table *t = cli_table_new(4, headers);
    if (!t)
        return;
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        char sig[160], status[1200];
        if (json_is_true(json_object_get(f, "signed")))
            snprintf(sig, sizeof sig, "key %s%s%s", str(f, "key_id"), *str(f, "signer") ? " " : "",
                     str(f, "signer"));
        else
            snprintf(sig, sizeof sig, "no");
        if (strcmp(str(f, "status"), "refused") == 0)
            snprintf(status, sizeof status, "refused (%s): %s", str(f, "refusal"),
                     str(f, "reason"));
        else
            snprintf(status, sizeof status, "%s", str(f, "status"));
        const char *cells[4] = {str(f, "file"), *str(f, "name") ? str(f, "name") : "-", sig,
                                status};
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
}

/* One row per effective rule: what, value, which policy, from where. */
static void add_rules(cli_table *t, const json_t *list, const char *kind, const char *name_key,
                      const char *value_key, const char *fixed_value)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        char what[300], policy[120];
        snprintf(what, sizeof what, "%s %s", kind, str(e, name_key));
        snprintf(policy, sizeof policy, "'%s'", str(e, "policy"));
        const char *cells[4] = {what, value_key ? str(e, value_key) : fixed_value, policy,
                                str(e, "source")};
        cli_table_add(t, cells);
    }
}

void cli_print_policy_show(const cli_command *cmd, int argc, char **argv, unsigned flags,
                           const json_t *result)
{
    if (!json_is_object(result)) {
        cli_print_json(cmd, argc, argv, flags, result);
        return;
    }
    const json_t *who = json_object_get(result, "identity");
    char text[1200];
    snprintf(text, sizeof text, "%s (signed policy required: %s)", str(result, "dir"),
             json_is_true(json_object_get(result, "require_signed")) ? "yes" : "no");
    line("policy directory:", text);
    snprintf(text, sizeof text, "%s, group '%s'", str(who, "lan_key"), str(who, "group"));
    line("identity:", text);
    if (*str(result, "error"))
        line("error:", str(result, "error"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(result, "problems"), i, v)
    {
        line("problem:", json_string_value(v) ? json_string_value(v) : "");
    }
    puts("");
    print_files(json_object_get(result, "files"));

    const json_t *eff = json_object_get(result, "effective");
    static const char *const headers[] = {"RULE", "VALUE", "POLICY", "SOURCE"};
    cli_table *t = cli_table_new(4, headers);
    if (!t)
        return;
    add_rules(t, json_object_get(eff, "teams"), "team", "name", NULL, "matched");
    add_rules(t, json_object_get(eff, "plugins"), "plugin", "id", "state", NULL);
    add_rules(t, json_object_get(eff, "config"), "config", "key", "value", NULL);
    add_rules(t, json_object_get(eff, "modes"), "mode", "mode", NULL, "on");
    add_rules(t, json_object_get(eff, "licence_keys"), "licence key", "name", NULL, "trusted");
    puts("");
    if (cli_table_rows(t) == 0)
        puts("no rule applies to this identity");
    else
        cli_table_print(t, stdout);
    cli_table_free(t);
    json_array_foreach(json_object_get(result, "locked_keys"), i, v)
    {
        if (!json_is_true(json_object_get(v, "applied"))) {
            snprintf(text, sizeof text, "%s = %s: %s", str(v, "key"), str(v, "value"),
                     str(v, "error"));
            line("not applied:", text);
        }
    }
}
