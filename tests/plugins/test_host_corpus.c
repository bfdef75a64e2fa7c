/*
 * The plugin host over the test corpus, in-process with the real bus, RPC,
 * config and service registry: every case ends in its expected state and
 * reason (EXPECTED.md), a failed start leaves nothing behind, enable/disable
 * cascade, a crash in start() quarantines the plugin on the next run, and
 * LTDL_LIBRARY_PATH cannot inject a library.
 */
#include "plugin/host.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct fx {
    uv_loop_t loop;
    dg_bus *bus;
    dg_rpc *rpc;
    dg_config *cfg;
    dg_services *svc;
    dg_identity identity;
    dg_plugin_host *host;
    json_t *events; /* core.plugin.state payloads seen */
    char home[128];
    char data[160];
    char markers[160];
    char user_file[160];
    int deny_testgood;     /* gate: 0 allow, 1 deny, 2 lock */
    const char *extra_dir; /* a second plugin directory, after the corpus */
} fx;

/* ---- helpers ---- */

static void on_state(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    fx *f = user;
    json_array_append(f->events, (json_t *)payload);
}

static int gate(void *user, const dg_manifest *m, char **reason)
{
    fx *f = user;
    if (f->deny_testgood && strcmp(m->id, "testgood") == 0) {
        *reason = strdup(f->deny_testgood == 1 ? "denied by test policy" : "needs a licence");
        return f->deny_testgood == 1 ? DG_EDENIED : DG_STOP;
    }
    return DG_OK;
}

/* Brings up a core and a host over the corpus (discovered, not started). */
static void host_up(fx *f, int no_dlclose)
{
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->bus = dg_bus_new(&f->loop, 256);
    f->rpc = dg_rpc_new();
    f->cfg = dg_config_new();
    f->svc = dg_services_new();
    assert_non_null(f->bus);
    assert_non_null(f->rpc);
    assert_non_null(f->cfg);
    assert_non_null(f->svc);
    char *err = NULL;
    /* The persisted user choices of an earlier run, if any. */
    assert_int_equal(dg_config_load_file(f->cfg, DG_LAYER_USER, f->user_file, &err), DG_OK);
    assert_int_equal(
        dg_identity_load(&f->identity, f->data, "alice", "pc1", NULL, NULL, NULL, &err), 0);
    dg_plugin_host_deps deps = {
        .loop = &f->loop,
        .bus = f->bus,
        .rpc = f->rpc,
        .config = f->cfg,
        .identity = &f->identity,
        .services = f->svc,
        .data_dir = f->data,
        .no_dlclose = no_dlclose,
    };
    f->host = dg_plugin_host_new(&deps);
    assert_non_null(f->host);
    f->events = json_array();
    assert_non_null(dg_bus_subscribe(f->bus, NULL, "core.plugin.state", 0, 0, on_state, f, NULL));
    dg_plugin_host_add_gate(f->host, gate, f);
    assert_int_equal(dg_plugin_host_add_dir(f->host, DG_TEST_PLUGIN_DIR), DG_OK);
    assert_int_equal(dg_plugin_host_add_dir(f->host, DG_TEST_PLUGIN_DIR "/."), DG_EEXIST);
    assert_int_equal(dg_plugin_host_add_dir(f->host, "/nonexistent/dengon"), DG_ENOENT);
    if (f->extra_dir)
        assert_int_equal(dg_plugin_host_add_dir(f->host, f->extra_dir), DG_OK);
    assert_true(dg_plugin_host_discover(f->host) >= 20);
}

static void host_down(fx *f)
{
    dg_plugin_host_free(f->host);
    /* Pending posts and close callbacks of timers/fds run here. */
    dg_bus_flush(f->bus);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    dg_bus_free(f->bus);
    dg_rpc_free(f->rpc);
    dg_services_free(f->svc);
    dg_config_free(f->cfg);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    json_decref(f->events);
    f->host = NULL;
}

static json_t *find_plugin(json_t *list, const char *id)
{
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "id")), id) == 0)
            return p;
    }
    return NULL;
}

static void expect(fx *f, const char *id, const char *state, const char *reason_part)
{
    json_t *list = dg_plugin_host_list(f->host);
    json_t *p = find_plugin(list, id);
    if (!p)
        fail_msg("plugin %s not listed", id);
    const char *st = json_string_value(json_object_get(p, "state"));
    const char *reason = json_string_value(json_object_get(p, "reason"));
    if (strcmp(st, state) != 0)
        fail_msg("%s: state %s (%s), expected %s", id, st, reason ? reason : "-", state);
    if (reason_part && (!reason || !strstr(reason, reason_part)))
        fail_msg("%s: reason '%s' lacks '%s'", id, reason ? reason : "(none)", reason_part);
    json_decref(list);
}

static int file_exists_in(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

typedef struct call_out {
    json_t *result;
    json_t *error;
} call_out;

static void call_done(void *user, const json_t *result, const json_t *error)
{
    call_out *o = user;
    o->result = result ? json_incref((json_t *)result) : NULL;
    o->error = error ? json_incref((json_t *)error) : NULL;
}

/* Calls a method that answers synchronously; returns the result (new) or NULL on error. */
static json_t *call(fx *f, const char *method, json_t *params)
{
    call_out o = {0};
    assert_null(dg_rpc_invoke(f->rpc, method, params, call_done, &o));
    json_decref(params);
    json_decref(o.error);
    return o.result;
}

static int64_t call_count(fx *f, const char *method)
{
    json_t *r = call(f, method, NULL);
    assert_non_null(r);
    int64_t n = json_integer_value(json_object_get(r, "count"));
    json_decref(r);
    return n;
}

static void write_file(const char *path)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
}

/* ---- fixture ---- */

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->home, sizeof(f->home), "/tmp/dg-host-test-XXXXXX");
    if (!mkdtemp(f->home))
        return -1;
    snprintf(f->data, sizeof(f->data), "%s/data", f->home);
    snprintf(f->markers, sizeof(f->markers), "%s/markers", f->home);
    snprintf(f->user_file, sizeof(f->user_file), "%s/dengon.ini", f->home);
    if (mkdir(f->data, 0700) != 0 || mkdir(f->markers, 0700) != 0)
        return -1;
    setenv("DENGON_TEST_MARKER_DIR", f->markers, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->host)
        host_down(f);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->home);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->home);
    free(f);
    return 0;
}

/* ---- tests ---- */

static void corpus_states_and_reasons(void **state)
{
    fx *f = *state;
    host_up(f, 0);
    /* Decided from the manifest alone, before start_all. */
    expect(f, "dup-key", "invalid", "duplicate");
    expect(f, "unknown-key", "invalid", "permisions");
    expect(f, "abi-major", "incompatible", "ABI major 2, host speaks 1");
    expect(f, "abi-minor", "incompatible", "needs ABI 1.99, host has 1.2");
    expect(f, "wrong-platform", "incompatible", "built for plan9-mips, this is linux-");
    expect(f, "off-by-default", "disabled", "disabled by config (default)");

    assert_int_equal(dg_plugin_host_start_all(f->host), 4); /* testgood, testdep, start-crashes, ctor-crashes */
    expect(f, "testgood", "active", NULL);
    expect(f, "testdep", "active", NULL);
    expect(f, "start-crashes", "active", NULL);
    expect(f, "no-entry", "load_failed", "entry symbol 'dg_plugin_entry' not found");
    expect(f, "entry-null", "load_failed", "entry returned NULL");
    expect(f, "id-mismatch", "load_failed",
           "descriptor id 'someone-else' does not match manifest id 'id-mismatch'");
    expect(f, "small-descriptor", "load_failed", "descriptor too small");
    expect(f, "undefined-symbol", "load_failed",
           "undefined symbol: dg_test_function_nobody_defines");
    expect(f, "start-fails", "start_failed",
           "start failed: DG_ERR (deliberate failure after registering everything)");
    expect(f, "dep-on-fails", "unresolved", "depends on start-fails which failed to start");
    expect(f, "cycle-a", "unresolved", "dependency cycle: cycle-a -> cycle-b -> cycle-a");
    expect(f, "cycle-b", "unresolved", "dependency cycle: cycle-a -> cycle-b -> cycle-a");
    expect(f, "missing-dep", "unresolved", "nonexistent");
    expect(f, "ltdl-inject", "load_failed", "library not found");
    expect(f, "abi-major", "incompatible", "ABI major 2");
    expect(f, "off-by-default", "disabled", "disabled by config");
    assert_int_equal(dg_plugin_host_count(f->host, DG_PLUGIN_ACTIVE), 4);

    /* Refused from the manifest: their code was never mapped (constructors never ran). */
    const char *never[] = {"abi-major",   "abi-minor",    "wrong-platform", "cycle-a",    "cycle-b",
                           "missing-dep", "dep-on-fails", "off-by-default", "ltdl-inject"};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        char name[96];
        snprintf(name, sizeof(name), "%s.loaded", never[i]);
        if (file_exists_in(f->markers, name))
            fail_msg("%s was loaded", never[i]);
    }
    assert_false(file_exists_in(f->markers, "ltdl-inject.started"));

    /* Every transition was published. */
    dg_bus_flush(f->bus);
    int seen = 0;
    size_t i;
    json_t *ev;
    json_array_foreach(f->events, i, ev)
    {
        if (strcmp(json_string_value(json_object_get(ev, "id")), "testgood") == 0 &&
            strcmp(json_string_value(json_object_get(ev, "state")), "active") == 0) {
            assert_string_equal(json_string_value(json_object_get(ev, "previous")), "discovered");
            assert_true(json_is_null(json_object_get(ev, "reason")));
            seen = 1;
        }
    }
    assert_true(seen);
    assert_true(json_array_size(f->events) >= 20);
}

static void good_plugin_works(void **state)
{
    fx *f = *state;
    host_up(f, 0);
    assert_int_equal(dg_plugin_host_start_all(f->host), 4); /* testgood, testdep, start-crashes, ctor-crashes */

    json_t *r = call(f, "testgood.echo", json_pack("{s:s}", "hello", "world"));
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "hello")), "world");
    json_decref(r);

    assert_int_equal(call_count(f, "testgood.count"), 0);
    for (int k = 0; k < 3; k++) {
        r = call(f, "testgood.publish", json_pack("{s:i}", "n", k));
        assert_non_null(r);
        json_decref(r);
    }
    assert_int_equal(dg_bus_publish(f->bus, NULL, "test.ping", NULL), DG_OK);
    dg_bus_flush(f->bus);
    assert_int_equal(call_count(f, "testgood.count"), 4);
    /* testdep reads the same number through the test.counter@1 service. */
    assert_int_equal(call_count(f, "testdep.count"), 4);

    /* The service registry knows who uses whom; listings name plugins. */
    json_t *svcs = dg_services_list(f->svc, dg_plugin_ctx_name);
    json_t *s0 = json_array_get(svcs, 0);
    assert_string_equal(json_string_value(json_object_get(s0, "name")), "test.counter");
    assert_string_equal(json_string_value(json_object_get(s0, "provider")), "testgood");
    assert_string_equal(json_string_value(json_array_get(json_object_get(s0, "users"), 0)),
                        "testdep");
    json_decref(svcs);

    json_t *list = dg_plugin_host_list(f->host);
    json_t *p = find_plugin(list, "testgood");
    assert_string_equal(json_string_value(json_object_get(p, "version")), "1.2.0");
    assert_non_null(strstr(json_string_value(json_object_get(p, "library")), "libtestgood.so"));
    assert_non_null(strstr(json_string_value(json_object_get(p, "origin")), "tests/plugins"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "provides"), 0)),
                        "test.counter@1");
    p = find_plugin(list, "testdep");
    json_t *dep = json_array_get(json_object_get(p, "dependencies"), 0);
    assert_string_equal(json_string_value(json_object_get(dep, "id")), "testgood");
    json_decref(list);

    /* What the host API tells a plugin about itself. */
    r = call(f, "testgood.info", NULL);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "id")), "testgood");
    assert_int_equal(json_integer_value(json_object_get(r, "api_size")), sizeof(dg_host_api));
    const char *dd = json_string_value(json_object_get(r, "data_dir"));
    char want[256];
    snprintf(want, sizeof(want), "%s/plugin-data/testgood", f->data);
    assert_string_equal(dd, want);
    struct stat st;
    assert_int_equal(stat(dd, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    json_t *who = json_object_get(r, "identity");
    assert_string_equal(json_string_value(json_object_get(who, "lan_key")), "alice@pc1");
    json_decref(r);

    /* The manifest's config keys are declared even for plugins never started. */
    json_t *d = dg_config_describe(f->cfg, "testgood.ping_interval_ms");
    assert_non_null(d);
    json_decref(d);
    d = dg_config_describe(f->cfg, "plugins.off-by-default.enabled");
    assert_non_null(d);
    json_decref(d);
}

static void stop_loop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static void run_loop_ms(fx *f, uint64_t ms)
{
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    uv_update_time(&f->loop);
    uv_timer_start(&t, stop_loop, ms, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

static int64_t count_field(fx *f, const char *field)
{
    json_t *r = call(f, "testgood.count", NULL);
    assert_non_null(r);
    int64_t n = json_integer_value(json_object_get(r, field));
    json_decref(r);
    return n;
}

static int list_has_string(json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *v = json_string_value(json_object_get(e, key));
        if (v && strcmp(v, value) == 0)
            return 1;
    }
    return 0;
}

static void failed_start_leaves_nothing(void **state)
{
    fx *f = *state;
    host_up(f, 0);
    dg_plugin_host_start_all(f->host);
    expect(f, "start-fails", "start_failed", "start failed: DG_ERR");

    json_t *methods = dg_rpc_list(f->rpc);
    assert_false(list_has_string(methods, "method", "startfails.method"));
    assert_true(list_has_string(methods, "method", "testgood.echo"));
    json_decref(methods);
    json_t *svcs = dg_services_list(f->svc, dg_plugin_ctx_name);
    assert_false(list_has_string(svcs, "name", "test.startfails"));
    json_decref(svcs);
    json_t *stats = dg_bus_stats(f->bus);
    assert_false(list_has_string(json_object_get(stats, "subscribers"), "owner", "start-fails"));
    assert_null(json_object_get(json_object_get(stats, "topics"), "test.startfails"));
    json_decref(stats);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "test.startfails", NULL), DG_ENOENT);

    /* Its timer (5 ms) and its post never run. */
    run_loop_ms(f, 50);
    dg_bus_flush(f->bus);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_false(file_exists_in(f->markers, "start-fails.ran"));

    /* No sentinel left behind by a start that returned. */
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/state/plugins", f->data);
    assert_false(file_exists_in(dir, "start-fails.starting"));
    assert_false(file_exists_in(dir, "start-fails.quarantined"));
}

static void timers_and_fds(void **state)
{
    fx *f = *state;
    host_up(f, 0);
    char *err = NULL;
    assert_int_equal(
        dg_config_set_layer(f->cfg, DG_LAYER_CMDLINE, "testgood.ping_interval_ms", "5", &err),
        DG_OK);
    assert_int_equal(dg_plugin_host_start_all(f->host), 4); /* testgood, testdep, start-crashes, ctor-crashes */
    run_loop_ms(f, 60);
    assert_true(count_field(f, "timer") >= 2);
    assert_true(count_field(f, "count") >= 2); /* its own test.ping events */

    /* A watcher reads the byte and closes itself. */
    json_t *r = call(f, "testgood.pipe", json_pack("{s:b}", "write", 1));
    assert_non_null(r);
    json_decref(r);
    for (int i = 0; i < 100 && count_field(f, "io") == 0; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(count_field(f, "io"), 1);

    /* A watcher still open when the plugin stops: the host closes its fd. */
    r = call(f, "testgood.pipe", json_pack("{s:b}", "write", 0));
    assert_non_null(r);
    int fd = (int)json_integer_value(json_object_get(r, "fd"));
    json_decref(r);
    run_loop_ms(f, 10);
    assert_int_equal(count_field(f, "io"), 1);
    assert_true(fcntl(fd, F_GETFD) != -1);
    char *msg = NULL;
    assert_int_equal(dg_plugin_host_disable(f->host, "testgood", NULL, &msg), DG_OK);
    free(msg);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
}

/* A core subscriber disabling a plugin from inside a bus dispatch. */
static void disable_on_event(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    fx *f = user;
    char *msg = NULL;
    assert_int_equal(dg_plugin_host_disable(f->host, "testgood", NULL, &msg), DG_OK);
    free(msg);
}

static void stop_inside_bus_callback(void **state)
{
    fx *f = *state;
    host_up(f, 0);
    assert_int_equal(dg_plugin_host_start_all(f->host), 4); /* testgood, testdep, start-crashes, ctor-crashes */
    assert_non_null(dg_bus_subscribe(f->bus, NULL, "test.ping", 100, 0, disable_on_event, f, NULL));
    assert_int_equal(dg_bus_publish(f->bus, NULL, "test.ping", NULL), DG_OK);
    /*
     * The bus defers the user_free of testgood's subscription until its
     * dispatch returns; the library must still be mapped then.
     */
    dg_bus_flush(f->bus);
    expect(f, "testgood", "disabled", NULL);
    expect(f, "testdep", "unresolved", "testgood");
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(file_exists_in(f->markers, "testgood.sub-freed"));

    /* Enabled again before and after the deferred unmapping. */
    char *msg = NULL;
    assert_int_equal(dg_plugin_host_enable(f->host, "testgood", NULL, &msg), DG_OK);
    free(msg);
    assert_int_equal(call_count(f, "testdep.count"), 0);
}

static void disable_enable_cascade(void **state)
{
    fx *f = *state;
    host_up(f, 0);
    assert_int_equal(dg_plugin_host_start_all(f->host), 4); /* testgood, testdep, start-crashes, ctor-crashes */
    char *msg = NULL;

    assert_int_equal(dg_plugin_host_disable(f->host, "testgood", f->user_file, &msg), DG_OK);
    assert_string_equal(msg, "testgood: disabled (1 dependent stopped: testdep)");
    free(msg);
    expect(f, "testgood", "disabled", "disabled by config");
    expect(f, "testdep", "unresolved", "depends on testgood which is disabled");
    json_t *r = call(f, "testdep.count", NULL);
    assert_null(r);
    json_t *svcs = dg_services_list(f->svc, NULL);
    assert_int_equal(json_array_size(svcs), 0);
    json_decref(svcs);

    /* Persisted: a new host reading the user file keeps it disabled. */
    host_down(f);
    host_up(f, 0);
    assert_int_equal(dg_plugin_host_start_all(f->host), 2); /* start-crashes, ctor-crashes */
    expect(f, "testgood", "disabled", "disabled by config (user)");
    expect(f, "testdep", "unresolved", "testgood");

    assert_int_equal(dg_plugin_host_enable(f->host, "testgood", f->user_file, &msg), DG_OK);
    assert_string_equal(msg, "testgood: active (1 dependent started: testdep)");
    free(msg);
    expect(f, "testdep", "active", NULL);
    assert_int_equal(call_count(f, "testdep.count"), 0);

    assert_int_equal(dg_plugin_host_enable(f->host, "testgood", f->user_file, &msg), DG_OK);
    assert_string_equal(msg, "testgood: already active");
    free(msg);
    assert_int_equal(dg_plugin_host_disable(f->host, "nope", f->user_file, &msg), DG_ENOENT);
    assert_string_equal(msg, "no plugin 'nope'");
    free(msg);
    assert_int_equal(dg_plugin_host_enable(f->host, "dup-key", f->user_file, &msg), DG_ERR);
    assert_non_null(strstr(msg, "invalid manifest"));
    free(msg);
    /* A plugin disabled by default can be enabled live. */
    assert_int_equal(dg_plugin_host_enable(f->host, "off-by-default", NULL, &msg), DG_OK);
    assert_string_equal(msg, "off-by-default: active");
    free(msg);
    assert_true(file_exists_in(f->markers, "off-by-default.started"));
    /* A failing plugin reports why it did not start. */
    assert_int_equal(dg_plugin_host_enable(f->host, "start-fails", NULL, &msg), DG_ERR);
    assert_non_null(strstr(msg, "start-fails: start_failed: start failed: DG_ERR"));
    free(msg);
    /* Disabling a plugin that is not running is recorded. */
    assert_int_equal(dg_plugin_host_disable(f->host, "cycle-a", NULL, &msg), DG_OK);
    assert_string_equal(msg, "cycle-a: disabled");
    free(msg);
}

static void gates_and_reevaluate(void **state)
{
    fx *f = *state;
    host_up(f, 1);
    f->deny_testgood = 1;
    assert_int_equal(dg_plugin_host_start_all(f->host), 2); /* start-crashes, ctor-crashes */
    expect(f, "testgood", "disabled", "denied by test policy");
    expect(f, "testdep", "unresolved", "testgood");

    f->deny_testgood = 0;
    dg_plugin_host_reevaluate(f->host);
    expect(f, "testgood", "active", NULL);
    expect(f, "testdep", "active", NULL);

    f->deny_testgood = 2;
    dg_plugin_host_reevaluate(f->host);
    expect(f, "testgood", "locked", "needs a licence");
    expect(f, "testdep", "unresolved", "locked: needs a licence");

    char *msg = NULL;
    assert_int_equal(dg_plugin_host_enable(f->host, "testgood", NULL, &msg), DG_EDENIED);
    assert_string_equal(msg, "testgood: locked: needs a licence");
    free(msg);

    f->deny_testgood = 0;
    dg_plugin_host_reevaluate(f->host);
    expect(f, "testgood", "active", NULL);
    expect(f, "testdep", "active", NULL);

    /* Config changes apply on reevaluate too (the daemon calls it on config changes). */
    char *err = NULL;
    assert_int_equal(
        dg_config_set_layer(f->cfg, DG_LAYER_CMDLINE, "plugins.testgood.enabled", "false", &err),
        DG_OK);
    dg_plugin_host_reevaluate(f->host);
    expect(f, "testgood", "disabled", "disabled by config (");
    expect(f, "testdep", "unresolved", "testgood");
    dg_plugin_host_stop_all(f->host);
    assert_int_equal(dg_plugin_host_count(f->host, DG_PLUGIN_ACTIVE), 0);
    expect(f, "start-crashes", "stopped", NULL);
}

/* The child runs a host that must die inside start-crashes' start(). */
static void crash_child(fx *f)
{
    /* Die of the raw signal: no sanitizer report, no cmocka handler. */
    signal(SIGSEGV, SIG_DFL);
    dg_log_set_stderr(0);
    host_up(f, 1);
    dg_plugin_host_start_all(f->host);
    _exit(0); /* reaching this means it did not crash */
}

static void crash_in_start_quarantines(void **state)
{
    fx *f = *state;
    char dir[256], crash[300], qdir[256];
    snprintf(dir, sizeof(dir), "%s/plugin-data", f->data);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(dir, sizeof(dir), "%s/plugin-data/start-crashes", f->data);
    snprintf(crash, sizeof(crash), "%s/crash", dir);
    snprintf(qdir, sizeof(qdir), "%s/state/plugins", f->data);
    assert_int_equal(mkdir(dir, 0700), 0);
    write_file(crash);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        crash_child(f);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(file_exists_in(qdir, "start-crashes.starting"));

    host_up(f, 0);
    expect(f, "start-crashes", "quarantined", "crashed during start on ");
    expect(f, "start-crashes", "quarantined", "run 'dengon plugin enable start-crashes' to retry");
    assert_false(file_exists_in(qdir, "start-crashes.starting"));
    assert_true(file_exists_in(qdir, "start-crashes.quarantined"));
    assert_int_equal(dg_plugin_host_start_all(f->host), 3); /* + ctor-crashes */
    expect(f, "start-crashes", "quarantined", NULL);
    expect(f, "testgood", "active", NULL);

    /* Still quarantined after another restart, until enabled. */
    host_down(f);
    host_up(f, 0);
    expect(f, "start-crashes", "quarantined", "crashed during start on ");
    assert_int_equal(unlink(crash), 0);
    char *msg = NULL;
    assert_int_equal(dg_plugin_host_start_all(f->host), 3); /* + ctor-crashes */
    assert_int_equal(dg_plugin_host_enable(f->host, "start-crashes", f->user_file, &msg), DG_OK);
    assert_string_equal(msg, "start-crashes: active");
    free(msg);
    assert_false(file_exists_in(qdir, "start-crashes.quarantined"));
    assert_false(file_exists_in(qdir, "start-crashes.starting"));
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* A second directory: a duplicate id, a broken manifest, and things to skip. */
static void discovery_rules(void **state)
{
    fx *f = *state;
    char extra[256], path[400];
    snprintf(extra, sizeof(extra), "%s/more", f->home);
    assert_int_equal(mkdir(extra, 0700), 0);
    snprintf(path, sizeof(path), "%s/testgood", extra);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/testgood/plugin.json", extra);
    write_text(path, "{\"manifest_version\":1,\"id\":\"testgood\",\"name\":\"again\","
                     "\"version\":\"9.0.0\",\"api\":{\"abi_major\":1,\"abi_min_minor\":0},"
                     "\"library\":\"libtestgood.so\",\"entry\":\"dg_plugin_entry\"}");
    snprintf(path, sizeof(path), "%s/broken", extra);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/broken/plugin.json", extra);
    write_text(path, "{ not json");
    snprintf(path, sizeof(path), "%s/no-manifest", extra);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/a-file", extra);
    write_text(path, "not a plugin folder");
    f->extra_dir = extra;
    host_up(f, 0);

    json_t *list = dg_plugin_host_list(f->host);
    size_t i, n_testgood = 0;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        const char *id = json_string_value(json_object_get(p, "id"));
        assert_true(strcmp(id, "no-manifest") != 0 && strcmp(id, "a-file") != 0);
        if (strcmp(id, "testgood") != 0)
            continue;
        const char *dir = json_string_value(json_object_get(p, "dir"));
        if (n_testgood++ == 0) {
            assert_non_null(strstr(dir, "tests/plugins/testgood")); /* first directory wins */
            continue;
        }
        assert_string_equal(json_string_value(json_object_get(p, "state")), "invalid");
        const char *reason = json_string_value(json_object_get(p, "reason"));
        assert_non_null(strstr(reason, "duplicate id (already loaded from "));
        assert_non_null(strstr(reason, "tests/plugins/testgood)"));
    }
    assert_int_equal(n_testgood, 2);
    json_decref(list);
    expect(f, "broken", "invalid", "broken/plugin.json");
    assert_int_equal(dg_plugin_host_start_all(f->host), 4); /* testgood, testdep, start-crashes, ctor-crashes */
    expect(f, "testgood", "active", NULL);
    /* enable/disable address the valid one */
    char *msg = NULL;
    assert_int_equal(dg_plugin_host_enable(f->host, "testgood", NULL, &msg), DG_OK);
    assert_string_equal(msg, "testgood: already active");
    free(msg);
    assert_int_equal(dg_plugin_host_discover(f->host), DG_EEXIST);
}

static void invalid_arguments(void **state)
{
    (void)state;
    char *msg = (char *)"untouched";
    assert_null(dg_plugin_host_new(NULL));
    assert_int_equal(dg_plugin_host_enable(NULL, "x", NULL, &msg), DG_EINVAL);
    assert_null(msg);
    assert_int_equal(dg_plugin_host_discover(NULL), DG_EINVAL);
    assert_int_equal(dg_plugin_host_count(NULL, DG_PLUGIN_ACTIVE), 0);
    assert_string_equal(dg_plugin_ctx_name(NULL), "core");
    assert_string_equal(dg_plugin_state_name(DG_PLUGIN_START_FAILED), "start_failed");
    dg_plugin_host_free(NULL);
}

int main(void)
{
    /* The injection attempt: a same-named library is on LTDL_LIBRARY_PATH. */
    setenv("LTDL_LIBRARY_PATH", DG_TEST_EVIL_DIR, 1);
    dg_log_set_level(DG_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(corpus_states_and_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(good_plugin_works, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_start_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(timers_and_fds, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_inside_bus_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(disable_enable_cascade, setup, teardown),
        cmocka_unit_test_setup_teardown(gates_and_reevaluate, setup, teardown),
        cmocka_unit_test_setup_teardown(crash_in_start_quarantines, setup, teardown),
        cmocka_unit_test_setup_teardown(discovery_rules, setup, teardown),
        cmocka_unit_test(invalid_arguments),
    };
    return cmocka_run_group_tests_name("plugin_host", tests, NULL, NULL);
}
