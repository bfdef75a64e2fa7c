/*
 * Live enable/disable (the CLI's `dengon plugin enable|disable <id>`) and
 * re-evaluation after policy, licence or config changes.
 */
#include "host_internal.h"

#include "plugin/sentinel.h"
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_msg(char **msg, const char *fmt, ...) DG_PRINTF(2, 3);
static void set_msg(char **msg, const char *fmt, ...)
{
    if (!msg)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    free(*msg);
    *msg = strdup(buf);
}

/*
 * Records the user's choice. Without a user file (tests, or a daemon without
 * a home) it only goes into the in-memory user layer.
 */
static int persist(dg_plugin_host *host, const dg_plugin_rec *p, int enabled, const char *user_file,
                   char **err)
{
    if (!host->config)
        return DG_OK;
    char *key = dg_host_enabled_key(p->id);
    if (!key)
        return DG_ENOMEM;
    const char *value = enabled ? "true" : "false";
    int rc;
    if (user_file) {
        rc = dg_config_user_set(host->config, user_file, key, value, err);
    } else if (dg_config_is_locked(host->config, key)) {
        rc = DG_EDENIED;
        size_t n = strlen(key) + 64;
        if ((*err = malloc(n)))
            snprintf(*err, n, "%s is locked by policy", key);
    } else {
        rc = dg_config_set_layer(host->config, DG_LAYER_USER, key, value, err);
    }
    free(key);
    return rc == DG_ERESTART ? DG_OK : rc;
}

/* Does q need r: a hard dependency by id, a required capability, or a graph edge? */
static int depends_on(const dg_plugin_rec *q, const dg_plugin_rec *r)
{
    for (size_t d = 0; d < q->m->n_deps; d++)
        if (strcmp(q->m->deps[d].id, r->id) == 0)
            return 1;
    for (size_t k = 0; r->m && k < q->m->n_requires; k++)
        for (size_t j = 0; j < r->m->n_provides; j++)
            if (strcmp(q->m->requires[k], r -> m -> provides[j]) == 0)
                return 1;
    for (const long *n = q->needs; n && *n >= 0; n++)
        if ((size_t)*n == r->index)
            return 1;
    return 0;
}

/* p plus its transitive dependents that are waiting (UNRESOLVED or STOPPED). */
static char *waiting_dependents(dg_plugin_host *host, const dg_plugin_rec *p)
{
    char *set = calloc(host->n_plugins, 1);
    if (!set)
        return NULL;
    set[p->index] = 1;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < host->n_plugins; i++) {
            const dg_plugin_rec *q = host->plugins[i];
            if (set[i] || !q->m ||
                (q->state != DG_PLUGIN_UNRESOLVED && q->state != DG_PLUGIN_STOPPED))
                continue;
            for (size_t j = 0; j < host->n_plugins && !set[i]; j++)
                if (set[j] && depends_on(q, host->plugins[j]))
                    set[i] = changed = 1;
        }
    }
    return set;
}

static int in_set(const dg_plugin_rec *p, void *user)
{
    return ((const char *)user)[p->index];
}

/*
 * The shared first half of enable/disable: find the plugin and persist the
 * user's choice. Returns DG_OK with *out set, or an error with *msg set.
 */
static int find_and_persist(dg_plugin_host *host, const char *id, int enable, const char *user_file,
                            char **msg, dg_plugin_rec **out)
{
    const char *verb = enable ? "enable" : "disable";
    if (msg)
        *msg = NULL;
    if (!host || !id)
        return DG_EINVAL;
    dg_host_assert_loop_thread(host);
    dg_plugin_rec *p = dg_host_find(host, id);
    if (!p) {
        set_msg(msg, "no plugin '%s'", id);
        return DG_ENOENT;
    }
    if (!p->m) {
        set_msg(msg, "%s: cannot %s: invalid manifest: %s", id, verb, p->reason ? p->reason : "?");
        return DG_ERR;
    }
    char *err = NULL;
    /* busy: config-change callbacks fired by persist must not reevaluate under us. */
    host->busy++;
    int rc = persist(host, p, enable, user_file, &err);
    host->busy--;
    if (rc != DG_OK)
        set_msg(msg, "%s: cannot %s: %s", id, verb, err ? err : dg_plugin_status_name(rc));
    free(err);
    *out = p;
    return rc;
}

int dg_plugin_host_enable(dg_plugin_host *host, const char *id, const char *user_file, char **msg)
{
    dg_plugin_rec *p = host && id ? dg_host_find(host, id) : NULL;
    char why[DG_REASON_MAX];
    /* Team policy turned it off: refuse before the user's choice is written. */
    if (p && p->m && dg_host_gate_denies(host, p, why, sizeof(why))) {
        if (msg)
            *msg = NULL;
        set_msg(msg, "%s: cannot enable: %s", id, why);
        return DG_EDENIED;
    }
    p = NULL;
    int rc = find_and_persist(host, id, 1, user_file, msg, &p);
    if (rc != DG_OK)
        return rc;
    if (host->data_dir && dg_sentinel_clear(host->data_dir, p->id) != 0)
        dg_log(DG_LOG_WARN, "plugin", "%s: cannot remove quarantine file", p->id);
    if (p->state == DG_PLUGIN_ACTIVE) {
        set_msg(msg, "%s: already active", id);
        return DG_OK;
    }
    char *set = waiting_dependents(host, p);
    if (!set) {
        set_msg(msg, "%s: out of memory", id);
        return DG_ENOMEM;
    }
    host->busy++;
    dg_host_resolve_and_start(host, in_set, set);
    host->busy--;

    dg_idlist started = {0};
    for (size_t i = 0; i < host->n_plugins; i++)
        if (set[i] && host->plugins[i] != p && host->plugins[i]->state == DG_PLUGIN_ACTIVE)
            dg_idlist_add(&started, host->plugins[i]->id);
    free(set);
    char names[512];
    dg_idlist_join(&started, names, sizeof(names));
    if (p->state == DG_PLUGIN_ACTIVE) {
        if (started.n)
            set_msg(msg, "%s: active (%zu dependent%s started: %s)", id, started.n,
                    started.n == 1 ? "" : "s", names);
        else
            set_msg(msg, "%s: active", id);
        rc = DG_OK;
    } else {
        set_msg(msg, "%s: %s: %s", id, dg_plugin_state_name(p->state),
                p->reason ? p->reason : "no reason given");
        rc = p->state == DG_PLUGIN_DISABLED || p->state == DG_PLUGIN_LOCKED ? DG_EDENIED : DG_ERR;
    }
    dg_idlist_free(&started);
    return rc;
}

int dg_plugin_host_disable(dg_plugin_host *host, const char *id, const char *user_file, char **msg)
{
    dg_plugin_rec *p = NULL;
    int rc = find_and_persist(host, id, 0, user_file, msg, &p);
    if (rc != DG_OK)
        return rc;
    char why[DG_REASON_MAX] = "disabled by config";
    dg_host_config_enabled(host, p, why, sizeof(why));
    host->busy++;
    if (p->state == DG_PLUGIN_ACTIVE) {
        dg_idlist stopped = {0};
        dg_host_stop_cascade(host, p, DG_PLUGIN_DISABLED, why, 0, &stopped);
        char names[512];
        dg_idlist_join(&stopped, names, sizeof(names));
        if (stopped.n)
            set_msg(msg, "%s: disabled (%zu dependent%s stopped: %s)", id, stopped.n,
                    stopped.n == 1 ? "" : "s", names);
        else
            set_msg(msg, "%s: disabled", id);
        dg_idlist_free(&stopped);
    } else {
        /* Not running: show the most relevant reason (e.g. still quarantined). */
        dg_host_check_eligible(host, p);
        if (p->state == DG_PLUGIN_DISABLED)
            set_msg(msg, "%s: disabled", id);
        else
            set_msg(msg, "%s: disabled by config (currently %s)", id,
                    dg_plugin_state_name(p->state));
    }
    host->busy--;
    return DG_OK;
}

static int reconsider(const dg_plugin_rec *p, void *user)
{
    (void)user;
    return p->state == DG_PLUGIN_DISCOVERED || p->state == DG_PLUGIN_DISABLED ||
           p->state == DG_PLUGIN_LOCKED || p->state == DG_PLUGIN_UNRESOLVED;
}

static int by_start_seq_desc(const void *a, const void *b)
{
    const dg_plugin_rec *x = *(dg_plugin_rec *const *)a, *y = *(dg_plugin_rec *const *)b;
    return (x->start_seq < y->start_seq) - (x->start_seq > y->start_seq);
}

void dg_plugin_host_reevaluate(dg_plugin_host *host)
{
    if (!host || !host->discovered)
        return;
    dg_host_assert_loop_thread(host);
    /* Called from config-change callbacks too, including those fired by our own persist(). */
    if (host->busy)
        return;
    host->busy++;
    dg_plugin_rec **active = calloc(host->n_plugins ? host->n_plugins : 1, sizeof(*active));
    size_t n = 0;
    for (size_t i = 0; active && i < host->n_plugins; i++)
        if (host->plugins[i]->state == DG_PLUGIN_ACTIVE)
            active[n++] = host->plugins[i];
    if (active)
        qsort(active, n, sizeof(*active), by_start_seq_desc);
    /* First stop what may no longer run (a lapsed licence, a policy, a config change)... */
    for (size_t i = 0; i < n; i++) {
        dg_plugin_rec *p = active[i];
        dg_plugin_state st;
        char why[DG_REASON_MAX];
        if (p->state == DG_PLUGIN_ACTIVE && !dg_host_eligibility(host, p, &st, why, sizeof(why)))
            dg_host_stop_cascade(host, p, st, why, 0, NULL);
    }
    free(active);
    /* ...then start what now may. */
    dg_host_resolve_and_start(host, reconsider, NULL);
    host->busy--;
}
