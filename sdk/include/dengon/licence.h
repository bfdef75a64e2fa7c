/*
 * The core's licence service, "core.licence" version 1 (docs/licence.md).
 *
 * A plugin that wants to degrade gracefully (read-only mode, fewer seats)
 * rather than only be stopped asks the core:
 *
 *   size_t size = 0;
 *   const dg_licence_service_v1 *lic =
 *       api->service_require(ctx, DG_LICENCE_SERVICE, 1, &size);
 *   if (lic && size >= sizeof(*lic) && lic->has(lic, "log-archive")) ...
 *
 * and lists "core.licence@1" in its manifest's "requires" (or "optional").
 * The core, not the plugin, decides whether a premium plugin runs at all;
 * this service only answers questions. Events: "core.licence.changed".
 * Every function runs on the loop thread. This header defines no variables.
 */
#ifndef DENGON_LICENCE_H
#define DENGON_LICENCE_H

#include <jansson.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DG_LICENCE_SERVICE "core.licence"
#define DG_LICENCE_SERVICE_VERSION 1

typedef struct dg_licence_service_v1 {
    uint32_t struct_size; /* sizeof(dg_licence_service_v1) in the core */
    /* 1 when a valid installed licence grants entitlement now (a trial does not count). */
    int (*has)(const struct dg_licence_service_v1 *self, const char *entitlement);
    /* Seats of the valid licence, 0 when there is none (the server role counts identities). */
    int64_t (*seats)(const struct dg_licence_service_v1 *self);
    /*
     * The valid licence as `dengon licence show --json` prints its "licence"
     * member ({"id","licensee","plan","seats","issued","not_before","expires",
     * "entitlements",...}), new reference; NULL when there is none.
     */
    json_t *(*info)(const struct dg_licence_service_v1 *self);
} dg_licence_service_v1;

#ifdef __cplusplus
}
#endif

#endif /* DENGON_LICENCE_H */
