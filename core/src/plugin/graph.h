/*
 * Start order: a topological sort (Kahn) over "dependencies" (plugin id +
 * semver range) and "requires" (capability -> the plugin that provides it;
 * core capabilities count as provided). Ties: higher load.priority first, then
 * id. Cycles and missing dependencies are errors naming the plugins.
 */
#ifndef DG_GRAPH_H
#define DG_GRAPH_H

#include "plugin/manifest.h"
#include <stddef.h>

typedef struct dg_graph_result {
    size_t *order; size_t n_order; /* indexes into the input, startable order */
    char **error;                  /* per input index: NULL or a reason (new strings) */
    /* per input index: indexes of the plugins it needs (hard edges), -1 terminated */
    long **needs;
} dg_graph_result;

/*
 * ms[i] may be NULL (ineligible: not ordered, and dependents of it get an
 * error "depends on X which is not available: <reason>" using reasons[i]).
 * core_caps: NULL-terminated list of "name@major" the core provides.
 * Returns 0, or -1 on allocation failure.
 */
int dg_graph_order(dg_manifest *const *ms, const char *const *reasons, size_t n,
                   const char *const *core_caps, dg_graph_result *out);
void dg_graph_result_free(dg_graph_result *r, size_t n);

#endif
