/*
 * The filecrypt plugin (premium, entitlement "file-encryption"): IP
 * Messenger v4's encrypted file transfer (docs/ipmsg-protocol.md §6.6,
 * docs/protocol/files-encryption.md, ADR 0018). It installs itself as the
 * files plugin's files.crypto provider, seals and opens requests with the
 * crypto plugin's crypto.keys service and advertises CAPFILEENCOPT through
 * chat.transport. This file wires the lifecycle.
 */
#include <dengon/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "ipmc_consts.h"
#include "onloop.h"
#include "state.h"

static void state_free(fc_state *st)
{
    json_decref(st->last_req);
    pthread_cond_destroy(&st->cond);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* Undoes what start did, in reverse; also the error path of start. */
static void teardown(fc_state *st)
{
    /* Waiting transfer threads are released first: removing the provider
     * waits for them, and they may be waiting for this very thread. */
    fc_onloop_stop(st);
    if (st->installed)
        st->files->set_provider(st->files->self, NULL, NULL);
    if (st->capability)
        st->t->set_capability(st->t->self, IPMC_OPT_CAPFILEENCOPT, 0);
    state_free(st);
}

static int fc_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    fc_state *st = calloc(1, sizeof(*st));
    if (!st)
        return DG_ENOMEM;
    st->ctx = ctx;
    st->api = api;
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->cond, NULL);
    st->last_req = json_object();
    snprintf(st->user, sizeof st->user, "%s",
             json_string_value(json_object_get(api->identity(ctx), "user"))
                 ? json_string_value(json_object_get(api->identity(ctx), "user"))
                 : "user");
    st->t = api->service_require(ctx, DG_CHAT_TRANSPORT_SERVICE, 1, &st->tsize);
    st->keys = api->service_require(ctx, DG_CRYPTO_KEYS_SERVICE, 1, &st->ksize);
    st->files = api->service_require(ctx, DG_FILES_CRYPTO_SERVICE, 1, &st->fsize);
    int rc = DG_OK;
    if (!st->last_req)
        rc = DG_ENOMEM;
    else if (!st->t || !DG_CHAT_TRANSPORT_HAS(st->t, st->tsize, set_capability) ||
             !st->t->user_get) {
        api->log(ctx, DG_LOG_ERROR,
                 "chat.transport cannot advertise CAPFILEENCOPT (ipmsg too old)");
        rc = DG_ENOENT;
    } else if (!st->keys || !DG_CRYPTO_KEYS_HAS(st->keys, st->ksize, own_user)) {
        api->log(ctx, DG_LOG_ERROR, "crypto.keys is missing or too old (crypto plugin)");
        rc = DG_ENOENT;
    } else if (!st->files || st->fsize < sizeof(dg_files_crypto_v1) || !st->files->set_provider) {
        api->log(ctx, DG_LOG_ERROR, "files.crypto is missing or too old (files plugin)");
        rc = DG_ENOENT;
    }
    static const char *const topics[] = {"filecrypt.request.accepted", "filecrypt.request.refused"};
    for (size_t i = 0; rc == DG_OK && i < sizeof topics / sizeof topics[0]; i++)
        rc = api->topic_declare(ctx, topics[i], DG_OVERFLOW_BLOCK);
    fc_hooks_init(st);
    if (rc == DG_OK && st->files->set_provider(st->files->self, &st->hooks, st) != 0) {
        api->log(ctx, DG_LOG_ERROR, "another file encryption provider is installed");
        rc = DG_ERR;
    }
    st->installed = rc == DG_OK;
    /* Peers ask us for encrypted transfers only when we say we can (§6.6). */
    if (rc == DG_OK && st->t->set_capability(st->t->self, IPMC_OPT_CAPFILEENCOPT, 1) != 0) {
        api->log(ctx, DG_LOG_ERROR, "chat.transport refuses CAPFILEENCOPT (ipmsg too old)");
        rc = DG_ERR;
    }
    st->capability = rc == DG_OK;
    if (rc != DG_OK) {
        teardown(st);
        return rc;
    }
    *state = st;
    return DG_OK;
}

static void fc_stop(dg_ctx *ctx, void *state)
{
    teardown(state);
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD,
    .id = "filecrypt",
    .start = fc_start,
    .stop = fc_stop,
};

DG_PLUGIN_DEFINE(descriptor)
