/* Small helpers shared by the RPC handlers: strict parameter checks. */
#ifndef DG_IPM_RPC_UTIL_H
#define DG_IPM_RPC_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "rpc_params.h"
#include "state.h"

/*
 * Optional boolean key: *out keeps its value when absent. The CLI's default
 * builder sends every argument as a string, so "true"/"false" are accepted.
 */
bool rpc_get_bool(ipm_state *st, dg_rpc_call *call, const json_t *params, const char *key,
                  bool *out);
/* Required id: an integer or a decimal string in 1..2^32-1. */
bool rpc_get_id(ipm_state *st, dg_rpc_call *call, const json_t *params, const char *key,
                uint32_t *out);

#endif
