/*
 * Service registry: named, versioned function tables that plugins provide and
 * require. Records who uses whom, so a provider is never stopped before its
 * users.
 */
#ifndef DG_SERVICES_H
#define DG_SERVICES_H

#include <dengon/plugin.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dg_services dg_services;

dg_services *dg_services_new(void);
void dg_services_free(dg_services *svc);

/* DG_EEXIST if name is already provided; DG_EINVAL for a bad name. */
int dg_services_provide(dg_services *svc, dg_ctx *owner, const char *name, uint32_t version,
                        const void *vtable, size_t size);
/* NULL if absent or older than min_version; records a used-by edge owner -> provider. */
const void *dg_services_require(dg_services *svc, dg_ctx *user, const char *name,
                                uint32_t min_version, size_t *size);
/* Removes what owner provides and the edges it holds. */
void dg_services_remove_owner(dg_services *svc, dg_ctx *owner);
/* Owners currently using something provided by provider (up to max); returns count. */
size_t dg_services_users_of(dg_services *svc, dg_ctx *provider, dg_ctx **out, size_t max);
/* [{"name","version","provider","users":[...]}]; new ref. */
json_t *dg_services_list(dg_services *svc, const char *(*owner_name)(dg_ctx *));

#endif
