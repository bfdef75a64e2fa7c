/*
 * The crypto plugin: IP Messenger's encryption for the ipmsg plugin
 * (docs/protocol/ipmsg-crypto.md "Wiring", ADR 0015). It owns our key pairs
 * (<data dir>/ipmsg-rsa{2048,1024}.pem, 0600, made on first start) and the
 * pinned peer keys (crypto.db), installs its hooks with chat.transport's
 * set_crypto, and offers keys.list / keys.accept. This file wires config,
 * topics, RPC and the lifecycle.
 */
#include <dengon/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hooks.h"
#include "ipmc_libctx.h"
#include "keygen.h"
#include "pins.h"
#include "rpc_params.h"
#include "service.h"
#include "state.h"

int64_t cr_now(void)
{
    return (int64_t)time(NULL);
}

static int settings_load(cr_state *st)
{
    int64_t to = st->api->config_get_int(st->ctx, "crypto.key_timeout_ms", 3000);
    if (to < 100 || to > 60000) {
        st->api->log(st->ctx, DG_LOG_ERROR, "bad config: crypto.key_timeout_ms 100-60000");
        return -1;
    }
    st->key_timeout_ms = to;
    st->allow_plain_pinned =
        st->api->config_get_bool(st->ctx, "crypto.allow_plaintext_to_pinned", 0) != 0;
    return 0;
}

static void on_config(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    const char *key = json_string_value(json_object_get(payload, "key"));
    if (key && !strncmp(key, "crypto.", 7))
        settings_load(user);
}

/* ---- RPC ---- */

static void rpc_list(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    cr_state *st = user;
    static const char *const keys[] = {NULL};
    if (!dg_params_check(st->api, call, params, keys))
        return;
    char fp2048[48], fp1024[48];
    json_t *own;
    if (st->ready) {
        cr_fingerprint(st->keys.rsa2048, fp2048);
        cr_fingerprint(st->keys.rsa1024, fp1024);
        own = json_pack("{s:s, s:s, s:s}", "rsa2048", fp2048, "rsa1024", fp1024, "state", "ready");
    } else {
        /* A first start: the worker is still making them (keygen.h). */
        own = json_pack("{s:n, s:n, s:s}", "rsa2048", "rsa1024", "state", "generating");
    }
    st->api->rpc_reply(call, json_pack("{s:o, s:o}", "own", own, "peers", pins_list_json(st)));
}

static void rpc_accept(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    cr_state *st = user;
    static const char *const keys[] = {"peer", NULL};
    if (!dg_params_check(st->api, call, params, keys))
        return;
    const char *peer = json_string_value(json_object_get(params, "peer"));
    char err[256];
    if (!peer || !*peer)
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "'peer' (user@host) is required");
    else if (hooks_accept(st, peer, err, sizeof err) != 0)
        st->api->rpc_fail(call, DG_RPC_FAILED, "%s", err);
    else
        st->api->rpc_reply(call, json_pack("{s:s, s:s}", "peer", peer, "trust", "trusted"));
}

/* ---- start / stop ---- */

static void state_free(cr_state *st)
{
    keygen_stop(st);
    peers_free(st);
    pins_close(st);
    ipmc_keys_free(&st->keys);
    free(st);
}

static int cr_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    cr_state *st = calloc(1, sizeof(*st));
    if (!st)
        return DG_ENOMEM;
    st->ctx = ctx;
    st->api = api;
    st->t = api->service_require(ctx, DG_CHAT_TRANSPORT_SERVICE, 1, &st->tsize);
    if (!st->t || !DG_CHAT_TRANSPORT_HAS(st->t, st->tsize, resume_crypto)) {
        api->log(ctx, DG_LOG_ERROR, "chat.transport without crypto hooks (ipmsg too old)");
        free(st);
        return DG_ENOENT;
    }
    if (settings_load(st) != 0) {
        free(st);
        return DG_EINVAL;
    }
    st->fingerprint_name = api->config_get_bool(ctx, "crypto.fingerprint_name", 1) != 0;
    /* Existing keys load now; missing ones are made by a worker (keygen.h). */
    if (keygen_start(st) < 0) {
        free(st);
        return DG_EINVAL;
    }
    if (!ipmc_legacy_available())
        api->log(ctx, DG_LOG_WARN,
                 "OpenSSL legacy provider missing: the RSA-1024/Blowfish suite is unavailable");
    int rc = pins_open(st) == 0 && pins_load(st) == 0 ? DG_OK : DG_EINVAL;
    static const char *const topics[] = {"crypto.key.pinned", "crypto.key.changed",
                                         "crypto.key.accepted", "crypto.key.rejected",
                                         "crypto.message.rejected"};
    for (size_t i = 0; rc == DG_OK && i < sizeof topics / sizeof topics[0]; i++)
        rc = api->topic_declare(ctx, topics[i], DG_OVERFLOW_BLOCK);
    if (rc == DG_OK &&
        (api->rpc_register(ctx, "keys.list", "our fingerprints and the peers' pinned keys",
                           rpc_list, st, NULL) != DG_OK ||
         api->rpc_register(ctx, "keys.accept", "trust a peer's changed key: {peer}", rpc_accept, st,
                           NULL) != DG_OK ||
         !api->subscribe(ctx, "core.config.changed", 0, 0, on_config, st, NULL)))
        rc = DG_ERR;
    /* crypto.keys: sealing for the encrypted file transfer (service.h). */
    if (rc == DG_OK && service_provide(st) != 0)
        rc = DG_ERR;
    hooks_init(st);
    if (rc == DG_OK && st->t->set_crypto(st->t->self, &st->hooks, st) != 0) {
        api->log(ctx, DG_LOG_ERROR, "another crypto provider is installed");
        rc = DG_ERR;
    }
    if (rc != DG_OK) {
        state_free(st);
        return rc;
    }
    st->hooked = true;
    *state = st;
    return DG_OK;
}

static void cr_stop(dg_ctx *ctx, void *state)
{
    cr_state *st = state;
    if (st->hooked)
        st->t->set_crypto(st->t->self, NULL, NULL);
    state_free(st);
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD,
    .id = "crypto",
    .start = cr_start,
    .stop = cr_stop,
};

DG_PLUGIN_DEFINE(descriptor)
