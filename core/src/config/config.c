/*
 * Layered configuration: layers, declarations, lookups and change
 * notification. Parsing lives in config_ini.c, "config set" in config_user.c,
 * listing in config_list.c.
 *
 * Every mutation goes through the same pattern: snapshot the effective values
 * of the keys it may touch, mutate, then compare and notify. Callbacks get
 * copies, so a callback that changes the configuration again cannot pull the
 * strings from under the loop that is notifying.
 */
#include "config/config_internal.h"

#include "util/fs.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const layer_names[DG_LAYER_COUNT] = {"default", "profile", "system",
                                                        "user",    "policy",  "cmdline"};

const char *dg_config_layer_name(dg_config_layer layer)
{
    if ((int)layer < 0 || layer >= DG_LAYER_COUNT)
        return "unknown";
    return layer_names[layer];
}

static int layer_ok(dg_config_layer layer)
{
    return (int)layer >= 0 && layer < DG_LAYER_COUNT;
}

dg_config *dg_config_new(void)
{
    dg_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    int ok = 1;
    for (int i = 0; i < DG_LAYER_COUNT; i++)
        ok &= (cfg->layers[i] = json_object()) != NULL;
    cfg->decls = json_object();
    cfg->lock_warned = json_object();
    cfg->policy_label = strdup("team policy");
    if (!ok || !cfg->decls || !cfg->lock_warned || !cfg->policy_label) {
        dg_config_free(cfg);
        return NULL;
    }
    return cfg;
}

void dg_config_free(dg_config *cfg)
{
    if (!cfg)
        return;
    for (int i = 0; i < DG_LAYER_COUNT; i++)
        json_decref(cfg->layers[i]);
    json_decref(cfg->decls);
    json_decref(cfg->lock_warned);
    free(cfg->policy_label);
    free(cfg->watchers);
    free(cfg);
}

void dg_config_set_policy_label(dg_config *cfg, const char *label)
{
    if (!cfg)
        return;
    char *copy = strdup(label && *label ? label : "team policy");
    if (!copy)
        return; /* keep the previous label rather than lose it */
    free(cfg->policy_label);
    cfg->policy_label = copy;
}

void dg_config_on_change(dg_config *cfg, dg_config_change_fn fn, void *user)
{
    if (!cfg || !fn)
        return;
    dg_config_watcher *grown = realloc(cfg->watchers, (cfg->n_watchers + 1) * sizeof *grown);
    if (!grown) {
        dg_log(DG_LOG_ERROR, "config", "out of memory registering a change callback");
        return;
    }
    cfg->watchers = grown;
    cfg->watchers[cfg->n_watchers++] = (dg_config_watcher){fn, user};
}

/* ---- lookups ---- */

static const char *layer_get(const dg_config *cfg, int layer, const char *key)
{
    return json_string_value(json_object_get(cfg->layers[layer], key));
}

/*
 * Sets key in a layer object unless it already holds that value: dg_config_get
 * hands out the stored string, borrowed "until the next change of that key",
 * so an unchanged value must keep its storage.
 */
static int layer_put(json_t *layer, const char *key, const char *value)
{
    const char *cur = json_string_value(json_object_get(layer, key));
    if (cur && strcmp(cur, value) == 0)
        return 0;
    return json_object_set_new(layer, key, json_string(value));
}

/* Same reason, for a whole new layer: reuse the old strings of unchanged values. */
static void keep_unchanged_strings(const json_t *old, json_t *map)
{
    const char *key;
    json_t *v;
    json_object_foreach(map, key, v)
    {
        json_t *prev = json_object_get(old, key);
        if (prev && prev != v && json_equal(prev, v))
            json_object_set(map, key, prev);
    }
}

int dg_config_source(const dg_config *cfg, const char *key)
{
    if (!cfg || !key)
        return -1;
    /* A policy value is a lock: it beats the user file and the command line. */
    if (layer_get(cfg, DG_LAYER_POLICY, key))
        return DG_LAYER_POLICY;
    for (int layer = DG_LAYER_COUNT - 1; layer >= 0; layer--)
        if (layer_get(cfg, layer, key))
            return layer;
    return -1;
}

const char *dg_config_get(const dg_config *cfg, const char *key)
{
    int layer = dg_config_source(cfg, key);
    return layer < 0 ? NULL : layer_get(cfg, layer, key);
}

int64_t dg_config_get_int(const dg_config *cfg, const char *key, int64_t dflt)
{
    int64_t v;
    return dg_config_parse_int(dg_config_get(cfg, key), &v) == 0 ? v : dflt;
}

int dg_config_get_bool(const dg_config *cfg, const char *key, int dflt)
{
    int v;
    return dg_config_parse_bool(dg_config_get(cfg, key), &v) == 0 ? v : dflt;
}

int dg_config_is_locked(const dg_config *cfg, const char *key)
{
    return cfg && key && layer_get(cfg, DG_LAYER_POLICY, key) != NULL;
}

const json_t *dg_cfg_decl(const dg_config *cfg, const char *key)
{
    return cfg && key ? json_object_get(cfg->decls, key) : NULL;
}

dg_config_type dg_cfg_decl_type(const json_t *decl)
{
    return (dg_config_type)json_integer_value(json_object_get(decl, "type"));
}

int dg_config_is_live(const dg_config *cfg, const char *key)
{
    return json_is_true(json_object_get(dg_cfg_decl(cfg, key), "live"));
}

/* ---- change tracking ---- */

typedef struct change {
    char *key, *old_value, *new_value;
} change;

/* Records key's current effective value in snap (once). */
static void snap_key(const dg_config *cfg, json_t *snap, const char *key)
{
    if (json_object_get(snap, key))
        return;
    const char *v = dg_config_get(cfg, key);
    json_object_set_new(snap, key, v ? json_string(v) : json_null());
}

static void snap_layer(const dg_config *cfg, json_t *snap, const json_t *map)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)map, key, v) snap_key(cfg, snap, key);
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static char *dup_or_null(const char *s, int *ok)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *ok = 0;
    return d;
}

/* Collects the changed keys first, so callbacks may modify cfg safely. */
static size_t collect_changes(const dg_config *cfg, json_t *snap, change **out)
{
    *out = NULL;
    size_t n = 0, cap = json_object_size(snap);
    change *list = cap ? calloc(cap, sizeof *list) : NULL;
    if (!list)
        return 0;
    const char *key;
    json_t *old;
    json_object_foreach(snap, key, old)
    {
        const char *before = json_string_value(old);
        const char *now = dg_config_get(cfg, key);
        if (same(before, now))
            continue;
        int ok = 1;
        list[n] = (change){dup_or_null(key, &ok), dup_or_null(before, &ok), dup_or_null(now, &ok)};
        if (!ok) {
            dg_log(DG_LOG_ERROR, "config", "out of memory: change of %s not notified", key);
            free(list[n].key);
            free(list[n].old_value);
            free(list[n].new_value);
            continue;
        }
        n++;
    }
    *out = list;
    return n;
}

/* A -o that cannot win is worth one warning, not one per reload. */
static void warn_locked_cmdline(dg_config *cfg)
{
    const char *key;
    json_t *v;
    json_object_foreach(cfg->layers[DG_LAYER_CMDLINE], key, v)
    {
        if (!dg_config_is_locked(cfg, key) || json_object_get(cfg->lock_warned, key))
            continue;
        json_object_set_new(cfg->lock_warned, key, json_true());
        dg_log(DG_LOG_WARN, "config", "-o %s=%s is ignored: %s is locked by %s", key,
               json_string_value(v), key, cfg->policy_label);
    }
}

static void finish_change(dg_config *cfg, json_t *snap)
{
    warn_locked_cmdline(cfg);
    change *list;
    size_t n = collect_changes(cfg, snap, &list);
    json_decref(snap);
    size_t n_watchers = cfg->n_watchers;
    for (size_t i = 0; i < n; i++) {
        /*
         * A callback may have changed the config again (and notified that
         * itself): skip changes that are no longer current, so the last thing
         * listeners hear about a key is its present value. Index loop, because
         * a callback may also register a watcher (realloc).
         */
        int current = same(list[i].new_value, dg_config_get(cfg, list[i].key));
        for (size_t w = 0; current && w < n_watchers && w < cfg->n_watchers; w++)
            cfg->watchers[w].fn(list[i].key, list[i].old_value, list[i].new_value,
                                cfg->watchers[w].user);
        free(list[i].key);
        free(list[i].old_value);
        free(list[i].new_value);
    }
    free(list);
}

/* ---- declarations and the DEFAULT layer ---- */

/* Declared defaults fill what the embedded INI does not set. */
static void merge_declared_defaults(dg_config *cfg, json_t *map)
{
    const char *key;
    json_t *decl;
    json_object_foreach(cfg->decls, key, decl)
    {
        const char *dflt = json_string_value(json_object_get(decl, "default"));
        int from_decl = dflt && !json_object_get(map, key);
        if (from_decl)
            json_object_set_new(map, key, json_string(dflt));
        json_object_set_new(decl, "from_decl", json_boolean(from_decl));
    }
}

int dg_cfg_replace_layer(dg_config *cfg, dg_config_layer layer, json_t *map)
{
    if (!map)
        return DG_ENOMEM;
    if (layer == DG_LAYER_DEFAULT)
        merge_declared_defaults(cfg, map);
    json_t *snap = json_object();
    if (!snap) {
        json_decref(map);
        return DG_ENOMEM;
    }
    snap_layer(cfg, snap, cfg->layers[layer]);
    snap_layer(cfg, snap, map);
    keep_unchanged_strings(cfg->layers[layer], map);
    json_decref(cfg->layers[layer]);
    cfg->layers[layer] = map;
    finish_change(cfg, snap);
    return DG_OK;
}

/* Logs values of key that are set in files but do not fit its declared type. */
static void warn_bad_types(const dg_config *cfg, const char *key, const json_t *decl)
{
    dg_config_type type = dg_cfg_decl_type(decl);
    for (int layer = 0; layer < DG_LAYER_COUNT; layer++) {
        const char *v = layer_get(cfg, layer, key);
        if (!v || dg_cfg_fits_type(type, v))
            continue;
        char *msg = dg_cfg_type_error(key, type, v);
        dg_log(DG_LOG_WARN, "config", "%s (in the %s layer); typed reads use their default",
               msg ? msg : key, layer_names[layer]);
        free(msg);
    }
}

static int declare_args_ok(const char *key, dg_config_type type, const char *dflt,
                           const char *owner)
{
    if (!dg_config_key_valid(key) || !owner || !*owner)
        return 0;
    if (type != DG_CONF_STRING && type != DG_CONF_INT && type != DG_CONF_BOOL)
        return 0;
    return !dflt || (!dg_cfg_value_problem(dflt) && dg_cfg_fits_type(type, dflt));
}

/* Puts (or takes back) the declared default in the DEFAULT layer. */
static void apply_declared_default(dg_config *cfg, const char *key, json_t *decl, int was_ours)
{
    const char *dflt = json_string_value(json_object_get(decl, "default"));
    json_t *defaults = cfg->layers[DG_LAYER_DEFAULT];
    int ini_sets = json_object_get(defaults, key) && !was_ours;
    json_t *snap = json_object();
    if (snap)
        snap_key(cfg, snap, key);
    if (!ini_sets && dflt)
        layer_put(defaults, key, dflt);
    else if (!ini_sets)
        json_object_del(defaults, key);
    json_object_set_new(decl, "from_decl", json_boolean(!ini_sets && dflt));
    if (snap)
        finish_change(cfg, snap);
}

int dg_config_declare(dg_config *cfg, const char *key, dg_config_type type,
                      const char *default_value, int live, const char *owner,
                      const char *description)
{
    if (!cfg || !declare_args_ok(key, type, default_value, owner))
        return DG_EINVAL;
    const json_t *old = dg_cfg_decl(cfg, key);
    if (old && strcmp(json_string_value(json_object_get(old, "owner")), owner) != 0)
        return DG_EEXIST;
    int was_ours = json_is_true(json_object_get(old, "from_decl"));
    json_t *decl =
        json_pack("{s:i, s:s?, s:b, s:s, s:s?, s:b}", "type", (int)type, "default", default_value,
                  "live", live != 0, "owner", owner, "description", description, "from_decl", 0);
    if (!decl) /* also a description that is not UTF-8 */
        return DG_EINVAL;
    if (json_object_set_new(cfg->decls, key, decl) != 0)
        return DG_ENOMEM;
    apply_declared_default(cfg, key, decl, was_ours);
    warn_bad_types(cfg, key, decl);
    return DG_OK;
}

void dg_config_undeclare_owner(dg_config *cfg, const char *owner)
{
    if (!cfg || !owner)
        return;
    const char *key;
    json_t *decl;
    void *iter_tmp;
    json_object_foreach_safe(cfg->decls, iter_tmp, key, decl)
    {
        if (strcmp(json_string_value(json_object_get(decl, "owner")), owner) == 0)
            json_object_del(cfg->decls, key);
    }
}

/* ---- setting values ---- */

static int layer_validates(dg_config_layer layer)
{
    return layer == DG_LAYER_USER || layer == DG_LAYER_CMDLINE || layer == DG_LAYER_POLICY;
}

static int check_value(const dg_config *cfg, dg_config_layer layer, const char *key,
                       const char *value, char **err)
{
    const char *problem = dg_cfg_value_problem(value);
    if (problem)
        return dg_cfg_fail(err, DG_EINVAL, "%s: value %s", key, problem);
    const json_t *decl = dg_cfg_decl(cfg, key);
    if (decl && layer_validates(layer) && !dg_cfg_fits_type(dg_cfg_decl_type(decl), value))
        return dg_cfg_fail_owned(err, DG_EINVAL,
                                 dg_cfg_type_error(key, dg_cfg_decl_type(decl), value));
    return DG_OK;
}

int dg_config_set_layer(dg_config *cfg, dg_config_layer layer, const char *key, const char *value,
                        char **err)
{
    if (!cfg || !layer_ok(layer))
        return dg_cfg_fail(err, DG_EINVAL, "invalid configuration layer");
    if (!dg_config_key_valid(key)) {
        char *shown = dg_cfg_quote(key ? key : "", 60);
        int rc = dg_cfg_fail(err, DG_EINVAL,
                             "invalid key '%s' (dotted names of A-Z a-z 0-9 _ -, at most %d bytes)",
                             shown ? shown : "", DG_CONFIG_KEY_MAX);
        free(shown);
        return rc;
    }
    if (value && check_value(cfg, layer, key, value, err) != DG_OK)
        return DG_EINVAL;
    json_t *snap = json_object();
    if (!snap)
        return dg_cfg_fail(err, DG_ENOMEM, "out of memory");
    snap_key(cfg, snap, key);
    int rc = value ? layer_put(cfg->layers[layer], key, value)
                   : (json_object_del(cfg->layers[layer], key), 0);
    json_t *decl = (json_t *)dg_cfg_decl(cfg, key);
    if (layer == DG_LAYER_DEFAULT && decl) /* an explicit default replaces the declared one */
        json_object_set_new(decl, "from_decl", json_false());
    finish_change(cfg, snap);
    return rc == 0 ? DG_OK : dg_cfg_fail(err, DG_ENOMEM, "out of memory");
}

void dg_config_clear_layer(dg_config *cfg, dg_config_layer layer)
{
    if (cfg && layer_ok(layer))
        dg_cfg_replace_layer(cfg, layer, json_object());
}

/* ---- loading ---- */

typedef struct load_run {
    const dg_config *cfg;
    json_t *map;
    json_t *warnings; /* type mismatches, logged only if the load succeeds */
    const char *origin;
} load_run;

static int load_pair(void *user, const char *key, const char *value, int line)
{
    load_run *run = user;
    const json_t *decl = dg_cfg_decl(run->cfg, key);
    if (decl && !dg_cfg_fits_type(dg_cfg_decl_type(decl), value)) {
        char *msg = dg_cfg_type_error(key, dg_cfg_decl_type(decl), value);
        char *full = dg_cfg_fmt("%s:%d: %s; typed reads use their default", run->origin, line,
                                msg ? msg : key);
        if (full)
            json_array_append_new(run->warnings, json_string(full));
        free(msg);
        free(full);
    }
    return json_object_set_new(run->map, key, json_string(value));
}

int dg_config_load_string(dg_config *cfg, dg_config_layer layer, const char *text,
                          const char *origin, char **err)
{
    if (!cfg || !layer_ok(layer) || !text)
        return dg_cfg_fail(err, DG_EINVAL, "invalid arguments");
    return dg_cfg_load_text(cfg, layer, text, strlen(text), origin, err);
}

int dg_cfg_load_text(dg_config *cfg, dg_config_layer layer, const char *text, size_t len,
                     const char *origin, char **err)
{
    load_run run = {cfg, json_object(), json_array(), origin ? origin : layer_names[layer]};
    int rc = run.map && run.warnings
                 ? dg_ini_parse(text, len, run.origin, load_pair, &run, NULL, err)
                 : dg_cfg_fail(err, DG_ENOMEM, "out of memory");
    if (rc == DG_OK) {
        rc = dg_cfg_replace_layer(cfg, layer, json_incref(run.map));
        size_t i;
        json_t *w;
        json_array_foreach(run.warnings, i, w)
            dg_log(DG_LOG_WARN, "config", "%s", json_string_value(w));
    }
    json_decref(run.map);
    json_decref(run.warnings);
    return rc;
}

int dg_config_load_file(dg_config *cfg, dg_config_layer layer, const char *path, char **err)
{
    if (!cfg || !layer_ok(layer) || !path)
        return dg_cfg_fail(err, DG_EINVAL, "invalid arguments");
    char *text = NULL;
    size_t len = 0;
    int rc = dg_read_file(path, DG_CONFIG_FILE_MAX, &text, &len);
    if (rc == -ENOENT) /* an absent file is an empty layer, e.g. no system config */
        return dg_cfg_replace_layer(cfg, layer, json_object());
    if (rc == -EFBIG)
        return dg_cfg_fail(err, DG_ERR, "%s: larger than %d bytes", path, DG_CONFIG_FILE_MAX);
    if (rc != 0)
        return dg_cfg_fail(err, DG_ERR, "%s: %s", path, strerror(-rc));
    rc = dg_cfg_load_text(cfg, layer, text, len, path, err);
    free(text);
    return rc;
}
