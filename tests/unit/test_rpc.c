/* Unit tests for the RPC registry (core/src/rpc). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "rpc/rpc.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

/* Two fake plugin contexts: the registry only compares owner pointers. */
static int plugin_a_tag, plugin_b_tag;
#define PLUGIN_A ((dg_ctx *)&plugin_a_tag)
#define PLUGIN_B ((dg_ctx *)&plugin_b_tag)

static const char *name_owner(dg_ctx *owner)
{
    return owner == PLUGIN_A ? "alpha" : owner == PLUGIN_B ? "beta" : NULL;
}

/* What a done callback saw. */
typedef struct outcome {
    int calls;
    json_t *result;
    json_t *error;
} outcome;

static void record_done(void *user, const json_t *result, const json_t *error)
{
    outcome *o = user;
    o->calls++;
    assert_true((result == NULL) != (error == NULL));
    json_decref(o->result);
    json_decref(o->error);
    o->result = json_deep_copy(result);
    o->error = json_deep_copy(error);
}

static void outcome_clear(outcome *o)
{
    json_decref(o->result);
    json_decref(o->error);
    memset(o, 0, sizeof *o);
}

static int error_code(const outcome *o)
{
    return (int)json_integer_value(json_object_get(o->error, "code"));
}

static const char *error_message(const outcome *o)
{
    return json_string_value(json_object_get(o->error, "message"));
}

/* Handlers. */
static void h_echo(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_rpc_reply(call, params ? json_deep_copy(params) : NULL);
}

static dg_rpc_call *stashed; /* for handlers that answer later */
static void h_later(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    stashed = call;
}

static void h_twice(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_rpc_reply(call, json_string("first"));
    dg_rpc_fail(call, DG_RPC_FAILED, "second"); /* the bug under test: ignored */
}

static void h_fail_fmt(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_rpc_fail(call, DG_RPC_INVALID_PARAMS, "bad %s #%d", "thing", 42);
}

static int frees;
static void count_free(void *user)
{
    frees++;
}

static dg_rpc *self_remove_rpc;
static void h_remove_self(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    dg_rpc_remove_owner(self_remove_rpc, ctx); /* fails this very call */
    assert_int_equal(frees, 0);                /* user must outlive the running handler */
    assert_int_equal(*(int *)user, 7);
}

/* Answers with the text in params.text (a JSON string), as rpc_reply_json does. */
static void h_text(dg_ctx *ctx, dg_rpc_call *call, const json_t *params, void *user)
{
    const char *text = json_string_value(json_object_get(params, "text"));
    dg_rpc_reply_json(call, strdup(text), strlen(text));
}

/* What a done_json callback saw. */
static char seen_text[256];
static int seen_text_calls;
static void record_text(void *user, const char *json, size_t len)
{
    outcome *o = user;
    o->calls++;
    seen_text_calls++;
    assert_true(len < sizeof seen_text);
    memcpy(seen_text, json, len);
    seen_text[len] = '\0';
}

static int setup(void **state)
{
    dg_log_set_stderr(0); /* expected error logs (double answers) would clutter the output */
    dg_rpc *rpc = dg_rpc_new();
    assert_non_null(rpc);
    dg_rpc_set_owner_namer(rpc, name_owner);
    *state = rpc;
    stashed = NULL;
    frees = 0;
    return 0;
}

static int teardown(void **state)
{
    dg_rpc_free(*state);
    return 0;
}

static void test_reply_json(void **state)
{
    dg_rpc *rpc = *state;
    outcome o = {0};
    seen_text_calls = 0;
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "alpha.text", "", h_text, NULL, NULL), DG_OK);
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "alpha.later", "", h_later, NULL, NULL), DG_OK);

    /* A transport that forwards text gets it as it is, not through done. */
    json_t *p = json_pack("{s:s}", "text", "[{\"a\":1},\"\\u00e9\"]");
    assert_null(dg_rpc_invoke_ex(rpc, "alpha.text", p, record_done, record_text, &o));
    assert_int_equal(o.calls, 1);
    assert_int_equal(seen_text_calls, 1);
    assert_string_equal(seen_text, "[{\"a\":1},\"\\u00e9\"]");
    assert_null(o.result);
    assert_int_equal(dg_rpc_pending(rpc), 0);
    outcome_clear(&o);

    /* A caller that wants a tree gets the text parsed. */
    assert_null(dg_rpc_invoke(rpc, "alpha.text", p, record_done, &o));
    assert_int_equal(o.calls, 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(o.result, 0), "a")), 1);
    assert_string_equal(json_string_value(json_array_get(o.result, 1)), "\xc3\xa9");
    outcome_clear(&o);
    json_decref(p);

    /* A raw newline would break line framing: refused, whoever the caller. */
    p = json_pack("{s:s}", "text", "[1,\n2]");
    assert_null(dg_rpc_invoke_ex(rpc, "alpha.text", p, record_done, record_text, &o));
    assert_int_equal(error_code(&o), DG_RPC_INTERNAL_ERROR);
    assert_int_equal(seen_text_calls, 1);
    outcome_clear(&o);
    json_decref(p);

    /* Text that does not parse, for a tree caller: an error, not a crash. */
    p = json_pack("{s:s}", "text", "[1,");
    assert_null(dg_rpc_invoke(rpc, "alpha.text", p, record_done, &o));
    assert_int_equal(error_code(&o), DG_RPC_INTERNAL_ERROR);
    outcome_clear(&o);
    json_decref(p);

    /* Detached (the client left): the text is dropped, nobody is called. */
    dg_rpc_call *call = dg_rpc_invoke_ex(rpc, "alpha.later", NULL, record_done, record_text, &o);
    assert_non_null(call);
    dg_rpc_detach(call);
    dg_rpc_reply_json(stashed, strdup("1"), 1);
    assert_int_equal(o.calls, 0);
    assert_int_equal(dg_rpc_pending(rpc), 0);
    /* Answering again is ignored (logged), the text freed. */
    dg_rpc_reply_json(stashed, strdup("2"), 1);
    assert_int_equal(o.calls, 0);
}

static void test_method_names(void **state)
{
    assert_true(dg_rpc_method_valid("core.status"));
    assert_true(dg_rpc_method_valid("hello.greet"));
    assert_true(dg_rpc_method_valid("a.b_2.c3"));
    assert_false(dg_rpc_method_valid(NULL));
    assert_false(dg_rpc_method_valid(""));
    assert_false(dg_rpc_method_valid("status"));
    assert_false(dg_rpc_method_valid("Core.status"));
    assert_false(dg_rpc_method_valid("core..status"));
    assert_false(dg_rpc_method_valid(".core"));
    assert_false(dg_rpc_method_valid("core."));
    assert_false(dg_rpc_method_valid("core.sta-tus"));
    assert_false(dg_rpc_method_valid("core.st atus"));
    assert_false(dg_rpc_method_valid("core.\xc3\xa9"));

    char name[DG_RPC_METHOD_MAX + 2];
    memset(name, 'a', sizeof name);
    name[1] = '.';
    name[DG_RPC_METHOD_MAX] = '\0';
    assert_true(dg_rpc_method_valid(name)); /* exactly the maximum */
    name[DG_RPC_METHOD_MAX] = 'a';
    name[DG_RPC_METHOD_MAX + 1] = '\0';
    assert_false(dg_rpc_method_valid(name));
}

static void test_register(void **state)
{
    dg_rpc *rpc = *state;
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "hello.greet", "Greets", h_echo, NULL, NULL),
                     DG_OK);
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_B, "hello.greet", "Again", h_echo, NULL, NULL),
                     DG_EEXIST);
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "hello", "x", h_echo, NULL, NULL), DG_EINVAL);
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "Hello.x", "x", h_echo, NULL, NULL), DG_EINVAL);
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, NULL, "x", h_echo, NULL, NULL), DG_EINVAL);
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "hello.x", "x", NULL, NULL, NULL), DG_EINVAL);
    /* core. is reserved for the core (owner NULL). */
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "core.evil", "x", h_echo, NULL, NULL),
                     DG_EDENIED);
    assert_int_equal(dg_rpc_register(rpc, NULL, "core.status", "Status", h_echo, NULL, NULL),
                     DG_OK);
    /* A failed registration leaves user to the caller: user_free is not called. */
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_B, "hello.greet", "x", h_echo, &frees, count_free),
                     DG_EEXIST);
    assert_int_equal(frees, 0);
}

static void test_sync_answer(void **state)
{
    dg_rpc *rpc = *state;
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "test.echo", "", h_echo, NULL, NULL), DG_OK);
    json_t *params = json_pack("{s:i}", "n", 5);
    outcome o = {0};
    assert_null(dg_rpc_invoke(rpc, "test.echo", params, record_done, &o));
    assert_int_equal(o.calls, 1);
    assert_true(json_equal(o.result, params));
    assert_int_equal(dg_rpc_pending(rpc), 0);
    outcome_clear(&o);

    /* No params: the handler sees NULL and reply(NULL) sends JSON null. */
    assert_null(dg_rpc_invoke(rpc, "test.echo", NULL, record_done, &o));
    assert_int_equal(o.calls, 1);
    assert_true(json_is_null(o.result));
    outcome_clear(&o);

    /* Without a done callback the answer is simply discarded. */
    assert_null(dg_rpc_invoke(rpc, "test.echo", params, NULL, NULL));
    json_decref(params);
}

static void test_async_answer(void **state)
{
    dg_rpc *rpc = *state;
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "test.later", "", h_later, NULL, NULL), DG_OK);
    outcome o1 = {0}, o2 = {0};
    dg_rpc_call *c1 = dg_rpc_invoke(rpc, "test.later", NULL, record_done, &o1);
    assert_non_null(c1);
    assert_ptr_equal(c1, stashed);
    dg_rpc_call *c2 = dg_rpc_invoke(rpc, "test.later", NULL, record_done, &o2);
    assert_non_null(c2);
    assert_ptr_not_equal(c1, c2);
    assert_int_equal(dg_rpc_pending(rpc), 2);
    assert_int_equal(o1.calls + o2.calls, 0);

    /* Answered out of order. */
    dg_rpc_fail(c2, DG_RPC_FAILED, "nope");
    assert_int_equal(o2.calls, 1);
    assert_int_equal(error_code(&o2), DG_RPC_FAILED);
    assert_string_equal(error_message(&o2), "nope");
    dg_rpc_reply(c1, json_integer(1));
    assert_int_equal(o1.calls, 1);
    assert_int_equal(json_integer_value(o1.result), 1);
    assert_int_equal(dg_rpc_pending(rpc), 0);
    outcome_clear(&o1);
    outcome_clear(&o2);
}

static void test_errors(void **state)
{
    dg_rpc *rpc = *state;
    outcome o = {0};
    assert_null(dg_rpc_invoke(rpc, "no.such", NULL, record_done, &o));
    assert_int_equal(o.calls, 1);
    assert_int_equal(error_code(&o), DG_RPC_METHOD_NOT_FOUND);
    assert_string_equal(error_message(&o), "unknown method 'no.such'");
    outcome_clear(&o);

    assert_int_equal(dg_rpc_register(rpc, NULL, "test.echo", "", h_echo, NULL, NULL), DG_OK);
    json_t *bad = json_string("x");
    assert_null(dg_rpc_invoke(rpc, "test.echo", bad, record_done, &o));
    json_decref(bad);
    assert_int_equal(error_code(&o), DG_RPC_INVALID_PARAMS);
    outcome_clear(&o);

    assert_int_equal(dg_rpc_register(rpc, NULL, "test.fail", "", h_fail_fmt, NULL, NULL), DG_OK);
    assert_null(dg_rpc_invoke(rpc, "test.fail", NULL, record_done, &o));
    assert_int_equal(error_code(&o), DG_RPC_INVALID_PARAMS);
    assert_string_equal(error_message(&o), "bad thing #42");
    outcome_clear(&o);
}

static void test_fail_message_capped_and_utf8(void **state)
{
    dg_rpc *rpc = *state;
    assert_int_equal(dg_rpc_register(rpc, NULL, "test.later", "", h_later, NULL, NULL), DG_OK);
    outcome o = {0};
    /* 2 KiB of a 2-byte character: cut at 1 KiB, possibly mid-character, still valid. */
    char *big = malloc(2049);
    for (int i = 0; i < 2048; i += 2) {
        big[i] = (char)0xC3;
        big[i + 1] = (char)0xA9;
    }
    big[2048] = '\0';
    assert_non_null(dg_rpc_invoke(rpc, "test.later", NULL, record_done, &o));
    dg_rpc_fail(stashed, DG_RPC_FAILED, "x%s", big);
    free(big);
    assert_int_equal(o.calls, 1);
    assert_non_null(error_message(&o));
    assert_int_equal(strlen(error_message(&o)), DG_RPC_MESSAGE_MAX - 1);
    outcome_clear(&o);

    /* Invalid bytes are replaced, so the error can still be serialized. */
    assert_non_null(dg_rpc_invoke(rpc, "test.later", NULL, record_done, &o));
    dg_rpc_fail(stashed, DG_RPC_FAILED, "file %s",
                "a\xff\xfe"
                "b\xed\xa0\x80");
    assert_string_equal(error_message(&o), "file a??b???");
    outcome_clear(&o);
}

static void test_detach(void **state)
{
    dg_rpc *rpc = *state;
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "test.later", "", h_later, NULL, NULL), DG_OK);
    outcome o = {0};
    dg_rpc_call *call = dg_rpc_invoke(rpc, "test.later", NULL, record_done, &o);
    assert_non_null(call);
    dg_rpc_detach(call);
    assert_int_equal(dg_rpc_pending(rpc), 1); /* still owed by the plugin */
    dg_rpc_reply(stashed, json_pack("{s:s}", "big", "answer nobody reads"));
    assert_int_equal(o.calls, 0);
    assert_int_equal(dg_rpc_pending(rpc), 0);
    dg_rpc_detach(call); /* after the answer: harmless */
}

static void test_answer_twice(void **state)
{
    dg_rpc *rpc = *state;
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "test.twice", "", h_twice, NULL, NULL), DG_OK);
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "test.later", "", h_later, NULL, NULL), DG_OK);
    outcome o = {0};
    assert_null(dg_rpc_invoke(rpc, "test.twice", NULL, record_done, &o));
    assert_int_equal(o.calls, 1);
    assert_string_equal(json_string_value(o.result), "first");
    outcome_clear(&o);

    /* Async: the second answer comes long after the record was freed. */
    dg_rpc_call *call = dg_rpc_invoke(rpc, "test.later", NULL, record_done, &o);
    dg_rpc_reply(call, json_true());
    dg_rpc_reply(call, json_pack("{s:s}", "leak", "if not released"));
    dg_rpc_fail(call, 1, "again");
    assert_int_equal(o.calls, 1);
    assert_true(json_is_true(o.result));
    outcome_clear(&o);
}

static void test_remove_owner_fails_pending(void **state)
{
    dg_rpc *rpc = *state;
    static int user_a = 1;
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "alpha.wait", "", h_later, &user_a, count_free),
                     DG_OK);
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "alpha.echo", "", h_echo, NULL, count_free),
                     DG_OK);
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_B, "beta.wait", "", h_later, NULL, NULL), DG_OK);

    outcome oa = {0}, ob = {0};
    dg_rpc_call *ca = dg_rpc_invoke(rpc, "alpha.wait", NULL, record_done, &oa);
    dg_rpc_call *cb = dg_rpc_invoke(rpc, "beta.wait", NULL, record_done, &ob);
    assert_non_null(ca);
    assert_non_null(cb);

    dg_rpc_remove_owner(rpc, PLUGIN_A);
    assert_int_equal(frees, 2);
    assert_int_equal(oa.calls, 1);
    assert_int_equal(error_code(&oa), DG_RPC_FAILED);
    assert_string_equal(error_message(&oa), "plugin alpha stopped");
    assert_int_equal(ob.calls, 0); /* another plugin's call is untouched */
    assert_int_equal(dg_rpc_pending(rpc), 1);

    /* The methods are gone. */
    outcome o = {0};
    assert_null(dg_rpc_invoke(rpc, "alpha.echo", NULL, record_done, &o));
    assert_int_equal(error_code(&o), DG_RPC_METHOD_NOT_FOUND);
    outcome_clear(&o);

    /* A late answer from the stopped plugin is ignored. */
    dg_rpc_reply(ca, json_string("too late"));
    assert_int_equal(oa.calls, 1);

    /* The name is free again (a restarted plugin re-registers). */
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "alpha.wait", "", h_later, NULL, NULL), DG_OK);

    dg_rpc_reply(cb, json_integer(2));
    assert_int_equal(ob.calls, 1);
    outcome_clear(&oa);
    outcome_clear(&ob);
}

static void test_remove_owner_inside_handler(void **state)
{
    dg_rpc *rpc = *state;
    static int seven = 7;
    self_remove_rpc = rpc;
    assert_int_equal(
        dg_rpc_register(rpc, PLUGIN_A, "alpha.quit", "", h_remove_self, &seven, count_free), DG_OK);
    outcome o = {0};
    assert_null(dg_rpc_invoke(rpc, "alpha.quit", NULL, record_done, &o));
    assert_int_equal(frees, 1); /* freed once the handler returned */
    assert_int_equal(o.calls, 1);
    assert_string_equal(error_message(&o), "plugin alpha stopped");
    outcome_clear(&o);
}

static void test_list(void **state)
{
    dg_rpc *rpc = *state;
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_B, "zeta.last", "Z", h_echo, NULL, NULL), DG_OK);
    assert_int_equal(dg_rpc_register(rpc, NULL, "core.status", "Status", h_echo, NULL, NULL),
                     DG_OK);
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "alpha.first", NULL, h_echo, NULL, NULL),
                     DG_OK);
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "alpha.bad", "caf\xc3 x", h_echo, NULL, NULL),
                     DG_OK);
    json_t *list = dg_rpc_list(rpc);
    json_t *want =
        json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s}]", "method",
                  "alpha.bad", "summary", "caf? x", "owner", "alpha", "method", "alpha.first",
                  "summary", "", "owner", "alpha", "method", "core.status", "summary", "Status",
                  "owner", "core", "method", "zeta.last", "summary", "Z", "owner", "beta");
    assert_true(json_equal(list, want));
    json_decref(list);
    json_decref(want);
}

static void test_free_with_pending(void **state)
{
    dg_rpc *rpc = *state;
    assert_int_equal(dg_rpc_register(rpc, PLUGIN_A, "alpha.wait", "", h_later, &frees, count_free),
                     DG_OK);
    outcome o = {0};
    assert_non_null(dg_rpc_invoke(rpc, "alpha.wait", NULL, record_done, &o));
    dg_rpc_call *late = stashed;
    dg_rpc_free(rpc);
    *state = NULL;
    assert_int_equal(frees, 1);
    assert_int_equal(o.calls, 0);
    dg_rpc_reply(late, json_string("after free")); /* ignored, released */
    assert_int_equal(o.calls, 0);
}

/* Many calls in flight at once exercise the handle table's growth and deletion. */
static void test_many_pending(void **state)
{
    dg_rpc *rpc = *state;
    enum { N = 5000 };
    assert_int_equal(dg_rpc_register(rpc, NULL, "test.later", "", h_later, NULL, NULL), DG_OK);
    dg_rpc_call **calls = calloc(N, sizeof *calls);
    int *seen = calloc(N, sizeof *seen);
    outcome *out = calloc(N, sizeof *out);
    for (int i = 0; i < N; i++)
        calls[i] = dg_rpc_invoke(rpc, "test.later", NULL, record_done, &out[i]);
    /* Answer in a scrambled order. */
    for (int k = 0; k < N; k++) {
        int i = (int)(((long)k * 7919) % N);
        dg_rpc_reply(calls[i], json_integer(i));
        seen[i]++;
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(seen[i], 1);
        assert_int_equal(out[i].calls, 1);
        assert_int_equal(json_integer_value(out[i].result), i);
        outcome_clear(&out[i]);
    }
    assert_int_equal(dg_rpc_pending(rpc), 0);
    free(calls);
    free(seen);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_method_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_message_capped_and_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_owner_fails_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_owner_inside_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_json, setup, teardown),
    };
    return cmocka_run_group_tests_name("rpc", tests, NULL, NULL);
}
