/*
 * Policy documents, parsed strictly: unknown keys, wrong types, unknown
 * plugins' id syntax, unknown modes and keys the policy must not lock are all
 * errors, so a typo never silently weakens a policy.
 */
#include "policy/policy.h"

#include "config/config.h"
#include "plugin/manifest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pctx {
    char *err;
    size_t errlen;
} pctx;

static int fail(pctx *c, const char *fmt, ...) DG_PRINTF(2, 3);
static int fail(pctx *c, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
        dg_text_one_line(c->err); /* messages quote the document */
    }
    return -1;
}

static const struct {
    const char *name;
    unsigned bit;
} modes[] = {{"lan_only", DG_POLICY_MODE_LAN_ONLY}};

const char *dg_policy_mode_name(unsigned mode)
{
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (modes[i].bit == mode)
            return modes[i].name;
    return NULL;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void free_rule(dg_policy_rule *r)
{
    for (size_t i = 0; i < r->n_plugins; i++)
        free(r->plugins[i].id);
    free(r->plugins);
    for (size_t i = 0; i < r->n_config; i++) {
        free(r->config[i].key);
        free(r->config[i].value);
    }
    free(r->config);
    memset(r, 0, sizeof(*r));
}

void dg_policy_doc_free(dg_policy_doc *doc)
{
    if (!doc)
        return;
    free(doc->name);
    free(doc->description);
    free_strv(doc->licence_keys, doc->n_licence_keys);
    free_rule(&doc->def);
    for (size_t i = 0; i < doc->n_teams; i++) {
        dg_policy_team *t = &doc->teams[i];
        free(t->name);
        free_strv(t->groups, t->n_groups);
        free_strv(t->users, t->n_users);
        free_rule(&t->rule);
    }
    free(doc->teams);
    free(doc);
}

static int known_key(const char *key, const char *const *keys)
{
    for (size_t i = 0; keys[i]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

static int check_keys(pctx *c, const json_t *obj, const char *where, const char *const *keys)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!known_key(key, keys))
            return fail(c, "%s: unknown key '%.60s'", where, key);
    }
    return 0;
}

/* Printable text without control characters, 1..max bytes. */
static int text_ok(const json_t *v, size_t max)
{
    const char *s = json_string_value(v);
    if (!s || strlen(s) != json_string_length(v) || !*s || strlen(s) > max)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* A policy name: shown in messages ("locked by team policy 'acme'"), so kept plain. */
static int name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > DG_POLICY_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == ' ' || *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* Key file names under <keys-dir>: [a-z0-9][a-z0-9_-]*, and never the compiled-in "vendor". */
static int key_name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > DG_KEY_NAME_MAX || strcmp(s, "vendor") == 0)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              (p != s && (*p == '_' || *p == '-'))))
            return 0;
    return 1;
}

/* A list of distinct texts (groups, users, licence keys). */
static int parse_strings(pctx *c, const json_t *a, const char *where, size_t max_len,
                         int (*valid)(const char *), char ***out, size_t *n)
{
    if (!json_is_array(a) || json_array_size(a) > DG_POLICY_MAX_LIST)
        return fail(c, "%s: must be an array of at most %d strings", where, DG_POLICY_MAX_LIST);
    size_t count = json_array_size(a);
    *out = calloc(count ? count : 1, sizeof(char *));
    if (!*out)
        return fail(c, "out of memory");
    for (size_t i = 0; i < count; i++) {
        const json_t *v = json_array_get(a, i);
        if (!text_ok(v, max_len) || (valid && !valid(json_string_value(v))))
            return fail(c, "%s[%zu]: not a valid entry", where, i);
        const char *s = json_string_value(v);
        for (size_t k = 0; k < *n; k++)
            if (strcmp((*out)[k], s) == 0)
                return fail(c, "%s: '%.60s' is listed twice", where, s);
        if (!((*out)[*n] = strdup(s)))
            return fail(c, "out of memory");
        (*n)++;
    }
    return 0;
}

static int parse_plugins(pctx *c, const json_t *obj, const char *where, dg_policy_rule *r)
{
    if (!json_is_object(obj) || json_object_size(obj) > DG_POLICY_MAX_LIST)
        return fail(c, "%s.plugins: must be an object of plugin id -> \"on\" or \"off\"", where);
    size_t n = json_object_size(obj);
    r->plugins = calloc(n ? n : 1, sizeof(*r->plugins));
    if (!r->plugins)
        return fail(c, "out of memory");
    const char *id;
    json_t *v;
    json_object_foreach((json_t *)obj, id, v)
    {
        if (!dg_plugin_id_valid(id))
            return fail(c, "%s.plugins: '%.60s' is not a plugin id", where, id);
        const char *s = json_string_value(v);
        if (!s || (strcmp(s, "on") != 0 && strcmp(s, "off") != 0))
            return fail(c, "%s.plugins.%s: must be \"on\" or \"off\"", where, id);
        dg_policy_switch *sw = &r->plugins[r->n_plugins];
        if (!(sw->id = strdup(id)))
            return fail(c, "out of memory");
        sw->on = strcmp(s, "on") == 0;
        r->n_plugins++;
    }
    return 0;
}

/* Keys a policy may not lock, and why. NULL when key may be locked. */
static const char *forbidden_key(const char *key)
{
    size_t n = strlen(key);
    if (strncmp(key, "plugins.", 8) == 0 && n > 16 && strcmp(key + n - 8, ".enabled") == 0)
        return "plugins are switched with \"plugins\": {\"<id>\": \"on\"|\"off\"}";
    if (strcmp(key, "identity.user") == 0 || strcmp(key, "identity.host") == 0 ||
        strcmp(key, "identity.group") == 0)
        return "teams are matched by it, so a policy cannot set it";
    if (strncmp(key, "policy.", 7) == 0)
        return "policy settings belong to the installation (system file or -o)";
    return NULL;
}

/* Config values as the config stores them: text without control characters (tab allowed). */
static int value_text(const json_t *v, char *buf, size_t len, const char **out)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strlen(s) != json_string_length(v) || strlen(s) > DG_CONFIG_VALUE_MAX)
            return -1;
        for (const char *p = s; *p; p++)
            if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
                return -1;
        *out = s;
        return 0;
    }
    if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *out = buf;
        return 0;
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? "true" : "false";
        return 0;
    }
    return -1;
}

static int parse_config(pctx *c, const json_t *obj, const char *where, dg_policy_rule *r)
{
    if (!json_is_object(obj) || json_object_size(obj) > DG_POLICY_MAX_LIST)
        return fail(c, "%s.config: must be an object of config key -> value", where);
    size_t n = json_object_size(obj);
    r->config = calloc(n ? n : 1, sizeof(*r->config));
    if (!r->config)
        return fail(c, "out of memory");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!dg_config_key_valid(key))
            return fail(c, "%s.config: '%.60s' is not a config key", where, key);
        const char *why = forbidden_key(key);
        if (why)
            return fail(c, "%s.config.%s: cannot be locked: %s", where, key, why);
        char num[32];
        const char *text = NULL;
        if (value_text(v, num, sizeof num, &text) != 0)
            return fail(c,
                        "%s.config.%s: must be a string (without control characters), an "
                        "integer or true/false",
                        where, key);
        dg_policy_setting *s = &r->config[r->n_config];
        if (!(s->key = strdup(key)) || !(s->value = strdup(text)))
            return fail(c, "out of memory");
        r->n_config++;
    }
    return 0;
}

static int parse_modes(pctx *c, const json_t *a, const char *where, dg_policy_rule *r)
{
    if (!json_is_array(a) || json_array_size(a) > DG_POLICY_MAX_LIST)
        return fail(c, "%s.modes: must be an array of mode names", where);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        unsigned bit = 0;
        for (size_t k = 0; s && k < sizeof modes / sizeof modes[0]; k++)
            if (strcmp(s, modes[k].name) == 0)
                bit = modes[k].bit;
        if (!bit)
            return fail(c, "%s.modes[%zu]: unknown mode (known: lan_only)", where, i);
        if (r->modes & bit)
            return fail(c, "%s.modes: '%s' is listed twice", where, s);
        r->modes |= bit;
    }
    return 0;
}

/* The rule members of obj (plugins, config, modes), all optional. */
static int parse_rule(pctx *c, const json_t *obj, const char *where, dg_policy_rule *r)
{
    const json_t *v;
    if ((v = json_object_get(obj, "plugins")) && parse_plugins(c, v, where, r) != 0)
        return -1;
    if ((v = json_object_get(obj, "config")) && parse_config(c, v, where, r) != 0)
        return -1;
    if ((v = json_object_get(obj, "modes")) && parse_modes(c, v, where, r) != 0)
        return -1;
    return 0;
}

static int parse_team(pctx *c, const json_t *obj, size_t index, dg_policy_doc *doc)
{
    static const char *const keys[] = {"name",   "groups", "users", "plugins",
                                       "config", "modes",  NULL};
    char where[64];
    snprintf(where, sizeof where, "teams[%zu]", index);
    if (!json_is_object(obj))
        return fail(c, "%s: must be an object", where);
    if (check_keys(c, obj, where, keys) != 0)
        return -1;
    dg_policy_team *t = &doc->teams[doc->n_teams++];
    const json_t *name = json_object_get(obj, "name");
    if (!name || !name_ok(json_string_value(name)))
        return fail(c, "%s.name: required, 1 to %d of A-Z a-z 0-9 space . _ -", where,
                    DG_POLICY_NAME_MAX);
    for (size_t i = 0; i + 1 < doc->n_teams; i++)
        if (strcmp(doc->teams[i].name, json_string_value(name)) == 0)
            return fail(c, "%s: a team named '%s' comes earlier", where, json_string_value(name));
    if (!(t->name = strdup(json_string_value(name))))
        return fail(c, "out of memory");
    char sub[80];
    const json_t *v;
    snprintf(sub, sizeof sub, "%s.groups", where);
    if ((v = json_object_get(obj, "groups")) &&
        parse_strings(c, v, sub, 256, NULL, &t->groups, &t->n_groups) != 0)
        return -1;
    snprintf(sub, sizeof sub, "%s.users", where);
    if ((v = json_object_get(obj, "users")) &&
        parse_strings(c, v, sub, 512, NULL, &t->users, &t->n_users) != 0)
        return -1;
    if (t->n_groups == 0 && t->n_users == 0)
        return fail(c,
                    "%s: matches nobody: give \"groups\" or \"users\" (the default rule "
                    "applies to everyone)",
                    where);
    return parse_rule(c, obj, where, &t->rule);
}

static int parse_doc(pctx *c, const json_t *root, dg_policy_doc *doc)
{
    static const char *const keys[] = {"format",  "name",  "description", "licence_keys",
                                       "default", "teams", NULL};
    static const char *const rule_keys[] = {"plugins", "config", "modes", NULL};
    if (!json_is_object(root))
        return fail(c, "the policy must be a JSON object");
    const json_t *format = json_object_get(root, "format");
    if (!json_is_integer(format))
        return fail(c, "'format' must be the integer %d", DG_POLICY_FORMAT);
    if (json_integer_value(format) != DG_POLICY_FORMAT)
        return fail(
            c, "unsupported policy format %" JSON_INTEGER_FORMAT " (this dengon reads format %d)",
            json_integer_value(format), DG_POLICY_FORMAT);
    if (check_keys(c, root, "policy", keys) != 0)
        return -1;
    const json_t *v = json_object_get(root, "name");
    if (!v || !name_ok(json_string_value(v)))
        return fail(c, "'name': required, 1 to %d of A-Z a-z 0-9 space . _ -", DG_POLICY_NAME_MAX);
    if (!(doc->name = strdup(json_string_value(v))))
        return fail(c, "out of memory");
    if ((v = json_object_get(root, "description"))) {
        if (!text_ok(v, 1024))
            return fail(c, "'description': a one-line string of at most 1024 bytes");
        if (!(doc->description = strdup(json_string_value(v))))
            return fail(c, "out of memory");
    }
    if ((v = json_object_get(root, "licence_keys")) &&
        parse_strings(c, v, "licence_keys", DG_KEY_NAME_MAX, key_name_ok, &doc->licence_keys,
                      &doc->n_licence_keys) != 0)
        return -1;
    if ((v = json_object_get(root, "default"))) {
        if (!json_is_object(v))
            return fail(c, "default: must be an object");
        if (check_keys(c, v, "default", rule_keys) != 0 || parse_rule(c, v, "default", &doc->def))
            return -1;
        doc->has_default = 1;
    }
    if ((v = json_object_get(root, "teams"))) {
        if (!json_is_array(v) || json_array_size(v) > DG_POLICY_MAX_TEAMS)
            return fail(c, "teams: must be an array of at most %d teams", DG_POLICY_MAX_TEAMS);
        size_t n = json_array_size(v);
        doc->teams = calloc(n ? n : 1, sizeof(*doc->teams));
        if (!doc->teams)
            return fail(c, "out of memory");
        for (size_t i = 0; i < n; i++)
            if (parse_team(c, json_array_get(v, i), i, doc) != 0)
                return -1;
    }
    return 0;
}

int dg_policy_parse_doc(const json_t *root, dg_policy_doc **out, char *err, size_t errlen)
{
    *out = NULL;
    pctx c = {err, errlen};
    dg_policy_doc *doc = calloc(1, sizeof(*doc));
    if (!doc)
        return fail(&c, "out of memory");
    if (parse_doc(&c, root, doc) != 0) {
        dg_policy_doc_free(doc);
        return -1;
    }
    *out = doc;
    return 0;
}
