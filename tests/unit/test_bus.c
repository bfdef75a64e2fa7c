/* Unit tests of the event bus (core/src/bus). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bus/bus.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct fake owners: the bus only compares and names them. */
static int owner_a_storage, owner_b_storage;
#define OWNER_A ((dg_ctx *)&owner_a_storage)
#define OWNER_B ((dg_ctx *)&owner_b_storage)

typedef struct fixture {
    uv_loop_t loop;
    uv_timer_t watchdog; /* turns a bus that never goes idle into a failure, not a hang */
    int timed_out;
    dg_bus *bus;
} fixture;

/* Set when the watchdog fires, so worker threads give up instead of spinning forever. */
static atomic_int g_abort;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->watchdog);
    f->watchdog.data = f;
    atomic_store(&g_abort, 0);
    f->bus = dg_bus_new(&f->loop, 8);
    assert_non_null(f->bus);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    uv_close((uv_handle_t *)&f->watchdog, NULL);
    dg_bus_free(f->bus);
    /* The bus closes its async handle; one loop run completes the close. */
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

/* ---- a delivery log shared by the simple callbacks ---- */

static char g_log[16384];

static void log_reset(void)
{
    g_log[0] = '\0';
}

static void log_add(const char *fmt, ...) DG_PRINTF(1, 2);
static void log_add(const char *fmt, ...)
{
    size_t len = strlen(g_log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_log + len, sizeof(g_log) - len, fmt, ap);
    va_end(ap);
}

static long long payload_n(const json_t *payload)
{
    return json_integer_value(json_object_get(payload, "n"));
}

static json_t *ev_n(long long n)
{
    return json_pack("{s:I}", "n", (json_int_t)n);
}

/* user is a tag; logs "tag:topic:n ". */
static void log_event(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    (void)ctx;
    log_add("%s:%s:%lld ", (const char *)user, topic, payload_n(payload));
}

static void on_watchdog(uv_timer_t *timer)
{
    fixture *f = timer->data;
    f->timed_out = 1;
    atomic_store(&g_abort, 1);
    uv_stop(timer->loop);
}

static void run_loop(fixture *f)
{
    /* Unreferenced: it fires only if something else keeps the loop running. */
    uv_timer_start(&f->watchdog, on_watchdog, 20000, 0);
    uv_unref((uv_handle_t *)&f->watchdog);
    int alive = uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&f->watchdog);
    assert_false(f->timed_out);
    /* Returns once the bus is idle: an idle bus keeps no referenced handle. */
    assert_int_equal(alive, 0);
}

static long long stat_int(json_t *stats, const char *key)
{
    json_t *v = json_object_get(stats, key);
    assert_non_null(v);
    return json_integer_value(v);
}

static json_t *sub_stat(json_t *stats, const char *pattern, int index)
{
    size_t i;
    json_t *s;
    int seen = 0;
    json_array_foreach(json_object_get(stats, "subscribers"), i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "pattern")), pattern) == 0 &&
            seen++ == index)
            return s;
    }
    fail_msg("no subscriber %s", pattern);
    return NULL;
}

/* ---- names and globs ---- */

static void test_topic_names(void **state)
{
    (void)state;
    assert_true(dg_topic_valid("chat"));
    assert_true(dg_topic_valid("chat.message.received"));
    assert_true(dg_topic_valid("a_b-c.0"));
    assert_false(dg_topic_valid(NULL));
    assert_false(dg_topic_valid(""));
    assert_false(dg_topic_valid("Chat"));
    assert_false(dg_topic_valid("chat."));
    assert_false(dg_topic_valid(".chat"));
    assert_false(dg_topic_valid("chat..x"));
    assert_false(dg_topic_valid("chat.*"));
    assert_false(dg_topic_valid("chat message"));
    char longest[DG_TOPIC_MAX + 2];
    memset(longest, 'a', sizeof(longest));
    longest[DG_TOPIC_MAX] = '\0';
    assert_true(dg_topic_valid(longest));
    longest[DG_TOPIC_MAX] = 'a';
    longest[DG_TOPIC_MAX + 1] = '\0';
    assert_false(dg_topic_valid(longest));

    assert_true(dg_topic_pattern_valid("chat.*"));
    assert_true(dg_topic_pattern_valid("chat.**"));
    assert_true(dg_topic_pattern_valid("*"));
    assert_true(dg_topic_pattern_valid("**"));
    assert_true(dg_topic_pattern_valid("*.message.*"));
    assert_false(dg_topic_pattern_valid("chat.**.x"));
    assert_false(dg_topic_pattern_valid("chat*"));
    assert_false(dg_topic_pattern_valid("chat.***"));
    assert_false(dg_topic_pattern_valid("chat."));
    assert_false(dg_topic_pattern_valid(""));
}

static void test_topic_match(void **state)
{
    (void)state;
    assert_true(dg_topic_match("chat.*", "chat.message"));
    assert_false(dg_topic_match("chat.*", "chat.message.received"));
    assert_false(dg_topic_match("chat.*", "chat"));
    assert_true(dg_topic_match("chat.**", "chat.message"));
    assert_true(dg_topic_match("chat.**", "chat.message.received"));
    assert_false(dg_topic_match("chat.**", "chat"));
    assert_false(dg_topic_match("chat.**", "chatter.x"));
    /* Not a valid topic, but the matcher must still want a segment after "**". */
    assert_false(dg_topic_match("chat.**", "chat."));
    assert_false(dg_topic_match("chat.*", "chat."));
    assert_true(dg_topic_match("*", "chat"));
    assert_false(dg_topic_match("*", "chat.message"));
    assert_true(dg_topic_match("**", "a.b.c"));
    assert_true(dg_topic_match("*.message.*", "chat.message.sent"));
    assert_false(dg_topic_match("*.message.*", "chat.message"));
    assert_true(dg_topic_match("chat.message", "chat.message"));
    assert_false(dg_topic_match("chat.message", "chat.messages"));
    assert_false(dg_topic_match("chat.messages", "chat.message"));
    assert_false(dg_topic_match(NULL, "chat"));
}

/* ---- declarations ---- */

static void test_declare_rules(void **state)
{
    fixture *f = *state;
    assert_int_equal(dg_bus_publish(f->bus, NULL, "nobody.declared", NULL), DG_ENOENT);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "Bad.Name", ev_n(1)), DG_EINVAL);
    assert_int_equal(dg_bus_declare(f->bus, OWNER_A, "bad..name", DG_OVERFLOW_BLOCK), DG_EINVAL);
    assert_int_equal(dg_bus_declare(f->bus, OWNER_A, "x.y", (dg_overflow)7), DG_EINVAL);
    assert_int_equal(dg_bus_declare(f->bus, OWNER_A, "core.mine", DG_OVERFLOW_BLOCK), DG_EDENIED);
    assert_int_equal(dg_bus_declare(f->bus, NULL, "core.mine", DG_OVERFLOW_BLOCK), DG_OK);
    assert_int_equal(dg_bus_declare(f->bus, OWNER_A, "x.y", DG_OVERFLOW_BLOCK), DG_OK);
    assert_int_equal(dg_bus_declare(f->bus, OWNER_A, "x.y", DG_OVERFLOW_BLOCK), DG_OK);
    assert_int_equal(dg_bus_declare(f->bus, OWNER_B, "x.y", DG_OVERFLOW_DROP_OLDEST), DG_EEXIST);
    assert_int_equal(dg_bus_declare(f->bus, OWNER_B, "x.y", DG_OVERFLOW_BLOCK), DG_OK);
    /* The bus declares its own overflow topic; plugins may not publish core.* */
    assert_int_equal(dg_bus_declare(f->bus, NULL, DG_BUS_OVERFLOW_TOPIC, DG_OVERFLOW_BLOCK),
                     DG_EEXIST);
    assert_int_equal(dg_bus_publish(f->bus, OWNER_A, "core.mine", ev_n(1)), DG_EDENIED);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "core.mine", ev_n(1)), DG_OK);
    assert_int_equal(dg_bus_publish(f->bus, OWNER_A, "x.y", NULL), DG_OK);

    /* Declared by A (twice, counted once) and B: stays until both are removed. */
    dg_bus_remove_owner(f->bus, OWNER_A);
    assert_int_equal(dg_bus_publish(f->bus, OWNER_B, "x.y", NULL), DG_OK);
    dg_bus_remove_owner(f->bus, OWNER_B);
    assert_int_equal(dg_bus_publish(f->bus, OWNER_B, "x.y", NULL), DG_ENOENT);
    /* Redeclaring after removal may choose another policy. */
    assert_int_equal(dg_bus_declare(f->bus, OWNER_B, "x.y", DG_OVERFLOW_COALESCE), DG_OK);
}

static void test_bad_registrations(void **state)
{
    fixture *f = *state;
    assert_null(dg_bus_subscribe(f->bus, NULL, "chat.**.x", 0, 0, log_event, "a", NULL));
    assert_null(dg_bus_subscribe(f->bus, NULL, "chat.*", 0, 0, NULL, "a", NULL));
    assert_null(dg_bus_intercept(f->bus, NULL, "", 0, NULL, NULL, NULL));
    assert_int_equal(dg_bus_publish(f->bus, NULL, NULL, ev_n(1)), DG_EINVAL);
    assert_int_equal(dg_bus_post(f->bus, NULL, NULL), DG_EINVAL);
    dg_bus_unsubscribe(f->bus, NULL);
}

/* A plugin's handle is trusted only while it is a live registration of that plugin. */
static void test_unsubscribe_owned_checks_the_handle(void **state)
{
    fixture *f = *state;
    dg_sub *a = dg_bus_subscribe(f->bus, OWNER_B, "chat.*", 0, 0, log_event, "a", NULL);
    dg_sub *core = dg_bus_subscribe(f->bus, NULL, "chat.*", 0, 0, log_event, "c", NULL);
    assert_non_null(a);
    assert_non_null(core);
    assert_int_equal(dg_bus_unsubscribe_owned(f->bus, OWNER_B, core), DG_ENOENT);
    assert_int_equal(dg_bus_unsubscribe_owned(f->bus, OWNER_B, a), DG_OK);
    /* a is freed now: a second call must not read it. */
    assert_int_equal(dg_bus_unsubscribe_owned(f->bus, OWNER_B, a), DG_ENOENT);
    static long long bogus[64]; /* never a registration: must not be dereferenced */
    assert_int_equal(dg_bus_unsubscribe_owned(f->bus, OWNER_B, (dg_sub *)bogus), DG_ENOENT);
    assert_int_equal(dg_bus_unsubscribe_owned(f->bus, NULL, core), DG_OK);
}

/* ---- ordering and priorities ---- */

static void test_order_and_priority(void **state)
{
    fixture *f = *state;
    log_reset();
    assert_int_equal(dg_bus_declare(f->bus, NULL, "t.a", DG_OVERFLOW_BLOCK), DG_OK);
    assert_int_equal(dg_bus_declare(f->bus, NULL, "t.b", DG_OVERFLOW_BLOCK), DG_OK);
    assert_non_null(dg_bus_subscribe(f->bus, NULL, "t.*", 0, 0, log_event, "lo", NULL));
    assert_non_null(dg_bus_subscribe(f->bus, NULL, "t.a", 5, 0, log_event, "mid1", NULL));
    assert_non_null(dg_bus_subscribe(f->bus, NULL, "t.*", 10, 0, log_event, "hi", NULL));
    assert_non_null(dg_bus_subscribe(f->bus, NULL, "t.*", 5, 0, log_event, "mid2", NULL));

    assert_int_equal(dg_bus_publish(f->bus, NULL, "t.a", ev_n(1)), DG_OK);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "t.b", ev_n(2)), DG_OK);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "t.a", ev_n(3)), DG_OK);
    /* Queued, not delivered inline. */
    assert_string_equal(g_log, "");
    run_loop(f);
    assert_string_equal(g_log, "hi:t.a:1 mid1:t.a:1 mid2:t.a:1 lo:t.a:1 "
                               "hi:t.b:2 mid2:t.b:2 lo:t.b:2 "
                               "hi:t.a:3 mid1:t.a:3 mid2:t.a:3 lo:t.a:3 ");
}

static void test_globs(void **state)
{
    fixture *f = *state;
    log_reset();
    const char *topics[] = {"chat", "chat.message", "chat.message.received", "other.x"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(dg_bus_declare(f->bus, NULL, topics[i], DG_OVERFLOW_DROP_OLDEST), DG_OK);
    dg_bus_subscribe(f->bus, NULL, "chat.*", 50, 0, log_event, "one", NULL);
    dg_bus_subscribe(f->bus, NULL, "chat.**", 40, 0, log_event, "many", NULL);
    dg_bus_subscribe(f->bus, NULL, "*", 30, 0, log_event, "star", NULL);
    dg_bus_subscribe(f->bus, NULL, "*.message.*", 20, 0, log_event, "mid", NULL);
    dg_bus_subscribe(f->bus, NULL, "chat.message", 10, 0, log_event, "exact", NULL);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(dg_bus_publish(f->bus, NULL, topics[i], ev_n((long long)i)), DG_OK);
    run_loop(f);
    assert_string_equal(g_log, "star:chat:0 "
                               "one:chat.message:1 many:chat.message:1 exact:chat.message:1 "
                               "many:chat.message.received:2 mid:chat.message.received:2 ");
}

/* ---- interceptors ---- */

static int veto_even(dg_ctx *ctx, const char *topic, const json_t *payload, json_t **repl,
                     void *user)
{
    (void)ctx, (void)topic, (void)repl, (void)user;
    return payload_n(payload) % 2 == 0 ? DG_STOP : DG_OK;
}

static void test_interceptor_veto(void **state)
{
    fixture *f = *state;
    log_reset();
    dg_bus_declare(f->bus, NULL, "v.x", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_subscribe(f->bus, NULL, "v.x", 0, 0, log_event, "s", NULL);
    assert_non_null(dg_bus_intercept(f->bus, NULL, "v.*", 0, veto_even, NULL, NULL));
    assert_int_equal(dg_bus_publish(f->bus, NULL, "v.x", ev_n(1)), DG_OK);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "v.x", ev_n(2)), DG_STOP);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "v.x", ev_n(3)), DG_OK);
    run_loop(f);
    assert_string_equal(g_log, "s:v.x:1 s:v.x:3 ");
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "vetoed"), 1);
    assert_int_equal(stat_int(st, "published"), 2);
    json_t *icpt = json_array_get(json_object_get(st, "interceptors"), 0);
    assert_int_equal(stat_int(icpt, "calls"), 3);
    assert_int_equal(stat_int(icpt, "vetoed"), 1);
    assert_int_equal(stat_int(json_object_get(json_object_get(st, "topics"), "v.x"), "vetoed"), 1);
    json_decref(st);
}

/* user: tag. Logs the payload it sees, then replaces it with n * 10. */
static int times_ten(dg_ctx *ctx, const char *topic, const json_t *payload, json_t **repl,
                     void *user)
{
    (void)ctx, (void)topic;
    log_add("%s(%lld) ", (const char *)user, payload_n(payload));
    *repl = ev_n(payload_n(payload) * 10);
    return DG_OK;
}

static int observe(dg_ctx *ctx, const char *topic, const json_t *payload, json_t **repl, void *user)
{
    (void)ctx, (void)topic, (void)repl;
    log_add("%s(%lld) ", (const char *)user, payload_n(payload));
    return DG_OK;
}

static int failing(dg_ctx *ctx, const char *topic, const json_t *payload, json_t **repl, void *user)
{
    (void)ctx, (void)topic, (void)payload, (void)user;
    *repl = ev_n(-1); /* ignored: the interceptor failed */
    return DG_EINVAL;
}

static void test_interceptor_replace_and_order(void **state)
{
    fixture *f = *state;
    log_reset();
    dg_bus_declare(f->bus, NULL, "r.x", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_declare(f->bus, NULL, "r.y", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_subscribe(f->bus, NULL, "r.*", 0, 0, log_event, "s", NULL);
    dg_bus_intercept(f->bus, NULL, "r.x", 1, observe, "low", NULL);
    dg_bus_intercept(f->bus, NULL, "r.*", 5, times_ten, "first", NULL);
    dg_bus_intercept(f->bus, NULL, "r.x", 5, times_ten, "second", NULL);
    dg_bus_intercept(f->bus, NULL, "r.*", 9, failing, NULL, NULL);
    dg_bus_intercept(f->bus, NULL, "other.*", 99, observe, "never", NULL);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "r.x", ev_n(2)), DG_OK);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "r.y", ev_n(3)), DG_OK);
    assert_string_equal(g_log, "first(2) second(20) low(200) first(3) ");
    run_loop(f);
    assert_string_equal(g_log, "first(2) second(20) low(200) first(3) s:r.x:200 s:r.y:30 ");
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "interceptor_errors"), 2);
    json_decref(st);
}

/* Publishing from an interceptor is handed off, not nested. */
static int g_icpt_depth, g_icpt_max_depth;
static dg_bus *g_bus;

static int republish(dg_ctx *ctx, const char *topic, const json_t *payload, json_t **repl,
                     void *user)
{
    (void)ctx, (void)repl, (void)user;
    if (++g_icpt_depth > g_icpt_max_depth)
        g_icpt_max_depth = g_icpt_depth;
    if (strcmp(topic, "i.a") == 0)
        assert_int_equal(dg_bus_publish(g_bus, NULL, "i.b", ev_n(payload_n(payload) + 1)), DG_OK);
    g_icpt_depth--;
    return DG_OK;
}

static void test_publish_inside_interceptor(void **state)
{
    fixture *f = *state;
    log_reset();
    g_bus = f->bus;
    g_icpt_depth = g_icpt_max_depth = 0;
    dg_bus_declare(f->bus, NULL, "i.a", DG_OVERFLOW_BLOCK);
    dg_bus_declare(f->bus, NULL, "i.b", DG_OVERFLOW_BLOCK);
    dg_bus_intercept(f->bus, NULL, "i.*", 0, republish, NULL, NULL);
    dg_bus_subscribe(f->bus, NULL, "i.*", 0, 0, log_event, "s", NULL);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "i.a", ev_n(1)), DG_OK);
    run_loop(f);
    assert_string_equal(g_log, "s:i.a:1 s:i.b:2 ");
    assert_int_equal(g_icpt_max_depth, 1);
}

/* ---- overflow policies ---- */

static void test_drop_oldest(void **state)
{
    fixture *f = *state;
    log_reset();
    dg_bus_declare(f->bus, OWNER_A, "d.x", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_subscribe(f->bus, OWNER_A, "d.x", 0, 2, log_event, "s", NULL);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(dg_bus_publish(f->bus, OWNER_A, "d.x", ev_n(i)), DG_OK);
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "dropped"), 3);
    assert_int_equal(stat_int(st, "pending"), 2);
    json_t *s = sub_stat(st, "d.x", 0);
    assert_int_equal(stat_int(s, "depth"), 2);
    assert_int_equal(stat_int(s, "max_depth"), 2);
    assert_int_equal(stat_int(s, "dropped"), 3);
    assert_int_equal(stat_int(s, "capacity"), 2);
    assert_int_equal(stat_int(json_object_get(json_object_get(st, "topics"), "d.x"), "dropped"), 3);
    json_decref(st);
    run_loop(f);
    assert_string_equal(g_log, "s:d.x:4 s:d.x:5 ");
}

static const char *test_namer(dg_ctx *owner)
{
    return owner == OWNER_A ? "plug-a" : owner == NULL ? "core" : "other";
}

static json_t *g_overflow_seen;
static int g_overflow_count;

static void keep_overflow(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    (void)ctx, (void)topic, (void)user;
    g_overflow_count++;
    json_decref(g_overflow_seen);
    g_overflow_seen = json_deep_copy(payload);
}

static void test_overflow_event(void **state)
{
    fixture *f = *state;
    log_reset();
    g_overflow_seen = NULL;
    g_overflow_count = 0;
    dg_bus_set_owner_namer(f->bus, test_namer);
    dg_bus_declare(f->bus, OWNER_A, "d.x", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_subscribe(f->bus, OWNER_A, "d.*", 0, 1, log_event, "s", NULL);
    /* Capacity 1 on core.bus.overflow too: its own drops must not recurse. */
    dg_bus_subscribe(f->bus, NULL, DG_BUS_OVERFLOW_TOPIC, 0, 1, keep_overflow, NULL, NULL);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(dg_bus_publish(f->bus, OWNER_A, "d.x", ev_n(i)), DG_OK);
    run_loop(f);
    assert_string_equal(g_log, "s:d.x:4 ");
    /* COALESCE keeps only the newest report, which carries the running total. */
    assert_int_equal(g_overflow_count, 1);
    assert_non_null(g_overflow_seen);
    assert_string_equal(json_string_value(json_object_get(g_overflow_seen, "subscriber")),
                        "plug-a");
    assert_string_equal(json_string_value(json_object_get(g_overflow_seen, "pattern")), "d.*");
    assert_string_equal(json_string_value(json_object_get(g_overflow_seen, "topic")), "d.x");
    assert_int_equal(stat_int(g_overflow_seen, "dropped"), 3);
    json_t *st = dg_bus_stats(f->bus);
    json_t *ov = json_object_get(json_object_get(st, "topics"), DG_BUS_OVERFLOW_TOPIC);
    assert_string_equal(json_string_value(json_object_get(ov, "overflow")), "coalesce");
    assert_int_equal(stat_int(ov, "published"), 3);
    assert_int_equal(stat_int(ov, "coalesced"), 2);
    assert_string_equal(json_string_value(json_object_get(sub_stat(st, "d.*", 0), "owner")),
                        "plug-a");
    json_decref(st);
    json_decref(g_overflow_seen);
    g_overflow_seen = NULL;
}

/* A report that is itself dropped is counted but not reported again. */
static void test_overflow_report_not_recursive(void **state)
{
    fixture *f = *state;
    g_overflow_seen = NULL;
    g_overflow_count = 0;
    dg_bus_declare(f->bus, NULL, "d.x", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_subscribe(f->bus, NULL, "**", 0, 1, keep_overflow, NULL, NULL);
    dg_bus_publish(f->bus, NULL, "d.x", ev_n(1));
    /* Evicts d.x 1 (reported); the report then evicts d.x 2 (not reported). */
    dg_bus_publish(f->bus, NULL, "d.x", ev_n(2));
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "dropped"), 2);
    json_t *ov = json_object_get(json_object_get(st, "topics"), DG_BUS_OVERFLOW_TOPIC);
    assert_int_equal(stat_int(ov, "published"), 1);
    json_decref(st);
    run_loop(f);
    assert_int_equal(g_overflow_count, 1);
    assert_int_equal(stat_int(g_overflow_seen, "dropped"), 1);
    json_decref(g_overflow_seen);
    g_overflow_seen = NULL;
}

static void test_coalesce(void **state)
{
    fixture *f = *state;
    log_reset();
    dg_bus_declare(f->bus, NULL, "p.x", DG_OVERFLOW_COALESCE);
    dg_bus_declare(f->bus, NULL, "p.y", DG_OVERFLOW_COALESCE);
    dg_bus_declare(f->bus, NULL, "p.z", DG_OVERFLOW_COALESCE);
    dg_bus_subscribe(f->bus, NULL, "p.*", 0, 2, log_event, "s", NULL);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "p.x", ev_n(1)), DG_OK);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "p.y", ev_n(2)), DG_OK);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "p.x", ev_n(3)), DG_OK);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "p.x", ev_n(4)), DG_OK);
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "coalesced"), 2);
    assert_int_equal(stat_int(st, "dropped"), 0);
    assert_int_equal(stat_int(sub_stat(st, "p.*", 0), "depth"), 2);
    json_decref(st);
    /* Full with no p.z queued: the oldest (p.y) goes. */
    assert_int_equal(dg_bus_publish(f->bus, NULL, "p.z", ev_n(5)), DG_OK);
    run_loop(f);
    /* The older p.x was removed; the newest sits at its own place in publish order. */
    assert_string_equal(g_log, "s:p.x:4 s:p.z:5 ");
    st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "coalesced"), 2);
    assert_int_equal(stat_int(st, "dropped"), 1);
    assert_int_equal(stat_int(sub_stat(st, "p.*", 0), "coalesced"), 2);
    assert_int_equal(stat_int(json_object_get(json_object_get(st, "topics"), "p.y"), "dropped"), 1);
    json_decref(st);
}

static void test_block(void **state)
{
    fixture *f = *state;
    log_reset();
    dg_bus_declare(f->bus, NULL, "m.msg", DG_OVERFLOW_BLOCK);
    dg_bus_subscribe(f->bus, NULL, "m.msg", 1, 2, log_event, "small", NULL);
    dg_bus_subscribe(f->bus, NULL, "m.*", 0, 10, log_event, "big", NULL);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "m.msg", ev_n(1)), DG_OK);
    assert_int_equal(dg_bus_publish(f->bus, NULL, "m.msg", ev_n(2)), DG_OK);
    json_t *third = ev_n(3);
    json_incref(third); /* keep it across DG_EAGAIN to retry */
    assert_int_equal(dg_bus_publish(f->bus, NULL, "m.msg", third), DG_EAGAIN);
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "rejected"), 1);
    assert_int_equal(stat_int(st, "dropped"), 0);
    assert_int_equal(stat_int(sub_stat(st, "m.*", 0), "depth"), 2); /* nothing queued anywhere */
    json_decref(st);
    run_loop(f);
    assert_string_equal(g_log, "small:m.msg:1 big:m.msg:1 small:m.msg:2 big:m.msg:2 ");
    assert_int_equal(dg_bus_publish(f->bus, NULL, "m.msg", third), DG_OK);
    run_loop(f);
    assert_string_equal(g_log, "small:m.msg:1 big:m.msg:1 small:m.msg:2 big:m.msg:2 "
                               "small:m.msg:3 big:m.msg:3 ");
}

/* A queue shared by two topics: drop policies never evict a queued BLOCK event. */
static void test_drop_spares_block_events(void **state)
{
    fixture *f = *state;
    log_reset();
    dg_bus_declare(f->bus, NULL, "m.msg", DG_OVERFLOW_BLOCK);
    dg_bus_declare(f->bus, NULL, "t.drop", DG_OVERFLOW_DROP_OLDEST);
    /* Not "**": that would also catch the core.bus.overflow reports. */
    dg_bus_subscribe(f->bus, NULL, "*.*", 0, 2, log_event, "s", NULL);
    dg_bus_publish(f->bus, NULL, "m.msg", ev_n(1));
    dg_bus_publish(f->bus, NULL, "m.msg", ev_n(2));
    assert_int_equal(dg_bus_publish(f->bus, NULL, "t.drop", ev_n(3)), DG_OK); /* dropped */
    run_loop(f);
    assert_string_equal(g_log, "s:m.msg:1 s:m.msg:2 ");
    log_reset();
    dg_bus_publish(f->bus, NULL, "m.msg", ev_n(1));
    dg_bus_publish(f->bus, NULL, "t.drop", ev_n(2));
    dg_bus_publish(f->bus, NULL, "t.drop", ev_n(3)); /* evicts t.drop 2, not m.msg 1 */
    run_loop(f);
    assert_string_equal(g_log, "s:m.msg:1 s:t.drop:3 ");
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "dropped"), 2);
    json_decref(st);
}

/* ---- re-entrancy ---- */

static int g_in_callback, g_nested;

static void republish_cb(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    (void)ctx;
    if (g_in_callback)
        g_nested = 1;
    g_in_callback = 1;
    log_add("%s:%s:%lld ", (const char *)user, topic, payload_n(payload));
    if (payload_n(payload) < 3)
        assert_int_equal(dg_bus_publish(g_bus, NULL, "q.a", ev_n(payload_n(payload) + 1)), DG_OK);
    /* Inside a callback flush must not deliver (that would recurse). */
    assert_int_equal(dg_bus_flush(g_bus), 0);
    g_in_callback = 0;
}

static void test_reentrant_publish_is_queued(void **state)
{
    fixture *f = *state;
    log_reset();
    g_bus = f->bus;
    g_in_callback = g_nested = 0;
    dg_bus_declare(f->bus, NULL, "q.a", DG_OVERFLOW_BLOCK);
    dg_bus_declare(f->bus, NULL, "q.b", DG_OVERFLOW_BLOCK);
    dg_bus_subscribe(f->bus, NULL, "q.a", 10, 0, republish_cb, "r", NULL);
    dg_bus_subscribe(f->bus, NULL, "q.*", 0, 0, log_event, "l", NULL);
    dg_bus_publish(f->bus, NULL, "q.a", ev_n(1));
    dg_bus_publish(f->bus, NULL, "q.b", ev_n(10));
    run_loop(f);
    assert_false(g_nested);
    /* The republished events come after everything published before them. */
    assert_string_equal(g_log, "r:q.a:1 l:q.a:1 l:q.b:10 r:q.a:2 l:q.a:2 r:q.a:3 l:q.a:3 ");
}

typedef struct self_unsub {
    dg_sub *sub;
    dg_sub *victim;
    int calls;
} self_unsub;

static int g_freed;

static void count_free(void *user)
{
    (void)user;
    g_freed++;
}

static void unsub_cb(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    (void)ctx, (void)topic, (void)payload;
    self_unsub *u = user;
    u->calls++;
    dg_bus_unsubscribe(g_bus, u->sub);
    if (u->victim != NULL)
        dg_bus_unsubscribe(g_bus, u->victim);
    /* Reaped after dispatch: user data must still be valid here. */
    assert_int_equal(g_freed, 0);
}

static void test_unsubscribe_in_callback(void **state)
{
    fixture *f = *state;
    log_reset();
    g_bus = f->bus;
    g_freed = 0;
    self_unsub u = {0};
    dg_bus_declare(f->bus, NULL, "u.x", DG_OVERFLOW_DROP_OLDEST);
    u.sub = dg_bus_subscribe(f->bus, NULL, "u.x", 10, 0, unsub_cb, &u, count_free);
    u.victim = dg_bus_subscribe(f->bus, NULL, "u.x", 5, 0, log_event, "victim", count_free);
    dg_bus_subscribe(f->bus, NULL, "u.x", 0, 0, log_event, "stays", NULL);
    for (int i = 1; i <= 3; i++)
        dg_bus_publish(f->bus, NULL, "u.x", ev_n(i));
    run_loop(f);
    assert_int_equal(u.calls, 1);
    assert_int_equal(g_freed, 2);
    assert_string_equal(g_log, "stays:u.x:1 stays:u.x:2 stays:u.x:3 ");
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(json_array_size(json_object_get(st, "subscribers")), 1);
    json_decref(st);
}

static void remove_b_cb(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    (void)ctx, (void)user;
    log_add("a:%s:%lld ", topic, payload_n(payload));
    dg_bus_remove_owner(g_bus, OWNER_B);
    dg_bus_remove_owner(g_bus, OWNER_A); /* itself, too */
    assert_int_equal(g_freed, 0);
    assert_int_equal(dg_bus_publish(g_bus, OWNER_B, "b.own", NULL), DG_ENOENT);
}

static void test_remove_owner_during_dispatch(void **state)
{
    fixture *f = *state;
    log_reset();
    g_bus = f->bus;
    g_freed = 0;
    dg_bus_declare(f->bus, OWNER_A, "a.x", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_declare(f->bus, OWNER_B, "b.own", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_subscribe(f->bus, OWNER_A, "a.x", 10, 0, remove_b_cb, NULL, count_free);
    dg_bus_subscribe(f->bus, OWNER_B, "a.x", 5, 0, log_event, "b1", count_free);
    dg_bus_subscribe(f->bus, OWNER_B, "**", 5, 0, log_event, "b2", count_free);
    dg_bus_intercept(f->bus, OWNER_B, "**", 0, observe, "bi", count_free);
    dg_bus_subscribe(f->bus, NULL, "a.x", 0, 0, log_event, "core", NULL);
    dg_bus_publish(f->bus, OWNER_A, "a.x", ev_n(1));
    dg_bus_publish(f->bus, OWNER_A, "a.x", ev_n(2));
    dg_bus_publish(f->bus, OWNER_B, "b.own", ev_n(3));
    run_loop(f);
    /* b.own 3 was queued only for b2: removing B dropped it. */
    assert_string_equal(g_log, "bi(1) bi(2) bi(3) a:a.x:1 core:a.x:1 core:a.x:2 ");
    assert_int_equal(g_freed, 4);
    /* A's declaration went with A: the topic is gone. */
    assert_int_equal(dg_bus_publish(f->bus, NULL, "a.x", NULL), DG_ENOENT);
}

/* ---- threads ---- */

#define N_THREADS 4
#define N_PER_THREAD 3000

typedef struct worker {
    dg_bus *bus;
    int id;
    uv_async_t *done;
    atomic_int *finished;
    int ordered; /* dg_bus_publish_ordered (as OWNER_A: one lane for all) */
    long eagain;
    int bad_rc; /* cmocka asserts must stay on the main thread */
} worker;

typedef struct tally {
    uv_thread_t loop_thread;
    long count;
    long last[N_THREADS];
    int out_of_order;
    int wrong_thread;
} tally;

static void tally_cb(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    (void)ctx, (void)topic;
    tally *t = user;
    uv_thread_t self = uv_thread_self();
    if (!uv_thread_equal(&self, &t->loop_thread))
        t->wrong_thread = 1;
    int id = (int)json_integer_value(json_object_get(payload, "id"));
    long seq = (long)json_integer_value(json_object_get(payload, "seq"));
    if (id < 0 || id >= N_THREADS || seq != t->last[id] + 1)
        t->out_of_order = 1;
    else
        t->last[id] = seq;
    t->count++;
}

static void *block_publisher(void *arg)
{
    worker *w = arg;
    for (long seq = 1; seq <= N_PER_THREAD; seq++) {
        json_t *p = json_pack("{s:i, s:I}", "id", w->id, "seq", (json_int_t)seq);
        for (;;) {
            int rc = w->ordered ? dg_bus_publish_ordered(w->bus, OWNER_A, "w.msg", json_incref(p))
                                : dg_bus_publish(w->bus, NULL, "w.msg", json_incref(p));
            if (rc == DG_OK)
                break;
            if (rc != DG_EAGAIN || atomic_load(&g_abort)) {
                w->bad_rc = rc;
                break;
            }
            w->eagain++;
            sched_yield();
        }
        json_decref(p);
    }
    atomic_fetch_add(w->finished, 1);
    uv_async_send(w->done);
    return NULL;
}

static void all_done_cb(uv_async_t *h)
{
    /* Closing the keep-alive lets uv_run return once the bus is idle too. */
    if (atomic_load((atomic_int *)h->data) == N_THREADS)
        uv_close((uv_handle_t *)h, NULL);
}

/*
 * N_THREADS workers publish N_PER_THREAD events each to a BLOCK topic whose
 * one subscriber holds 4: none may be lost, each thread's order must hold,
 * delivery stays on the loop thread. Returns the bus stats afterwards.
 */
static json_t *run_publishers(fixture *f, int ordered, long *eagain)
{
    tally t = {.loop_thread = uv_thread_self()};
    dg_bus_declare(f->bus, NULL, "w.msg", DG_OVERFLOW_BLOCK);
    dg_bus_subscribe(f->bus, NULL, "w.*", 0, 4, tally_cb, &t, NULL);
    atomic_int finished = 0;
    uv_async_t done;
    uv_async_init(&f->loop, &done, all_done_cb);
    done.data = &finished;
    pthread_t th[N_THREADS];
    worker w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){
            .bus = f->bus, .id = i, .done = &done, .finished = &finished, .ordered = ordered};
        assert_int_equal(pthread_create(&th[i], NULL, block_publisher, &w[i]), 0);
    }
    run_loop(f);
    *eagain = 0;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        *eagain += w[i].eagain;
        assert_int_equal(w[i].bad_rc, 0);
    }
    dg_bus_flush(f->bus);
    assert_int_equal(t.count, N_THREADS * N_PER_THREAD);
    assert_false(t.out_of_order);
    assert_false(t.wrong_thread);
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "dropped"), 0);
    assert_int_equal(stat_int(st, "published"), N_THREADS * N_PER_THREAD);
    assert_int_equal(stat_int(st, "inbox"), 0);
    assert_int_equal(stat_int(st, "pending"), 0);
    return st;
}

static void test_cross_thread_block_no_loss(void **state)
{
    long eagain;
    json_decref(run_publishers(*state, 0, &eagain));
    printf("cross-thread BLOCK: %d events, %ld EAGAIN retries\n", N_THREADS * N_PER_THREAD, eagain);
}

typedef struct burst {
    dg_bus *bus;
    int accepted, refused;
} burst;

static void *burst_publisher(void *arg)
{
    burst *b = arg;
    for (int i = 0; i < 100; i++) {
        if (dg_bus_publish(b->bus, NULL, "w.msg", ev_n(i)) == DG_OK)
            b->accepted++;
        else
            b->refused++;
    }
    return NULL;
}

/* With the loop not running, BLOCK handoffs stop at the inbox bound, and flush
 * later delivers every accepted one even though the queue holds only 4. */
static void test_cross_thread_inbox_bound(void **state)
{
    fixture *f = *state;
    dg_bus_declare(f->bus, NULL, "w.msg", DG_OVERFLOW_BLOCK);
    dg_bus_subscribe(f->bus, NULL, "w.msg", 0, 4, log_event, "s", NULL);
    burst b = {.bus = f->bus};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, burst_publisher, &b), 0);
    pthread_join(th, NULL);
    assert_int_equal(b.accepted, 8 * DG_BUS_INBOX_FACTOR); /* fixture capacity 8 */
    assert_int_equal(b.refused, 100 - 8 * DG_BUS_INBOX_FACTOR);
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "inbox"), 8 * DG_BUS_INBOX_FACTOR);
    json_decref(st);
    log_reset();
    assert_int_equal(dg_bus_flush(f->bus), 8 * DG_BUS_INBOX_FACTOR);
    assert_true(strstr(g_log, "s:w.msg:0 s:w.msg:1 s:w.msg:2 ") == g_log);
    st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "inbox"), 0);
    assert_int_equal(stat_int(st, "rejected"), 0); /* handoff refusals are not queue rejections */
    json_decref(st);
    assert_int_equal(uv_run(&f->loop, UV_RUN_NOWAIT), 0);
}

typedef struct post_rec {
    uv_thread_t loop_thread;
    int ran;
    int wrong_thread;
} post_rec;

static void post_fn(void *user)
{
    post_rec *r = user;
    uv_thread_t self = uv_thread_self();
    if (!uv_thread_equal(&self, &r->loop_thread))
        r->wrong_thread = 1;
    r->ran++;
}

static void *post_from_thread(void *arg)
{
    post_rec *r = arg;
    for (int i = 0; i < 10; i++)
        dg_bus_post(g_bus, post_fn, r);
    return NULL;
}

static void test_post(void **state)
{
    fixture *f = *state;
    g_bus = f->bus;
    post_rec r = {.loop_thread = uv_thread_self()};
    assert_int_equal(dg_bus_post(f->bus, post_fn, &r), DG_OK);
    assert_int_equal(r.ran, 0); /* never inline */
    assert_true(uv_loop_alive(&f->loop));
    run_loop(f);
    assert_int_equal(r.ran, 1);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, post_from_thread, &r), 0);
    pthread_join(th, NULL);
    assert_int_equal(r.ran, 1);
    dg_bus_flush(f->bus); /* flush runs cross-thread posts too */
    assert_int_equal(r.ran, 11);
    assert_false(r.wrong_thread);
}

/* ---- flush, stats, idleness, teardown ---- */

static void test_flush(void **state)
{
    fixture *f = *state;
    log_reset();
    dg_bus_declare(f->bus, NULL, "f.x", DG_OVERFLOW_BLOCK);
    dg_bus_subscribe(f->bus, NULL, "f.x", 1, 0, log_event, "a", NULL);
    dg_bus_subscribe(f->bus, NULL, "f.*", 0, 0, log_event, "b", NULL);
    for (int i = 1; i <= 3; i++)
        dg_bus_publish(f->bus, NULL, "f.x", ev_n(i));
    assert_int_equal(dg_bus_flush(f->bus), 6);
    assert_string_equal(g_log, "a:f.x:1 b:f.x:1 a:f.x:2 b:f.x:2 a:f.x:3 b:f.x:3 ");
    assert_int_equal(dg_bus_flush(f->bus), 0);
    /* Flush left nothing for the loop and no reference on it. */
    assert_false(uv_loop_alive(&f->loop));
}

static void test_stats(void **state)
{
    fixture *f = *state;
    dg_bus_set_owner_namer(f->bus, test_namer);
    dg_bus_declare(f->bus, OWNER_A, "s.x", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_subscribe(f->bus, OWNER_A, "s.*", 3, 0, log_event, "a", NULL);
    dg_bus_subscribe(f->bus, NULL, "s.x", 1, 5, log_event, "b", NULL);
    dg_bus_intercept(f->bus, OWNER_B, "**", 0, observe, "i", NULL);
    log_reset();
    for (int i = 0; i < 3; i++)
        dg_bus_publish(f->bus, OWNER_A, "s.x", ev_n(i));
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "published"), 3);
    assert_int_equal(stat_int(st, "delivered"), 0);
    assert_int_equal(stat_int(st, "pending"), 3);
    json_t *a = sub_stat(st, "s.*", 0);
    assert_string_equal(json_string_value(json_object_get(a, "owner")), "plug-a");
    assert_int_equal(stat_int(a, "priority"), 3);
    assert_int_equal(stat_int(a, "capacity"), 8); /* the bus default */
    assert_int_equal(stat_int(a, "depth"), 3);
    assert_int_equal(stat_int(sub_stat(st, "s.x", 0), "capacity"), 5);
    json_t *topic = json_object_get(json_object_get(st, "topics"), "s.x");
    assert_string_equal(json_string_value(json_object_get(topic, "overflow")), "drop_oldest");
    assert_string_equal(json_string_value(json_array_get(json_object_get(topic, "owners"), 0)),
                        "plug-a");
    json_t *icpt = json_array_get(json_object_get(st, "interceptors"), 0);
    assert_string_equal(json_string_value(json_object_get(icpt, "owner")), "other");
    json_decref(st);
    run_loop(f);
    st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "delivered"), 6);
    assert_int_equal(stat_int(st, "pending"), 0);
    assert_int_equal(stat_int(sub_stat(st, "s.*", 0), "delivered"), 3);
    assert_int_equal(stat_int(sub_stat(st, "s.*", 0), "depth"), 0);
    assert_int_equal(stat_int(sub_stat(st, "s.*", 0), "max_depth"), 3);
    assert_int_equal(stat_int(json_object_get(json_object_get(st, "topics"), "s.x"), "delivered"),
                     6);
    json_decref(st);
}

static void count_handle(uv_handle_t *h, void *arg)
{
    int *n = arg;
    if (uv_is_active(h) && uv_has_ref(h))
        (*n)++;
}

static void test_idle_keeps_no_handle(void **state)
{
    fixture *f = *state;
    log_reset();
    assert_false(uv_loop_alive(&f->loop));
    assert_int_equal(uv_run(&f->loop, UV_RUN_NOWAIT), 0);
    dg_bus_declare(f->bus, NULL, "z.x", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_subscribe(f->bus, NULL, "z.x", 0, 0, log_event, "s", NULL);
    dg_bus_publish(f->bus, NULL, "z.x", ev_n(1));
    /* Pending work keeps the loop alive until it is delivered. */
    assert_true(uv_loop_alive(&f->loop));
    run_loop(f);
    assert_string_equal(g_log, "s:z.x:1 ");
    assert_false(uv_loop_alive(&f->loop));
    assert_int_equal(uv_run(&f->loop, UV_RUN_NOWAIT), 0);
    int referenced = 0;
    uv_walk(&f->loop, count_handle, &referenced);
    assert_int_equal(referenced, 0);
    /* Publishing to nobody leaves nothing pending either. */
    dg_bus_declare(f->bus, NULL, "z.none", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_publish(f->bus, NULL, "z.none", NULL);
    assert_false(uv_loop_alive(&f->loop));
}

/* A batch bigger than one wake-up's budget is delivered across iterations. */
static void test_long_queue(void **state)
{
    fixture *f = *state;
    dg_bus_declare(f->bus, NULL, "l.x", DG_OVERFLOW_BLOCK);
    tally t = {.loop_thread = uv_thread_self()};
    dg_bus_subscribe(f->bus, NULL, "l.x", 0, 5000, tally_cb, &t, NULL);
    for (long i = 1; i <= 5000; i++) {
        json_t *p = json_pack("{s:i, s:I}", "id", 0, "seq", (json_int_t)i);
        assert_int_equal(dg_bus_publish(f->bus, NULL, "l.x", p), DG_OK);
    }
    assert_int_equal(uv_run(&f->loop, UV_RUN_NOWAIT), 1); /* one batch, more to come */
    assert_true(t.count > 0 && t.count < 5000);
    run_loop(f);
    assert_int_equal(t.count, 5000);
    assert_false(t.out_of_order);
}

static void test_free_with_pending(void **state)
{
    fixture *f = *state;
    g_freed = 0;
    dg_bus_declare(f->bus, NULL, "k.x", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_subscribe(f->bus, NULL, "k.x", 0, 0, log_event, "s", count_free);
    dg_bus_intercept(f->bus, NULL, "k.x", 0, observe, "i", count_free);
    log_reset();
    for (int i = 0; i < 5; i++)
        dg_bus_publish(f->bus, NULL, "k.x", ev_n(i));
    post_rec r = {.loop_thread = uv_thread_self()};
    dg_bus_post(f->bus, post_fn, &r);
    dg_bus_free(f->bus);
    f->bus = NULL;
    assert_int_equal(g_freed, 2);
    assert_int_equal(r.ran, 0); /* pending posts are dropped, not run */
    assert_string_equal(g_log, "i(0) i(1) i(2) i(3) i(4) ");
}

/* ---- ordered publish ---- */

static long long topic_stat(json_t *stats, const char *topic, const char *key)
{
    return stat_int(json_object_get(json_object_get(stats, "topics"), topic), key);
}

/* A full queue holds ordered events back, in order, behind the first one waiting. */
static void test_ordered_keeps_order_across_full_queue(void **state)
{
    fixture *f = *state;
    log_reset();
    dg_bus_declare(f->bus, NULL, "o.msg", DG_OVERFLOW_BLOCK);
    dg_bus_declare(f->bus, NULL, "o.note", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_declare(f->bus, NULL, "x.other", DG_OVERFLOW_BLOCK);
    dg_bus_subscribe(f->bus, NULL, "o.msg", 0, 2, log_event, "s", NULL);
    dg_bus_subscribe(f->bus, NULL, "o.note", 0, 0, log_event, "n", NULL);
    dg_bus_subscribe(f->bus, NULL, "x.other", 0, 0, log_event, "x", NULL);
    for (int i = 1; i <= 10; i++)
        assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", ev_n(i)), DG_OK);
    /* A droppable topic never waits for room, but it waits behind A's earlier events. */
    assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.note", ev_n(11)), DG_OK);
    /* Another publisher's lane does not wait for A's. */
    assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_B, "x.other", ev_n(12)), DG_OK);
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "waiting"), 9);
    assert_int_equal(stat_int(st, "rejected"), 0);
    assert_int_equal(stat_int(st, "published"), 3);
    assert_int_equal(topic_stat(st, "o.msg", "deferred"), 8);
    assert_int_equal(topic_stat(st, "o.note", "deferred"), 1);
    assert_int_equal(topic_stat(st, "x.other", "deferred"), 0);
    json_decref(st);
    assert_true(uv_loop_alive(&f->loop)); /* the full queue keeps the bus armed */
    run_loop(f);
    assert_string_equal(g_log, "s:o.msg:1 s:o.msg:2 x:x.other:12 s:o.msg:3 s:o.msg:4 s:o.msg:5 "
                               "s:o.msg:6 s:o.msg:7 s:o.msg:8 s:o.msg:9 s:o.msg:10 n:o.note:11 ");
    st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "waiting"), 0);
    assert_int_equal(stat_int(st, "dropped"), 0);
    assert_int_equal(stat_int(st, "published"), 12);
    json_decref(st);
    /* Nothing waits: the next one goes straight to the queue. */
    log_reset();
    assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", NULL), DG_OK);
    st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "pending"), 1);
    assert_int_equal(topic_stat(st, "o.msg", "deferred"), 8);
    json_decref(st);
    run_loop(f);
    assert_string_equal(g_log, "s:o.msg:0 ");
}

static int g_icpt_calls;

/* Vetoes even n, replaces odd n by n * 10; counts its calls. */
static int veto_or_scale(dg_ctx *ctx, const char *topic, const json_t *payload, json_t **repl,
                         void *user)
{
    (void)ctx, (void)topic, (void)user;
    g_icpt_calls++;
    if (payload_n(payload) % 2 == 0)
        return DG_STOP;
    *repl = ev_n(payload_n(payload) * 10);
    return DG_OK;
}

/* Interceptors run once, at the call: a veto is returned also for an event that would wait. */
static void test_ordered_veto(void **state)
{
    fixture *f = *state;
    log_reset();
    g_icpt_calls = 0;
    dg_bus_declare(f->bus, NULL, "o.msg", DG_OVERFLOW_BLOCK);
    dg_bus_subscribe(f->bus, NULL, "o.msg", 0, 1, log_event, "s", NULL);
    dg_bus_intercept(f->bus, NULL, "o.msg", 0, veto_or_scale, NULL, NULL);
    assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", ev_n(1)), DG_OK);
    assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", ev_n(2)), DG_STOP);
    assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", ev_n(3)), DG_OK); /* waits */
    assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", ev_n(4)), DG_STOP);
    assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", ev_n(5)), DG_OK); /* waits */
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "waiting"), 2);
    assert_int_equal(stat_int(st, "vetoed"), 2);
    json_decref(st);
    run_loop(f);
    /* The waiting events carry the interceptor's replacement; it ran once per event. */
    assert_string_equal(g_log, "s:o.msg:10 s:o.msg:30 s:o.msg:50 ");
    assert_int_equal(g_icpt_calls, 5);
}

/* A stopped publisher leaves nothing behind; others are not affected. */
static void test_ordered_remove_owner_drops_waiting(void **state)
{
    fixture *f = *state;
    log_reset();
    dg_bus_declare(f->bus, NULL, "o.msg", DG_OVERFLOW_BLOCK);
    dg_bus_subscribe(f->bus, NULL, "o.msg", 0, 2, log_event, "s", NULL);
    for (int i = 1; i <= 6; i++)
        dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", ev_n(i));
    dg_bus_publish_ordered(f->bus, OWNER_B, "o.msg", ev_n(7));
    assert_int_equal(dg_bus_remove_owner(f->bus, OWNER_A), 4);
    assert_int_equal(dg_bus_remove_owner(f->bus, OWNER_A), 0);
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "waiting"), 1);
    assert_int_equal(stat_int(st, "waiting_dropped"), 4);
    json_decref(st);
    run_loop(f);
    /* Already queued events were A's no more: they are delivered. */
    assert_string_equal(g_log, "s:o.msg:1 s:o.msg:2 s:o.msg:7 ");
    st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "waiting"), 0);
    json_decref(st);
    /* A new lane for A works as before. */
    log_reset();
    assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", ev_n(8)), DG_OK);
    run_loop(f);
    assert_string_equal(g_log, "s:o.msg:8 ");
}

/* Past the bound nothing is kept: DG_EAGAIN, interceptors not run, the rest still delivered. */
static int observe_count(dg_ctx *ctx, const char *topic, const json_t *payload, json_t **repl,
                         void *user)
{
    (void)ctx, (void)topic, (void)payload, (void)repl, (void)user;
    g_icpt_calls++;
    return DG_OK;
}

static void test_ordered_bound(void **state)
{
    fixture *f = *state;
    const int limit = 8 * DG_BUS_WAITING_FACTOR; /* fixture capacity 8 */
    dg_bus_declare(f->bus, NULL, "o.msg", DG_OVERFLOW_BLOCK);
    tally t = {.loop_thread = uv_thread_self()};
    dg_bus_subscribe(f->bus, NULL, "o.msg", 0, 1, tally_cb, &t, NULL);
    g_icpt_calls = 0;
    dg_bus_intercept(f->bus, NULL, "o.msg", 0, observe_count, NULL, NULL);
    for (long i = 1; i <= limit + 1; i++) {
        json_t *p = json_pack("{s:i, s:I}", "id", 0, "seq", (json_int_t)i);
        assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", p), DG_OK);
    }
    json_t *p = json_pack("{s:i, s:I}", "id", 0, "seq", (json_int_t)limit + 2);
    assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", p), DG_EAGAIN);
    assert_int_equal(g_icpt_calls, limit + 1);
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "waiting"), limit);
    assert_int_equal(stat_int(st, "rejected"), 1);
    assert_int_equal(topic_stat(st, "o.msg", "rejected"), 1);
    json_decref(st);
    run_loop(f);
    assert_int_equal(t.count, limit + 1);
    assert_false(t.out_of_order);
    p = json_pack("{s:i, s:I}", "id", 0, "seq", (json_int_t)limit + 2);
    assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", p), DG_OK);
    run_loop(f);
    assert_int_equal(t.count, limit + 2);
    assert_false(t.out_of_order);
}

/* The subscriber whose full queue held events back goes away: the waiting events move on. */
static void test_ordered_unsubscribe_releases(void **state)
{
    fixture *f = *state;
    log_reset();
    dg_bus_declare(f->bus, NULL, "o.msg", DG_OVERFLOW_BLOCK);
    dg_sub *full = dg_bus_subscribe(f->bus, NULL, "o.msg", 0, 2, log_event, "full", NULL);
    for (int i = 1; i <= 5; i++)
        dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", ev_n(i));
    dg_bus_subscribe(f->bus, NULL, "o.msg", 0, 0, log_event, "late", NULL);
    dg_bus_unsubscribe(f->bus, full); /* its queue goes with it: nothing left to deliver */
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "pending"), 0);
    assert_int_equal(stat_int(st, "waiting"), 3);
    json_decref(st);
    run_loop(f);
    assert_string_equal(g_log, "late:o.msg:3 late:o.msg:4 late:o.msg:5 ");
}

/* Idle with nothing waiting: no referenced handle, no timer, the loop returns at once. */
static void test_ordered_idle(void **state)
{
    fixture *f = *state;
    log_reset();
    dg_bus_declare(f->bus, NULL, "o.msg", DG_OVERFLOW_BLOCK);
    dg_bus_subscribe(f->bus, NULL, "o.msg", 0, 1, log_event, "s", NULL);
    for (int i = 1; i <= 3; i++)
        dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", ev_n(i));
    run_loop(f);
    assert_string_equal(g_log, "s:o.msg:1 s:o.msg:2 s:o.msg:3 ");
    assert_false(uv_loop_alive(&f->loop));
    int referenced = 0;
    uv_walk(&f->loop, count_handle, &referenced);
    assert_int_equal(referenced, 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_NOWAIT), 0);
    /* Flush empties lanes too, and leaves nothing armed. */
    for (int i = 4; i <= 6; i++)
        dg_bus_publish_ordered(f->bus, OWNER_A, "o.msg", ev_n(i));
    assert_int_equal(dg_bus_flush(f->bus), 3);
    assert_false(uv_loop_alive(&f->loop));
    assert_string_equal(g_log, "s:o.msg:1 s:o.msg:2 s:o.msg:3 s:o.msg:4 s:o.msg:5 s:o.msg:6 ");
}

/* Inside an interceptor an ordered publish is handed off (chains never nest). */
static int publish_ordered_inside(dg_ctx *ctx, const char *topic, const json_t *payload,
                                  json_t **repl, void *user)
{
    (void)ctx, (void)topic, (void)repl, (void)user;
    assert_int_equal(
        dg_bus_publish_ordered(g_bus, OWNER_A, "o.msg", ev_n(payload_n(payload) + 100)), DG_OK);
    return DG_OK;
}

static void test_ordered_inside_interceptor(void **state)
{
    fixture *f = *state;
    log_reset();
    g_bus = f->bus;
    dg_bus_declare(f->bus, NULL, "o.msg", DG_OVERFLOW_BLOCK);
    dg_bus_declare(f->bus, NULL, "o.trigger", DG_OVERFLOW_BLOCK);
    dg_bus_subscribe(f->bus, NULL, "o.*", 0, 0, log_event, "s", NULL);
    dg_bus_intercept(f->bus, NULL, "o.trigger", 0, publish_ordered_inside, NULL, NULL);
    assert_int_equal(dg_bus_publish_ordered(f->bus, OWNER_A, "o.trigger", ev_n(1)), DG_OK);
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "inbox"), 1);
    json_decref(st);
    run_loop(f);
    assert_string_equal(g_log, "s:o.trigger:1 s:o.msg:101 ");
}

/* The same through dg_bus_publish_ordered: handoffs that join one lane on the loop. */
static void test_ordered_cross_thread(void **state)
{
    long eagain;
    json_t *st = run_publishers(*state, 1, &eagain);
    assert_int_equal(stat_int(st, "waiting"), 0);
    assert_int_equal(stat_int(st, "waiting_dropped"), 0);
    json_decref(st);
}

static void *ordered_burst(void *arg)
{
    burst *b = arg;
    for (int i = 0; i < 5; i++) {
        if (dg_bus_publish_ordered(b->bus, OWNER_A, "o.msg", ev_n(i)) == DG_OK)
            b->accepted++;
    }
    return NULL;
}

/* Ordered handoffs of a removed publisher are dropped before the loop takes them. */
static void test_ordered_remove_owner_cancels_handoffs(void **state)
{
    fixture *f = *state;
    log_reset();
    dg_bus_declare(f->bus, NULL, "o.msg", DG_OVERFLOW_DROP_OLDEST);
    dg_bus_subscribe(f->bus, NULL, "o.msg", 0, 0, log_event, "s", NULL);
    burst b = {.bus = f->bus};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, ordered_burst, &b), 0);
    pthread_join(th, NULL);
    assert_int_equal(b.accepted, 5);
    assert_int_equal(dg_bus_remove_owner(f->bus, OWNER_A), 5);
    assert_int_equal(dg_bus_flush(f->bus), 0);
    assert_string_equal(g_log, "");
    json_t *st = dg_bus_stats(f->bus);
    assert_int_equal(stat_int(st, "inbox"), 0);
    assert_int_equal(stat_int(st, "waiting_dropped"), 5);
    assert_int_equal(stat_int(st, "published"), 0);
    json_decref(st);
    assert_false(uv_loop_alive(&f->loop));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_names),
        cmocka_unit_test(test_topic_match),
        cmocka_unit_test_setup_teardown(test_declare_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_registrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_and_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_globs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interceptor_veto, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interceptor_replace_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_inside_interceptor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow_report_not_recursive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coalesce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_spares_block_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reentrant_publish_is_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsubscribe_in_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsubscribe_owned_checks_the_handle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_owner_during_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_thread_block_no_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_thread_inbox_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_keeps_no_handle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordered_keeps_order_across_full_queue, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ordered_veto, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordered_remove_owner_drops_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordered_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordered_unsubscribe_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordered_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordered_inside_interceptor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordered_cross_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordered_remove_owner_cancels_handoffs, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
