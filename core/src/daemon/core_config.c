/*
 * The core's own configuration: declares its keys, loads the layers in order
 * (embedded defaults, embedded profile, system file, user file, -o options)
 * and reacts to changes (log level, identity names) before announcing them
 * on the bus as "core.config.changed".
 */
#include "daemon/daemon.h"

#include "daemon/embedded.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

typedef struct core_key {
    const char *key;
    dg_config_type type;
    int live;
    const char *description;
} core_key;

/* Defaults come from the embedded conf/dengon.ini, so they are written once. */
static const core_key core_keys[] = {
    {"log.level", DG_CONF_STRING, 1, "error, warn, info or debug"},
    {"log.max_size", DG_CONF_INT, 0, "rotate logs/dengond.log at this size (bytes)"},
    {"log.keep", DG_CONF_INT, 0, "rotated log files kept"},
    {"identity.user", DG_CONF_STRING, 0, "logon name in the LAN key (empty: the system's)"},
    {"identity.host", DG_CONF_STRING, 0, "host name in the LAN key (empty: the system's)"},
    {"identity.nickname", DG_CONF_STRING, 1, "name shown to others (empty: logon name)"},
    {"identity.group", DG_CONF_STRING, 1, "group shown to others"},
    {"identity.tenant", DG_CONF_STRING, 1, "tenant of the cloud key"},
    {"plugins.allow_user", DG_CONF_BOOL, 0, "load plugins from the home folder's plugins/"},
    {"bus.queue_capacity", DG_CONF_INT, 0, "default bound of a subscriber's queue"},
    {"bus.recent_events", DG_CONF_INT, 0, "events kept for core.events (dengon watch)"},
};

static void apply_log_level(dg_daemon *d)
{
    if (d->opts.log_level) /* --log-level beats config for this run */
        return;
    dg_log_level level;
    const char *text = dg_config_get(d->config, "log.level");
    if (text && dg_log_level_parse(text, &level) == 0)
        dg_log_set_level(level);
    else if (text)
        dg_log(DG_LOG_WARN, "core", "log.level: unknown level '%s' (error, warn, info, debug)",
               text);
}

static void publish_identity(dg_daemon *d)
{
    if (d->bus)
        dg_bus_publish(d->bus, NULL, "core.identity.changed", dg_identity_to_json(&d->identity));
}

static void on_config_change(const char *key, const char *old_value, const char *new_value,
                             void *user)
{
    dg_daemon *d = user;
    if (strcmp(key, "log.level") == 0)
        apply_log_level(d);
    /* user/host are the LAN key: changing them live would orphan peers' entries. */
    if (strncmp(key, "identity.", 9) == 0 && strcmp(key, "identity.user") != 0 &&
        strcmp(key, "identity.host") != 0 && d->identity.uuid[0]) {
        dg_identity_update(&d->identity, dg_config_get(d->config, "identity.tenant"),
                           dg_config_get(d->config, "identity.nickname"),
                           dg_config_get(d->config, "identity.group"));
        publish_identity(d);
    }
    /* plugins.<id>.enabled is live: start or stop the plugin now. */
    if (strncmp(key, "plugins.", 8) == 0 && d->plugins)
        dg_plugin_host_reevaluate(d->plugins);
    if (!d->bus)
        return;
    int source = dg_config_source(d->config, key);
    json_t *payload = json_pack("{s:s, s:s?, s:s?, s:s, s:b}", "key", key, "old", old_value,
                                "value", new_value, "source",
                                source >= 0 ? dg_config_layer_name(source) : "unset", "live",
                                dg_config_is_live(d->config, key));
    dg_bus_publish(d->bus, NULL, "core.config.changed", payload);
}

static int load_layer_file(dg_daemon *d, dg_config_layer layer, const char *path, char **err)
{
    char *why = NULL;
    if (dg_config_load_file(d->config, layer, path, &why) != DG_OK) {
        *err = why ? why : strdup("cannot read configuration");
        return -1;
    }
    free(why);
    return 0;
}

static int apply_overrides(dg_daemon *d, char **err)
{
    for (size_t i = 0; i < d->opts.n_overrides; i++) {
        const char *arg = d->opts.overrides[i];
        const char *eq = strchr(arg, '=');
        char *key = strndup(arg, (size_t)(eq - arg));
        char *why = NULL;
        int rc = key ? dg_config_set_layer(d->config, DG_LAYER_CMDLINE, key, eq + 1, &why)
                     : DG_ENOMEM;
        free(key);
        if (rc != DG_OK) {
            *err = why ? why : strdup("invalid -o option");
            return -1;
        }
        free(why);
    }
    return 0;
}

int dg_daemon_config_init(dg_daemon *d, char **err)
{
    d->config = dg_config_new();
    if (!d->config) {
        *err = strdup("out of memory");
        return -1;
    }
    for (size_t i = 0; i < sizeof core_keys / sizeof core_keys[0]; i++)
        dg_config_declare(d->config, core_keys[i].key, core_keys[i].type, NULL,
                          core_keys[i].live, "core", core_keys[i].description);

    const char *profile = strcmp(d->opts.profile, "server") == 0
                              ? dg_embedded_profile_server_ini
                              : dg_embedded_profile_client_ini;
    if (dg_config_load_string(d->config, DG_LAYER_DEFAULT, dg_embedded_defaults_ini,
                              "built-in defaults", err) != DG_OK ||
        dg_config_load_string(d->config, DG_LAYER_PROFILE, profile, d->opts.profile, err) !=
            DG_OK)
        return -1;
    if (load_layer_file(d, DG_LAYER_SYSTEM, d->opts.system_config, err) != 0 ||
        load_layer_file(d, DG_LAYER_USER, d->home.user_config_file, err) != 0 ||
        apply_overrides(d, err) != 0)
        return -1;
    apply_log_level(d);
    dg_config_on_change(d->config, on_config_change, d);
    return 0;
}

/* Parses path into a throwaway config: 0 when it would load. */
static int check_layer_file(dg_config_layer layer, const char *path, char **err)
{
    dg_config *scratch = dg_config_new();
    if (!scratch) {
        *err = strdup("out of memory");
        return -1;
    }
    char *why = NULL;
    int rc = dg_config_load_file(scratch, layer, path, &why);
    dg_config_free(scratch);
    if (rc != DG_OK) {
        *err = why ? why : strdup("cannot read configuration");
        return -1;
    }
    free(why);
    return 0;
}

void dg_daemon_config_reload(dg_daemon *d)
{
    char *err = NULL;
    /* Both files or neither: check them before touching the live layers. */
    if (check_layer_file(DG_LAYER_SYSTEM, d->opts.system_config, &err) != 0 ||
        check_layer_file(DG_LAYER_USER, d->home.user_config_file, &err) != 0 ||
        load_layer_file(d, DG_LAYER_SYSTEM, d->opts.system_config, &err) != 0 ||
        load_layer_file(d, DG_LAYER_USER, d->home.user_config_file, &err) != 0) {
        dg_log(DG_LOG_ERROR, "core", "reload failed, keeping the previous values: %s", err);
        free(err);
        return;
    }
    dg_config_warn_unknown(d->config);
    if (d->plugins)
        dg_plugin_host_reevaluate(d->plugins);
}
