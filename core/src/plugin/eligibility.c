/*
 * Eligibility: everything decided from the manifest and the host's own state,
 * before any plugin code runs (constructors run at dlopen time, §6.3-8).
 * Order: manifest valid -> platform -> ABI major -> ABI minor -> quarantine
 * -> config plugins.<id>.enabled -> gates (policy, licence).
 */
#include "host_internal.h"

#include "plugin/sentinel.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *dg_host_enabled_key(const char *id)
{
    size_t n = strlen(id) + sizeof("plugins..enabled");
    char *key = malloc(n);
    if (key)
        snprintf(key, n, "plugins.%s.enabled", id);
    return key;
}

static int platform_ok(const dg_manifest *m, char *list, size_t len)
{
    const char *here = dg_platform_name();
    list[0] = '\0';
    if (m->n_platforms == 0)
        return 1;
    for (size_t i = 0; i < m->n_platforms; i++) {
        if (strcmp(m->platforms[i], here) == 0)
            return 1;
        size_t used = strlen(list);
        snprintf(list + used, len - used, "%s%s", i ? ", " : "", m->platforms[i]);
    }
    return 0;
}

/* Each check returns 1 to pass, or 0 after filling *st and why. */
static int check_manifest_only(const dg_manifest *m, dg_plugin_state *st, char *why, size_t len)
{
    char platforms[256];
    *st = DG_PLUGIN_INCOMPATIBLE;
    if (!platform_ok(m, platforms, sizeof(platforms))) {
        snprintf(why, len, "built for %s, this is %s", platforms, dg_platform_name());
        return 0;
    }
    if (m->abi_major != DG_ABI_MAJOR) {
        snprintf(why, len, "ABI major %d, host speaks %d", m->abi_major, DG_ABI_MAJOR);
        return 0;
    }
    if (m->abi_min_minor > DG_ABI_MINOR) {
        snprintf(why, len, "needs ABI %d.%d, host has %d.%d", m->abi_major, m->abi_min_minor,
                 DG_ABI_MAJOR, DG_ABI_MINOR);
        return 0;
    }
    return 1;
}

static int check_quarantine(dg_plugin_host *host, const dg_plugin_rec *p, dg_plugin_state *st,
                            char *why, size_t len)
{
    char *when = NULL;
    if (!host->data_dir || !dg_sentinel_check(host->data_dir, p->id, &when))
        return 1;
    *st = DG_PLUGIN_QUARANTINED;
    snprintf(why, len, "crashed during start on %s; run 'dengon plugin enable %s' to retry",
             when ? when : "an earlier run", p->id);
    free(when);
    return 0;
}

int dg_host_config_enabled(dg_plugin_host *host, const dg_plugin_rec *p, char *why, size_t len)
{
    if (!host->config || !p->m)
        return 1;
    char *key = dg_host_enabled_key(p->id);
    if (!key)
        return 1;
    int enabled = dg_config_get_bool(host->config, key, p->m->default_enabled);
    int source = dg_config_source(host->config, key);
    free(key);
    if (enabled)
        return 1;
    /* Unset: the manifest's load.default_enabled decided, which is the default layer too. */
    if (source < 0)
        snprintf(why, len, "disabled by config (%s)", dg_config_layer_name(DG_LAYER_DEFAULT));
    else
        snprintf(why, len, "disabled by config (%s)",
                 dg_config_layer_name((dg_config_layer)source));
    return 0;
}

static int check_gates(dg_plugin_host *host, const dg_plugin_rec *p, dg_plugin_state *st, char *why,
                       size_t len)
{
    for (size_t i = 0; i < host->n_gates; i++) {
        char *msg = NULL;
        int rc = host->gates[i].fn(host->gates[i].user, p->m, &msg);
        if (rc == DG_OK) {
            free(msg);
            continue;
        }
        *st = rc == DG_STOP ? DG_PLUGIN_LOCKED : DG_PLUGIN_DISABLED;
        if (rc == DG_STOP || rc == DG_EDENIED)
            snprintf(why, len, "%s", msg ? msg : (rc == DG_STOP ? "locked" : "denied by policy"));
        else
            snprintf(why, len, "eligibility check failed: %s%s%s", dg_plugin_status_name(rc),
                     msg ? ": " : "", msg ? msg : "");
        free(msg);
        return 0;
    }
    return 1;
}

int dg_host_gate_denies(dg_plugin_host *host, const dg_plugin_rec *p, char *why, size_t len)
{
    dg_plugin_state st = DG_PLUGIN_DISABLED;
    why[0] = '\0';
    if (!p->m || check_gates(host, p, &st, why, len))
        return 0;
    return st == DG_PLUGIN_DISABLED;
}

int dg_host_eligibility(dg_plugin_host *host, const dg_plugin_rec *p, dg_plugin_state *st,
                        char *why, size_t len)
{
    why[0] = '\0';
    if (!p->m) {
        *st = DG_PLUGIN_INVALID;
        snprintf(why, len, "%s", p->reason ? p->reason : "no valid manifest");
        return 0;
    }
    if (!check_manifest_only(p->m, st, why, len) || !check_quarantine(host, p, st, why, len))
        return 0;
    if (!dg_host_config_enabled(host, p, why, len)) {
        *st = DG_PLUGIN_DISABLED;
        return 0;
    }
    return check_gates(host, p, st, why, len);
}

int dg_host_check_eligible(dg_plugin_host *host, dg_plugin_rec *p)
{
    dg_plugin_state st;
    char why[DG_REASON_MAX];
    if (dg_host_eligibility(host, p, &st, why, sizeof(why)))
        return 1;
    dg_host_set_state(host, p, st, "%s", why);
    return 0;
}

static dg_config_type config_type(const char *type)
{
    if (type && strcmp(type, "int") == 0)
        return DG_CONF_INT;
    if (type && strcmp(type, "bool") == 0)
        return DG_CONF_BOOL;
    return DG_CONF_STRING;
}

void dg_host_declare_config(dg_plugin_host *host, dg_plugin_rec *p)
{
    if (!host->config || !p->m)
        return;
    char *key = dg_host_enabled_key(p->id);
    char desc[160];
    snprintf(desc, sizeof(desc), "Load plugin %s (live: starts or stops it)", p->id);
    /* Owned by the core: the host, not the plugin, acts on it. */
    int rc = key ? dg_config_declare(host->config, key, DG_CONF_BOOL,
                                     p->m->default_enabled ? "true" : "false", 1, "core", desc)
                 : DG_ENOMEM;
    if (rc != DG_OK)
        dg_log(DG_LOG_WARN, "plugin", "%s: cannot declare %s: %s", p->id, key ? key : "?",
               dg_plugin_status_name(rc));
    free(key);
    /* Declared even if the plugin never starts, so `config set` knows its keys. */
    for (size_t i = 0; i < p->m->n_config; i++) {
        const dg_manifest_config_key *c = &p->m->config[i];
        rc = dg_config_declare(host->config, c->key, config_type(c->type), c->default_value,
                               c->live, p->id, c->description);
        if (rc != DG_OK)
            dg_log(DG_LOG_WARN, "plugin", "%s: cannot declare config key %s: %s", p->id, c->key,
                   dg_plugin_status_name(rc));
    }
}
