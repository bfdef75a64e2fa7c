/*
 * The plugin host object: creation, directories, gates, discovery, lookups.
 * Lifecycle, ordering and toggling live in their own files (host_internal.h).
 */
#include "host_internal.h"

#include "util/fs.h"
#include "util/log.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void dg_host_assert_loop_thread(const dg_plugin_host *host)
{
    (void)host;
    /* libltdl and every registry are single-threaded by design (§9.5, §6.3-7). */
    assert(pthread_equal(pthread_self(), host->loop_thread));
}

static char **copy_strv(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **out = calloc(n + 1, sizeof(char *));
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = strdup(v[i]);
        if (!out[i]) {
            for (size_t j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
    }
    return out;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static size_t strv_len(char **v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

dg_plugin_host *dg_plugin_host_new(const dg_plugin_host_deps *deps)
{
    if (!deps || !deps->loop || !deps->bus || !deps->rpc || !deps->services) {
        dg_log(DG_LOG_ERROR, "plugin", "plugin host needs a loop, a bus, RPC and services");
        return NULL;
    }
    if (dg_loader_init() != 0)
        return NULL;
    dg_plugin_host *host = calloc(1, sizeof(*host));
    if (!host) {
        dg_loader_exit();
        return NULL;
    }
    host->loop = deps->loop;
    host->bus = deps->bus;
    host->rpc = deps->rpc;
    host->config = deps->config;
    host->identity = deps->identity;
    host->services = deps->services;
    host->no_dlclose = deps->no_dlclose;
    host->loop_thread = pthread_self();
    host->data_dir = deps->data_dir ? strdup(deps->data_dir) : NULL;
    host->core_caps = copy_strv(deps->core_capabilities);
    host->posts = dg_post_hub_new(host);
    if ((deps->data_dir && !host->data_dir) || !host->core_caps || !host->posts ||
        dg_host_unloader_init(host) != 0) {
        dg_plugin_host_free(host);
        return NULL;
    }
    dg_bus_set_owner_namer(host->bus, dg_plugin_ctx_name);
    dg_rpc_set_owner_namer(host->rpc, dg_plugin_ctx_name);
    int rc = dg_bus_declare(host->bus, NULL, DG_PLUGIN_STATE_TOPIC, DG_OVERFLOW_BLOCK);
    if (rc != DG_OK)
        dg_log(DG_LOG_WARN, "plugin", "cannot declare %s: %s", DG_PLUGIN_STATE_TOPIC,
               dg_plugin_status_name(rc));
    return host;
}

static void free_rec(dg_plugin_rec *p)
{
    dg_manifest_free(p->m);
    free(p->id);
    free(p->dir);
    free(p->origin);
    free(p->reason);
    free(p->needs);
    free(p);
}

void dg_plugin_host_free(dg_plugin_host *host)
{
    if (!host)
        return;
    dg_plugin_host_stop_all(host);
    dg_host_unloader_free(host);
    for (size_t i = 0; i < host->n_plugins; i++)
        free_rec(host->plugins[i]);
    free(host->plugins);
    dg_post_hub_detach(host->posts);
    free_strv(host->dirs, host->n_dirs);
    free_strv(host->core_caps, strv_len(host->core_caps));
    free(host->gates);
    free(host->observers);
    free(host->annotators);
    free(host->data_dir);
    free(host);
    dg_loader_exit();
}

int dg_plugin_host_add_dir(dg_plugin_host *host, const char *dir)
{
    if (!host || !dir)
        return DG_EINVAL;
    dg_host_assert_loop_thread(host);
    /* Absolute and canonical: library paths are built from it and opened as-is. */
    char *real = realpath(dir, NULL);
    if (!real) {
        dg_log(DG_LOG_WARN, "plugin", "plugin directory %s: %s", dir, strerror(errno));
        return errno == ENOENT ? DG_ENOENT : DG_ERR;
    }
    for (size_t i = 0; i < host->n_dirs; i++) {
        if (strcmp(host->dirs[i], real) == 0) {
            /* The same folder twice would make every plugin in it a duplicate of itself. */
            free(real);
            return DG_EEXIST;
        }
    }
    char **n = realloc(host->dirs, (host->n_dirs + 1) * sizeof(char *));
    if (!n) {
        free(real);
        return DG_ENOMEM;
    }
    host->dirs = n;
    host->dirs[host->n_dirs++] = real;
    return DG_OK;
}

void dg_plugin_host_add_gate(dg_plugin_host *host, dg_plugin_gate_fn fn, void *user)
{
    if (!host || !fn)
        return;
    dg_plugin_gate *n = realloc(host->gates, (host->n_gates + 1) * sizeof(*n));
    if (!n) {
        dg_log(DG_LOG_ERROR, "plugin", "out of memory adding a plugin gate");
        return;
    }
    host->gates = n;
    host->gates[host->n_gates++] = (dg_plugin_gate){fn, user};
}

void dg_plugin_host_add_observer(dg_plugin_host *host, dg_plugin_observer_fn fn, void *user)
{
    if (!host || !fn)
        return;
    dg_plugin_observer *n = realloc(host->observers, (host->n_observers + 1) * sizeof(*n));
    if (!n) {
        dg_log(DG_LOG_ERROR, "plugin", "out of memory adding a plugin observer");
        return;
    }
    host->observers = n;
    host->observers[host->n_observers++] = (dg_plugin_observer){fn, user};
}

void dg_plugin_host_add_annotator(dg_plugin_host *host, dg_plugin_annotate_fn fn, void *user)
{
    if (!host || !fn)
        return;
    dg_plugin_annotator *n = realloc(host->annotators, (host->n_annotators + 1) * sizeof(*n));
    if (!n) {
        dg_log(DG_LOG_ERROR, "plugin", "out of memory adding a plugin annotator");
        return;
    }
    host->annotators = n;
    host->annotators[host->n_annotators++] = (dg_plugin_annotator){fn, user};
}

dg_plugin_rec *dg_host_find(dg_plugin_host *host, const char *id)
{
    dg_plugin_rec *invalid = NULL;
    for (size_t i = 0; id && i < host->n_plugins; i++) {
        dg_plugin_rec *p = host->plugins[i];
        if (strcmp(p->id, id) != 0)
            continue;
        if (p->m)
            return p;
        if (!invalid)
            invalid = p;
    }
    return invalid;
}

int dg_host_ctx_alive(const dg_plugin_host *host, const dg_ctx *ctx, uint64_t gen)
{
    for (size_t i = 0; i < host->n_plugins; i++)
        if (host->plugins[i]->ctx == ctx)
            return ctx->alive && ctx->gen == gen;
    return 0;
}

static dg_plugin_rec *add_rec(dg_plugin_host *host, const char *origin, const char *dir,
                              const char *name)
{
    dg_plugin_rec **n = realloc(host->plugins, (host->n_plugins + 1) * sizeof(*n));
    if (!n)
        return NULL;
    host->plugins = n;
    dg_plugin_rec *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->host = host;
    p->dir = strdup(dir);
    p->origin = strdup(origin);
    p->id = strdup(name);
    if (!p->dir || !p->origin || !p->id) {
        free_rec(p);
        return NULL;
    }
    p->index = host->n_plugins;
    p->state = DG_PLUGIN_DISCOVERED;
    host->plugins[host->n_plugins++] = p;
    return p;
}

/* One <origin>/<name>/plugin.json. */
static void discover_one(dg_plugin_host *host, const char *origin, const char *dir,
                         const char *name, const char *manifest_path)
{
    dg_plugin_rec *p = add_rec(host, origin, dir, name);
    if (!p) {
        dg_log(DG_LOG_ERROR, "plugin", "out of memory discovering %s", dir);
        return;
    }
    char err[DG_REASON_MAX];
    dg_manifest *m = NULL;
    if (dg_manifest_load(manifest_path, &m, err, sizeof(err)) != 0) {
        dg_host_set_state(host, p, DG_PLUGIN_INVALID, "%s", err);
        return;
    }
    char *id = strdup(m->id);
    if (!id) {
        dg_manifest_free(m);
        dg_host_set_state(host, p, DG_PLUGIN_INVALID, "out of memory");
        return;
    }
    free(p->id);
    p->id = id;
    dg_plugin_rec *first = dg_host_find(host, id);
    if (first && first != p && first->m) {
        dg_manifest_free(m);
        dg_host_set_state(host, p, DG_PLUGIN_INVALID, "duplicate id (already loaded from %s)",
                          first->dir);
        return;
    }
    p->m = m;
    dg_host_declare_config(host, p);
    dg_host_check_eligible(host, p);
}

static void discover_dir(dg_plugin_host *host, const char *origin)
{
    struct dirent **names = NULL;
    /* Sorted, so that "first wins" among duplicates is deterministic. */
    int n = scandir(origin, &names, NULL, alphasort);
    if (n < 0) {
        dg_log(DG_LOG_WARN, "plugin", "cannot read plugin directory %s: %s", origin,
               strerror(errno));
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char *dir = name[0] == '.' ? NULL : dg_path_join(origin, name);
        char *mf = dir ? dg_path_join(dir, "plugin.json") : NULL;
        struct stat st;
        if (dir && mf && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (dg_file_exists(mf) || lstat(mf, &st) == 0)
                discover_one(host, origin, dir, name, mf);
            else
                dg_log(DG_LOG_DEBUG, "plugin", "%s has no plugin.json, skipped", dir);
        }
        free(mf);
        free(dir);
        free(names[i]);
    }
    free(names);
}

int dg_plugin_host_discover(dg_plugin_host *host)
{
    if (!host)
        return DG_EINVAL;
    dg_host_assert_loop_thread(host);
    if (host->discovered)
        return DG_EEXIST;
    host->discovered = 1;
    host->busy++;
    for (size_t i = 0; i < host->n_dirs; i++)
        discover_dir(host, host->dirs[i]);
    host->busy--;
    return (int)(host->n_plugins > INT_MAX ? INT_MAX : host->n_plugins);
}

size_t dg_plugin_host_count(dg_plugin_host *host, dg_plugin_state s)
{
    size_t n = 0;
    for (size_t i = 0; host && i < host->n_plugins; i++)
        n += host->plugins[i]->state == s;
    return n;
}

const char *dg_plugin_ctx_name(dg_ctx *ctx)
{
    if (!ctx)
        return "core";
    return ctx->magic == DG_CTX_MAGIC && ctx->id ? ctx->id : "?";
}
