/*
 * Dependency graph and start order (see graph.h for the rules).
 *
 * Four passes, each simple on its own:
 *   1. resolve every eligible plugin's edges (own errors: missing, version,
 *      capability, ineligible target);
 *   2. find cycles: a structural Kahn pass over hard edges leaves exactly the
 *      nodes in or behind a cycle; a BFS from each of them finds the shortest
 *      cycle through it, if any;
 *   3. propagate failure to every transitive dependent;
 *   4. Kahn over the survivors with a priority/id tie-break.
 * Plugin counts are small (tens), so selection is a linear scan; edge walks
 * use a reverse adjacency (CSR) so no pass is worse than O(n * n + edges).
 */
#include "plugin/graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

typedef struct gnode {
    const char *id;        /* NULL: unknown entry, nothing can refer to it */
    const dg_manifest *m;  /* NULL for an entry known only by id */
    const char *reason;    /* why it is ineligible (NULL when eligible) */
    int eligible;          /* a candidate for ordering */
    int duplicate;         /* eligible, but its id was taken by an earlier entry */
    int failed;            /* eligible but will not start */
    size_t n_hard;         /* hard edges, stored in out->needs[i] */
    const char **hard_cap; /* per hard edge: the capability, or NULL for a dependency */
    long *soft;            /* order-only edges */
    size_t n_soft;
} gnode;

typedef struct graph {
    gnode *nodes;
    size_t n;
    const char *const *core_caps;
    dg_graph_result *out;
    /* Reverse adjacency: for target t, sources rev_src[rev_off[t] .. rev_off[t+1]). */
    size_t *rev_off;
    size_t *rev_src;
    unsigned char *rev_hard;
} graph;

/* ---- small helpers ---- */

static char *vformat(const char *fmt, va_list ap) PRINTF_LIKE(1, 0);

static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

static int set_error(graph *g, size_t i, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* Records the first error of node i. -1 only on allocation failure. */
static int set_error(graph *g, size_t i, const char *fmt, ...)
{
    if (g->out->error[i])
        return 0;
    va_list ap;
    va_start(ap, fmt);
    g->out->error[i] = vformat(fmt, ap);
    va_end(ap);
    return g->out->error[i] ? 0 : -1;
}

static int priority_of(const gnode *nd)
{
    return nd->m ? nd->m->priority : 0;
}

/* Whether node a goes before node b: higher priority, then lower id, then lower index. */
static int ranks_before(const graph *g, size_t a, size_t b)
{
    const gnode *x = &g->nodes[a], *y = &g->nodes[b];
    if (priority_of(x) != priority_of(y))
        return priority_of(x) > priority_of(y);
    int c = strcmp(x->id, y->id);
    return c != 0 ? c < 0 : a < b;
}

static int list_has(char *const *items, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], s) == 0)
            return 1;
    return 0;
}

static int core_provides(const graph *g, const char *cap)
{
    for (size_t i = 0; g->core_caps && g->core_caps[i]; i++)
        if (strcmp(g->core_caps[i], cap) == 0)
            return 1;
    return 0;
}

/* ---- setup ---- */

static int init_nodes(graph *g, dg_manifest *const *ms, const char *const *ids,
                      const char *const *reasons)
{
    for (size_t i = 0; i < g->n; i++) {
        gnode *nd = &g->nodes[i];
        const dg_manifest *m = ms ? ms[i] : NULL;
        nd->m = (m && m->id) ? m : NULL;
        nd->id = nd->m ? nd->m->id : (ids ? ids[i] : NULL);
        nd->reason = reasons ? reasons[i] : NULL;
        nd->eligible = nd->m && !nd->reason;
        if (nd->id && !nd->reason && !nd->eligible)
            nd->reason = "not eligible";
        size_t cap = nd->eligible ? nd->m->n_deps + nd->m->n_requires : 0;
        g->out->needs[i] = malloc((cap + 1) * sizeof(long));
        nd->hard_cap = calloc(cap + 1, sizeof *nd->hard_cap);
        nd->soft = calloc((nd->eligible ? nd->m->n_optional : 0) + 1, sizeof(long));
        if (!g->out->needs[i] || !nd->hard_cap || !nd->soft)
            return -1;
        g->out->needs[i][0] = -1;
    }
    return 0;
}

/* Later eligible entries with an id already seen cannot be told apart: they fail. */
static int mark_duplicates(graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        if (!g->nodes[i].eligible)
            continue;
        for (size_t j = 0; j < i; j++) {
            if (g->nodes[j].eligible && !g->nodes[j].duplicate &&
                strcmp(g->nodes[j].id, g->nodes[i].id) == 0) {
                g->nodes[i].duplicate = 1;
                if (set_error(g, i, "duplicate plugin id %s", g->nodes[i].id) != 0)
                    return -1;
                break;
            }
        }
    }
    return 0;
}

/* ---- pass 1: resolution ---- */

/* The eligible entry with this id, else a known ineligible one, else -1. */
static long find_plugin(const graph *g, const char *id)
{
    long fallback = -1;
    for (size_t j = 0; j < g->n; j++) {
        const gnode *nd = &g->nodes[j];
        if (!nd->id || strcmp(nd->id, id) != 0)
            continue;
        if (nd->eligible && !nd->duplicate)
            return (long)j;
        if (!nd->eligible && fallback < 0)
            fallback = (long)j;
    }
    return fallback;
}

/* Best-ranked provider of cap other than self, among eligible or ineligible entries. */
static long find_provider(const graph *g, size_t self, const char *cap, int eligible)
{
    long best = -1;
    for (size_t j = 0; j < g->n; j++) {
        const gnode *nd = &g->nodes[j];
        if (j == self || !nd->m || nd->duplicate || nd->eligible != eligible ||
            !list_has(nd->m->provides, nd->m->n_provides, cap))
            continue;
        if (best < 0 || ranks_before(g, j, (size_t)best))
            best = (long)j;
    }
    return best;
}

static void add_hard(graph *g, size_t i, long j, const char *cap)
{
    gnode *nd = &g->nodes[i];
    long *needs = g->out->needs[i];
    for (size_t k = 0; k < nd->n_hard; k++)
        if (needs[k] == j)
            return;
    nd->hard_cap[nd->n_hard] = cap;
    needs[nd->n_hard++] = j;
    needs[nd->n_hard] = -1;
}

static int resolve_dep(graph *g, size_t i, const dg_manifest_dep *d)
{
    long j = find_plugin(g, d->id);
    if (j < 0)
        return set_error(g, i, "depends on %s which is not installed", d->id);
    if ((size_t)j == i)
        return set_error(g, i, "depends on itself");
    add_hard(g, i, j, NULL);
    const gnode *t = &g->nodes[j];
    if (!t->eligible)
        return set_error(g, i, "depends on %s which is not available (%s)", d->id, t->reason);
    int r = dg_semver_range_match(d->range, &t->m->semver);
    if (r < 0)
        return set_error(g, i, "has an invalid version range '%s' for %s", d->range, d->id);
    if (r == 0)
        return set_error(g, i, "requires %s %s but %s is %s", d->id, d->range, d->id,
                         t->m->version ? t->m->version : "?");
    return 0;
}

static int resolve_require(graph *g, size_t i, const char *cap)
{
    const dg_manifest *m = g->nodes[i].m;
    if (dg_capability_parse(cap, NULL, 0, NULL) != 0)
        return set_error(g, i, "has an invalid capability '%s'", cap);
    if (core_provides(g, cap) || list_has(m->provides, m->n_provides, cap))
        return 0;
    long j = find_provider(g, i, cap, 1);
    if (j >= 0) {
        add_hard(g, i, j, cap);
        return 0;
    }
    j = find_provider(g, i, cap, 0);
    if (j < 0)
        return set_error(g, i, "requires capability %s which nothing provides", cap);
    add_hard(g, i, j, cap);
    return set_error(g, i, "requires capability %s from %s which is not available (%s)", cap,
                     g->nodes[j].id, g->nodes[j].reason);
}

static void resolve_optional(graph *g, size_t i, const char *cap)
{
    gnode *nd = &g->nodes[i];
    if (core_provides(g, cap) || list_has(nd->m->provides, nd->m->n_provides, cap))
        return;
    long j = find_provider(g, i, cap, 1);
    if (j < 0)
        return;
    for (size_t k = 0; k < nd->n_hard; k++)
        if (g->out->needs[i][k] == j)
            return; /* already a hard edge */
    for (size_t k = 0; k < nd->n_soft; k++)
        if (nd->soft[k] == j)
            return;
    nd->soft[nd->n_soft++] = j;
}

static int resolve_all(graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        const gnode *nd = &g->nodes[i];
        if (!nd->eligible || nd->duplicate)
            continue;
        const dg_manifest *m = nd->m;
        for (size_t k = 0; k < m->n_deps; k++)
            if (resolve_dep(g, i, &m->deps[k]) != 0)
                return -1;
        for (size_t k = 0; k < m->n_requires; k++)
            if (resolve_require(g, i, m->requires[k]) != 0)
                return -1;
        for (size_t k = 0; k < m->n_optional; k++)
            resolve_optional(g, i, m->optional[k]);
    }
    return 0;
}

/* Reverse adjacency of all hard and soft edges, for the Kahn passes. */
static int build_reverse(graph *g)
{
    size_t total = 0;
    for (size_t i = 0; i < g->n; i++)
        total += g->nodes[i].n_hard + g->nodes[i].n_soft;
    g->rev_off = calloc(g->n + 1, sizeof *g->rev_off);
    g->rev_src = malloc((total + 1) * sizeof *g->rev_src);
    g->rev_hard = malloc(total + 1);
    if (!g->rev_off || !g->rev_src || !g->rev_hard)
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        for (size_t k = 0; k < g->nodes[i].n_hard; k++)
            g->rev_off[g->out->needs[i][k] + 1]++;
        for (size_t k = 0; k < g->nodes[i].n_soft; k++)
            g->rev_off[g->nodes[i].soft[k] + 1]++;
    }
    for (size_t t = 0; t < g->n; t++)
        g->rev_off[t + 1] += g->rev_off[t];
    size_t *fill = calloc(g->n + 1, sizeof *fill);
    if (!fill)
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        for (size_t k = 0; k < g->nodes[i].n_hard + g->nodes[i].n_soft; k++) {
            int hard = k < g->nodes[i].n_hard;
            size_t t =
                (size_t)(hard ? g->out->needs[i][k] : g->nodes[i].soft[k - g->nodes[i].n_hard]);
            size_t at = g->rev_off[t] + fill[t]++;
            g->rev_src[at] = i;
            g->rev_hard[at] = (unsigned char)hard;
        }
    }
    free(fill);
    return 0;
}

/* ---- pass 2: cycles ---- */

/*
 * Structural Kahn over hard edges between eligible nodes (errors ignored):
 * whatever it cannot reach is in a cycle or depends on one.
 */
static int find_stuck(graph *g, unsigned char *stuck)
{
    size_t *left = calloc(g->n + 1, sizeof *left);
    size_t *queue = malloc((g->n + 1) * sizeof *queue);
    if (!left || !queue) {
        free(left);
        free(queue);
        return -1;
    }
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < g->n; i++) {
        for (size_t k = 0; k < g->nodes[i].n_hard; k++)
            left[i] += g->nodes[g->out->needs[i][k]].eligible;
        stuck[i] = (unsigned char)g->nodes[i].eligible;
        if (g->nodes[i].eligible && left[i] == 0)
            queue[tail++] = i;
    }
    while (head < tail) {
        size_t u = queue[head++];
        stuck[u] = 0;
        for (size_t e = g->rev_off[u]; e < g->rev_off[u + 1]; e++)
            if (g->rev_hard[e] && g->nodes[g->rev_src[e]].eligible && --left[g->rev_src[e]] == 0)
                queue[tail++] = g->rev_src[e];
    }
    free(left);
    free(queue);
    return 0;
}

/*
 * Shortest cycle through start, over hard edges between stuck nodes (BFS in
 * edge order). Fills cyc with its members starting at start; returns the
 * length, or 0 when start is only behind a cycle.
 */
static size_t shortest_cycle(const graph *g, const unsigned char *stuck, size_t start, long *parent,
                             size_t *queue, size_t *cyc)
{
    for (size_t i = 0; i < g->n; i++)
        parent[i] = -2; /* unvisited */
    size_t head = 0, tail = 0;
    parent[start] = -1;
    queue[tail++] = start;
    while (head < tail) {
        size_t u = queue[head++];
        for (size_t k = 0; k < g->nodes[u].n_hard; k++) {
            size_t t = (size_t)g->out->needs[u][k];
            if (t == start) {
                size_t len = 0;
                for (long v = (long)u; v >= 0; v = parent[v])
                    cyc[len++] = (size_t)v;
                for (size_t a = 0, b = len - 1; a < b; a++, b--) {
                    size_t tmp = cyc[a];
                    cyc[a] = cyc[b];
                    cyc[b] = tmp;
                }
                return len;
            }
            if (stuck[t] && parent[t] == -2) {
                parent[t] = (long)u;
                queue[tail++] = t;
            }
        }
    }
    return 0;
}

/* "dependency cycle: a -> b -> c -> a", starting at the lowest id so members agree. */
static int cycle_error(graph *g, size_t i, const size_t *cyc, size_t len)
{
    size_t first = 0, size = sizeof "dependency cycle: ";
    for (size_t k = 0; k < len; k++) {
        size += strlen(g->nodes[cyc[k]].id) + 4;
        if (strcmp(g->nodes[cyc[k]].id, g->nodes[cyc[first]].id) < 0)
            first = k;
    }
    size += strlen(g->nodes[cyc[first]].id);
    char *s = malloc(size);
    if (!s)
        return -1;
    size_t at = (size_t)snprintf(s, size, "dependency cycle: ");
    for (size_t k = 0; k <= len; k++)
        at += (size_t)snprintf(s + at, size - at, "%s%s", k ? " -> " : "",
                               g->nodes[cyc[(first + k) % len]].id);
    g->out->error[i] = s;
    return 0;
}

static int mark_cycles(graph *g)
{
    unsigned char *stuck = calloc(g->n + 1, 1);
    long *parent = malloc((g->n + 1) * sizeof *parent);
    size_t *queue = malloc((g->n + 1) * sizeof *queue);
    size_t *cyc = malloc((g->n + 1) * sizeof *cyc);
    int rc = (stuck && parent && queue && cyc) ? find_stuck(g, stuck) : -1;
    for (size_t i = 0; rc == 0 && i < g->n; i++) {
        if (!stuck[i] || g->out->error[i])
            continue;
        size_t len = shortest_cycle(g, stuck, i, parent, queue, cyc);
        if (len > 0)
            rc = cycle_error(g, i, cyc, len);
    }
    free(stuck);
    free(parent);
    free(queue);
    free(cyc);
    return rc;
}

/* ---- pass 3: propagation ---- */

static int propagate(graph *g)
{
    size_t *queue = malloc((g->n + 1) * sizeof *queue);
    if (!queue)
        return -1;
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < g->n; i++) {
        g->nodes[i].failed = g->nodes[i].eligible && g->out->error[i] != NULL;
        if (g->nodes[i].failed)
            queue[tail++] = i;
    }
    while (head < tail) {
        size_t u = queue[head++];
        for (size_t e = g->rev_off[u]; e < g->rev_off[u + 1]; e++) {
            gnode *src = &g->nodes[g->rev_src[e]];
            if (g->rev_hard[e] && src->eligible && !src->failed) {
                src->failed = 1;
                queue[tail++] = g->rev_src[e];
            }
        }
    }
    free(queue);
    /* Name the first failing target in manifest order, whatever order the BFS found it in. */
    for (size_t i = 0; i < g->n; i++) {
        const gnode *nd = &g->nodes[i];
        if (!nd->failed || g->out->error[i])
            continue;
        for (size_t k = 0; k < nd->n_hard; k++) {
            const gnode *t = &g->nodes[g->out->needs[i][k]];
            if (!t->failed && t->eligible)
                continue;
            int rc = nd->hard_cap[k]
                         ? set_error(g, i, "requires capability %s from %s which cannot start",
                                     nd->hard_cap[k], t->id)
                         : set_error(g, i, "depends on %s which cannot start", t->id);
            if (rc != 0)
                return -1;
            break;
        }
    }
    return 0;
}

/* ---- pass 4: order ---- */

static int survives(const gnode *nd)
{
    return nd->eligible && !nd->failed;
}

/* Best-ranked unplaced survivor with no hard edges left (and no soft ones unless relaxed). */
static long pick_ready(const graph *g, const unsigned char *placed, const size_t *hard_left,
                       const size_t *soft_left, int relaxed)
{
    long best = -1;
    for (size_t i = 0; i < g->n; i++) {
        if (placed[i] || !survives(&g->nodes[i]) || hard_left[i] || (soft_left[i] && !relaxed))
            continue;
        if (best < 0 || ranks_before(g, i, (size_t)best))
            best = (long)i;
    }
    return best;
}

static void count_edges(const graph *g, size_t *hard_left, size_t *soft_left)
{
    for (size_t i = 0; i < g->n; i++) {
        const gnode *nd = &g->nodes[i];
        if (!survives(nd))
            continue;
        for (size_t k = 0; k < nd->n_hard; k++)
            hard_left[i] += (size_t)survives(&g->nodes[g->out->needs[i][k]]);
        for (size_t k = 0; k < nd->n_soft; k++)
            soft_left[i] += (size_t)survives(&g->nodes[nd->soft[k]]);
    }
}

static int order(graph *g)
{
    size_t *hard_left = calloc(g->n + 1, sizeof *hard_left);
    size_t *soft_left = calloc(g->n + 1, sizeof *soft_left);
    unsigned char *placed = calloc(g->n + 1, 1);
    if (!hard_left || !soft_left || !placed) {
        free(hard_left);
        free(soft_left);
        free(placed);
        return -1;
    }
    count_edges(g, hard_left, soft_left);
    for (;;) {
        long u = pick_ready(g, placed, hard_left, soft_left, 0);
        if (u < 0) /* only optional edges can be circular here: relax them */
            u = pick_ready(g, placed, hard_left, soft_left, 1);
        if (u < 0)
            break;
        placed[u] = 1;
        g->out->order[g->out->n_order++] = (size_t)u;
        for (size_t e = g->rev_off[u]; e < g->rev_off[u + 1]; e++) {
            size_t s = g->rev_src[e];
            if (survives(&g->nodes[s]))
                (g->rev_hard[e] ? hard_left : soft_left)[s]--;
        }
    }
    free(hard_left);
    free(soft_left);
    free(placed);
    return 0;
}

/* ---- entry points ---- */

static void graph_free(graph *g)
{
    for (size_t i = 0; g->nodes && i < g->n; i++) {
        free(g->nodes[i].hard_cap);
        free(g->nodes[i].soft);
    }
    free(g->nodes);
    free(g->rev_off);
    free(g->rev_src);
    free(g->rev_hard);
}

int dg_graph_order_ex(dg_manifest *const *ms, const char *const *ids, const char *const *reasons,
                      size_t n, const char *const *core_caps, dg_graph_result *out)
{
    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    graph g = {.n = n, .core_caps = core_caps, .out = out};
    g.nodes = calloc(n + 1, sizeof *g.nodes);
    out->order = calloc(n + 1, sizeof *out->order);
    out->error = calloc(n + 1, sizeof *out->error);
    out->needs = calloc(n + 1, sizeof *out->needs);
    int rc = (g.nodes && out->order && out->error && out->needs) ? 0 : -1;
    if (rc == 0)
        rc = init_nodes(&g, ms, ids, reasons);
    if (rc == 0)
        rc = mark_duplicates(&g);
    if (rc == 0)
        rc = resolve_all(&g);
    if (rc == 0)
        rc = build_reverse(&g);
    if (rc == 0)
        rc = mark_cycles(&g);
    if (rc == 0)
        rc = propagate(&g);
    if (rc == 0)
        rc = order(&g);
    graph_free(&g);
    if (rc != 0)
        dg_graph_result_free(out, n);
    return rc;
}

int dg_graph_order(dg_manifest *const *ms, const char *const *reasons, size_t n,
                   const char *const *core_caps, dg_graph_result *out)
{
    return dg_graph_order_ex(ms, NULL, reasons, n, core_caps, out);
}

void dg_graph_result_free(dg_graph_result *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++) {
        if (r->error)
            free(r->error[i]);
        if (r->needs)
            free(r->needs[i]);
    }
    free(r->order);
    free(r->error);
    free(r->needs);
    memset(r, 0, sizeof *r);
}
