/*
 * The plugin host: discovery, eligibility (from the manifest alone, before
 * any plugin code runs), ordering, loading with libltdl by absolute path,
 * start/stop, ownership of every registration, crash sentinel/quarantine,
 * live enable/disable. States are published as "core.plugin.state".
 *
 * Threading: every function here runs on the loop thread (asserted), which
 * also serialises every libltdl call (libltdl is not thread-safe).
 *
 * How the daemon drives it:
 *   host = dg_plugin_host_new(&deps)   after bus, RPC, services and config exist
 *   dg_plugin_host_add_dir(...)        in precedence order; add_gate(...) for policy
 *   dg_plugin_host_discover(host)      declares plugins.<id>.enabled and manifest keys
 *   dg_plugin_host_start_all(host)     (not in safe mode)
 *   ... uv_run; plugins.* config changes -> dg_plugin_host_reevaluate(host)
 *   dg_plugin_host_stop_all(host); dg_bus_flush(bus)
 *   dg_plugin_host_free(host)          before the bus, RPC, services and config
 *   dg_bus_flush(bus)                  so posts still queued free their records
 *   uv_run(loop, UV_RUN_NOWAIT or DEFAULT) before uv_loop_close: timer/fd
 *                                      handles and the unmap timer close there
 * Libraries are unmapped (lt_dlclose) on the next loop turn after a stop,
 * never inside it, and never when no_dlclose is set (then they are opened
 * resident and stay mapped until exit).
 */
#ifndef DG_PLUGIN_HOST_H
#define DG_PLUGIN_HOST_H

#include "bus/bus.h"
#include "config/config.h"
#include "identity/identity.h"
#include "plugin/manifest.h"
#include "plugin/services.h"
#include "rpc/rpc.h"
#include <jansson.h>
#include <uv.h>

typedef enum dg_plugin_state {
    DG_PLUGIN_DISCOVERED = 0,
    DG_PLUGIN_INVALID,      /* manifest rejected */
    DG_PLUGIN_DISABLED,     /* by config (plugins.<id>.enabled) or a gate */
    DG_PLUGIN_INCOMPATIBLE, /* ABI, platform */
    DG_PLUGIN_QUARANTINED,  /* crashed during start earlier */
    DG_PLUGIN_UNRESOLVED,   /* dependency missing / failed / cycle */
    DG_PLUGIN_LOAD_FAILED,  /* library, entry symbol or descriptor */
    DG_PLUGIN_START_FAILED, /* start() returned an error */
    DG_PLUGIN_ACTIVE,
    DG_PLUGIN_STOPPED,
    DG_PLUGIN_LOCKED /* a gate (licence) refuses it */
} dg_plugin_state;

const char *dg_plugin_state_name(dg_plugin_state s); /* "active", "start_failed", ... */

/*
 * Eligibility gate: licence and team policy plug in here. Called for every
 * valid manifest before loading. Return DG_OK to allow, DG_EDENIED to disable
 * (state DISABLED) or DG_STOP to lock (state LOCKED); *reason (new string)
 * says why.
 */
typedef int (*dg_plugin_gate_fn)(void *user, const dg_manifest *m, char **reason);

/*
 * Observer: sees every state change synchronously, after the state is set
 * and before "core.plugin.state" is published (the licence starts a premium
 * plugin's trial clock when it becomes active). m is NULL for an invalid
 * manifest. It must not start or stop plugins.
 */
typedef void (*dg_plugin_observer_fn)(void *user, const char *id, const dg_manifest *m,
                                      dg_plugin_state previous, dg_plugin_state state);
/*
 * Annotator: adds members to a plugin's entry in dg_plugin_host_list (the
 * licence adds "licence": licensed, trial with seconds left, locked). m is
 * NULL for an invalid manifest.
 */
typedef void (*dg_plugin_annotate_fn)(void *user, const dg_manifest *m, dg_plugin_state state,
                                      json_t *entry);

typedef struct dg_plugin_host_deps {
    uv_loop_t *loop;
    dg_bus *bus;
    dg_rpc *rpc;
    dg_config *config;
    dg_identity *identity;
    dg_services *services;
    const char *data_dir;                 /* <home>/data: plugin data dirs and state/ (sentinels) */
    const char *const *core_capabilities; /* NULL-terminated "name@major" */
    int no_dlclose;                       /* keep libraries mapped (sanitizers, valgrind) */
    /*
     * data_dir may be NULL (no sentinels, api->data_dir returns NULL); config
     * and identity may be NULL (defaults, api->identity returns NULL).
     */
} dg_plugin_host_deps;

typedef struct dg_plugin_host dg_plugin_host;

dg_plugin_host *dg_plugin_host_new(const dg_plugin_host_deps *deps);
void dg_plugin_host_free(dg_plugin_host *host); /* stops everything first */

/*
 * Adds a directory whose subdirectories hold plugin.json files. Order =
 * precedence. DG_ENOENT if it does not exist, DG_EEXIST if already added.
 */
int dg_plugin_host_add_dir(dg_plugin_host *host, const char *dir);
void dg_plugin_host_add_gate(dg_plugin_host *host, dg_plugin_gate_fn fn, void *user);
void dg_plugin_host_add_observer(dg_plugin_host *host, dg_plugin_observer_fn fn, void *user);
void dg_plugin_host_add_annotator(dg_plugin_host *host, dg_plugin_annotate_fn fn, void *user);

/*
 * Reads every manifest, declares their config keys, applies eligibility and
 * quarantine. A plugin id found twice: the first directory wins, the other is
 * INVALID ("duplicate id (already loaded from DIR)"). Call once before
 * start_all. Subdirectories without plugin.json are skipped. Returns the
 * number of plugins found, DG_EEXIST when called again.
 */
int dg_plugin_host_discover(dg_plugin_host *host);
/* Starts every eligible plugin in dependency order. Returns how many are active. */
int dg_plugin_host_start_all(dg_plugin_host *host);
/* Stops every active plugin in reverse start order. */
void dg_plugin_host_stop_all(dg_plugin_host *host);

/*
 * Live enable/disable: persists plugins.<id>.enabled in the user config file
 * (user_file), clears quarantine on enable, starts it (and dependents that
 * were waiting) or stops it (and its dependents first). *msg (new) says what
 * happened or why not. DG_OK, DG_ENOENT, DG_EDENIED (gate), DG_ERR. Enabling
 * a plugin a gate disables (DG_EDENIED: team policy) fails before anything is
 * written, with the gate's reason.
 */
int dg_plugin_host_enable(dg_plugin_host *host, const char *id, const char *user_file, char **msg);
int dg_plugin_host_disable(dg_plugin_host *host, const char *id, const char *user_file, char **msg);
/*
 * Re-evaluates gates and config for all plugins (after policy/licence/config
 * changes): stops active plugins that are no longer eligible (dependents
 * first) and starts disabled/locked/unresolved ones that now are. A no-op when
 * called re-entrantly (e.g. from a config-change callback fired by enable's
 * own write), since enable/disable apply their change themselves.
 */
void dg_plugin_host_reevaluate(dg_plugin_host *host);

/*
 * [{"id","name","version","state","reason","dir","priority","provides","requires"}]
 * plus "origin" (the added directory), "library" (absolute path),
 * "optional", "dependencies" ([{"id","version"}]). For an invalid manifest
 * only id (the directory name, or the manifest id of a duplicate), state,
 * reason, dir, origin, and name/version null.
 */
json_t *dg_plugin_host_list(dg_plugin_host *host);
/* Number of plugins in state s. */
size_t dg_plugin_host_count(dg_plugin_host *host, dg_plugin_state s);

/* Plugin id for an owner ctx ("core" for NULL); used for bus/rpc stats. */
const char *dg_plugin_ctx_name(dg_ctx *ctx);

#endif
