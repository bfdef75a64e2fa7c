/*
 * Internal state of the plugin host, shared by the files that implement it:
 *   host.c         new/free, directories, gates, discovery
 *   eligibility.c  the checks made from the manifest alone, before any dlopen
 *   resolve.c      dependency graph + starting in order
 *   lifecycle.c    starting and stopping one plugin, stop cascades
 *   toggle.c       live enable/disable/reevaluate
 *   state.c        state names, state changes and their bus events
 *   list.c         listings
 *   unload.c       deferred lt_dlclose
 * and, per plugin context (ctx.h): ctx.c, host_api.c, timer.c, io.c, post.c.
 * Everything here runs on the loop thread.
 */
#ifndef DG_PLUGIN_HOST_INTERNAL_H
#define DG_PLUGIN_HOST_INTERNAL_H

#include "plugin/ctx.h"
#include "plugin/graph.h"
#include "plugin/host.h"
#include "plugin/loader.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define DG_PLUGIN_STATE_TOPIC "core.plugin.state"
#define DG_REASON_MAX 512

typedef struct dg_plugin_rec {
    dg_plugin_host *host;
    size_t index;   /* position in host->plugins */
    char *id;       /* manifest id; the directory name when the manifest is invalid */
    char *dir;      /* the plugin's directory */
    char *origin;   /* the directory given to dg_plugin_host_add_dir */
    dg_manifest *m; /* NULL when INVALID */
    dg_plugin_state state;
    char *reason;
    long *needs;        /* hard edges (plugin indexes, -1 terminated) from the last graph run */
    dg_loaded lib;      /* valid while loaded */
    dg_ctx *ctx;        /* non-NULL from just before start() until teardown */
    void *pstate;       /* what start() stored in *state */
    uint64_t start_seq; /* order of the last successful start */
    int stopping;       /* cascade guard */
} dg_plugin_rec;

typedef struct dg_plugin_gate {
    dg_plugin_gate_fn fn;
    void *user;
} dg_plugin_gate;

typedef struct dg_plugin_observer {
    dg_plugin_observer_fn fn;
    void *user;
} dg_plugin_observer;

typedef struct dg_plugin_annotator {
    dg_plugin_annotate_fn fn;
    void *user;
} dg_plugin_annotator;

struct dg_plugin_host {
    uv_loop_t *loop;
    dg_bus *bus;
    dg_rpc *rpc;
    dg_config *config;
    dg_identity *identity;
    dg_services *services;
    char *data_dir;
    char **core_caps; /* NULL-terminated copy */
    int no_dlclose;
    pthread_t loop_thread;

    char **dirs;
    size_t n_dirs;
    dg_plugin_gate *gates;
    size_t n_gates;
    dg_plugin_observer *observers;
    size_t n_observers;
    dg_plugin_annotator *annotators;
    size_t n_annotators;
    dg_plugin_rec **plugins;
    size_t n_plugins;

    int discovered;
    int busy; /* inside a transition: makes reevaluate from change callbacks a no-op */
    uint64_t next_gen;
    uint64_t next_start_seq;
    dg_post_hub *posts;
    uv_timer_t *unmap_timer; /* unload.c: libraries are closed on the next loop turn */
    dg_loaded *unmap;
    size_t n_unmap, cap_unmap;
};

/* Asserts the caller is on the loop thread (libltdl and all registries require it). */
void dg_host_assert_loop_thread(const dg_plugin_host *host);

/* state.c: sets state and reason (printf-style, fmt may be NULL); publishes on change. */
void dg_host_set_state(dg_plugin_host *host, dg_plugin_rec *p, dg_plugin_state s, const char *fmt,
                       ...) DG_PRINTF(4, 5);
/* "DG_ERR", "DG_EINVAL", ... */
const char *dg_plugin_status_name(int status);

/* host.c */
dg_plugin_rec *dg_host_find(dg_plugin_host *host, const char *id);
/* Is ctx (with generation gen) the live context of one of the host's plugins? */
int dg_host_ctx_alive(const dg_plugin_host *host, const dg_ctx *ctx, uint64_t gen);

/*
 * eligibility.c: the checks made from the manifest alone. Returns 1 when p may
 * be started (its state is left alone), else sets its state and returns 0.
 */
int dg_host_check_eligible(dg_plugin_host *host, dg_plugin_rec *p);
/* The same checks without changing p: 1 eligible, else 0 with *st and why filled. */
int dg_host_eligibility(dg_plugin_host *host, const dg_plugin_rec *p, dg_plugin_state *st,
                        char *why, size_t len);
/* 1 when a gate disables p (DG_EDENIED: team policy), with its reason in why; else 0. */
int dg_host_gate_denies(dg_plugin_host *host, const dg_plugin_rec *p, char *why, size_t len);
/* 1 if plugins.<id>.enabled (or load.default_enabled) allows p, else 0 and why. */
int dg_host_config_enabled(dg_plugin_host *host, const dg_plugin_rec *p, char *why, size_t len);
/* Declares plugins.<id>.enabled and the manifest's own config keys. */
void dg_host_declare_config(dg_plugin_host *host, dg_plugin_rec *p);
/* The config key holding the user's choice; new string. */
char *dg_host_enabled_key(const char *id);

/*
 * resolve.c: re-checks eligibility of the plugins for which candidate()
 * returns true, orders every eligible plugin (active ones included) with the
 * dependency graph, and starts the candidates in that order. Returns how many
 * were started.
 */
typedef int (*dg_candidate_fn)(const dg_plugin_rec *p, void *user);
size_t dg_host_resolve_and_start(dg_plugin_host *host, dg_candidate_fn candidate, void *user);

/* unload.c: lt_dlclose (unless resident) on the next loop turn, when no callback runs. */
int dg_host_unloader_init(dg_plugin_host *host);
void dg_host_release_library(dg_plugin_host *host, dg_loaded *lib);
/* Closes what is pending now (no callback may be running). */
void dg_host_unloader_free(dg_plugin_host *host);

/* lifecycle.c */
/* Loads and starts p (its hard dependencies must be ACTIVE). 0 if it became ACTIVE. */
int dg_host_start_one(dg_plugin_host *host, dg_plugin_rec *p);

/* "depends on <id> which is disabled: <reason>", "... which failed to start: ...". */
void dg_host_dependency_reason(const char *id, dg_plugin_state st, const char *reason, char *buf,
                               size_t len);

/* A growable list of plugin ids, for messages like "2 dependents stopped: a, b". */
typedef struct dg_idlist {
    const char **ids;
    size_t n, cap;
} dg_idlist;
void dg_idlist_add(dg_idlist *l, const char *id);
void dg_idlist_free(dg_idlist *l);
/* "a, b, c" into buf. */
void dg_idlist_join(const dg_idlist *l, char *buf, size_t len);

/*
 * Stops p after every active plugin that has a hard edge to it or uses one of
 * its services (recursively). p ends in final/final_reason. When shutdown is
 * set the dependents end STOPPED, otherwise UNRESOLVED with "depends on <p>
 * which is <final state of p>: <final_reason>". Dependents stopped are added to stopped (if not
 * NULL).
 */
void dg_host_stop_cascade(dg_plugin_host *host, dg_plugin_rec *p, dg_plugin_state final,
                          const char *final_reason, int shutdown, dg_idlist *stopped);

#endif
