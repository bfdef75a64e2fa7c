/*
 * dengond: the host daemon. Start-up order matters and is the whole point of
 * this file: home folder -> config (the log settings are config) -> log ->
 * identity -> loop, bus, RPC, services -> control socket -> team policy and
 * licence -> plugins (eligibility from manifests first, then dependency
 * order) -> ready. Shutdown is the reverse: plugins stopped in
 * reverse start order, pending bus events flushed, socket closed.
 */
#include "daemon/daemon.h"

#include "util/fs.h"
#include "util/log.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef DENGON_VERSION
#define DENGON_VERSION "0.0.0"
#endif
#ifndef DENGON_PLUGIN_SUBDIR
#define DENGON_PLUGIN_SUBDIR "lib/dengon/plugins"
#endif

/* Capabilities the core itself provides to manifests' "requires". */
static const char *const core_capabilities[] = {
    "core.bus@1", "core.rpc@1", "core.config@1", "core.identity@1", "core.licence@1", NULL};

/* The folder holding this executable (and the CLI beside it), or NULL. New string. */
static char *executable_dir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    return strdup(dirname(exe));
}

/* Installed plugins live at <prefix>/<libdir>/dengon/plugins, next to <prefix>/bin. */
static char *find_system_plugin_dir(void)
{
    char *bindir = executable_dir();
    if (!bindir)
        return NULL;
    char *prefix = dg_path_join(bindir, "..");
    free(bindir);
    if (!prefix)
        return NULL;
    char *dir = dg_path_join(prefix, DENGON_PLUGIN_SUBDIR);
    free(prefix);
    char resolved[PATH_MAX];
    if (dir && realpath(dir, resolved)) {
        free(dir);
        return strdup(resolved);
    }
    free(dir);
    return NULL;
}

static int fail(const char *what, char *err)
{
    fprintf(stderr, "dengond: %s%s%s\n", what, err ? ": " : "", err ? err : "");
    free(err);
    return 1;
}

static int open_log(dg_daemon *d)
{
    if (d->opts.log_level) {
        dg_log_level level;
        if (dg_log_level_parse(d->opts.log_level, &level) != 0) {
            fprintf(stderr, "dengond: unknown log level '%s' (error, warn, info, debug)\n",
                    d->opts.log_level);
            return -1;
        }
        dg_log_set_level(level);
    }
    int64_t max = dg_config_get_int(d->config, "log.max_size", 1 << 20);
    int64_t keep = dg_config_get_int(d->config, "log.keep", 3);
    int rc = dg_log_open_file(d->home.log_file, (size_t)(max > 0 ? max : 0),
                              (int)(keep > 0 && keep < 100 ? keep : 3));
    if (rc != 0)
        dg_log(DG_LOG_WARN, "core", "cannot open %s: %s; logging to stderr only",
               d->home.log_file, strerror(-rc));
    return 0;
}

static int load_identity(dg_daemon *d)
{
    char *err = NULL;
    /* Empty means "ask the system"; tests run several nodes on one machine with these. */
    const char *user = dg_config_get(d->config, "identity.user");
    const char *host = dg_config_get(d->config, "identity.host");
    if (dg_identity_load(&d->identity, d->home.data_dir, user && *user ? user : NULL,
                         host && *host ? host : NULL,
                         dg_config_get(d->config, "identity.tenant"),
                         dg_config_get(d->config, "identity.nickname"),
                         dg_config_get(d->config, "identity.group"), &err) != 0)
        return fail("identity", err);
    return 0;
}

static int declare_core_topics(dg_daemon *d)
{
    static const struct {
        const char *topic;
        dg_overflow overflow;
    } topics[] = {
        {"core.config.changed", DG_OVERFLOW_DROP_OLDEST},
        {"core.identity.changed", DG_OVERFLOW_COALESCE},
        {"core.daemon.ready", DG_OVERFLOW_BLOCK},
        {"core.daemon.stopping", DG_OVERFLOW_BLOCK},
    };
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
        if (dg_bus_declare(d->bus, NULL, topics[i].topic, topics[i].overflow) != DG_OK)
            return -1;
    return 0;
}

static int start_core_services(dg_daemon *d)
{
    if (uv_loop_init(&d->loop) != 0)
        return fail("cannot initialise the event loop", NULL);
    int64_t capacity = dg_config_get_int(d->config, "bus.queue_capacity", 4096);
    d->bus = dg_bus_new(&d->loop, (size_t)(capacity > 0 ? capacity : 4096));
    d->rpc = dg_rpc_new();
    d->services = dg_services_new();
    if (!d->bus || !d->rpc || !d->services || declare_core_topics(d) != 0 ||
        dg_daemon_register_rpc(d) != 0 || dg_daemon_events_init(d) != 0)
        return fail("cannot start the core services", NULL);
    char *err = NULL;
    d->control = dg_control_start(&d->loop, d->rpc, d->home.socket_path, &err);
    if (!d->control)
        return fail("control socket", err);
    return dg_daemon_signals_start(d) == 0 ? 0 : 1;
}

static int add_plugin_dirs(dg_daemon *d)
{
    for (size_t i = 0; i < d->opts.n_plugin_dirs; i++) {
        /* A mistyped --plugin-dir must not start a daemon silently missing its plugins. */
        int rc = dg_plugin_host_add_dir(d->plugins, d->opts.plugin_dirs[i]);
        if (rc == DG_ENOENT) {
            fprintf(stderr, "dengond: --plugin-dir %s: no such directory\n",
                    d->opts.plugin_dirs[i]);
            return -1;
        }
    }
    if (!d->opts.no_system_plugins) {
        d->system_plugin_dir = find_system_plugin_dir();
        if (d->system_plugin_dir)
            dg_plugin_host_add_dir(d->plugins, d->system_plugin_dir);
    }
    if (dg_config_get_bool(d->config, "plugins.allow_user", 0) &&
        dg_file_exists(d->home.plugins_dir))
        dg_plugin_host_add_dir(d->plugins, d->home.plugins_dir);
    return 0;
}

static int start_plugins(dg_daemon *d)
{
    /* Policy and licence first: their gates decide before any plugin code runs. */
    if (dg_daemon_policy_init(d) != 0 || dg_daemon_licence_init(d) != 0)
        return fail("cannot start team policy and licences", NULL);
    dg_plugin_host_deps deps = {
        .loop = &d->loop,
        .bus = d->bus,
        .rpc = d->rpc,
        .config = d->config,
        .identity = &d->identity,
        .services = d->services,
        .data_dir = d->home.data_dir,
        .core_capabilities = core_capabilities,
        .no_dlclose = d->opts.keep_mapped,
    };
    d->plugins = dg_plugin_host_new(&deps);
    if (!d->plugins)
        return fail("cannot create the plugin host", NULL);
    dg_daemon_policy_attach(d);
    dg_daemon_licence_attach(d);
    if (add_plugin_dirs(d) != 0)
        return 1;
    dg_plugin_host_discover(d->plugins);
    /* Only now are all keys declared (core + every manifest): warn about the rest once. */
    dg_config_warn_unknown(d->config);
    if (d->opts.safe_mode)
        dg_log(DG_LOG_WARN, "core", "safe mode: no plugin is started");
    else
        dg_plugin_host_start_all(d->plugins);
    return 0;
}

/*
 * Publishes a core event on a never-drop topic: when a subscriber's queue is
 * full, deliver what is queued and try again rather than lose it.
 */
static void publish_never_drop(dg_daemon *d, const char *topic, json_t *payload)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        int rc = dg_bus_publish(d->bus, NULL, topic, json_incref(payload));
        if (rc != DG_EAGAIN) {
            if (rc != DG_OK && rc != DG_STOP)
                dg_log(DG_LOG_ERROR, "core", "cannot publish %s (%d)", topic, rc);
            json_decref(payload);
            return;
        }
        dg_bus_flush(d->bus);
    }
    dg_log(DG_LOG_ERROR, "core", "%s lost: a subscriber never drains its queue", topic);
    json_decref(payload);
}

/* The banner `make run` users read: where things are and what started. */
static void print_ready(dg_daemon *d)
{
    uint64_t ms = uv_hrtime() / 1000000u - d->started_ms;
    printf("dengond %s ready in %llu ms (profile %s%s)\n", DENGON_VERSION,
           (unsigned long long)ms, d->opts.profile, d->opts.safe_mode ? ", safe mode" : "");
    printf("  home:    %s\n", d->home.root ? d->home.root : "(XDG base directories)");
    if (!d->home.root)
        printf("  config:  %s\n  data:    %s\n", d->home.config_dir, d->home.data_dir);
    printf("  socket:  %s\n", d->home.socket_path);
    printf("  log:     %s\n", d->home.log_file);
    printf("  plugins:");
    json_t *list = dg_plugin_host_list(d->plugins);
    size_t i, shown = 0;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        const char *state = json_string_value(json_object_get(p, "state"));
        printf("%s %s (%s)", shown++ ? "," : "", json_string_value(json_object_get(p, "id")),
               state ? state : "?");
    }
    json_decref(list);
    printf("%s\n", shown ? "" : " none");
    printf("  identity: %s (%s)\n", d->identity.lan_key, d->identity.uuid);
    /* Name the CLI by its path: after `make run` it is not on PATH. */
    char *bindir = executable_dir();
    char *cli = bindir ? dg_path_join(bindir, "dengon") : NULL;
    printf("Stop with Ctrl+C. Try: %s%s%s status\n", cli ? cli : "dengon",
           d->home.root ? " --home " : "", d->home.root ? d->home.root : "");
    free(cli);
    free(bindir);
    fflush(stdout);
    publish_never_drop(d, "core.daemon.ready", json_pack("{s:I}", "ms", (json_int_t)ms));
}

void dg_daemon_request_stop(dg_daemon *d, const char *why)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    dg_log(DG_LOG_INFO, "core", "stopping (%s)", why);
    publish_never_drop(d, "core.daemon.stopping", json_pack("{s:s}", "reason", why));
    dg_bus_flush(d->bus);
    if (d->plugins)
        dg_plugin_host_stop_all(d->plugins);
    /* Events the plugins published while stopping still reach the core's subscribers. */
    dg_bus_flush(d->bus);
    if (d->control) {
        dg_control_stop(d->control);
        d->control = NULL;
    }
    dg_daemon_signals_stop(d);
    uv_stop(&d->loop);
}

static void close_walk(uv_handle_t *handle, void *arg)
{
    if (!uv_is_closing(handle)) {
        dg_log(DG_LOG_DEBUG, "core", "closing leftover handle of type %s",
               uv_handle_type_name(uv_handle_get_type(handle)));
        uv_close(handle, NULL);
    }
}

static void teardown(dg_daemon *d)
{
    dg_plugin_host_free(d->plugins);
    d->plugins = NULL;
    /* After the host: stopping plugins still asks the licence (observer). */
    dg_daemon_licence_free(d);
    dg_daemon_policy_free(d);
    /* Run what plugins' worker threads posted before they stopped (frees their records). */
    dg_bus_flush(d->bus);
    if (d->control)
        dg_control_stop(d->control);
    dg_daemon_events_free(d);
    dg_rpc_free(d->rpc);
    dg_bus_free(d->bus);
    dg_services_free(d->services);
    uv_run(&d->loop, UV_RUN_DEFAULT); /* let close callbacks finish */
    if (uv_loop_close(&d->loop) == UV_EBUSY) {
        uv_walk(&d->loop, close_walk, NULL);
        uv_run(&d->loop, UV_RUN_DEFAULT);
        uv_loop_close(&d->loop);
    }
    dg_config_free(d->config);
    free(d->system_plugin_dir);
    dg_log_close_file();
    dg_home_free(&d->home);
    dg_options_free(&d->opts);
}

int main(int argc, char **argv)
{
    dg_daemon d;
    memset(&d, 0, sizeof d);
    d.started_ms = uv_hrtime() / 1000000u;
    int rc = dg_options_parse(&d.opts, argc, argv);
    if (rc != 0) {
        dg_options_free(&d.opts);
        return rc == 1 ? 0 : 2;
    }
    char *err = NULL;
    if (dg_home_resolve(&d.home, d.opts.home, &err) != 0 || dg_home_create(&d.home, &err) != 0)
        return fail("home folder", err);
    if (dg_daemon_config_init(&d, &err) != 0)
        return fail("configuration", err);
    if (open_log(&d) != 0 || load_identity(&d) != 0 || start_core_services(&d) != 0 ||
        start_plugins(&d) != 0) {
        d.stopping = 1;
        teardown(&d);
        return 1;
    }
    print_ready(&d);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    dg_daemon_request_stop(&d, "loop ended");
    teardown(&d);
    dg_log(DG_LOG_INFO, "core", "stopped");
    return 0;
}
