/*
 * sdk.example_mock_host: loads the example plugin (sdk/examples/hello, built
 * in the tree for this test) the way the host does - dlopen(RTLD_NOW |
 * RTLD_LOCAL), the entry symbol, the descriptor checks - and drives it through
 * a mock dg_host_api, without any of the core. This is also the pattern the
 * plugin guide recommends for unit-testing a plugin.
 *
 *   usage: sdk_hello_mock_host PATH/TO/libhello.so PATH/TO/plugin.json
 */
#include <dengon/plugin.h>

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The opaque handles, as this mock host defines them. */
struct dg_ctx {
    const char *id;
};
struct dg_sub {
    char pattern[64];
    dg_event_fn fn;
    void *user;
    dg_free_fn user_free;
};
struct dg_rpc_call {
    int answered;
    json_t *result; /* owned */
    int code;
    char message[256];
};

#define MAX_SUBS 8

static struct {
    char topics[8][64];
    dg_overflow overflow[8];
    int n_topics;
    struct dg_sub subs[MAX_SUBS];
    int n_subs;
    char method[64];
    dg_rpc_fn method_fn;
    void *method_user;
    dg_free_fn method_free;
    json_t *published; /* last payload published to hello.greeted (owned) */
    int n_published;
    const char *greeting; /* the config value of hello.greeting, NULL = unset */
    int log_lines;
} mock;

static int failures;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                    \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void mock_log(dg_ctx *ctx, dg_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("[%s] %d: ", ctx->id, (int)level);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    mock.log_lines++;
}

static int mock_topic_declare(dg_ctx *ctx, const char *topic, dg_overflow overflow)
{
    (void)ctx;
    if (mock.n_topics == 8 || strlen(topic) >= sizeof mock.topics[0])
        return DG_ENOMEM;
    strcpy(mock.topics[mock.n_topics], topic);
    mock.overflow[mock.n_topics++] = overflow;
    return DG_OK;
}

static int declared(const char *topic)
{
    for (int i = 0; i < mock.n_topics; i++)
        if (strcmp(mock.topics[i], topic) == 0)
            return 1;
    return 0;
}

static int mock_publish(dg_ctx *ctx, const char *topic, json_t *payload)
{
    (void)ctx;
    if (!declared(topic)) {
        json_decref(payload); /* stolen, also on failure */
        return DG_ENOENT;
    }
    json_decref(mock.published);
    mock.published = payload;
    mock.n_published++;
    return DG_OK;
}

static dg_sub *mock_subscribe(dg_ctx *ctx, const char *pattern, int priority, size_t capacity,
                              dg_event_fn fn, void *user, dg_free_fn user_free)
{
    (void)ctx;
    (void)priority;
    (void)capacity;
    if (mock.n_subs == MAX_SUBS || strlen(pattern) >= sizeof mock.subs[0].pattern)
        return NULL;
    struct dg_sub *s = &mock.subs[mock.n_subs++];
    strcpy(s->pattern, pattern);
    s->fn = fn;
    s->user = user;
    s->user_free = user_free;
    return s;
}

static int mock_rpc_register(dg_ctx *ctx, const char *method, const char *summary, dg_rpc_fn fn,
                             void *user, dg_free_fn user_free)
{
    (void)ctx;
    if (mock.method_fn != NULL)
        return DG_EEXIST;
    if (summary == NULL || strlen(method) >= sizeof mock.method)
        return DG_EINVAL;
    strcpy(mock.method, method);
    mock.method_fn = fn;
    mock.method_user = user;
    mock.method_free = user_free;
    return DG_OK;
}

static void mock_rpc_reply(dg_rpc_call *call, json_t *result)
{
    if (call->answered++)
        fprintf(stderr, "call answered twice\n");
    json_decref(call->result);
    call->result = result;
}

static void mock_rpc_fail(dg_rpc_call *call, int code, const char *fmt, ...)
{
    if (call->answered++)
        fprintf(stderr, "call answered twice\n");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->message, sizeof call->message, fmt, ap);
    va_end(ap);
    call->code = code;
}

static const char *mock_config_get(dg_ctx *ctx, const char *key, const char *dflt)
{
    (void)ctx;
    if (strcmp(key, "hello.greeting") == 0 && mock.greeting != NULL)
        return mock.greeting;
    return dflt;
}

static const char *mock_plugin_id(dg_ctx *ctx)
{
    return ctx->id;
}

/* Delivers an event to every subscription whose pattern is topic or "<prefix>.*". */
static void deliver(dg_ctx *ctx, const char *topic, json_t *payload)
{
    for (int i = 0; i < mock.n_subs; i++) {
        const char *p = mock.subs[i].pattern;
        size_t n = strlen(p);
        int match = strcmp(p, topic) == 0 ||
                    (n >= 2 && strcmp(p + n - 2, ".*") == 0 && strncmp(p, topic, n - 1) == 0 &&
                     strchr(topic + n - 1, '.') == NULL);
        if (match)
            mock.subs[i].fn(ctx, topic, payload, mock.subs[i].user);
    }
    json_decref(payload);
}

/* Calls hello.greet with params given as JSON text (NULL = none). */
static void call_greet(dg_ctx *ctx, const char *params_text, dg_rpc_call *call)
{
    memset(call, 0, sizeof *call);
    json_t *params = params_text ? json_loads(params_text, 0, NULL) : NULL;
    mock.method_fn(ctx, call, params, mock.method_user);
    json_decref(params);
    EXPECT(call->answered == 1);
}

static const char *result_greeting(const dg_rpc_call *call)
{
    return json_string_value(json_object_get(call->result, "greeting"));
}

static json_int_t result_int(const dg_rpc_call *call, const char *key)
{
    return json_integer_value(json_object_get(call->result, key));
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s LIBRARY MANIFEST\n", argv[0]);
        return 2;
    }

    /* What the host does before loading: the manifest is the authority. */
    json_error_t jerr;
    json_t *manifest = json_load_file(argv[2], JSON_REJECT_DUPLICATES, &jerr);
    if (manifest == NULL) {
        fprintf(stderr, "%s:%d: %s\n", argv[2], jerr.line, jerr.text);
        return 1;
    }
    const char *id = NULL, *library = NULL, *entry = NULL;
    int abi_major = -1, abi_min_minor = -1;
    EXPECT(json_unpack(manifest, "{s:s, s:s, s:s, s:{s:i, s:i}}", "id", &id, "library", &library,
                       "entry", &entry, "api", "abi_major", &abi_major, "abi_min_minor",
                       &abi_min_minor) == 0);
    EXPECT(abi_major == DG_ABI_MAJOR && abi_min_minor <= DG_ABI_MINOR);
    EXPECT(library != NULL && strstr(argv[1], library) != NULL);
    const char *dflt = json_string_value(json_object_get(
        json_object_get(json_object_get(manifest, "config"), "hello.greeting"), "default"));
    EXPECT(dflt != NULL && strcmp(dflt, "Hello") == 0);

    /* Eager binding, private symbols: what -Wl,-z,now makes libltdl do too. */
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    dg_plugin_entry_fn entry_fn;
    void *sym = dlsym(lib, entry ? entry : DG_PLUGIN_ENTRY_SYMBOL);
    if (sym == NULL) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        return 1;
    }
    memcpy(&entry_fn, &sym, sizeof entry_fn);
    const dg_plugin_descriptor *d = entry_fn();
    EXPECT(d != NULL);
    if (d == NULL)
        return 1;
    EXPECT(d->struct_size >= offsetof(dg_plugin_descriptor, reserved));
    EXPECT(d->abi_major == DG_ABI_MAJOR);
    EXPECT(d->id != NULL && id != NULL && strcmp(d->id, id) == 0);
    EXPECT(d->start != NULL && d->stop != NULL);

    /* A minor-0 host table; members hello must not need are left NULL. */
    dg_host_api api;
    memset(&api, 0, sizeof api);
    api.struct_size = (uint32_t)sizeof api;
    api.abi_major = DG_ABI_MAJOR;
    api.abi_minor = DG_ABI_MINOR;
    api.log = mock_log;
    api.topic_declare = mock_topic_declare;
    api.publish = mock_publish;
    api.subscribe = mock_subscribe;
    api.rpc_register = mock_rpc_register;
    api.rpc_reply = mock_rpc_reply;
    api.rpc_fail = mock_rpc_fail;
    api.config_get = mock_config_get;
    api.plugin_id = mock_plugin_id;

    struct dg_ctx ctx = {"hello"};
    void *state = NULL;
    EXPECT(d->start(&ctx, &api, &state) == DG_OK);
    EXPECT(state != NULL);
    EXPECT(mock.n_topics == 1 && strcmp(mock.topics[0], "hello.greeted") == 0 &&
           mock.overflow[0] == DG_OVERFLOW_DROP_OLDEST);
    EXPECT(mock.n_subs == 2);
    EXPECT(strcmp(mock.method, "hello.greet") == 0);
    if (mock.method_fn == NULL || failures)
        return 1;
    /* Ownership: hello keeps its state itself, the host must free nothing. */
    EXPECT(mock.method_free == NULL && mock.subs[0].user_free == NULL);

    /* The host reports plugin states: hello counts them. */
    deliver(&ctx, "core.plugin.state", json_pack("{s:s, s:s}", "id", "hello", "state", "active"));
    deliver(&ctx, "core.plugin.state", json_pack("{s:s, s:s}", "id", "other", "state", "active"));

    dg_rpc_call call;
    call_greet(&ctx, "{\"name\":\"Ann\"}", &call);
    EXPECT(call.result != NULL);
    EXPECT(result_greeting(&call) && strcmp(result_greeting(&call), "Hello, Ann!") == 0);
    EXPECT(result_int(&call, "events_seen") == 2);
    EXPECT(result_int(&call, "greetings_seen") == 0);
    json_decref(call.result);

    /* The greeting was published to hello.greeted; deliver it back (hello.*). */
    EXPECT(mock.n_published == 1);
    EXPECT(strcmp(json_string_value(json_object_get(mock.published, "greeting")), "Hello, Ann!") ==
           0);
    deliver(&ctx, "hello.greeted", json_incref(mock.published));

    call_greet(&ctx, NULL, &call);
    EXPECT(result_greeting(&call) && strcmp(result_greeting(&call), "Hello, world!") == 0);
    EXPECT(result_int(&call, "greetings_seen") == 1);
    json_decref(call.result);

    /* A live config change applies to the next call. */
    mock.greeting = "Hi";
    call_greet(&ctx, "{\"name\":\"Ann\"}", &call);
    EXPECT(result_greeting(&call) && strcmp(result_greeting(&call), "Hi, Ann!") == 0);
    json_decref(call.result);

    /* Bad params are refused with INVALID_PARAMS and publish nothing. */
    int published = mock.n_published;
    const char *bad[] = {"{\"name\":5}", "{\"name\":\"\"}", "{\"nom\":\"Ann\"}",
                         "{\"name\":\"Ann\",\"x\":1}", "[\"Ann\"]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        call_greet(&ctx, bad[i], &call);
        EXPECT(call.result == NULL && call.code == DG_RPC_INVALID_PARAMS);
        printf("%s -> %d %s\n", bad[i], call.code, call.message);
    }
    EXPECT(mock.n_published == published);

    /* A greeting that is not UTF-8 (config files can hold anything) fails cleanly. */
    mock.greeting = "\xff\xfe";
    call_greet(&ctx, NULL, &call);
    EXPECT(call.result == NULL && call.code == DG_RPC_FAILED);

    d->stop(&ctx, state);

    /* What the host does after stop(): registrations go; none had user_free. */
    json_decref(mock.published);
    json_decref(manifest);
    if (dlclose(lib) != 0)
        fprintf(stderr, "dlclose: %s\n", dlerror());

    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("ok: hello loaded with RTLD_NOW, started, greeted, refused bad params, stopped\n");
    return 0;
}
