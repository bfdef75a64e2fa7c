#include "rpc_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool rpc_get_bool(ipm_state *st, dg_rpc_call *call, const json_t *params, const char *key,
                  bool *out)
{
    json_t *v = params ? json_object_get(params, key) : NULL;
    if (!v)
        return true;
    const char *s = json_string_value(v);
    if (json_is_boolean(v))
        *out = json_is_true(v);
    else if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
        *out = strcmp(s, "true") == 0;
    else {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'%s' must be true or false", key);
        return false;
    }
    return true;
}

bool rpc_get_id(ipm_state *st, dg_rpc_call *call, const json_t *params, const char *key,
                uint32_t *out)
{
    json_t *v = params ? json_object_get(params, key) : NULL;
    json_int_t n = -1;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (*s >= '0' && *s <= '9' && !*end && errno == 0)
            n = x;
    }
    if (n < 1 || n > (json_int_t)UINT32_MAX) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'%s' must be a message id (a number)", key);
        return false;
    }
    *out = (uint32_t)n;
    return true;
}
