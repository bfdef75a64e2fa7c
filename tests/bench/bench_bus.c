/*
 * Event bus benchmark. Prints throughput with 1 and 10 subscribers and
 * publish-to-delivery latency, each next to a baseline measured in the same
 * run on the same machine:
 *   - throughput: a direct call of the same callback, and a mutex-protected
 *     ring queue push + pop + call (what a minimal hand-rolled queue costs);
 *   - latency: a bare uv_async_send() -> callback round trip (the wake-up the
 *     bus itself uses), on the loop thread and from another thread.
 * Payloads are one shared json_t (json_incref per publish) so the figures
 * measure the bus, not jansson's allocator. Asserts nothing about speed.
 */
#include "bus/bus.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THROUGHPUT_EVENTS 400000
#define BATCH 1000 /* events published between two deliveries */
#define LATENCY_SAMPLES 20000
/* Each latency section stops early after this long (a loaded machine is slow). */
#define LATENCY_BUDGET_NS 1500000000u

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the callback every measurement delivers to ---- */

static uint64_t g_sink;

static void on_event(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    (void)ctx, (void)topic, (void)payload;
    (*(uint64_t *)user)++;
    g_sink++;
}

/* Through a volatile pointer so the compiler cannot inline the baseline away. */
static void (*volatile g_event_fn)(dg_ctx *, const char *, const json_t *, void *) = on_event;

static void print_rate(const char *label, uint64_t events, uint64_t ns)
{
    printf("bench.bus %-44s %10.2f M events/s  %8.1f ns/event\n", label,
           (double)events * 1e3 / (double)ns, (double)ns / (double)events);
}

/* ---- throughput baselines ---- */

static void baseline_direct(json_t *payload, int subs)
{
    uint64_t count = 0;
    uint64_t t0 = now_ns();
    for (int i = 0; i < THROUGHPUT_EVENTS; i++) {
        for (int s = 0; s < subs; s++)
            g_event_fn(NULL, "bench.x", payload, &count);
    }
    uint64_t ns = now_ns() - t0;
    char label[64];
    snprintf(label, sizeof(label), "baseline direct call, %d callee%s:", subs, subs > 1 ? "s" : "");
    print_rate(label, THROUGHPUT_EVENTS, ns);
}

typedef struct mq {
    pthread_mutex_t lock;
    void *slot[BATCH];
    size_t head, len;
} mq;

static void mq_push(mq *q, void *p)
{
    pthread_mutex_lock(&q->lock);
    q->slot[(q->head + q->len++) % BATCH] = p;
    pthread_mutex_unlock(&q->lock);
}

static void *mq_pop(mq *q)
{
    pthread_mutex_lock(&q->lock);
    void *p = q->slot[q->head];
    q->head = (q->head + 1) % BATCH;
    q->len--;
    pthread_mutex_unlock(&q->lock);
    return p;
}

/* One queue per subscriber, the same batching as the bus runs. */
static void baseline_mutex_queue(json_t *payload, int subs)
{
    mq *q = calloc((size_t)subs, sizeof(*q));
    for (int s = 0; s < subs; s++)
        pthread_mutex_init(&q[s].lock, NULL);
    uint64_t count = 0;
    uint64_t t0 = now_ns();
    for (int done = 0; done < THROUGHPUT_EVENTS; done += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            for (int s = 0; s < subs; s++)
                mq_push(&q[s], json_incref(payload));
        }
        for (int i = 0; i < BATCH; i++) {
            for (int s = 0; s < subs; s++) {
                json_t *p = mq_pop(&q[s]);
                g_event_fn(NULL, "bench.x", p, &count);
                json_decref(p);
            }
        }
    }
    uint64_t ns = now_ns() - t0;
    for (int s = 0; s < subs; s++)
        pthread_mutex_destroy(&q[s].lock);
    free(q);
    char label[64];
    snprintf(label, sizeof(label), "baseline mutex queue, %d queue%s:", subs, subs > 1 ? "s" : "");
    print_rate(label, THROUGHPUT_EVENTS, ns);
}

/* ---- bus throughput ---- */

typedef struct bench_env {
    uv_loop_t loop;
    dg_bus *bus;
} bench_env;

static void env_open(bench_env *e)
{
    uv_loop_init(&e->loop);
    e->bus = dg_bus_new(&e->loop, BATCH);
    dg_bus_declare(e->bus, NULL, "bench.x", DG_OVERFLOW_BLOCK);
}

static void env_close(bench_env *e)
{
    dg_bus_free(e->bus);
    uv_run(&e->loop, UV_RUN_NOWAIT); /* completes the close of the bus's async handle */
    uv_loop_close(&e->loop);
}

/*
 * Publishes THROUGHPUT_EVENTS in batches; each batch is delivered by
 * dg_bus_flush() (use_loop = 0) or by the loop's async wake-up (use_loop = 1).
 */
static void bus_throughput(json_t *payload, int subs, int use_loop)
{
    bench_env e;
    env_open(&e);
    uint64_t count = 0;
    for (int s = 0; s < subs; s++)
        dg_bus_subscribe(e.bus, NULL, "bench.*", s, BATCH, on_event, &count, NULL);
    uint64_t t0 = now_ns();
    for (int done = 0; done < THROUGHPUT_EVENTS; done += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            if (dg_bus_publish(e.bus, NULL, "bench.x", json_incref(payload)) != DG_OK)
                abort(); /* capacity == BATCH: BLOCK must never refuse here */
        }
        if (use_loop)
            uv_run(&e.loop, UV_RUN_DEFAULT);
        else
            dg_bus_flush(e.bus);
    }
    uint64_t ns = now_ns() - t0;
    if (count != (uint64_t)THROUGHPUT_EVENTS * (uint64_t)subs)
        abort();
    char label[64];
    snprintf(label, sizeof(label),
             "bus %s, %d subscriber%s:", use_loop ? "publish+uv_run" : "publish+flush", subs,
             subs > 1 ? "s" : "");
    print_rate(label, THROUGHPUT_EVENTS, ns);
    if (subs > 1)
        printf("bench.bus %-44s %10.2f M deliveries/s\n", "  (same run, per delivery)",
               (double)count * 1e3 / (double)ns);
    env_close(&e);
}

/* ---- latency ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void print_latency(const char *label, uint64_t *samples, size_t n)
{
    if (n > LATENCY_SAMPLES)
        n = LATENCY_SAMPLES;
    if (n == 0) {
        printf("bench.bus %-44s no sample\n", label);
        return;
    }
    qsort(samples, n, sizeof(*samples), cmp_u64);
    printf("bench.bus %-44s p50 %8.2f us   p99 %8.2f us   (n=%zu)\n", label,
           (double)samples[n / 2] / 1e3, (double)samples[n * 99 / 100] / 1e3, n);
}

typedef struct lat {
    _Atomic uint64_t sent_at; /* written by the publisher, read by the loop */
    uint64_t *samples;
    atomic_size_t n;
} lat;

static void lat_record(lat *l)
{
    size_t i = atomic_load(&l->n);
    if (i < LATENCY_SAMPLES)
        l->samples[i] = now_ns() - atomic_load(&l->sent_at);
    atomic_store(&l->n, i + 1);
}

static void on_lat_event(dg_ctx *ctx, const char *topic, const json_t *payload, void *user)
{
    (void)ctx, (void)topic, (void)payload;
    lat_record(user);
}

static void on_lat_async(uv_async_t *h)
{
    lat_record(h->data);
}

/* Loop thread: publish, then one loop iteration delivers through the async wake-up. */
static void latency_loop_thread(json_t *payload)
{
    bench_env e;
    env_open(&e);
    lat l = {.samples = calloc(LATENCY_SAMPLES, sizeof(uint64_t))};
    dg_bus_subscribe(e.bus, NULL, "bench.x", 0, 0, on_lat_event, &l, NULL);
    uint64_t deadline = now_ns() + LATENCY_BUDGET_NS;
    for (size_t i = 0; i < LATENCY_SAMPLES && now_ns() < deadline; i++) {
        atomic_store(&l.sent_at, now_ns());
        dg_bus_publish(e.bus, NULL, "bench.x", json_incref(payload));
        uv_run(&e.loop, UV_RUN_ONCE);
    }
    print_latency("latency loop thread, bus publish->delivery:", l.samples, atomic_load(&l.n));

    uv_async_t a;
    lat b = {.samples = l.samples};
    uv_async_init(&e.loop, &a, on_lat_async);
    a.data = &b;
    deadline = now_ns() + LATENCY_BUDGET_NS;
    for (size_t i = 0; i < LATENCY_SAMPLES && now_ns() < deadline; i++) {
        atomic_store(&b.sent_at, now_ns());
        uv_async_send(&a);
        uv_run(&e.loop, UV_RUN_ONCE);
    }
    print_latency("latency loop thread, baseline uv_async->cb:", b.samples, atomic_load(&b.n));
    uv_close((uv_handle_t *)&a, NULL);
    uv_run(&e.loop, UV_RUN_NOWAIT);
    free(l.samples);
    env_close(&e);
}

typedef struct xthread {
    dg_bus *bus;     /* publish through the bus when set ... */
    uv_async_t *raw; /* ... else the baseline: a bare async send */
    json_t *payload;
    lat *l;
    uv_async_t *stop;
} xthread;

/* One event in flight at a time: measures latency, not queueing. */
static void *xthread_main(void *arg)
{
    xthread *x = arg;
    uint64_t deadline = now_ns() + LATENCY_BUDGET_NS;
    for (size_t i = 0; i < LATENCY_SAMPLES && now_ns() < deadline; i++) {
        atomic_store(&x->l->sent_at, now_ns());
        if (x->bus != NULL)
            dg_bus_publish(x->bus, NULL, "bench.x", json_incref(x->payload));
        else
            uv_async_send(x->raw);
        /* Yielding, not sleeping: a sleep would dominate the figure, and a
         * pure spin starves the loop thread on a small or loaded machine. */
        while (atomic_load(&x->l->n) <= i)
            sched_yield();
    }
    uv_async_send(x->stop);
    return NULL;
}

static void on_stop(uv_async_t *h)
{
    uv_close((uv_handle_t *)h, NULL);
}

static void latency_cross_thread(json_t *payload, int baseline)
{
    bench_env e;
    env_open(&e);
    lat l = {.samples = calloc(LATENCY_SAMPLES, sizeof(uint64_t))};
    uv_async_t raw, stop;
    uv_async_init(&e.loop, &stop, on_stop); /* referenced: keeps the loop running */
    uv_async_init(&e.loop, &raw, on_lat_async);
    raw.data = &l;
    uv_unref((uv_handle_t *)&raw);
    dg_bus_subscribe(e.bus, NULL, "bench.x", 0, 0, on_lat_event, &l, NULL);
    xthread x = {baseline ? NULL : e.bus, &raw, payload, &l, &stop};
    pthread_t th;
    pthread_create(&th, NULL, xthread_main, &x);
    uv_run(&e.loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);
    print_latency(baseline ? "latency cross-thread, baseline uv_async->cb:"
                           : "latency cross-thread, bus publish->delivery:",
                  l.samples, atomic_load(&l.n));
    uv_close((uv_handle_t *)&raw, NULL);
    uv_run(&e.loop, UV_RUN_NOWAIT);
    free(l.samples);
    env_close(&e);
}

int main(void)
{
    json_t *payload = json_pack("{s:s, s:s, s:i}", "from", "alice@pc1", "text", "hello", "n", 1);
    uint64_t t0 = now_ns();
    printf("bench.bus %d events per throughput run, batches of %d, shared payload\n",
           THROUGHPUT_EVENTS, BATCH);
    for (int subs = 1; subs <= 10; subs += 9) {
        baseline_direct(payload, subs);
        baseline_mutex_queue(payload, subs);
        bus_throughput(payload, subs, 0);
        bus_throughput(payload, subs, 1);
    }
    latency_loop_thread(payload);
    latency_cross_thread(payload, 0);
    latency_cross_thread(payload, 1);
    printf("bench.bus total time %.2f s\n", (double)(now_ns() - t0) / 1e9);
    json_decref(payload);
    return g_sink == 0; /* keeps g_sink observable */
}
