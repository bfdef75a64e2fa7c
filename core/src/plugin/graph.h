/*
 * Start order: a topological sort (Kahn) over "dependencies" (plugin id +
 * semver range) and "requires" (capability -> the plugin that provides it;
 * core capabilities count as provided). Ties: higher load.priority first, then
 * id. Cycles and missing dependencies are errors naming the plugins.
 *
 * Entries and eligibility
 *   - ms[i] != NULL and (reasons == NULL or reasons[i] == NULL): eligible; it
 *     is ordered unless it gets an error.
 *   - ms[i] != NULL and reasons[i] != NULL: known but ineligible (disabled,
 *     incompatible, locked, ...). Never ordered. A plugin depending on it gets
 *     "depends on X which is not available (<reason>)"; one requiring a
 *     capability that only it provides gets
 *     "requires capability C from X which is not available (<reason>)".
 *   - ms[i] == NULL: ineligible. With dg_graph_order_ex and ids[i] != NULL it
 *     is known by id (dependents get the "not available (<reason>)" error
 *     above); otherwise nothing can refer to it ("not installed").
 *
 * Edges
 *   - dependencies: the target must be eligible and its version must match
 *     the range: "depends on X which is not installed",
 *     "requires X <range> but X is <version>".
 *   - requires "name@major": satisfied by core_caps with no edge; else an edge
 *     to the eligible plugin providing exactly that string. Several providers:
 *     the highest load.priority, then the lowest id, then the lowest index is
 *     used (deterministic; the others still start, they are just not the
 *     provider this plugin waits for). None: "requires capability C which
 *     nothing provides".
 *   - optional: an order-only edge to the provider chosen the same way, when
 *     one is eligible and does not fail; never an error. If optional edges
 *     alone form a cycle, it is broken by starting the best-ranked member
 *     whose hard edges are satisfied.
 *   - A plugin that provides a capability it requires needs no edge for it
 *     (the parser already rejects such manifests).
 *
 * Errors (error[i], without the plugin's own id; the first cause wins)
 *   own resolution errors, then "dependency cycle: a -> b -> c -> a" for every
 *   member of a cycle (the shortest cycle through it, starting at its lowest
 *   id), then transitive failures "depends on X which cannot start" /
 *   "requires capability C from X which cannot start". An eligible entry whose
 *   id appeared earlier among eligible entries gets "duplicate plugin id X".
 *
 * needs[i]: for eligible entries, the indexes its hard edges resolved to
 * (dependencies first, then requires, in manifest order, without repeats;
 * ineligible targets included, core capabilities not), -1 terminated. For
 * other entries just {-1}.
 *
 * Output is a function of the input only (no hashing, no addresses).
 */
#ifndef DG_GRAPH_H
#define DG_GRAPH_H

#include "plugin/manifest.h"
#include <stddef.h>

typedef struct dg_graph_result {
    /* indexes into the input, in startable order */
    size_t *order;
    size_t n_order;
    /* per input index: NULL or a reason (new strings) */
    char **error;
    /* per input index: indexes of the plugins it needs (hard edges), -1 terminated */
    long **needs;
} dg_graph_result;

/*
 * ms[i] may be NULL (ineligible: not ordered, and dependents of it get an
 * error "depends on X which is not available (<reason>)" using reasons[i]).
 * reasons may be NULL. core_caps: NULL-terminated list of "name@major" the
 * core provides (may be NULL). Returns 0, or -1 on allocation failure (out is
 * then left empty and needs no freeing).
 */
int dg_graph_order(dg_manifest *const *ms, const char *const *reasons, size_t n,
                   const char *const *core_caps, dg_graph_result *out);
/* The same, with ids[i] naming entries whose ms[i] is NULL (ids may be NULL). */
int dg_graph_order_ex(dg_manifest *const *ms, const char *const *ids, const char *const *reasons,
                      size_t n, const char *const *core_caps, dg_graph_result *out);
void dg_graph_result_free(dg_graph_result *r, size_t n);

#endif
