/* Listing and describing keys, and the once-per-process unknown-key warning. */
#include "config/config_internal.h"

#include "util/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/*
 * Keys already reported by dg_config_warn_unknown, for the whole process (a
 * reload must not repeat them). Capped so that a hostile file cannot grow it
 * without bound; past the cap one summary line is logged instead.
 */
#define WARNED_MAX 1024
static pthread_mutex_t warned_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *warned_keys;
static int warned_overflow;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *dg_cfg_all_keys(const dg_config *cfg)
{
    json_t *set = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(cfg->decls, key, v) json_object_set(set, key, json_null());
    for (int layer = 0; layer < DG_LAYER_COUNT; layer++)
        json_object_foreach(cfg->layers[layer], key, v) json_object_set(set, key, json_null());
    size_t n = json_object_size(set), i = 0;
    const char **keys = n ? malloc(n * sizeof *keys) : NULL;
    json_t *out = json_array();
    if ((n && !keys) || !out || !set) {
        free(keys);
        json_decref(set);
        json_decref(out);
        return NULL;
    }
    json_object_foreach(set, key, v) keys[i++] = key;
    qsort(keys, n, sizeof *keys, cmp_str);
    for (i = 0; i < n; i++)
        json_array_append_new(out, json_string(keys[i]));
    free(keys);
    json_decref(set);
    return out;
}

json_t *dg_config_describe(const dg_config *cfg, const char *key)
{
    const json_t *decl = dg_cfg_decl(cfg, key);
    int source = dg_config_source(cfg, key);
    if (!decl && source < 0)
        return NULL;
    return json_pack("{s:s, s:s?, s:s?, s:s, s:s?, s:b, s:b, s:b, s:s?}", "key", key, "value",
                     dg_config_get(cfg, key), "source",
                     source >= 0 ? dg_config_layer_name((dg_config_layer)source) : NULL, "type",
                     dg_config_type_name(decl ? dg_cfg_decl_type(decl) : DG_CONF_STRING), "owner",
                     json_string_value(json_object_get(decl, "owner")), "live",
                     dg_config_is_live(cfg, key), "locked", dg_config_is_locked(cfg, key),
                     "declared", decl != NULL, "description",
                     json_string_value(json_object_get(decl, "description")));
}

json_t *dg_config_list(const dg_config *cfg)
{
    if (!cfg)
        return NULL;
    json_t *keys = dg_cfg_all_keys(cfg);
    json_t *out = json_array();
    if (!keys || !out) {
        json_decref(keys);
        json_decref(out);
        return NULL;
    }
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        json_t *entry = dg_config_describe(cfg, json_string_value(k));
        if (!entry || json_array_append_new(out, entry) != 0) {
            json_decref(keys);
            json_decref(out);
            return NULL;
        }
    }
    json_decref(keys);
    return out;
}

/* 1 when key should be reported now (first time, and room left). Caller holds the lock. */
static int first_warning(const char *key)
{
    if (!warned_keys && !(warned_keys = json_object()))
        return 0;
    if (json_object_get(warned_keys, key))
        return 0;
    if (json_object_size(warned_keys) >= WARNED_MAX) {
        if (!warned_overflow)
            dg_log(DG_LOG_WARN, "config", "more undeclared keys; not listing them all");
        warned_overflow = 1;
        return 0;
    }
    return json_object_set_new(warned_keys, key, json_true()) == 0;
}

void dg_config_warn_unknown(dg_config *cfg)
{
    if (!cfg)
        return;
    json_t *keys = dg_cfg_all_keys(cfg);
    size_t i;
    json_t *k;
    pthread_mutex_lock(&warned_lock);
    json_array_foreach(keys, i, k)
    {
        const char *key = json_string_value(k);
        if (dg_cfg_decl(cfg, key) || !first_warning(key))
            continue;
        int source = dg_config_source(cfg, key);
        dg_log(DG_LOG_WARN, "config",
               "unknown key %s (set in the %s layer): no plugin or core declares it, so it has "
               "no effect; misspelt, or its plugin is not loaded?",
               key, dg_config_layer_name((dg_config_layer)source));
    }
    pthread_mutex_unlock(&warned_lock);
    json_decref(keys);
}
