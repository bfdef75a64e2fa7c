/* Unit tests for the JSON text writer shared by plugins (plugins/common/json_text.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "json_text.h"

#include <stdlib.h>
#include <string.h>

/* The writer's text, checked to parse, returned (free()). */
static char *finish_valid(dg_jt *w, json_t **parsed)
{
    size_t len = 0;
    char *text = dg_jt_finish(w, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_null(memchr(text, '\n', len)); /* one line: the control socket frames by line */
    json_error_t err;
    *parsed = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!*parsed)
        fail_msg("not JSON (%s): %s", err.text, text);
    return text;
}

static void test_object_and_commas(void **state)
{
    (void)state;
    dg_jt w;
    dg_jt_init(&w, 1); /* tiny on purpose: every put grows it */
    dg_jt_begin_array(&w);
    for (int i = 0; i < 3; i++) {
        dg_jt_begin_object(&w);
        dg_jt_member_string(&w, "name", "a");
        dg_jt_member_int(&w, "n", i - 1);
        dg_jt_member_bool(&w, "b", i == 1);
        dg_jt_key(&w, "none");
        dg_jt_null(&w);
        dg_jt_key(&w, "empty");
        dg_jt_begin_array(&w);
        dg_jt_end_array(&w);
        dg_jt_end_object(&w);
    }
    dg_jt_int(&w, INT64_MIN);
    dg_jt_int(&w, INT64_MAX);
    dg_jt_end_array(&w);
    json_t *v;
    char *text = finish_valid(&w, &v);
    assert_string_equal(text, "[{\"name\":\"a\",\"n\":-1,\"b\":false,\"none\":null,\"empty\":[]},"
                              "{\"name\":\"a\",\"n\":0,\"b\":true,\"none\":null,\"empty\":[]},"
                              "{\"name\":\"a\",\"n\":1,\"b\":false,\"none\":null,\"empty\":[]},"
                              "-9223372036854775808,9223372036854775807]");
    json_decref(v);
    free(text);
}

static void test_escaping(void **state)
{
    (void)state;
    const char input[] = "q\" b\\ nl\n cr\r tab\t bell\a del\x7f é 日本 🎉 /";
    dg_jt w;
    dg_jt_init(&w, 0);
    dg_jt_string(&w, input);
    json_t *v;
    char *text = finish_valid(&w, &v);
    assert_string_equal(json_string_value(v), input); /* what was written reads back */
    assert_non_null(strstr(text, "\\u0007"));
    json_decref(v);
    free(text);
}

static void test_invalid_utf8_replaced(void **state)
{
    (void)state;
    /* A lone continuation byte, a truncated sequence, an overlong "/", a
     * surrogate, a code point past U+10FFFF, a CP932 byte pair. */
    const char *bad[] = {"a\x80z",       "a\xe3\x81",        "\xc0\xaf",
                         "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x83\x65\x83\x58"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        dg_jt w;
        dg_jt_init(&w, 0);
        dg_jt_string(&w, bad[i]);
        json_t *v;
        char *text = finish_valid(&w, &v); /* jansson refuses invalid UTF-8: this proves it valid */
        assert_non_null(strstr(json_string_value(v), "\xef\xbf\xbd"));
        json_decref(v);
        free(text);
    }
}

static void test_value_matches_jansson(void **state)
{
    (void)state;
    json_t *in =
        json_pack("{s:[s,s], s:{s:i, s:b, s:n, s:f}, s:s%}", "addrs", "10.0.0.1:2425", "x\"y",
                  "nested", "n", 7, "t", 1, "z", "r", 0.5, "nul", "a\0b", (size_t)3);
    assert_non_null(in);
    dg_jt w;
    dg_jt_init(&w, 0);
    dg_jt_value(&w, in);
    json_t *v;
    char *text = finish_valid(&w, &v);
    assert_true(json_equal(in, v));
    json_decref(v);
    json_decref(in);
    free(text);
}

static void test_misuse_fails(void **state)
{
    (void)state;
    size_t len;
    dg_jt w;

    dg_jt_init(&w, 0); /* unclosed */
    dg_jt_begin_array(&w);
    assert_null(dg_jt_finish(&w, &len));

    dg_jt_init(&w, 0); /* closing what is not open */
    dg_jt_end_object(&w);
    assert_null(dg_jt_finish(&w, &len));

    dg_jt_init(&w, 0); /* key outside an object... */
    dg_jt_key(&w, "k");
    assert_null(dg_jt_finish(&w, &len));

    dg_jt_init(&w, 0); /* ...or without its value */
    dg_jt_begin_object(&w);
    dg_jt_key(&w, "k");
    dg_jt_end_object(&w);
    assert_null(dg_jt_finish(&w, &len));

    dg_jt_init(&w, 0); /* nothing written */
    assert_null(dg_jt_finish(&w, &len));

    dg_jt_init(&w, 0); /* too deep */
    for (int i = 0; i <= DG_JT_MAX_DEPTH; i++)
        dg_jt_begin_array(&w);
    for (int i = 0; i <= DG_JT_MAX_DEPTH; i++)
        dg_jt_end_array(&w);
    assert_null(dg_jt_finish(&w, &len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_and_commas),     cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_invalid_utf8_replaced), cmocka_unit_test(test_value_matches_jansson),
        cmocka_unit_test(test_misuse_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
