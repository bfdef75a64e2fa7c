/*
 * The ipmsg plugin: IP Messenger presence, host list exchange, messages and
 * absence over UDP (docs/ipmsg-protocol.md; docs/protocol/ipmsg-plugin.md).
 * This file only wires the modules together: config, sockets, bus
 * subscriptions, RPC methods, and the start/stop rounds (announce at start,
 * BR_EXIT twice at stop, §4.1, §4.7).
 */
#include <dengon/plugin.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "absence.h"
#include "cryptohook.h"
#include "entry.h"
#include "fpname.h"
#include "ifwatch.h"
#include "listx.h"
#include "messages.h"
#include "net.h"
#include "outbox.h"
#include "presence.h"
#include "rpc.h"
#include "rx.h"
#include "service.h"
#include "state.h"

#ifndef IPM_VERSION
#define IPM_VERSION "0.0.0"
#endif

/* Recent (packet, user, host) triples kept for duplicate suppression. */
#define DEDUP_SLOTS 1024

int64_t ipm_now(void)
{
    return (int64_t)time(NULL);
}

uint64_t ipm_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wire name: ':' cannot be escaped (§1.2) and an empty field shifts the rest. */
static char *wire_name(const char *identity, const char *fallback)
{
    const char *v = identity;
    char *s = strdup(v && *v ? v : fallback);
    for (char *p = s; p && *p; p++)
        if (*p == ':' || *p == '\n' || *p == '\r' || *p == '\a' || *p == '\b')
            *p = ';';
    return s;
}

/* ---- packet numbers survive restarts (pktno.h: max(now, last + 1)) ---- */

static void state_file(ipm_state *st, char *path, size_t len)
{
    const char *dir = st->api->data_dir(st->ctx);
    snprintf(path, len, "%s/counters", dir ? dir : "");
    if (!dir)
        path[0] = '\0';
}

static void load_counters(ipm_state *st)
{
    char path[4096];
    unsigned long pkt = 0, ids = 0;
    state_file(st, path, sizeof path);
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    if (f) {
        if (fscanf(f, "%lu %lu", &pkt, &ids) != 2)
            pkt = ids = 0;
        fclose(f);
    }
    ipmsg_pktno_init(&st->pktno, (uint32_t)(pkt & 0xffffffffu));
    ipmsg_pktno_init(&st->msg_ids, (uint32_t)(ids & 0xffffffffu));
}

static void save_counters(ipm_state *st)
{
    char path[4096], tmp[4200];
    state_file(st, path, sizeof path);
    if (!path[0])
        return;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    int ok = fprintf(f, "%u %u\n", (unsigned)st->pktno.last, (unsigned)st->msg_ids.last) > 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        st->api->log(st->ctx, DG_LOG_WARN, "cannot save %s: %s", path, strerror(errno));
        remove(tmp);
    }
}

/* ---- bus ---- */

static void on_identity(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    presence_identity_changed(user, payload);
}

static void on_config(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    ipm_state *st = user;
    const char *key = json_string_value(json_object_get(payload, "key"));
    if (!key || strncmp(key, "ipmsg.", 6) != 0)
        return;
    settings_reload(&st->cfg, ctx, st->api);
    if (!strcmp(key, "ipmsg.absence") || !strcmp(key, "ipmsg.absence_text") ||
        !strcmp(key, "ipmsg.absence_title") || !strcmp(key, "ipmsg.auto_absence_minutes"))
        away_config_changed(st, key); /* §4.2 */
    else if (!strcmp(key, "ipmsg.dialup"))
        presence_round(st, IPMSG_BR_ABSENCE); /* the status word changed */
    else if (!strcmp(key, "ipmsg.announce_interval_s"))
        presence_rearm(st);
    else if (!strcmp(key, "ipmsg.hosts") || !strcmp(key, "ipmsg.broadcast"))
        presence_announce(st); /* reach the new targets now */
    else if (!strcmp(key, "ipmsg.list_get") && st->cfg.list_get)
        listx_start(st);
}

static void send_exit(ipm_state *st)
{
    presence_round(st, IPMSG_BR_EXIT);
    st->exit_sent = true;
}

/* Shutdown announced before plugins stop: the first BR_EXIT goes out while the
 * rest of the daemon winds down, the second from stop() (Windows sends two, §4.7). */
static void on_stopping(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    send_exit(user);
}

/* Topics and their overflow policies, as documented in docs/events.md. */
static int declare_topics(ipm_state *st)
{
    static const struct {
        const char *topic;
        dg_overflow overflow;
    } topics[] = {
        {"presence.changed", DG_OVERFLOW_DROP_OLDEST},
        {"chat.message.received", DG_OVERFLOW_BLOCK},
        {"chat.message.sent", DG_OVERFLOW_BLOCK},
        {"chat.message.delivered", DG_OVERFLOW_BLOCK},
        {"chat.message.failed", DG_OVERFLOW_BLOCK},
        {"chat.message.opened", DG_OVERFLOW_BLOCK},
        {"presence.self.changed", DG_OVERFLOW_COALESCE},
        {"chat.message.read", DG_OVERFLOW_BLOCK},
        {"chat.files.released", DG_OVERFLOW_BLOCK},
    };
    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
        int rc = st->api->topic_declare(st->ctx, topics[i].topic, topics[i].overflow);
        if (rc != DG_OK) {
            st->api->log(st->ctx, DG_LOG_ERROR, "cannot declare topic %s (%d)", topics[i].topic,
                         rc);
            return rc;
        }
    }
    return DG_OK;
}

static int subscribe_all(ipm_state *st)
{
    static const struct {
        const char *topic;
        dg_event_fn fn;
    } subs[] = {
        {"core.identity.changed", on_identity},
        {"core.config.changed", on_config},
        {"core.daemon.stopping", on_stopping},
    };
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (!st->api->subscribe(st->ctx, subs[i].topic, 0, 0, subs[i].fn, st, NULL)) {
            st->api->log(st->ctx, DG_LOG_ERROR, "cannot subscribe to %s", subs[i].topic);
            return DG_ERR;
        }
    }
    return DG_OK;
}

/* ---- lifecycle ---- */

static void state_free(ipm_state *st)
{
    outbox_free_all(st);
    cryptohook_free(st);
    messages_free(st);
    away_free(st);
    listx_free(st);
    ifwatch_free(st);
    ipm_addrlist_free(&st->list_peers);
    ipm_addrlist_free(&st->answering);
    ipm_users_free(&st->users);
    ipm_dedup_free(&st->dedup);
    ipm_inbox_free(&st->inbox);
    ipmsg_charset_close(st->cs);
    settings_free(&st->cfg);
    fpname_free(st);
    free(st->user);
    free(st->host);
    free(st->key);
    free(st->nickname);
    free(st->group);
    free(st);
}

static int init_identity(ipm_state *st)
{
    const json_t *id = st->api->identity(st->ctx);
    st->user = wire_name(json_string_value(json_object_get(id, "user")), "user");
    st->host = wire_name(json_string_value(json_object_get(id, "host")), "localhost");
    const char *uuid = json_string_value(json_object_get(id, "uuid"));
    if (uuid && ipmsg_uuid_valid(uuid, strlen(uuid)))
        snprintf(st->uuid, sizeof st->uuid, "%s", uuid);
    st->base_user = st->user ? strdup(st->user) : NULL;
    if (!st->user || !st->host || !st->base_user)
        return -1;
    size_t klen = strlen(st->user) + strlen(st->host) + 2;
    st->key = malloc(klen);
    if (!st->key)
        return -1;
    snprintf(st->key, klen, "%s@%s", st->user, st->host);
    presence_set_names(st, id);
    snprintf(st->version, sizeof st->version, "dengon %s (Linux)", IPM_VERSION);
    return st->nickname && st->group ? 0 : -1;
}

static int ipm_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    ipm_state *st = calloc(1, sizeof(*st));
    if (!st)
        return DG_ENOMEM;
    st->ctx = ctx;
    st->api = api;
    st->fd = -1;
    if (settings_load(&st->cfg, ctx, api) != 0) {
        free(st);
        return DG_EINVAL;
    }
    ipm_users_init(&st->users);
    ipm_inbox_init(&st->inbox, (size_t)st->cfg.inbox_size);
    ipmsg_error err;
    int rc = DG_ERR;
    if (ipmsg_charset_open(&st->cs, st->cfg.legacy_codepage,
                           st->cfg.sniff_utf8 ? IPMSG_CHARSET_SNIFF_UTF8 : 0, &err) != IPMSG_OK) {
        api->log(ctx, DG_LOG_ERROR, "ipmsg.legacy_codepage '%s': %s", st->cfg.legacy_codepage,
                 err.reason);
        rc = DG_EINVAL;
        goto fail;
    }
    if (init_identity(st) != 0 || ipm_dedup_init(&st->dedup, DEDUP_SLOTS) != 0) {
        rc = DG_ENOMEM;
        goto fail;
    }
    load_counters(st);
    st->started_ms = ipm_mono_ms();
    if (away_init(st) != 0 || listx_init(st) != 0) {
        rc = DG_ENOMEM;
        goto fail;
    }
    if ((rc = declare_topics(st)) != DG_OK || (rc = rpc_users_register(st)) != DG_OK ||
        (rc = rpc_chat_register(st)) != DG_OK || (rc = rpc_absence_register(st)) != DG_OK ||
        (rc = rpc_discovery_register(st)) != DG_OK || (rc = subscribe_all(st)) != DG_OK ||
        (rc = service_provide(st)) != DG_OK)
        goto fail;
    if (net_open(st, rx_datagram) != 0 || ifwatch_open(st) != 0 || presence_start(st) != 0) {
        rc = DG_ERR;
        goto fail;
    }
    char bind[IPM_ADDR_TEXT];
    api->log(ctx, DG_LOG_INFO, "IPMsg on UDP %s as %s (%s)", ipm_addr_format(st->cfg.bind, bind),
             st->key, ipmsg_charset_name(st->cs));
    *state = st;
    return DG_OK;
fail:
    /* The host removes registrations (and closes the socket); our memory is ours. */
    state_free(st);
    return rc;
}

static void ipm_stop(dg_ctx *ctx, void *state)
{
    ipm_state *st = state;
    if (!st)
        return;
    /* Two BR_EXIT in all (§4.7): one may already have gone on core.daemon.stopping. */
    if (!st->exit_sent)
        send_exit(st);
    presence_round(st, IPMSG_BR_EXIT);
    save_counters(st);
    state_free(st);
}

static const dg_plugin_descriptor ipm_descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "ipmsg", ipm_start, ipm_stop, {NULL, NULL, NULL, NULL},
};

DG_PLUGIN_DEFINE(ipm_descriptor)
