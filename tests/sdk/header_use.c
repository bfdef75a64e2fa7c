/*
 * Compiled, never run: as C99, C11 and C17 with -pedantic-errors, and as
 * C++11 and C++17 (-x c++), always with -Werror. Uses every type, constant,
 * macro and host function of <dengon/plugin.h> the way a plugin would, so a
 * header change that breaks any of those languages fails here.
 * compile_header.sh then checks that the object's only global definition is
 * the unmangled entry symbol: the header itself defines nothing, and
 * DG_PLUGIN_DEFINE gives C linkage in C++ too.
 *
 * Kept valid C and C++ at once: explicit casts from void *, no designated
 * initializers, no compound literals.
 */
#include <dengon/plugin.h>
#include <dengon/plugin.h> /* the include guard works */

#include <string.h>

static const dg_plugin_descriptor *use_entry_type_check(void);

typedef struct use_state {
    const dg_host_api *api;
    dg_ctx *ctx;
    int count;
} use_state;

static void on_event(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    use_state *st = (use_state *)user;
    (void)ctx;
    (void)topic;
    st->count += json_is_object(payload) ? 1 : 0;
}

static int on_intercept(dg_ctx *ctx, const char *topic, const json_t *payload, json_t **replacement,
                        void *user)
{
    (void)ctx;
    (void)payload;
    (void)user;
    if (strcmp(topic, "demo.blocked") == 0)
        return DG_STOP;
    *replacement = json_pack("{s:b}", "rewritten", 1);
    return DG_OK;
}

static void free_user(void *user)
{
    (void)user;
}

static void on_timer(dg_ctx *ctx, dg_timer *timer, void *user)
{
    use_state *st = (use_state *)user;
    st->api->timer_cancel(ctx, timer);
}

static void on_io(dg_ctx *ctx, dg_io *io, int fd, int events, int status, void *user)
{
    use_state *st = (use_state *)user;
    (void)fd;
    if (status < 0 || (events & DG_IO_READ) != 0)
        st->api->io_close(ctx, io);
    else if ((events & DG_IO_WRITE) != 0)
        (void)st->api->io_update(ctx, io, DG_IO_READ);
}

static void on_post(void *user)
{
    use_state *st = (use_state *)user;
    st->count++;
}

static void on_call(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    use_state *st = (use_state *)user;
    (void)ctx;
    if (params != NULL && !json_is_object(params)) {
        st->api->rpc_fail(call, DG_RPC_INVALID_PARAMS, "expected an object, got type %d",
                          (int)json_typeof(params));
        return;
    }
    st->api->rpc_reply(call, json_pack("{s:i}", "count", st->count));
}

typedef struct demo_vtable {
    uint32_t size;
    int (*twice)(int);
} demo_vtable;

static int twice(int x)
{
    return 2 * x;
}

static const demo_vtable demo_service = {sizeof(demo_vtable), twice};

static int use_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    static use_state st;
    st.api = api;
    st.ctx = ctx;
    if (api->abi_major != DG_ABI_MAJOR || !DG_API_HAS(api, plugin_id))
        return DG_EINVAL;
    api->log(ctx, DG_LOG_INFO, "starting %s, abi %u.%u", api->plugin_id(ctx),
             (unsigned)api->abi_major, (unsigned)api->abi_minor);
    if (api->topic_declare(ctx, "demo.tick", DG_OVERFLOW_COALESCE) != DG_OK ||
        api->topic_declare(ctx, "demo.note", DG_OVERFLOW_DROP_OLDEST) != DG_OK ||
        api->topic_declare(ctx, "demo.message", DG_OVERFLOW_BLOCK) != DG_OK)
        return DG_ERR;
    dg_sub *sub = api->subscribe(ctx, "demo.**", 10, 0, on_event, &st, NULL);
    dg_sub *icp = api->intercept(ctx, "demo.*", -5, on_intercept, &st, free_user);
    if (sub == NULL || icp == NULL)
        return DG_ENOMEM;
    api->unsubscribe(ctx, icp);
    if (api->publish(ctx, "demo.message", json_object()) == DG_EAGAIN)
        api->log(ctx, DG_LOG_WARN, "queue full");
    if (api->timer_add(ctx, 100, 0, on_timer, &st, NULL) == NULL ||
        api->io_watch(ctx, 0, DG_IO_READ | DG_IO_WRITE, on_io, &st, NULL) == NULL)
        return DG_ERR;
    if (api->post(ctx, on_post, &st) != DG_OK)
        return DG_ERR;
    if (api->rpc_register(ctx, "demo.count", "how many events", on_call, &st, NULL) != DG_OK)
        return DG_EEXIST;
    if (api->service_provide(ctx, "demo.twice", 1, &demo_service, sizeof demo_service) != DG_OK)
        return DG_EEXIST;
    size_t size = 0;
    const demo_vtable *vt = (const demo_vtable *)api->service_require(ctx, "demo.twice", 1, &size);
    if (vt == NULL || size < sizeof(demo_vtable) || vt->twice(2) != 4)
        return DG_ENOENT;
    const char *greeting = api->config_get(ctx, "demo.greeting", "Hello");
    int64_t limit = api->config_get_int(ctx, "demo.limit", 10);
    int on = api->config_get_bool(ctx, "demo.enabled", 1);
    const json_t *me = api->identity(ctx);
    const char *dir = api->data_dir(ctx);
    if (greeting == NULL || limit < 0 || !on || !json_is_object(me) || dir == NULL)
        return DG_EDENIED;
    *state = &st;
    return DG_OK;
}

static void use_stop(dg_ctx *ctx, void *state)
{
    use_state *st = (use_state *)state;
    st->api->log(ctx, DG_LOG_DEBUG, "stopping after %d events", st->count);
}

static const int statuses[] = {DG_OK,     DG_STOP,   DG_ERR,     DG_EINVAL, DG_ENOMEM,
                               DG_EEXIST, DG_ENOENT, DG_EDENIED, DG_EAGAIN, DG_ERESTART};
static const int rpc_codes[] = {
    DG_RPC_PARSE_ERROR,    DG_RPC_INVALID_REQUEST, DG_RPC_METHOD_NOT_FOUND,
    DG_RPC_INVALID_PARAMS, DG_RPC_INTERNAL_ERROR,  DG_RPC_DENIED,
    DG_RPC_FAILED};
static const dg_log_level levels[] = {DG_LOG_ERROR, DG_LOG_WARN, DG_LOG_INFO, DG_LOG_DEBUG};

/* Every constant is an int the plugin can store and compare. */
static int constants_ok(void)
{
    size_t i;
    for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i] > DG_STOP)
            return 0;
    for (i = 0; i < sizeof rpc_codes / sizeof rpc_codes[0]; i++)
        if (rpc_codes[i] >= 0)
            return 0;
    for (i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if ((int)levels[i] != (int)i)
            return 0;
    return strcmp(DG_PLUGIN_ENTRY_SYMBOL, "dg_plugin_entry") == 0;
}

static int use_start_checked(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    if (!constants_ok())
        return DG_ERR;
    if (use_entry_type_check()->start != use_start_checked)
        return DG_ERR;
    return use_start(ctx, api, state);
}

static const dg_plugin_descriptor use_descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "header-use", use_start_checked, use_stop, {NULL, NULL, NULL, NULL},
};

DG_PLUGIN_DEFINE(use_descriptor)

/* The entry has the type the host casts the looked-up symbol to. */
static const dg_plugin_descriptor *use_entry_type_check(void)
{
    dg_plugin_entry_fn entry = dg_plugin_entry;
    return entry();
}
