/*
 * Starting and stopping one plugin, and stop cascades (a provider stops only
 * after the plugins that need it or use its services).
 */
#include "host_internal.h"

#include "plugin/sentinel.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dg_host_dependency_reason(const char *id, dg_plugin_state st, const char *reason, char *buf,
                               size_t len)
{
    const char *sep = reason ? ": " : "";
    reason = reason ? reason : "";
    if (st == DG_PLUGIN_START_FAILED)
        snprintf(buf, len, "depends on %s which failed to start%s%s", id, sep, reason);
    else if (st == DG_PLUGIN_LOAD_FAILED)
        snprintf(buf, len, "depends on %s which failed to load%s%s", id, sep, reason);
    else
        snprintf(buf, len, "depends on %s which is %s%s%s", id, dg_plugin_state_name(st), sep,
                 reason);
}

/* Every hard dependency must be ACTIVE; otherwise say which one and why not. */
static int deps_active(dg_plugin_host *host, dg_plugin_rec *p)
{
    for (const long *n = p->needs; n && *n >= 0; n++) {
        const dg_plugin_rec *q = host->plugins[*n];
        if (q->state == DG_PLUGIN_ACTIVE)
            continue;
        char why[DG_REASON_MAX];
        dg_host_dependency_reason(q->id, q->state, q->reason, why, sizeof(why));
        dg_host_set_state(host, p, DG_PLUGIN_UNRESOLVED, "%s", why);
        return 0;
    }
    return 1;
}

/*
 * The crash sentinel brackets everything that runs plugin code for the first
 * time: opening the library (ELF constructors), the entry function and
 * start(). A leftover sentinel quarantines the plugin on the next launch.
 */
static void sentinel_begin(dg_plugin_host *host, const dg_plugin_rec *p)
{
    int rc = host->data_dir ? dg_sentinel_begin(host->data_dir, p->id) : 0;
    if (rc != 0)
        dg_log(DG_LOG_WARN, "plugin", "%s: cannot write crash sentinel (%s); starting anyway",
               p->id, strerror(-rc));
}

static void sentinel_end(dg_plugin_host *host, const dg_plugin_rec *p)
{
    int rc = host->data_dir ? dg_sentinel_end(host->data_dir, p->id) : 0;
    if (rc != 0)
        dg_log(DG_LOG_WARN, "plugin", "%s: cannot remove crash sentinel: %s", p->id,
               strerror(-rc));
}

int dg_host_start_one(dg_plugin_host *host, dg_plugin_rec *p)
{
    dg_host_assert_loop_thread(host);
    if (p->state == DG_PLUGIN_ACTIVE)
        return 0;
    if (!p->m || !deps_active(host, p))
        return -1;
    char reason[DG_REASON_MAX];
    sentinel_begin(host, p);
    if (dg_loader_open(p->m->library_path, p->m->entry, p->id, host->no_dlclose, &p->lib, reason,
                       sizeof(reason)) != 0) {
        sentinel_end(host, p);
        dg_host_set_state(host, p, DG_PLUGIN_LOAD_FAILED, "%s", reason);
        return -1;
    }
    p->ctx = dg_ctx_new(host, p, ++host->next_gen);
    if (!p->ctx) {
        sentinel_end(host, p);
        dg_loader_close(&p->lib);
        dg_host_set_state(host, p, DG_PLUGIN_START_FAILED, "start failed: out of memory");
        return -1;
    }
    void *state = NULL;
    int rc = p->lib.desc->start(p->ctx, dg_plugin_api(), &state);
    sentinel_end(host, p);
    if (rc != DG_OK) {
        char last[sizeof(p->ctx->last_error)];
        memcpy(last, p->ctx->last_error, sizeof(last));
        /* Roll back everything it registered, then unmap it: the core keeps running. */
        dg_ctx_teardown(p->ctx);
        p->ctx = NULL;
        dg_host_release_library(host, &p->lib);
        if (last[0])
            dg_host_set_state(host, p, DG_PLUGIN_START_FAILED, "start failed: %s (%s)",
                              dg_plugin_status_name(rc), last);
        else
            dg_host_set_state(host, p, DG_PLUGIN_START_FAILED, "start failed: %s",
                              dg_plugin_status_name(rc));
        return -1;
    }
    p->pstate = state;
    p->start_seq = ++host->next_start_seq;
    dg_host_set_state(host, p, DG_PLUGIN_ACTIVE, NULL);
    return 0;
}

static void stop_one(dg_plugin_host *host, dg_plugin_rec *p, dg_plugin_state final,
                     const char *reason)
{
    if (p->state == DG_PLUGIN_ACTIVE && p->ctx) {
        if (p->lib.desc->stop)
            p->lib.desc->stop(p->ctx, p->pstate);
        dg_ctx_teardown(p->ctx);
        p->ctx = NULL;
        p->pstate = NULL;
        dg_host_release_library(host, &p->lib);
    }
    if (reason)
        dg_host_set_state(host, p, final, "%s", reason);
    else
        dg_host_set_state(host, p, final, NULL);
}

static int needs(const dg_plugin_rec *q, size_t index)
{
    for (const long *n = q->needs; n && *n >= 0; n++)
        if ((size_t)*n == index)
            return 1;
    return 0;
}

static int by_start_seq_desc(const void *a, const void *b)
{
    const dg_plugin_rec *x = *(dg_plugin_rec *const *)a, *y = *(dg_plugin_rec *const *)b;
    return (x->start_seq < y->start_seq) - (x->start_seq > y->start_seq);
}

/* Active plugins that must stop before p, most recently started first. */
static size_t dependents_of(dg_plugin_host *host, dg_plugin_rec *p, dg_plugin_rec **out)
{
    size_t n = 0, max = host->n_plugins;
    dg_ctx **users = p->ctx ? calloc(max ? max : 1, sizeof(dg_ctx *)) : NULL;
    size_t n_users = users ? dg_services_users_of(host->services, p->ctx, users, max) : 0;
    for (size_t i = 0; i < host->n_plugins; i++) {
        dg_plugin_rec *q = host->plugins[i];
        if (q == p || q->state != DG_PLUGIN_ACTIVE || q->stopping)
            continue;
        int uses = 0;
        for (size_t k = 0; k < n_users && !uses; k++)
            uses = q->ctx && users[k] == q->ctx;
        if (uses || needs(q, p->index))
            out[n++] = q;
    }
    free(users);
    qsort(out, n, sizeof(*out), by_start_seq_desc);
    return n;
}

void dg_host_stop_cascade(dg_plugin_host *host, dg_plugin_rec *p, dg_plugin_state final,
                          const char *final_reason, int shutdown, dg_idlist *stopped)
{
    dg_host_assert_loop_thread(host);
    if (p->stopping)
        return; /* a use cycle (A uses B, B uses A): already being stopped further up */
    p->stopping = 1;
    dg_plugin_rec **deps = NULL;
    size_t n = 0;
    if (p->state == DG_PLUGIN_ACTIVE && (deps = calloc(host->n_plugins, sizeof(*deps))))
        n = dependents_of(host, p, deps);
    char why[DG_REASON_MAX];
    dg_host_dependency_reason(p->id, final, final_reason, why, sizeof(why));
    for (size_t i = 0; i < n; i++) {
        if (deps[i]->state != DG_PLUGIN_ACTIVE)
            continue; /* stopped meanwhile as a dependent of an earlier sibling */
        if (shutdown)
            dg_host_stop_cascade(host, deps[i], DG_PLUGIN_STOPPED, NULL, 1, stopped);
        else
            dg_host_stop_cascade(host, deps[i], DG_PLUGIN_UNRESOLVED, why, 0, stopped);
        if (stopped)
            dg_idlist_add(stopped, deps[i]->id);
    }
    free(deps);
    stop_one(host, p, final, final_reason);
    p->stopping = 0;
}

void dg_plugin_host_stop_all(dg_plugin_host *host)
{
    if (!host || host->n_plugins == 0)
        return;
    dg_host_assert_loop_thread(host);
    dg_plugin_rec **order = calloc(host->n_plugins, sizeof(*order));
    if (!order) {
        dg_log(DG_LOG_ERROR, "plugin", "out of memory stopping plugins");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < host->n_plugins; i++)
        if (host->plugins[i]->state == DG_PLUGIN_ACTIVE)
            order[n++] = host->plugins[i];
    qsort(order, n, sizeof(*order), by_start_seq_desc);
    host->busy++;
    for (size_t i = 0; i < n; i++)
        if (order[i]->state == DG_PLUGIN_ACTIVE)
            dg_host_stop_cascade(host, order[i], DG_PLUGIN_STOPPED, NULL, 1, NULL);
    host->busy--;
    free(order);
}

void dg_idlist_add(dg_idlist *l, const char *id)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const char **n = realloc(l->ids, cap * sizeof(*n));
        if (!n)
            return;
        l->ids = n;
        l->cap = cap;
    }
    l->ids[l->n++] = id;
}

void dg_idlist_free(dg_idlist *l)
{
    free(l->ids);
    memset(l, 0, sizeof(*l));
}

void dg_idlist_join(const dg_idlist *l, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        size_t used = strlen(buf);
        if (used + 1 >= len)
            break;
        snprintf(buf + used, len - used, "%s%s", i ? ", " : "", l->ids[i]);
    }
}
