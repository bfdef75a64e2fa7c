/*
 * dengon plugin SDK — the one public header.
 *
 * A plugin is a shared library plus a plugin.json manifest. The library exports
 * exactly one symbol (named by the manifest's "entry", normally
 * "dg_plugin_entry") that returns a static descriptor. The host calls the
 * descriptor's start() with a table of host functions (dg_host_api) and a
 * per-plugin context (dg_ctx). Everything the plugin registers through that
 * context (subscriptions, interceptors, timers, fd watchers, RPC methods,
 * services) is owned by it: the host removes all of it when the plugin stops or
 * fails to start.
 *
 * Compatibility rules
 *   - DG_ABI_MAJOR changes only when something is removed or changes meaning.
 *     The host refuses plugins whose manifest names another major.
 *   - Within a major, dg_host_api only grows at its end. A plugin built against
 *     a newer minor runs on an older host if it checks optional members with
 *     DG_API_HAS() before calling them.
 *
 * Threading: every callback runs on the host's loop thread. Only the functions
 * marked "thread-safe" may be called from other threads, and only while the
 * plugin runs: a plugin that starts threads must join them in stop(), and in
 * start() before it returns an error (stop() is not called then), because ctx
 * is freed right after.
 *
 * Ownership vocabulary (as in jansson):
 *   borrowed  the caller must not free it; valid until the callback returns
 *             unless stated otherwise (json_incref() to keep a json_t longer).
 *   stolen    the callee takes the reference, also on failure.
 *   new       the caller owns the result and must free/json_decref it.
 *
 * This header defines no variables and compiles as C99 and C++.
 */
#ifndef DENGON_PLUGIN_H
#define DENGON_PLUGIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DG_ABI_MAJOR 1
#define DG_ABI_MINOR 2

/* Name of the entry symbol a plugin normally exports (the manifest's "entry"). */
#define DG_PLUGIN_ENTRY_SYMBOL "dg_plugin_entry"

#if defined(__GNUC__) || defined(__clang__)
#define DG_EXPORT __attribute__((visibility("default")))
#define DG_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define DG_EXPORT
#define DG_PRINTF(fmt_index, first_arg)
#endif

/* Status codes. Zero is success; negative values are errors. */
typedef enum dg_status {
    DG_OK = 0,
    DG_STOP = 1,       /* interceptor: veto the event */
    DG_ERR = -1,       /* generic failure (see the log for details) */
    DG_EINVAL = -2,    /* invalid argument */
    DG_ENOMEM = -3,    /* out of memory */
    DG_EEXIST = -4,    /* already registered */
    DG_ENOENT = -5,    /* no such topic, method, service or key */
    DG_EDENIED = -6,   /* not allowed (policy, permissions, locked key) */
    DG_EAGAIN = -7,    /* queue full for a never-drop topic: retry later */
    DG_ERESTART = -8   /* accepted, but takes effect only after a restart */
} dg_status;

typedef enum dg_log_level {
    DG_LOG_ERROR = 0,
    DG_LOG_WARN = 1,
    DG_LOG_INFO = 2,
    DG_LOG_DEBUG = 3
} dg_log_level;

/* Opaque handles. */
typedef struct dg_ctx dg_ctx;         /* one per plugin, valid from start() to stop() */
typedef struct dg_sub dg_sub;         /* a subscription or interceptor */
typedef struct dg_timer dg_timer;     /* a timer */
typedef struct dg_io dg_io;           /* an fd watcher */
typedef struct dg_rpc_call dg_rpc_call; /* one pending RPC call */

/* Bus. Payloads are immutable once published; subscribers borrow them. */
typedef void (*dg_event_fn)(dg_ctx *ctx, const char *topic, const json_t *payload, void *user);

/*
 * Interceptors run synchronously, in priority order, before a publish is
 * queued. Return DG_OK to let the event continue, DG_STOP to veto it. To replace
 * the payload, store a new reference in *replacement and return DG_OK; the bus
 * takes it and later interceptors and all subscribers see the replacement.
 */
typedef int (*dg_intercept_fn)(dg_ctx *ctx, const char *topic, const json_t *payload,
                               json_t **replacement, void *user);

/* Called when a subscription/interceptor/timer/io/method is removed, to free user data. */
typedef void (*dg_free_fn)(void *user);

typedef void (*dg_timer_fn)(dg_ctx *ctx, dg_timer *timer, void *user);

enum { DG_IO_READ = 1, DG_IO_WRITE = 2 };
/* events: DG_IO_READ/DG_IO_WRITE that are ready; status < 0 on a poll error. */
typedef void (*dg_io_fn)(dg_ctx *ctx, dg_io *io, int fd, int events, int status, void *user);

/* Runs on the loop thread after post() (which may be called from any thread). */
typedef void (*dg_post_fn)(void *user);

/*
 * RPC method handler. params is borrowed (an object or array, or NULL when the
 * caller sent none). The handler must answer the call exactly once, now or
 * later, with rpc_reply() or rpc_fail(). The call stays valid until answered,
 * even when the client has gone away (the answer is then discarded).
 */
typedef void (*dg_rpc_fn)(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user);

/* RPC error codes (JSON-RPC style numbers, sent in error.code). */
enum {
    DG_RPC_PARSE_ERROR = -32700,
    DG_RPC_INVALID_REQUEST = -32600,
    DG_RPC_METHOD_NOT_FOUND = -32601,
    DG_RPC_INVALID_PARAMS = -32602,
    DG_RPC_INTERNAL_ERROR = -32603,
    DG_RPC_DENIED = -32001,   /* refused by policy or permissions */
    DG_RPC_FAILED = -32000    /* the operation failed; message says why */
};

/* Overflow policies for bounded subscriber queues (declared per topic). */
typedef enum dg_overflow {
    DG_OVERFLOW_BLOCK = 0,        /* never drop: publish returns DG_EAGAIN when full */
    DG_OVERFLOW_DROP_OLDEST = 1,  /* drop the oldest queued event, counted */
    DG_OVERFLOW_COALESCE = 2      /* keep only the newest event of this topic */
} dg_overflow;

/*
 * The host function table. Passed to start(); valid until stop() returns.
 * Members are only ever appended. Test members added after minor 0 with
 * DG_API_HAS(api, member).
 */
typedef struct dg_host_api {
    uint32_t struct_size; /* sizeof(dg_host_api) in the host */
    uint16_t abi_major;
    uint16_t abi_minor;

    /* ---- minor 0 ---- */

    /* Logging: to the host's log with the plugin id as prefix. */
    void (*log)(dg_ctx *ctx, dg_log_level level, const char *fmt, ...) DG_PRINTF(3, 4);

    /*
     * Declare a topic this plugin publishes (the host refuses publishes to
     * undeclared topics that are not declared by anyone). Topics under "core."
     * are reserved. Returns DG_OK, or DG_EEXIST when declared with another policy.
     */
    int (*topic_declare)(dg_ctx *ctx, const char *topic, dg_overflow overflow);

    /* Publish. payload is stolen (NULL means an empty object). Thread-safe. */
    int (*publish)(dg_ctx *ctx, const char *topic, json_t *payload);

    /*
     * Subscribe with a glob pattern: "chat.*" matches one segment, "chat.**"
     * any number of segments, "*" alone any single-segment topic. Higher
     * priority runs first. queue_capacity bounds this subscriber's queue
     * (0 = host default). Returns a handle owned by the host, or NULL.
     */
    dg_sub *(*subscribe)(dg_ctx *ctx, const char *pattern, int priority, size_t queue_capacity,
                         dg_event_fn fn, void *user, dg_free_fn user_free);
    dg_sub *(*intercept)(dg_ctx *ctx, const char *pattern, int priority, dg_intercept_fn fn,
                         void *user, dg_free_fn user_free);
    /* Remove a subscription or interceptor (safe inside its own callback). */
    void (*unsubscribe)(dg_ctx *ctx, dg_sub *sub);

    /* Timers: first run after timeout_ms, then every repeat_ms (0 = once). */
    dg_timer *(*timer_add)(dg_ctx *ctx, uint64_t timeout_ms, uint64_t repeat_ms, dg_timer_fn fn,
                           void *user, dg_free_fn user_free);
    void (*timer_cancel)(dg_ctx *ctx, dg_timer *timer);

    /*
     * Watch an fd. The host takes ownership of fd and closes it when the
     * watcher is removed (explicitly, or when the plugin stops).
     */
    dg_io *(*io_watch)(dg_ctx *ctx, int fd, int events, dg_io_fn fn, void *user,
                       dg_free_fn user_free);
    int (*io_update)(dg_ctx *ctx, dg_io *io, int events);
    void (*io_close)(dg_ctx *ctx, dg_io *io);

    /* Run fn(user) on the loop thread soon. Thread-safe. */
    int (*post)(dg_ctx *ctx, dg_post_fn fn, void *user);

    /* RPC. Method names are dotted ("chat.send"); "core." is reserved. */
    int (*rpc_register)(dg_ctx *ctx, const char *method, const char *summary, dg_rpc_fn fn,
                        void *user, dg_free_fn user_free);
    /* result is stolen (NULL sends JSON null). */
    void (*rpc_reply)(dg_rpc_call *call, json_t *result);
    void (*rpc_fail)(dg_rpc_call *call, int code, const char *fmt, ...) DG_PRINTF(3, 4);

    /*
     * Services: named, versioned function tables. provide() copies nothing:
     * vtable must stay valid until the plugin stops. require() returns the
     * provider's table if one with version >= min_version is active (and stores
     * its size in *size when size is not NULL), else NULL; it records a
     * used-by edge so the provider is not stopped before this plugin.
     */
    int (*service_provide)(dg_ctx *ctx, const char *name, uint32_t version, const void *vtable,
                           size_t size);
    const void *(*service_require)(dg_ctx *ctx, const char *name, uint32_t min_version,
                                   size_t *size);

    /*
     * Config. Keys are dotted ("files.max_size"). Strings are borrowed until
     * the callback returns. Getters return dflt when the key is unset or of
     * the wrong type. Changes to keys are published as "core.config.changed".
     */
    const char *(*config_get)(dg_ctx *ctx, const char *key, const char *dflt);
    int64_t (*config_get_int)(dg_ctx *ctx, const char *key, int64_t dflt);
    int (*config_get_bool)(dg_ctx *ctx, const char *key, int dflt);

    /*
     * Identity: borrowed object with "user", "host", "lan_key", "uuid",
     * "cloud_key", "nickname", "group", as it was at the first call (a
     * snapshot, valid until the plugin stops). Later changes of nickname,
     * group or tenant are published as "core.identity.changed", whose payload
     * is the new identity object.
     */
    const json_t *(*identity)(dg_ctx *ctx);

    /*
     * Absolute path of this plugin's own data folder (home/data/plugin-data/<id>),
     * created 0700 on first call. Borrowed, valid until the plugin stops.
     */
    const char *(*data_dir)(dg_ctx *ctx);

    /* The plugin's id as in its manifest. Borrowed. */
    const char *(*plugin_id)(dg_ctx *ctx);

    /* ---- minor 1 ---- */

    /*
     * Publish an event that must never be lost, in order, without retrying
     * yourself: for never-drop (DG_OVERFLOW_BLOCK) topics. payload is stolen,
     * also on failure (NULL means an empty object); the checks are those of
     * publish ("core." is reserved, the topic must be declared).
     *
     * The interceptors run now: DG_STOP when one vetoed the event. Otherwise
     * DG_OK: the event is queued to its subscribers now or, when a
     * subscriber's queue is full or an earlier publish_ordered event of this
     * plugin still waits, the host keeps it and queues it as soon as there is
     * room, after those earlier ones. Order holds among this plugin's
     * publish_ordered events (a plain publish may overtake them). Events still
     * waiting when the plugin stops are dropped, and the host logs how many.
     *
     * DG_EAGAIN only past a large backlog (16 x the host's queue capacity
     * waiting for this plugin): nothing is kept.
     *
     * Thread-safe. From another thread, or inside an interceptor, the event is
     * handed to the loop thread as publish does: DG_OK then means accepted
     * (the interceptors run later and a veto is not reported) and DG_EAGAIN
     * that the hand-off queue is full; one thread's events keep their order.
     * Test with DG_API_HAS unless the manifest says "abi_min_minor": 1 or more.
     */
    int (*publish_ordered)(dg_ctx *ctx, const char *topic, json_t *payload);

    /* ---- minor 2 ---- */

    /*
     * rpc_reply with the result already serialised: json is one JSON value
     * as compact text (UTF-8, len bytes, no NUL and no raw newline; JSON
     * strings escape both), malloc'd and stolen, also on failure. For large
     * results (10,000 users): the host passes the text to a client as it
     * is, without building a tree. A result with a raw newline is refused
     * (the call fails with DG_RPC_INTERNAL_ERROR); callers that want a tree
     * get it parsed. Test with DG_API_HAS unless the manifest says
     * "abi_min_minor": 2 or more.
     */
    void (*rpc_reply_json)(dg_rpc_call *call, char *json, size_t len);
} dg_host_api;

/* True when the host's table has member and it is set. */
#define DG_API_HAS(api, member)                                                                 \
    ((api) != NULL &&                                                                           \
     offsetof(dg_host_api, member) + sizeof((api)->member) <= (size_t)(api)->struct_size &&     \
     (api)->member != NULL)

/* What the entry symbol returns. Metadata lives in the manifest only. */
typedef struct dg_plugin_descriptor {
    uint32_t struct_size; /* sizeof(dg_plugin_descriptor) in the plugin */
    uint16_t abi_major;   /* DG_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;   /* DG_ABI_MINOR the plugin was built with */
    const char *id;       /* must equal the manifest id */
    /*
     * Called once. Return DG_OK and optionally set *state, or a negative
     * dg_status to fail: the host then removes every registration made through
     * ctx. api and ctx stay valid until stop() returns.
     */
    int (*start)(dg_ctx *ctx, const dg_host_api *api, void **state);
    /* Called once after a successful start; registrations are removed after it. */
    void (*stop)(dg_ctx *ctx, void *state);
    void *reserved[4];
} dg_plugin_descriptor;

typedef const dg_plugin_descriptor *(*dg_plugin_entry_fn)(void);

/* C linkage for the entry even in a C++ plugin, so its symbol is not mangled. */
#ifdef __cplusplus
#define DG_EXTERN_C extern "C"
#else
#define DG_EXTERN_C
#endif

/* Defines the exported entry function returning the address of descriptor. */
#define DG_PLUGIN_DEFINE(descriptor)                                                            \
    DG_EXTERN_C DG_EXPORT const dg_plugin_descriptor *dg_plugin_entry(void);                    \
    DG_EXTERN_C DG_EXPORT const dg_plugin_descriptor *dg_plugin_entry(void)                     \
    {                                                                                           \
        return &(descriptor);                                                                   \
    }

/* Initializer for the version fields of a descriptor. */
#define DG_PLUGIN_DESCRIPTOR_HEAD                                                               \
    sizeof(dg_plugin_descriptor), DG_ABI_MAJOR, DG_ABI_MINOR

#ifdef __cplusplus
}
#endif

#endif /* DENGON_PLUGIN_H */
