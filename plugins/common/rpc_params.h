/* RPC parameter checks shared by the in-tree plugins. */
#ifndef DG_PLUGIN_COMMON_RPC_PARAMS_H
#define DG_PLUGIN_COMMON_RPC_PARAMS_H

#include <dengon/plugin.h>
#include <stdbool.h>

/*
 * True when params is absent or an object whose keys are all in allowed
 * (NULL-terminated). Otherwise fails call with DG_RPC_INVALID_PARAMS naming
 * the first unknown key (a typo must not be silently ignored) and returns false.
 */
bool dg_params_check(const dg_host_api *api, dg_rpc_call *call, const json_t *params,
                     const char *const *allowed);

#endif
