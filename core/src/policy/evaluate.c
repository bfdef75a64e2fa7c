/*
 * The effective policy for one identity: which rules match, what they decide
 * together, and where each decision came from (for `dengon policy show` and
 * for messages that name the policy).
 */
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct entries {
    dg_policy_entry *v;
    size_t n;
} entries;

static void free_entries(dg_policy_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
        free(v[i].policy);
        free(v[i].source);
    }
    free(v);
}

void dg_policy_effective_free(dg_policy_effective *e)
{
    if (!e)
        return;
    free_entries(e->plugins, e->n_plugins);
    free_entries(e->config, e->n_config);
    free_entries(e->modes, e->n_modes);
    free_entries(e->licence_keys, e->n_licence_keys);
    free_entries(e->teams, e->n_teams);
    free(e);
}

static dg_policy_entry *find(dg_policy_entry *v, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* Sets (or, with replace, overrides) the entry called name. 0 or -1 (out of memory). */
static int put(dg_policy_entry **v, size_t *n, int replace, const char *name, const char *value,
               const char *policy, const char *source)
{
    dg_policy_entry *e = find(*v, *n, name);
    if (e && !replace)
        return 0;
    if (!e) {
        dg_policy_entry *grown = realloc(*v, (*n + 1) * sizeof(*grown));
        if (!grown)
            return -1;
        *v = grown;
        e = &grown[(*n)++];
        memset(e, 0, sizeof(*e));
        if (!(e->name = strdup(name)))
            return -1;
    }
    char *nv = value ? strdup(value) : NULL, *np = strdup(policy), *ns = strdup(source);
    if ((value && !nv) || !np || !ns) {
        free(nv);
        free(np);
        free(ns);
        return -1;
    }
    free(e->value);
    free(e->policy);
    free(e->source);
    e->value = nv;
    e->policy = np;
    e->source = ns;
    return 0;
}

static int apply_rule(dg_policy_effective *e, const dg_policy_rule *r, const char *policy,
                      const char *source)
{
    for (size_t i = 0; i < r->n_plugins; i++)
        if (put(&e->plugins, &e->n_plugins, 1, r->plugins[i].id, r->plugins[i].on ? "on" : "off",
                policy, source) != 0)
            return -1;
    for (size_t i = 0; i < r->n_config; i++)
        if (put(&e->config, &e->n_config, 1, r->config[i].key, r->config[i].value, policy,
                source) != 0)
            return -1;
    for (unsigned bit = 1; bit && r->modes >= bit; bit <<= 1) {
        const char *mode = dg_policy_mode_name(bit);
        /* A mode stays with the first rule that switched it on. */
        if ((r->modes & bit) && mode && put(&e->modes, &e->n_modes, 0, mode, NULL, policy, source))
            return -1;
    }
    e->mode_bits |= r->modes;
    return 0;
}

/* Which of the team's criteria matches who: "group 'HR'", "user 'a@b'"; NULL if none. */
static int team_matches(const dg_policy_team *t, const dg_policy_who *who, char *how, size_t len)
{
    for (size_t i = 0; who->group && *who->group && i < t->n_groups; i++) {
        if (strcasecmp(t->groups[i], who->group) == 0) {
            snprintf(how, len, "group '%s'", t->groups[i]);
            return 1;
        }
    }
    for (size_t i = 0; i < t->n_users; i++) {
        const char *u = t->users[i];
        if ((who->lan_key && *who->lan_key && strcasecmp(u, who->lan_key) == 0) ||
            (who->uuid && *who->uuid && strcasecmp(u, who->uuid) == 0)) {
            snprintf(how, len, "user '%s'", u);
            return 1;
        }
    }
    return 0;
}

static int evaluate_file(dg_policy_effective *e, const dg_policy_file *f, const dg_policy_who *who)
{
    const dg_policy_doc *d = f->doc;
    char source[512];
    snprintf(source, sizeof source, "%s", f->file);
    for (size_t i = 0; i < d->n_licence_keys; i++)
        if (put(&e->licence_keys, &e->n_licence_keys, 0, d->licence_keys[i], NULL, d->name,
                source) != 0)
            return -1;
    if (d->has_default) {
        snprintf(source, sizeof source, "%s: default", f->file);
        if (apply_rule(e, &d->def, d->name, source) != 0)
            return -1;
    }
    for (size_t i = 0; i < d->n_teams; i++) {
        const dg_policy_team *t = &d->teams[i];
        char how[400];
        if (!team_matches(t, who, how, sizeof how))
            continue;
        snprintf(source, sizeof source, "%s: team '%s' (%s)", f->file, t->name, how);
        char key[160];
        snprintf(key, sizeof key, "%s/%s", d->name, t->name);
        if (put(&e->teams, &e->n_teams, 1, key, t->name, d->name, source) != 0 ||
            apply_rule(e, &t->rule, d->name, source) != 0)
            return -1;
    }
    return 0;
}

dg_policy_effective *dg_policy_evaluate(const dg_policy_set *set, const dg_policy_who *who)
{
    dg_policy_effective *e = calloc(1, sizeof(*e));
    static const dg_policy_who nobody = {NULL, NULL, NULL};
    if (!e)
        return NULL;
    for (size_t i = 0; set && i < set->n_files; i++) {
        if (set->files[i]->doc && evaluate_file(e, set->files[i], who ? who : &nobody) != 0) {
            dg_policy_effective_free(e);
            return NULL;
        }
    }
    return e;
}

const dg_policy_entry *dg_policy_plugin_rule(const dg_policy_effective *e, const char *id)
{
    return e ? find(e->plugins, e->n_plugins, id) : NULL;
}

const dg_policy_entry *dg_policy_config_rule(const dg_policy_effective *e, const char *key)
{
    return e ? find(e->config, e->n_config, key) : NULL;
}

const dg_policy_entry *dg_policy_mode_rule(const dg_policy_effective *e, unsigned mode)
{
    const char *name = dg_policy_mode_name(mode);
    return e && name ? find(e->modes, e->n_modes, name) : NULL;
}

int dg_policy_plugin_allowed(const dg_policy_effective *e, const char *id, int outside_lan,
                             char *why, size_t len)
{
    const dg_policy_entry *rule = dg_policy_plugin_rule(e, id);
    if (rule && strcmp(rule->value, "off") == 0) {
        snprintf(why, len, "turned off by team policy '%s' (%s)", rule->policy, rule->source);
        return 0;
    }
    const dg_policy_entry *lan = dg_policy_mode_rule(e, DG_POLICY_MODE_LAN_ONLY);
    if (outside_lan && lan) {
        snprintf(why, len,
                 "reaches outside the LAN (network.outside_lan) and team policy '%s' is "
                 "lan_only (%s)",
                 lan->policy, lan->source);
        return 0;
    }
    return 1;
}

static json_t *entries_json(const dg_policy_entry *v, size_t n, const char *name_key,
                            const char *value_key)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *o = json_pack("{s:s, s:s, s:s}", name_key, v[i].name, "policy", v[i].policy,
                              "source", v[i].source);
        if (o && value_key)
            json_object_set_new(o, value_key, json_string(v[i].value ? v[i].value : ""));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *dg_policy_effective_json(const dg_policy_effective *e)
{
    static const dg_policy_effective none = {0};
    if (!e)
        e = &none;
    json_t *teams = json_array();
    for (size_t i = 0; teams && i < e->n_teams; i++)
        json_array_append_new(teams,
                              json_pack("{s:s, s:s, s:s}", "name", e->teams[i].value, "policy",
                                        e->teams[i].policy, "source", e->teams[i].source));
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "plugins",
                     entries_json(e->plugins, e->n_plugins, "id", "state"), "config",
                     entries_json(e->config, e->n_config, "key", "value"), "modes",
                     entries_json(e->modes, e->n_modes, "mode", NULL), "licence_keys",
                     entries_json(e->licence_keys, e->n_licence_keys, "name", NULL), "teams",
                     teams);
}
