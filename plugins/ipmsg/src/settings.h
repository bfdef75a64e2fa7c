/*
 * The plugin's config keys (declared in plugins/ipmsg/plugin.json), read
 * into one struct. Keys marked live in the manifest are re-read on
 * core.config.changed (settings_reload); the others need a restart because
 * they decide the socket or the identity peers know us by.
 */
#ifndef DG_IPM_SETTINGS_H
#define DG_IPM_SETTINGS_H

#include <dengon/plugin.h>
#include <stdbool.h>
#include <stdint.h>

#include "addrlist.h"

typedef struct ipm_settings {
    /* restart needed */
    uint16_t port;
    ipm_addr bind;         /* bind.port == port */
    char *bind_text;       /* as configured */
    char *legacy_codepage; /* "CP932" or a list "CP932,GB18030" */
    bool sniff_utf8;       /* decode untagged valid UTF-8 as UTF-8 (iptux) */
    /* live */
    ipm_addr_list hosts;     /* unicast entry targets ("dial-up" list) */
    ipm_addr_list broadcast; /* extra broadcast addresses, wildcards expanded */
    bool dialup;             /* set DIALUPOPT: ask peers to unicast to us */
    int64_t retry_interval_ms;
    int64_t retries;
    int64_t announce_interval_s; /* 0 = no periodic re-announce */
    bool absent;                 /* ipmsg.absence: absence mode set in the config */
    char *absence_text;          /* ipmsg.absence_text */
    char *absence_title;         /* ipmsg.absence_title: the "[title]" after the nickname */
    int64_t auto_absence_ms;     /* ipmsg.auto_absence_minutes in ms; 0 = off */
    bool list_get;               /* ipmsg.list_get: ask a list server for the host list (§4.5) */
    bool list_server;            /* ipmsg.list_server: answer host list requests */
    int64_t list_wait_ms;        /* ipmsg.list_wait_ms: Windows' ListGetMSec */
    int64_t inbox_size;
} ipm_settings;

/*
 * Reads every key. On a bad value logs an error naming the key and returns
 * -1 (start fails with that reason); *s is then freed.
 */
int settings_load(ipm_settings *s, dg_ctx *ctx, const dg_host_api *api);
/* Re-reads the live keys; a bad list keeps the previous one (logged, -1). */
int settings_reload(ipm_settings *s, dg_ctx *ctx, const dg_host_api *api);
void settings_free(ipm_settings *s);

#endif
