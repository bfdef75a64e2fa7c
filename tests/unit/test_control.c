/*
 * Unit tests for the control socket (core/src/control): the pure request
 * parser and line framing, then a real uv loop and a real Unix socket in a
 * mkdtemp directory, exercised by blocking clients on threads. cmocka asserts
 * must not run on those threads (they longjmp), so a thread records its first
 * failure in its job and the main thread asserts after joining.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "control/control.h"
#include "control/internal.h" /* the limits under test */
#include "control/linebuf.h"
#include "control/request.h"
#include "util/log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MIB (1024 * 1024)

/* ------------------------------------------------------------------ pure parts */

static int parse(const char *line, dg_control_request *req, json_t **err)
{
    return dg_control_parse_request(line, strlen(line), req, err);
}

static int error_code_of(const json_t *response)
{
    return (int)json_integer_value(json_object_get(json_object_get(response, "error"), "code"));
}

static const char *error_message_of(const json_t *response)
{
    return json_string_value(json_object_get(json_object_get(response, "error"), "message"));
}

static void test_parse_valid(void **state)
{
    dg_control_request req;
    json_t *err;
    assert_int_equal(
        parse("{\"id\":7,\"method\":\"a.b\",\"params\":{\"x\":1},\"jsonrpc\":\"2.0\"}", &req, &err),
        DG_CONTROL_REQUEST_OK);
    assert_null(err);
    assert_int_equal(json_integer_value(req.id), 7);
    assert_string_equal(req.method, "a.b");
    assert_true(json_is_object(req.params));
    dg_control_request_clear(&req);

    assert_int_equal(parse("{\"method\":\"a.b\",\"params\":null}\r", &req, &err),
                     DG_CONTROL_REQUEST_OK);
    assert_true(json_is_null(req.id));
    assert_null(req.params);
    dg_control_request_clear(&req);

    assert_int_equal(parse("{\"id\":{\"k\":[1]},\"method\":\"a.b\",\"params\":[1,2]}", &req, &err),
                     DG_CONTROL_REQUEST_OK);
    assert_true(json_is_object(req.id));
    assert_true(json_is_array(req.params));
    dg_control_request_clear(&req);

    assert_int_equal(parse("", &req, &err), DG_CONTROL_REQUEST_BLANK);
    assert_int_equal(parse(" \t\r", &req, &err), DG_CONTROL_REQUEST_BLANK);
}

static void expect_error(const char *line, int code, int id, const char *needle)
{
    dg_control_request req;
    json_t *err = NULL;
    assert_int_equal(dg_control_parse_request(line, strlen(line), &req, &err),
                     DG_CONTROL_REQUEST_ERROR);
    assert_non_null(err);
    assert_int_equal(error_code_of(err), code);
    json_t *jid = json_object_get(err, "id");
    if (id < 0)
        assert_true(json_is_null(jid));
    else
        assert_int_equal(json_integer_value(jid), id);
    const char *msg = error_message_of(err);
    assert_non_null(msg);
    if (!strstr(msg, needle))
        fail_msg("message '%s' lacks '%s'", msg, needle);
    assert_null(req.method);
    json_decref(err);
}

static void test_parse_errors(void **state)
{
    expect_error("{bad", DG_RPC_PARSE_ERROR, -1, "parse error");
    expect_error("{\"method\":\"a.b\"} trailing", DG_RPC_PARSE_ERROR, -1, "parse error");
    expect_error("{\"method\":\"a.b\",\"method\":\"c.d\"}", DG_RPC_PARSE_ERROR, -1, "duplicate");
    expect_error("\"\xff\xfe\"", DG_RPC_PARSE_ERROR, -1, "parse error");
    expect_error("[1,2]", DG_RPC_INVALID_REQUEST, -1, "batches are not supported");
    expect_error("42", DG_RPC_INVALID_REQUEST, -1, "expected a JSON object");
    expect_error("{\"id\":5}", DG_RPC_INVALID_REQUEST, 5, "missing \"method\"");
    expect_error("{\"id\":6,\"method\":7}", DG_RPC_INVALID_REQUEST, 6, "must be a string");
    expect_error("{\"id\":8,\"method\":\"a.b\",\"params\":\"x\"}", DG_RPC_INVALID_REQUEST, 8,
                 "\"params\" must be");
}

static void test_encode_response(void **state)
{
    json_t *id = json_string("q");
    json_t *result = json_pack("{s:i}", "n", 1);
    json_t *resp = dg_control_result_response(id, result);
    size_t len = 0;
    char *line = dg_control_encode_response(resp, &len);
    assert_non_null(line);
    assert_int_equal(len, strlen("{\"id\":\"q\",\"result\":{\"n\":1}}\n"));
    assert_memory_equal(line, "{\"id\":\"q\",\"result\":{\"n\":1}}\n", len);
    free(line);
    json_decref(resp);

    /* A result jansson cannot encode becomes an internal error with the same id. */
    json_t *bad = json_stringn_nocheck("\xff", 1);
    resp = dg_control_result_response(id, bad);
    line = dg_control_encode_response(resp, &len);
    assert_non_null(line);
    json_t *back = json_loadb(line, len, 0, NULL);
    assert_non_null(back);
    assert_int_equal(error_code_of(back), DG_RPC_INTERNAL_ERROR);
    assert_string_equal(json_string_value(json_object_get(back, "id")), "q");
    json_decref(back);
    free(line);
    json_decref(resp);
    json_decref(bad);
    json_decref(result);
    json_decref(id);
}

static void feed(dg_linebuf *lb, const char *data)
{
    size_t avail;
    size_t n = strlen(data);
    char *p = dg_linebuf_reserve(lb, n, &avail);
    assert_non_null(p);
    assert_true(avail >= n);
    memcpy(p, data, n);
    dg_linebuf_commit(lb, n);
}

static void test_linebuf(void **state)
{
    dg_linebuf lb;
    dg_linebuf_init(&lb, 8);
    const char *line;
    size_t len;
    assert_int_equal(dg_linebuf_next(&lb, &line, &len), DG_LINEBUF_NONE);
    feed(&lb, "ab");
    assert_int_equal(dg_linebuf_next(&lb, &line, &len), DG_LINEBUF_NONE);
    feed(&lb, "c\n\nde");
    assert_int_equal(dg_linebuf_next(&lb, &line, &len), DG_LINEBUF_LINE);
    assert_int_equal(len, 3);
    assert_memory_equal(line, "abc", 3);
    assert_int_equal(dg_linebuf_next(&lb, &line, &len), DG_LINEBUF_LINE);
    assert_int_equal(len, 0);
    assert_int_equal(dg_linebuf_next(&lb, &line, &len), DG_LINEBUF_NONE);
    assert_int_equal(dg_linebuf_pending(&lb), 2);
    feed(&lb, "fghijk\n"); /* "defghijk": exactly the limit */
    assert_int_equal(dg_linebuf_next(&lb, &line, &len), DG_LINEBUF_LINE);
    assert_memory_equal(line, "defghijk", 8);
    feed(&lb, "tail");
    assert_int_equal(dg_linebuf_rest(&lb, &line, &len), 1);
    assert_memory_equal(line, "tail", 4);
    assert_int_equal(dg_linebuf_rest(&lb, &line, &len), 0);
    feed(&lb, "123456789"); /* over the limit before any newline */
    assert_int_equal(dg_linebuf_next(&lb, &line, &len), DG_LINEBUF_TOO_LONG);
    dg_linebuf_free(&lb);

    dg_linebuf_init(&lb, 8);
    feed(&lb, "123456789\nok\n"); /* over the limit with its newline in the same chunk */
    assert_int_equal(dg_linebuf_next(&lb, &line, &len), DG_LINEBUF_TOO_LONG);
    dg_linebuf_free(&lb);
}

/* ------------------------------------------------------------------ server fixture */

typedef struct fixture {
    char dir[64];
    char path[100]; /* fits sun_path */
    uv_loop_t loop;
    uv_async_t wake; /* client threads poke the loop when they finish */
    dg_rpc *rpc;
    dg_control *ctl;
    dg_rpc_call *stashed; /* test.never */
} fixture;

static fixture *current; /* handlers reach the loop through it */

typedef struct later {
    uv_timer_t timer;
    dg_rpc_call *call;
    json_t *value;
} later;

static void later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void later_fire(uv_timer_t *t)
{
    later *l = t->data;
    dg_rpc_reply(l->call, l->value);
    uv_close((uv_handle_t *)t, later_closed);
}

/* test.later {"ms":n,"value":v}: answers v after n ms. */
static void h_later(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    later *l = calloc(1, sizeof *l);
    l->call = call;
    json_t *v = json_object_get(params, "value");
    l->value = v ? json_incref(v) : json_null();
    uv_timer_init(&current->loop, &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, later_fire,
                   (uint64_t)json_integer_value(json_object_get(params, "ms")), 0);
}

static void h_echo(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_rpc_reply(call, params ? json_deep_copy(params) : NULL);
}

static void h_fail(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_rpc_fail(call, DG_RPC_FAILED, "failed: %s",
                json_string_value(json_object_get(params, "why")));
}

static void h_never(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    current->stashed = call;
}

/* test.big {"bytes":n}: a string result of n bytes. */
static void h_big(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    size_t n = (size_t)json_integer_value(json_object_get(params, "bytes"));
    char *s = malloc(n);
    memset(s, 'x', n);
    dg_rpc_reply(call, json_stringn(s, n));
    free(s);
}

static void on_wake(uv_async_t *a) {}

static int fixture_setup(void **state)
{
    dg_log_set_level(DG_LOG_WARN);
    fixture *fx = calloc(1, sizeof *fx);
    strcpy(fx->dir, "/tmp/dg-control-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/control.sock", fx->dir);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    assert_int_equal(uv_async_init(&fx->loop, &fx->wake, on_wake), 0);
    fx->rpc = dg_rpc_new();
    assert_int_equal(dg_rpc_register(fx->rpc, NULL, "test.echo", "", h_echo, NULL, NULL), 0);
    assert_int_equal(dg_rpc_register(fx->rpc, NULL, "test.later", "", h_later, NULL, NULL), 0);
    assert_int_equal(dg_rpc_register(fx->rpc, NULL, "test.fail", "", h_fail, NULL, NULL), 0);
    assert_int_equal(dg_rpc_register(fx->rpc, NULL, "test.never", "", h_never, NULL, NULL), 0);
    assert_int_equal(dg_rpc_register(fx->rpc, NULL, "test.big", "", h_big, NULL, NULL), 0);
    current = fx;
    *state = fx;
    return 0;
}

/* Starts the server; most tests want it, the path tests set up the directory first. */
static int server_setup(void **state)
{
    fixture_setup(state);
    fixture *fx = *state;
    char *err = NULL;
    fx->ctl = dg_control_start(&fx->loop, fx->rpc, fx->path, &err);
    if (!fx->ctl)
        fail_msg("dg_control_start: %s", err ? err : "?");
    return 0;
}

static void remove_dir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static int fixture_teardown(void **state)
{
    fixture *fx = *state;
    dg_control_stop(fx->ctl);
    uv_close((uv_handle_t *)&fx->wake, NULL);
    /* Finishes close callbacks and any test.later timers (their answers are discarded). */
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&fx->loop), 0); /* every handle closed: nothing leaked */
    if (fx->stashed)
        dg_rpc_reply(fx->stashed, NULL); /* may have been answered by the test already */
    assert_int_equal(dg_rpc_pending(fx->rpc), 0);
    dg_rpc_free(fx->rpc);
    remove_dir(fx->dir);
    free(fx);
    current = NULL;
    return 0;
}

/* Runs the loop until *flag is set (by a loop callback), failing after 20 s. */
static void on_deadline(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

typedef int (*cond_fn)(fixture *fx, void *arg);

static void run_until(fixture *fx, cond_fn cond, void *arg)
{
    uv_timer_t deadline, tick;
    int expired = 0;
    uv_timer_init(&fx->loop, &deadline);
    deadline.data = &expired;
    uv_timer_start(&deadline, on_deadline, 20000, 0);
    /* The tick re-checks conditions that no callback announces (e.g. a thread's flag). */
    uv_timer_init(&fx->loop, &tick);
    tick.data = &expired;
    uv_timer_start(&tick, (uv_timer_cb)on_wake, 5, 5);
    while (!cond(fx, arg) && !expired)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    if (expired)
        fail_msg("timed out waiting for the server");
}

/* ------------------------------------------------------------------ blocking clients */

typedef struct conn {
    int fd;
    char *buf;
    size_t len, cap;
} conn;

static int conn_open(conn *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 15};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

static int conn_send(conn *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int conn_send_str(conn *c, const char *s)
{
    return conn_send(c, s, strlen(s));
}

/* Next line as parsed JSON (new), or NULL on EOF, error or timeout. */
static json_t *conn_read(conn *c)
{
    for (;;) {
        char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            json_t *v = json_loadb(c->buf, n, 0, NULL);
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return v;
        }
        if (c->cap - c->len < 65536) {
            c->cap = c->cap ? c->cap * 2 : 65536 * 2;
            c->buf = realloc(c->buf, c->cap);
        }
        ssize_t got = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return NULL;
        c->len += (size_t)got;
    }
}

/* 1 when the server closed the connection (EOF) before the timeout. */
static int conn_eof(conn *c)
{
    char b;
    ssize_t n;
    while ((n = recv(c->fd, &b, 1, 0)) < 0 && errno == EINTR)
        ;
    return n == 0;
}

/* A client job on its own thread. */
typedef struct job {
    fixture *fx;
    void (*fn)(struct job *);
    int index;
    int n;
    char failure[256];
    atomic_int finished;
    pthread_t thread;
} job;

#define JOB_CHECK(j, cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (!(j)->failure[0])                                                                  \
                snprintf((j)->failure, sizeof(j)->failure, __VA_ARGS__);                           \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

static void *job_main(void *arg)
{
    job *j = arg;
    j->fn(j);
    atomic_store(&j->finished, 1);
    uv_async_send(&j->fx->wake);
    return NULL;
}

static int jobs_finished(fixture *fx, void *arg)
{
    job *jobs = arg;
    for (int i = 0; jobs[i].fx; i++)
        if (!atomic_load(&jobs[i].finished))
            return 0;
    return 1;
}

/* jobs is terminated by an entry with fx NULL. */
static void run_jobs(fixture *fx, job *jobs)
{
    for (int i = 0; jobs[i].fx; i++)
        assert_int_equal(pthread_create(&jobs[i].thread, NULL, job_main, &jobs[i]), 0);
    run_until(fx, jobs_finished, jobs);
    for (int i = 0; jobs[i].fx; i++) {
        pthread_join(jobs[i].thread, NULL);
        if (jobs[i].failure[0])
            fail_msg("client %d: %s", jobs[i].index, jobs[i].failure);
    }
}

static void run_job(fixture *fx, void (*fn)(job *))
{
    job jobs[2] = {{.fx = fx, .fn = fn}, {0}};
    run_jobs(fx, jobs);
}

/* Sends one line and reads one response. */
static json_t *roundtrip(conn *c, const char *line)
{
    if (conn_send_str(c, line) != 0)
        return NULL;
    return conn_read(c);
}

/* ------------------------------------------------------------------ socket tests */

static void job_basic(job *j)
{
    conn c;
    json_t *r = NULL;
    JOB_CHECK(j, conn_open(&c, j->fx->path) == 0, "connect: %s", strerror(errno));

    r = roundtrip(&c, "{\"id\":1,\"method\":\"test.echo\",\"params\":{\"a\":1}}\n");
    JOB_CHECK(j, r && json_integer_value(json_object_get(r, "id")) == 1, "id 1 not echoed");
    JOB_CHECK(j, json_integer_value(json_object_get(json_object_get(r, "result"), "a")) == 1,
              "echo result");
    json_decref(r);

    r = roundtrip(&c, "{\"method\":\"test.echo\"}\n");
    JOB_CHECK(j, r && json_is_null(json_object_get(r, "id")), "absent id must be null");
    JOB_CHECK(j, json_is_null(json_object_get(r, "result")), "null result");
    json_decref(r);

    r = roundtrip(&c, "{\"id\":{\"x\":[1,\"y\"]},\"method\":\"test.echo\",\"params\":[3]}\r\n");
    JOB_CHECK(j, r, "no response to an object id");
    json_t *want = json_pack("{s:[i,s]}", "x", 1, "y");
    int same = json_equal(json_object_get(r, "id"), want);
    json_decref(want);
    JOB_CHECK(j, same, "object id not echoed");
    json_decref(r);

    r = roundtrip(&c, "{\"id\":\"u\",\"method\":\"no.such\"}\n");
    JOB_CHECK(j, r && error_code_of(r) == DG_RPC_METHOD_NOT_FOUND, "unknown method");
    json_decref(r);

    r = roundtrip(&c, "{\"id\":2,\"method\":\"test.fail\",\"params\":{\"why\":\"disk full\"}}\n");
    JOB_CHECK(j, r && error_code_of(r) == DG_RPC_FAILED, "fail code");
    JOB_CHECK(j, strcmp(error_message_of(r), "failed: disk full") == 0, "fail message");
out:
    json_decref(r);
    conn_close(&c);
}

static void test_basic_requests(void **state)
{
    fixture *fx = *state;
    run_job(fx, job_basic);
    json_t *stats = dg_control_stats(fx->ctl);
    assert_int_equal(json_integer_value(json_object_get(stats, "requests")), 5);
    assert_int_equal(json_integer_value(json_object_get(stats, "errors")), 2);
    assert_int_equal(json_integer_value(json_object_get(stats, "pending")), 0);
    json_decref(stats);
}

static void job_malformed(job *j)
{
    conn c;
    json_t *r = NULL;
    JOB_CHECK(j, conn_open(&c, j->fx->path) == 0, "connect");
    static const struct {
        const char *line;
        int code;
        int id; /* -1: null */
    } cases[] = {
        {"{not json\n", DG_RPC_PARSE_ERROR, -1},
        {"[1,2]\n", DG_RPC_INVALID_REQUEST, -1},
        {"42\n", DG_RPC_INVALID_REQUEST, -1},
        {"{\"id\":5}\n", DG_RPC_INVALID_REQUEST, 5},
        {"{\"id\":6,\"method\":[\"a\"]}\n", DG_RPC_INVALID_REQUEST, 6},
        {"{\"id\":7,\"method\":\"test.echo\",\"params\":\"x\"}\n", DG_RPC_INVALID_REQUEST, 7},
        {"\n   \n{\"id\":8,\"method\":\"test.echo\",\"params\":5}\n", DG_RPC_INVALID_REQUEST, 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = roundtrip(&c, cases[i].line);
        JOB_CHECK(j, r, "case %zu: no response", i);
        JOB_CHECK(j, error_code_of(r) == cases[i].code, "case %zu: code %d", i, error_code_of(r));
        json_t *id = json_object_get(r, "id");
        JOB_CHECK(j, cases[i].id < 0 ? json_is_null(id) : json_integer_value(id) == cases[i].id,
                  "case %zu: id", i);
        json_decref(r);
        r = NULL;
    }
    /* The connection survived all of that. */
    r = roundtrip(&c, "{\"id\":9,\"method\":\"test.echo\"}\n");
    JOB_CHECK(j, r && json_integer_value(json_object_get(r, "id")) == 9, "still usable");
out:
    json_decref(r);
    conn_close(&c);
}

static void test_malformed_requests(void **state)
{
    run_job(*state, job_malformed);
}

static void job_pipelined(job *j)
{
    conn c;
    json_t *r = NULL;
    JOB_CHECK(j, conn_open(&c, j->fx->path) == 0, "connect");
    /* One write, three requests; answers come back as they complete, matched by id. */
    JOB_CHECK(j,
              conn_send_str(
                  &c,
                  "{\"id\":1,\"method\":\"test.later\",\"params\":{\"ms\":120,\"value\":\"a\"}}\n"
                  "{\"id\":2,\"method\":\"test.later\",\"params\":{\"ms\":30,\"value\":\"b\"}}\n"
                  "{\"id\":3,\"method\":\"test.echo\",\"params\":[\"c\"]}\n") == 0,
              "send");
    static const int order[] = {3, 2, 1};
    for (int i = 0; i < 3; i++) {
        r = conn_read(&c);
        JOB_CHECK(j, r, "response %d missing", i);
        JOB_CHECK(j, json_integer_value(json_object_get(r, "id")) == order[i],
                  "response %d has id %d", i, (int)json_integer_value(json_object_get(r, "id")));
        json_decref(r);
        r = NULL;
    }
out:
    json_decref(r);
    conn_close(&c);
}

static void test_pipelined_out_of_order(void **state)
{
    run_job(*state, job_pipelined);
}

/* Each client pipelines a batch mixing sync and async calls, then checks every answer. */
static void job_concurrent(job *j)
{
    enum { PER_CLIENT = 60 };
    conn c;
    json_t *r = NULL;
    int seen[PER_CLIENT] = {0};
    char line[256];
    JOB_CHECK(j, conn_open(&c, j->fx->path) == 0, "connect");
    for (int i = 0; i < PER_CLIENT; i++) {
        int id = j->index * 1000 + i;
        if (i % 3 == 0)
            snprintf(line, sizeof line,
                     "{\"id\":%d,\"method\":\"test.echo\",\"params\":{\"v\":%d}}\n", id, id);
        else
            snprintf(line, sizeof line,
                     "{\"id\":%d,\"method\":\"test.later\",\"params\":{\"ms\":%d,\"value\":{\"v\":"
                     "%d}}}\n",
                     id, (i * 7 + j->index) % 13, id);
        JOB_CHECK(j, conn_send_str(&c, line) == 0, "send %d", i);
    }
    for (int k = 0; k < PER_CLIENT; k++) {
        r = conn_read(&c);
        JOB_CHECK(j, r, "answer %d missing", k);
        int id = (int)json_integer_value(json_object_get(r, "id"));
        int v = (int)json_integer_value(json_object_get(json_object_get(r, "result"), "v"));
        JOB_CHECK(j, id == v, "id %d carries value %d", id, v);
        int i = id - j->index * 1000;
        JOB_CHECK(j, i >= 0 && i < PER_CLIENT && !seen[i], "unexpected or repeated id %d", id);
        seen[i] = 1;
        json_decref(r);
        r = NULL;
    }
out:
    json_decref(r);
    conn_close(&c);
}

static void test_concurrent_clients(void **state)
{
    fixture *fx = *state;
    enum { CLIENTS = 16 };
    job jobs[CLIENTS + 1];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < CLIENTS; i++) {
        jobs[i].fx = fx;
        jobs[i].fn = job_concurrent;
        jobs[i].index = i + 1;
    }
    run_jobs(fx, jobs);
    json_t *stats = dg_control_stats(fx->ctl);
    assert_int_equal(json_integer_value(json_object_get(stats, "requests")), CLIENTS * 60);
    assert_int_equal(json_integer_value(json_object_get(stats, "errors")), 0);
    json_decref(stats);
}

/* More in flight than the per-client limit, and more output than the queue limit. */
static void job_flow_control(job *j)
{
    enum { CALLS = 400, BIG = 40, BIG_BYTES = 256 * 1024 };
    conn c;
    json_t *r = NULL;
    char line[160];
    JOB_CHECK(j, conn_open(&c, j->fx->path) == 0, "connect");
    for (int i = 0; i < CALLS; i++) {
        snprintf(line, sizeof line,
                 "{\"id\":%d,\"method\":\"test.later\",\"params\":{\"ms\":%d,\"value\":%d}}\n", i,
                 i % 5, i);
        JOB_CHECK(j, conn_send_str(&c, line) == 0, "send %d", i);
    }
    /* 10 MiB of answers requested before reading any of them. */
    for (int i = 0; i < BIG; i++) {
        snprintf(line, sizeof line,
                 "{\"id\":%d,\"method\":\"test.big\",\"params\":{\"bytes\":%d}}\n", CALLS + i,
                 BIG_BYTES);
        JOB_CHECK(j, conn_send_str(&c, line) == 0, "send big %d", i);
    }
    int small = 0, big = 0;
    for (int k = 0; k < CALLS + BIG; k++) {
        r = conn_read(&c);
        JOB_CHECK(j, r, "answer %d missing (small %d, big %d)", k, small, big);
        json_t *result = json_object_get(r, "result");
        if (json_is_string(result)) {
            JOB_CHECK(j, json_string_length(result) == BIG_BYTES, "big answer size");
            big++;
        } else {
            JOB_CHECK(j, json_integer_value(result) == json_integer_value(json_object_get(r, "id")),
                      "small answer value");
            small++;
        }
        json_decref(r);
        r = NULL;
    }
    JOB_CHECK(j, small == CALLS && big == BIG, "small %d big %d", small, big);
out:
    json_decref(r);
    conn_close(&c);
}

static void test_flow_control(void **state)
{
    run_job(*state, job_flow_control);
}

static void job_oversize(job *j)
{
    conn c;
    json_t *r = NULL;
    JOB_CHECK(j, conn_open(&c, j->fx->path) == 0, "connect");
    /* A request of exactly 1 MiB is fine. */
    size_t n = MIB;
    char *big = malloc(n + 2);
    const char *head = "{\"id\":1,\"method\":\"test.echo\",\"params\":[\"";
    const char *tail = "\"]}";
    memset(big, 'a', n);
    memcpy(big, head, strlen(head));
    memcpy(big + n - strlen(tail), tail, strlen(tail));
    big[n] = '\n';
    int ok = conn_send(&c, big, n + 1) == 0;
    free(big);
    JOB_CHECK(j, ok, "send 1 MiB");
    r = conn_read(&c);
    JOB_CHECK(j, r && json_is_array(json_object_get(r, "result")), "1 MiB request answered");
    json_decref(r);
    r = NULL;

    /* One byte more, without a newline: an error, then the server closes. */
    big = malloc(n + 1);
    memset(big, 'b', n + 1);
    conn_send(&c, big, n + 1); /* may fail part-way once the server closes */
    free(big);
    r = conn_read(&c);
    JOB_CHECK(j, r && error_code_of(r) == DG_RPC_INVALID_REQUEST, "oversize error response");
    JOB_CHECK(j, strstr(error_message_of(r), "longer than"), "oversize message");
    JOB_CHECK(j, json_is_null(json_object_get(r, "id")), "oversize id null");
    JOB_CHECK(j, conn_eof(&c), "connection not closed after an oversize line");
out:
    json_decref(r);
    conn_close(&c);
}

static void test_oversize_line_closes(void **state)
{
    run_job(*state, job_oversize);
}

/* A request without a final newline followed by a half-close is still answered. */
static void job_half_close(job *j)
{
    conn c;
    json_t *r = NULL;
    JOB_CHECK(j, conn_open(&c, j->fx->path) == 0, "connect");
    JOB_CHECK(j, conn_send_str(&c, "{\"id\":4,\"method\":\"test.echo\",\"params\":[1]}") == 0,
              "send");
    shutdown(c.fd, SHUT_WR);
    r = conn_read(&c);
    JOB_CHECK(j, r && json_integer_value(json_object_get(r, "id")) == 4, "answer after EOF");
    JOB_CHECK(j, conn_eof(&c), "no EOF after the answer");
out:
    json_decref(r);
    conn_close(&c);
}

static void test_half_close(void **state)
{
    run_job(*state, job_half_close);
}

static int no_clients(fixture *fx, void *arg)
{
    json_t *stats = dg_control_stats(fx->ctl);
    int n = (int)json_integer_value(json_object_get(stats, "clients"));
    json_decref(stats);
    return n == 0;
}

/* Connections beyond the limit get one error and are closed; the others keep working. */
static void job_too_many(job *j)
{
    enum { N = DG_CONTROL_MAX_CLIENTS };
    conn *cs = calloc(N + 1, sizeof *cs);
    json_t *r = NULL;
    int opened = 0;
    for (; opened < N; opened++) {
        JOB_CHECK(j, conn_open(&cs[opened], j->fx->path) == 0, "connect %d", opened);
        /* A round trip proves the server accepted and counted it. */
        r = roundtrip(&cs[opened], "{\"id\":1,\"method\":\"test.echo\"}\n");
        JOB_CHECK(j, r != NULL, "client %d not served", opened);
        json_decref(r);
        r = NULL;
    }
    JOB_CHECK(j, conn_open(&cs[N], j->fx->path) == 0, "connect the extra one");
    opened++;
    r = conn_read(&cs[N]);
    JOB_CHECK(j, r && error_code_of(r) == DG_RPC_FAILED, "extra client: no error");
    JOB_CHECK(j, strstr(error_message_of(r), "too many"), "extra client: message");
    JOB_CHECK(j, conn_eof(&cs[N]), "extra client not closed");
    json_decref(r);
    r = roundtrip(&cs[0], "{\"id\":2,\"method\":\"test.echo\"}\n");
    JOB_CHECK(j, r && json_integer_value(json_object_get(r, "id")) == 2, "first client broken");
out:
    json_decref(r);
    for (int i = 0; i < opened; i++)
        conn_close(&cs[i]);
    free(cs);
}

static void test_too_many_clients(void **state)
{
    fixture *fx = *state;
    run_job(fx, job_too_many);
    run_until(fx, no_clients, NULL);
    json_t *stats = dg_control_stats(fx->ctl);
    assert_int_equal(json_integer_value(json_object_get(stats, "clients")), 0);
    json_decref(stats);
}

static int has_stash(fixture *fx, void *arg)
{
    return fx->stashed != NULL;
}

static void test_disconnect_with_pending(void **state)
{
    fixture *fx = *state;
    /*
     * Connect from this thread, let the server see the call, then hang up. A
     * hang-up looks like a half-close (`nc -N`), so the connection waits for
     * the answer it owes; writing it to a gone peer then closes the client.
     */
    conn c;
    assert_int_equal(conn_open(&c, fx->path), 0);
    assert_int_equal(conn_send_str(&c, "{\"id\":1,\"method\":\"test.never\"}\n"), 0);
    run_until(fx, has_stash, NULL);
    json_t *stats = dg_control_stats(fx->ctl);
    assert_int_equal(json_integer_value(json_object_get(stats, "pending")), 1);
    json_decref(stats);
    conn_close(&c);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    assert_int_equal(dg_rpc_pending(fx->rpc), 1); /* the handler still owes the answer */
    dg_rpc_reply(fx->stashed, json_string("nobody listens"));
    fx->stashed = NULL;
    run_until(fx, no_clients, NULL);
    stats = dg_control_stats(fx->ctl);
    assert_int_equal(json_integer_value(json_object_get(stats, "pending")), 0);
    json_decref(stats);
    assert_int_equal(dg_rpc_pending(fx->rpc), 0);
}

/* `printf '{...}' | nc -N`: the answer of an asynchronous call still arrives. */
static void test_half_close_waits_for_async_answers(void **state)
{
    fixture *fx = *state;
    conn c;
    assert_int_equal(conn_open(&c, fx->path), 0);
    assert_int_equal(conn_send_str(&c, "{\"id\":7,\"method\":\"test.never\"}\n"), 0);
    assert_int_equal(shutdown(c.fd, SHUT_WR), 0);
    run_until(fx, has_stash, NULL);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    dg_rpc_reply(fx->stashed, json_string("late"));
    fx->stashed = NULL;
    run_until(fx, no_clients, NULL);
    json_t *r = conn_read(&c);
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
    assert_string_equal(json_string_value(json_object_get(r, "result")), "late");
    json_decref(r);
    assert_true(conn_eof(&c));
    conn_close(&c);
}

static void test_stop_with_clients(void **state)
{
    fixture *fx = *state;
    conn c;
    assert_int_equal(conn_open(&c, fx->path), 0);
    assert_int_equal(conn_send_str(&c, "{\"id\":1,\"method\":\"test.never\"}\n"), 0);
    run_until(fx, has_stash, NULL);
    dg_control_stop(fx->ctl);
    fx->ctl = NULL;
    struct stat st;
    assert_int_not_equal(lstat(fx->path, &st), 0); /* socket file removed */
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    assert_true(conn_eof(&c));
    conn_close(&c);
    dg_rpc_reply(fx->stashed, NULL); /* detached by stop: discarded */
    fx->stashed = NULL;
}

/* ------------------------------------------------------------------ socket path tests */

static void test_socket_mode(void **state)
{
    fixture *fx = *state;
    struct stat st;
    assert_int_equal(lstat(fx->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_stale_socket_replaced(void **state)
{
    fixture *fx = *state;
    /* A socket file nobody listens on: what a crashed daemon leaves behind. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", fx->path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);

    char *err = NULL;
    fx->ctl = dg_control_start(&fx->loop, fx->rpc, fx->path, &err);
    if (!fx->ctl)
        fail_msg("stale socket not replaced: %s", err);
    run_job(fx, job_basic);
}

static void test_live_socket_refused(void **state)
{
    fixture *fx = *state;
    /* Someone else (without our lock file) is listening there. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", fx->path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 4), 0);

    char *err = NULL;
    assert_null(dg_control_start(&fx->loop, fx->rpc, fx->path, &err));
    assert_non_null(err);
    char want[256];
    snprintf(want, sizeof want, "another dengond is running (socket %s)", fx->path);
    assert_string_equal(err, want);
    free(err);
    struct stat st;
    assert_int_equal(lstat(fx->path, &st), 0); /* left alone */
    close(fd);
    unlink(fx->path);

    /* And a second dengond of ours is refused by the lock, even if it raced the probe. */
    fx->ctl = dg_control_start(&fx->loop, fx->rpc, fx->path, &err);
    assert_non_null(fx->ctl);
    assert_null(dg_control_start(&fx->loop, fx->rpc, fx->path, &err));
    assert_string_equal(err, want);
    free(err);
}

static void test_non_socket_refused(void **state)
{
    fixture *fx = *state;
    FILE *f = fopen(fx->path, "w");
    fputs("precious", f);
    fclose(f);
    char *err = NULL;
    assert_null(dg_control_start(&fx->loop, fx->rpc, fx->path, &err));
    assert_non_null(strstr(err, "is not a socket"));
    free(err);
    struct stat st;
    assert_int_equal(lstat(fx->path, &st), 0);
    assert_true(S_ISREG(st.st_mode));

    /* A path sun_path cannot hold is refused up front, not truncated. */
    char long_path[200];
    memset(long_path, 'x', sizeof long_path - 1);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = '\0';
    assert_null(dg_control_start(&fx->loop, fx->rpc, long_path, &err));
    assert_non_null(strstr(err, "too long"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_encode_response),
        cmocka_unit_test(test_linebuf),
        cmocka_unit_test_setup_teardown(test_basic_requests, server_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_requests, server_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_out_of_order, server_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_clients, server_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_flow_control, server_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_oversize_line_closes, server_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_half_close, server_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_too_many_clients, server_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_half_close_waits_for_async_answers, server_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_with_pending, server_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stop_with_clients, server_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_socket_mode, server_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stale_socket_replaced, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_live_socket_refused, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_non_socket_refused, fixture_setup, fixture_teardown),
    };
    return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
