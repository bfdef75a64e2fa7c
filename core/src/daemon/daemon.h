/* The host daemon's state: one of each core service, wired together. */
#ifndef DG_DAEMON_H
#define DG_DAEMON_H

#include "bus/bus.h"
#include "config/config.h"
#include "control/control.h"
#include "util/home.h"
#include "daemon/options.h"
#include "identity/identity.h"
#include "plugin/host.h"
#include "plugin/services.h"
#include "rpc/rpc.h"
#include <uv.h>

struct dg_policy_wiring;
struct dg_licence_wiring;
typedef struct dg_daemon_events dg_daemon_events;

typedef struct dg_daemon {
    dg_options opts;
    dg_home home;
    uv_loop_t loop;
    dg_config *config;
    dg_identity identity;
    dg_bus *bus;
    dg_rpc *rpc;
    dg_services *services;
    dg_plugin_host *plugins;
    dg_control *control;
    uv_signal_t signals[3]; /* SIGINT, SIGTERM, SIGHUP */
    uint64_t started_ms;    /* uv_hrtime() / 1e6 at start */
    char *system_plugin_dir;
    struct dg_policy_wiring *policy;   /* policy_wiring.c */
    struct dg_licence_wiring *licence; /* licence_wiring.c */
    dg_daemon_events *events;          /* events_rpc.c */
    int stopping;
} dg_daemon;

/* core_config.c: core keys, the layer files, and reacting to changes. */
int dg_daemon_config_init(dg_daemon *d, char **err);
/* Re-reads the system and user files (SIGHUP). */
void dg_daemon_config_reload(dg_daemon *d);

/* core_rpc.c: the core's methods (core.*, config.*). */
int dg_daemon_register_rpc(dg_daemon *d);

/*
 * events_rpc.c: the ring of recent events and core.events. init after the
 * bus and RPC registry; parked calls are answered when core.daemon.stopping
 * passes; free (answers any left) after the control socket stopped, before
 * the registry and the bus are freed.
 */
int dg_daemon_events_init(dg_daemon *d);
void dg_daemon_events_free(dg_daemon *d);

/*
 * policy_wiring.c: team policy. init (before the plugin host) reads the
 * policy directory, locks its keys, registers policy.* and watches SIGHUP;
 * attach (after dg_plugin_host_new) adds the policy gate; free after the
 * plugin host is freed.
 */
int dg_daemon_policy_init(dg_daemon *d);
void dg_daemon_policy_attach(dg_daemon *d);
void dg_daemon_policy_free(dg_daemon *d);

/*
 * licence_wiring.c: the installed licence, premium plugins and their trial,
 * licence.* and the "core.licence" service. init after the policy (it says
 * which extra licence keys are trusted), attach after dg_plugin_host_new
 * (after the policy's gate), free after the plugin host is freed.
 */
int dg_daemon_licence_init(dg_daemon *d);
void dg_daemon_licence_attach(dg_daemon *d);
void dg_daemon_licence_free(dg_daemon *d);

/* signals.c */
int dg_daemon_signals_start(dg_daemon *d);
void dg_daemon_signals_stop(dg_daemon *d);
/* Begins a graceful shutdown: plugins stopped, events flushed, loop left. */
void dg_daemon_request_stop(dg_daemon *d, const char *why);

#endif
