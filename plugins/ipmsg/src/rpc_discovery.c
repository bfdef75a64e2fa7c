/*
 * RPC ipmsg.discovery: how this node finds others beyond plain broadcast —
 * the host list exchange (listx.h), the address watch (ifwatch.h) — and
 * where its entry packets go.
 */
#include "rpc.h"

#include "ifwatch.h"
#include "listx.h"
#include "net.h"
#include "rpc_util.h"

static void rpc_discovery(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    ipm_state *st = user;
    static const char *const keys[] = {NULL};
    if (!dg_params_check(st->api, call, params, keys))
        return;
    ipm_addr_list targets = {0};
    net_entry_targets(st, &targets);
    json_t *t = json_array();
    for (size_t i = 0; i < targets.n; i++) {
        char a[IPM_ADDR_TEXT];
        json_array_append_new(t, json_string(ipm_addr_format(targets.v[i], a)));
    }
    ipm_addrlist_free(&targets);
    st->api->rpc_reply(call, json_pack("{s:I, s:o, s:o, s:o}", "announces",
                                       (json_int_t)st->announces, "targets", t, "host_list",
                                       listx_json(st), "address_watch", ifwatch_json(st)));
}

int rpc_discovery_register(ipm_state *st)
{
    int rc = st->api->rpc_register(
        st->ctx, "ipmsg.discovery",
        "entry targets, host list exchange and address watch state of the IPMsg plugin",
        rpc_discovery, st, NULL);
    if (rc != DG_OK)
        st->api->log(st->ctx, DG_LOG_ERROR, "cannot register ipmsg.discovery (%d)", rc);
    return rc;
}
