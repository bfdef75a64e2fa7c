/*
 * From "these plugins may start" to started plugins: eligibility, the
 * dependency graph (graph.c), then start in order. Used by start_all, enable
 * and reevaluate with different candidate sets.
 */
#include "host_internal.h"

#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct resolve_run {
    dg_plugin_host *host;
    size_t n;
    char *in_graph; /* active, or an eligible candidate */
    char *to_start; /* eligible candidates not yet started or failed */
    char **reasons; /* NULL for plugins in the graph, else "<state>: <reason>" */
} resolve_run;

/* For plugins outside the graph: "<state>: <reason>", quoted in dependents' errors. */
static int fill_reasons(resolve_run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const dg_plugin_rec *q = r->host->plugins[i];
        if (r->in_graph[i])
            continue;
        char buf[DG_REASON_MAX];
        snprintf(buf, sizeof(buf), "%s: %s", dg_plugin_state_name(q->state),
                 q->reason ? q->reason : "no reason given");
        /* A missing reason would make the graph treat the plugin as eligible. */
        if (!(r->reasons[i] = strdup(buf)))
            return -1;
    }
    return 0;
}

static long *copy_needs(const long *needs)
{
    size_t n = 0;
    while (needs && needs[n] >= 0)
        n++;
    long *out = malloc((n + 1) * sizeof(long));
    if (out) {
        if (n)
            memcpy(out, needs, n * sizeof(long));
        out[n] = -1;
    }
    return out;
}

static size_t order_and_start(resolve_run *r)
{
    dg_plugin_host *host = r->host;
    dg_manifest **ms = calloc(r->n, sizeof(*ms));
    dg_graph_result res;
    memset(&res, 0, sizeof(res));
    if (!ms) {
        dg_log(DG_LOG_ERROR, "plugin", "out of memory ordering plugins");
        return 0;
    }
    /*
     * Ineligible plugins go in too, with their reason: the graph then tells
     * their dependents "depends on X which is not available (<reason>)"
     * rather than "not installed". Invalid ones are known by directory name.
     */
    const char **ids = calloc(r->n, sizeof(*ids));
    for (size_t i = 0; ids && i < r->n; i++) {
        ms[i] = host->plugins[i]->m;
        ids[i] = host->plugins[i]->id;
    }
    if (!ids || dg_graph_order_ex(ms, ids, (const char *const *)r->reasons, r->n,
                                  (const char *const *)host->core_caps, &res) != 0) {
        free(ids);
        for (size_t i = 0; i < r->n; i++)
            if (r->to_start[i])
                dg_host_set_state(host, host->plugins[i], DG_PLUGIN_UNRESOLVED,
                                  "dependency resolution failed (out of memory)");
        free(ms);
        return 0;
    }
    for (size_t i = 0; i < r->n; i++) {
        dg_plugin_rec *p = host->plugins[i];
        if (!r->in_graph[i])
            continue;
        free(p->needs);
        p->needs = copy_needs(res.needs ? res.needs[i] : NULL);
        if (r->to_start[i] && res.error && res.error[i]) {
            dg_host_set_state(host, p, DG_PLUGIN_UNRESOLVED, "%s", res.error[i]);
            r->to_start[i] = 0;
        }
    }
    size_t started = 0;
    for (size_t k = 0; k < res.n_order; k++) {
        size_t i = res.order[k];
        if (i >= r->n || !r->to_start[i])
            continue;
        r->to_start[i] = 0;
        if (dg_host_start_one(host, host->plugins[i]) == 0)
            started++;
    }
    for (size_t i = 0; i < r->n; i++)
        if (r->to_start[i])
            dg_host_set_state(host, host->plugins[i], DG_PLUGIN_UNRESOLVED,
                              "not ordered by the dependency graph");
    dg_graph_result_free(&res, r->n);
    free(ids);
    free(ms);
    return started;
}

size_t dg_host_resolve_and_start(dg_plugin_host *host, dg_candidate_fn candidate, void *user)
{
    dg_host_assert_loop_thread(host);
    resolve_run r = {.host = host, .n = host->n_plugins};
    if (r.n == 0)
        return 0;
    r.in_graph = calloc(r.n, 1);
    r.to_start = calloc(r.n, 1);
    r.reasons = calloc(r.n, sizeof(char *));
    size_t started = 0;
    if (!r.in_graph || !r.to_start || !r.reasons) {
        dg_log(DG_LOG_ERROR, "plugin", "out of memory resolving plugins");
        goto out;
    }
    for (size_t i = 0; i < r.n; i++) {
        dg_plugin_rec *p = host->plugins[i];
        if (p->state == DG_PLUGIN_ACTIVE)
            r.in_graph[i] = 1;
        else if (candidate(p, user) && dg_host_check_eligible(host, p))
            r.in_graph[i] = r.to_start[i] = 1;
    }
    if (fill_reasons(&r) != 0) {
        dg_log(DG_LOG_ERROR, "plugin", "out of memory resolving plugins");
        goto out;
    }
    started = order_and_start(&r);
out:
    for (size_t i = 0; r.reasons && i < r.n; i++)
        free(r.reasons[i]);
    free(r.reasons);
    free(r.in_graph);
    free(r.to_start);
    return started;
}

static int startable(const dg_plugin_rec *p, void *user)
{
    (void)user;
    return p->state == DG_PLUGIN_DISCOVERED || p->state == DG_PLUGIN_UNRESOLVED ||
           p->state == DG_PLUGIN_STOPPED;
}

int dg_plugin_host_start_all(dg_plugin_host *host)
{
    if (!host)
        return DG_EINVAL;
    dg_host_assert_loop_thread(host);
    host->busy++;
    dg_host_resolve_and_start(host, startable, NULL);
    host->busy--;
    size_t active = dg_plugin_host_count(host, DG_PLUGIN_ACTIVE);
    return active > 0x7fffffff ? 0x7fffffff : (int)active;
}
