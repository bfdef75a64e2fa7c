#include "rpc_params.h"

#include <string.h>

bool dg_params_check(const dg_host_api *api, dg_rpc_call *call, const json_t *params,
                     const char *const *allowed)
{
    if (!params)
        return true;
    if (!json_is_object(params)) {
        api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "params must be an object");
        return false;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)params, key, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i]) {
            api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "unknown parameter '%s'", key);
            return false;
        }
    }
    return true;
}
