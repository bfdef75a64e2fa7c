/*
 * Unit tests for core/src/licence: canonical JSON, base64, Ed25519 keys,
 * signed documents and every refusal reason, licence fields and times, the
 * trial decision. Keys are generated here; the vendor's private key is
 * never needed (only its compiled-in public half is checked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "licence/canon.h"
#include "licence/keys.h"
#include "licence/licence.h"
#include "licence/signed.h"
#include "licence/trial.h"
#include "licence/vendor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- canonical JSON ---- */

static char *canon_of(const char *json, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *v = json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    assert_non_null(v);
    char *out = NULL;
    size_t len = 0;
    int rc = dg_canon_dump(v, &out, &len, err, errlen);
    json_decref(v);
    if (rc != 0) {
        assert_null(out);
        return NULL;
    }
    assert_int_equal(strlen(out), len);
    return out;
}

static void assert_canon(const char *json, const char *expected)
{
    char err[256];
    char *got = canon_of(json, err, sizeof err);
    assert_non_null(got);
    assert_string_equal(got, expected);
    free(got);
}

static void assert_not_canon(const char *json, const char *why)
{
    char err[256] = "";
    char *got = canon_of(json, err, sizeof err);
    assert_null(got);
    assert_non_null(strstr(err, why));
}

static void canon_sorts_and_strips(void **state)
{
    assert_canon("{ \"b\" : 1 , \"a\" : [ true , false , null ] }",
                 "{\"a\":[true,false,null],\"b\":1}");
    /* Byte order of UTF-8 is code point order: "z" < "é" (U+00E9) < "日". */
    assert_canon("{\"日\":1,\"é\":2,\"z\":3,\"Z\":4}", "{\"Z\":4,\"z\":3,\"é\":2,\"日\":1}");
    assert_canon("{\"x\":{\"d\":{},\"c\":[]}}", "{\"x\":{\"c\":[],\"d\":{}}}");
    assert_canon("[-0, 0, -42, 9223372036854775807]", "[0,0,-42,9223372036854775807]");
    assert_canon("\"a/b\"", "\"a/b\""); /* '/' is never escaped */
}

static void canon_escapes_only_quote_and_backslash(void **state)
{
    assert_canon("{\"k\\\"\":\"say \\\"hi\\\" \\\\ \\u00e9\"}",
                 "{\"k\\\"\":\"say \\\"hi\\\" \\\\ é\"}");
    assert_canon("\"\\u2028 and \\u007f\"", "\"\u2028 and \x7f\"");
}

static void canon_refuses_what_has_two_spellings(void **state)
{
    assert_not_canon("{\"seats\":1.5}", "$.seats: numbers must be integers");
    assert_not_canon("[1e3]", "$[0]: numbers must be integers");
    assert_not_canon("{\"a\":\"line\\nbreak\"}", "$.a: strings must not contain control");
    assert_not_canon("{\"a\\t\":1}", "control characters");
    char deep[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]");
    assert_not_canon(deep, "nested too deeply");
}

/* ---- base64 ---- */

static void base64_round_trip_and_strictness(void **state)
{
    const unsigned char data[] = "any carnal pleas";
    for (size_t n = 0; n <= 16; n++) {
        char *text = dg_base64_encode(data, n);
        assert_non_null(text);
        unsigned char back[32];
        assert_int_equal(dg_base64_decode(text, back, sizeof back), (long)n);
        assert_memory_equal(back, data, n);
        free(text);
    }
    char *t = dg_base64_encode((const unsigned char *)"ab", 2);
    assert_string_equal(t, "YWI=");
    free(t);
    unsigned char out[16];
    assert_int_equal(dg_base64_decode("YWI", out, sizeof out), -1);   /* length */
    assert_int_equal(dg_base64_decode("YW=I", out, sizeof out), -1);  /* padding in the middle */
    assert_int_equal(dg_base64_decode("YWJ=", out, sizeof out), -1);  /* non-zero padding bits */
    assert_int_equal(dg_base64_decode("YW I=", out, sizeof out), -1); /* blank */
    assert_int_equal(dg_base64_decode("YWI=YWI=", out, sizeof out), -1);
    assert_int_equal(dg_base64_decode("YWJj", out, 2), -1); /* does not fit */
}

/* ---- keys ---- */

static void keys_sign_verify_and_ids(void **state)
{
    dg_key *k = dg_key_generate();
    assert_non_null(k);
    assert_true(dg_key_is_private(k));
    const char *id = dg_key_id(k);
    assert_int_equal(strlen(id), DG_KEY_ID_LEN);
    assert_int_equal(strspn(id, "0123456789abcdef"), DG_KEY_ID_LEN);
    unsigned char sig[DG_SIG_BYTES];
    assert_int_equal(dg_key_sign(k, "hello", 5, sig), 0);
    assert_true(dg_key_verify(k, "hello", 5, sig));
    assert_false(dg_key_verify(k, "hellO", 5, sig));

    char *pem = dg_key_pem(k, 0);
    assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
    char err[128];
    dg_key *pub = dg_key_from_pem(pem, strlen(pem), err, sizeof err);
    assert_non_null(pub);
    assert_false(dg_key_is_private(pub));
    assert_string_equal(dg_key_id(pub), id);
    assert_true(dg_key_verify(pub, "hello", 5, sig));
    assert_int_equal(dg_key_sign(pub, "x", 1, sig), -1); /* no private half */
    free(pem);
    dg_key_free(pub);
    assert_null(dg_key_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 58,
                                err, sizeof err));
    dg_key_free(k);
}

static void vendor_key_is_the_committed_one(void **state)
{
    char err[256];
    dg_key *file = dg_key_load(DG_SOURCE_DIR "/conf/keys/vendor.pub", err, sizeof err);
    assert_non_null(file);
    dg_key *built_in = dg_vendor_key();
    assert_non_null(built_in);
    assert_string_equal(dg_key_id(built_in), dg_key_id(file));
    assert_false(dg_key_is_private(built_in));
    dg_key_free(file);
    dg_key_free(built_in);
}

static void keyring_refuses_duplicates(void **state)
{
    dg_keyring *ring = dg_keyring_new();
    dg_key *a = dg_key_generate();
    char *pem = dg_key_pem(a, 0);
    dg_key *a_again = dg_key_from_pem(pem, strlen(pem), NULL, 0);
    free(pem);
    char id[DG_KEY_ID_LEN + 1];
    strcpy(id, dg_key_id(a));
    assert_int_equal(dg_keyring_add(ring, "a", a), DG_OK);
    assert_int_equal(dg_keyring_add(ring, "b", a_again), DG_EEXIST); /* same key, taken */
    assert_int_equal(dg_keyring_add(ring, "a", dg_key_generate()), DG_EEXIST);
    const char *name = NULL;
    assert_non_null(dg_keyring_find(ring, id, &name));
    assert_string_equal(name, "a");
    assert_null(dg_keyring_find(ring, "0000000000000000", NULL));
    assert_int_equal(dg_keyring_size(ring), 1);
    dg_keyring_free(ring);
}

/* ---- licences ---- */

typedef struct lic_fixture {
    dg_key *vendor; /* stands in for the vendor: a generated key named "vendor" */
    dg_key *other;  /* a key nobody trusts */
    dg_keyring *ring;
} lic_fixture;

static int lic_setup(void **state)
{
    lic_fixture *f = calloc(1, sizeof(*f));
    f->vendor = dg_key_generate();
    f->other = dg_key_generate();
    f->ring = dg_keyring_new();
    char *pem = dg_key_pem(f->vendor, 0);
    dg_keyring_add(f->ring, "vendor", dg_key_from_pem(pem, strlen(pem), NULL, 0));
    free(pem);
    *state = f;
    return 0;
}

static int lic_teardown(void **state)
{
    lic_fixture *f = *state;
    dg_key_free(f->vendor);
    dg_key_free(f->other);
    dg_keyring_free(f->ring);
    free(f);
    return 0;
}

static const char *const good_doc =
    "{\"format\":1,\"id\":\"L-2024-0042\",\"licensee\":\"ACME 株式会社\",\"plan\":\"business\","
    "\"seats\":50,\"issued\":\"2024-05-01T00:00:00Z\",\"expires\":\"2025-05-01T00:00:00Z\","
    "\"entitlements\":[\"file-encryption\",\"log-archive\"]}";

/* The licence file text for doc signed with key. New string. */
static char *signed_text(const char *doc, const dg_key *key)
{
    json_error_t jerr;
    json_t *d = json_loads(doc, JSON_REJECT_DUPLICATES, &jerr);
    assert_non_null(d);
    char why[256];
    json_t *env = dg_signed_make(d, "licence", key, why, sizeof why);
    assert_non_null(env);
    char *text = json_dumps(env, JSON_INDENT(2));
    json_decref(env);
    json_decref(d);
    return text;
}

static dg_refusal load(lic_fixture *f, const char *text, dg_licence **out, char *why, size_t len)
{
    return dg_licence_load(text, strlen(text), f->ring, out, why, len);
}

static void licence_valid_is_read(void **state)
{
    lic_fixture *f = *state;
    char *text = signed_text(good_doc, f->vendor);
    dg_licence *lic = NULL;
    char why[256];
    assert_int_equal(load(f, text, &lic, why, sizeof why), DG_REFUSAL_NONE);
    assert_string_equal(lic->id, "L-2024-0042");
    assert_string_equal(lic->licensee, "ACME 株式会社");
    assert_int_equal(lic->seats, 50);
    assert_int_equal(lic->issued, 1714521600);
    assert_int_equal(lic->not_before, lic->issued);
    assert_int_equal(lic->expires, 1746057600);
    assert_true(dg_licence_grants(lic, "log-archive"));
    assert_false(dg_licence_grants(lic, "documents"));
    assert_string_equal(lic->key_name, "vendor");
    assert_string_equal(lic->key_id, dg_key_id(f->vendor));
    json_t *j = dg_licence_to_json(lic);
    assert_string_equal(json_string_value(json_object_get(j, "expires")), "2025-05-01T00:00:00Z");
    json_decref(j);
    dg_licence_free(lic);
    free(text);
}

static void licence_refusal_tampered(void **state)
{
    lic_fixture *f = *state;
    char *text = signed_text(good_doc, f->vendor);
    char *seats = strstr(text, "\"seats\": 50");
    assert_non_null(seats);
    seats[10] = '9'; /* 59 seats */
    dg_licence *lic = NULL;
    char why[256];
    assert_int_equal(load(f, text, &lic, why, sizeof why), DG_REFUSAL_TAMPERED);
    assert_null(lic);
    assert_non_null(strstr(why, "does not match the content"));
    assert_string_equal(dg_refusal_name(DG_REFUSAL_TAMPERED), "tampered");
    free(text);
}

static void licence_refusal_wrong_key(void **state)
{
    lic_fixture *f = *state;
    char *text = signed_text(good_doc, f->other);
    dg_licence *lic = NULL;
    char why[256];
    assert_int_equal(load(f, text, &lic, why, sizeof why), DG_REFUSAL_WRONG_KEY);
    assert_non_null(strstr(why, dg_key_id(f->other)));
    assert_non_null(strstr(why, "does not trust"));
    assert_string_equal(dg_refusal_name(DG_REFUSAL_WRONG_KEY), "wrong key");
    free(text);
}

static void licence_refusal_truncated(void **state)
{
    lic_fixture *f = *state;
    char *text = signed_text(good_doc, f->vendor);
    dg_licence *lic = NULL;
    char why[256];
    size_t n = strlen(text);
    /* Cut anywhere: always truncated (or, cut before anything, an empty file). */
    for (size_t cut = 0; cut < n; cut += 7) {
        assert_int_equal(dg_licence_load(text, cut, f->ring, &lic, why, sizeof why),
                         DG_REFUSAL_TRUNCATED);
        assert_null(lic);
    }
    /* A signature that lost its end while the JSON stays whole. */
    char *value = strstr(text, "\"value\": \"");
    assert_non_null(value);
    value += 10;
    memmove(value + 4, value + 20, strlen(value + 20) + 1);
    assert_int_equal(load(f, text, &lic, why, sizeof why), DG_REFUSAL_TRUNCATED);
    assert_non_null(strstr(why, "an Ed25519 signature has 64"));
    free(text);
}

/* Each variant of the document, signed properly, is malformed for the reason given. */
static void licence_refusal_malformed(void **state)
{
    lic_fixture *f = *state;
    static const struct {
        const char *doc, *why;
    } cases[] = {
        {"{\"format\":2,\"id\":\"x\"}", "unsupported licence format 2"},
        {"{\"id\":\"x\"}", "'format' must be the integer 1"},
        {"{\"format\":1,\"id\":\"L\",\"licensee\":\"A\",\"plan\":\"p\",\"seats\":1,"
         "\"issued\":\"2024-05-01T00:00:00Z\",\"entitlements\":[],\"colour\":\"red\"}",
         "unknown key 'licence.colour'"},
        {"{\"format\":1,\"licensee\":\"A\",\"plan\":\"p\",\"seats\":1,"
         "\"issued\":\"2024-05-01T00:00:00Z\",\"entitlements\":[]}",
         "missing 'id'"},
        {"{\"format\":1,\"id\":\"L\",\"licensee\":\"A\",\"plan\":\"p\",\"seats\":0,"
         "\"issued\":\"2024-05-01T00:00:00Z\",\"entitlements\":[]}",
         "'seats' must be an integer"},
        {"{\"format\":1,\"id\":\"L\",\"licensee\":\"A\",\"plan\":\"p\",\"seats\":1,"
         "\"issued\":\"2024-02-30T00:00:00Z\",\"entitlements\":[]}",
         "'issued' must be a UTC time"},
        {"{\"format\":1,\"id\":\"L\",\"licensee\":\"A\",\"plan\":\"p\",\"seats\":1,"
         "\"issued\":\"2024-05-01T00:00:00Z\",\"expires\":\"2024-05-01T00:00:00Z\","
         "\"entitlements\":[]}",
         "'expires' must be later than 'issued'"},
        {"{\"format\":1,\"id\":\"L\",\"licensee\":\"A\",\"plan\":\"p\",\"seats\":1,"
         "\"issued\":\"2024-05-01T00:00:00Z\",\"entitlements\":[\"Bad Name\"]}",
         "'entitlements[0]' must be an id"},
        {"{\"format\":1,\"id\":\"L\",\"licensee\":\"A\",\"plan\":\"p\",\"seats\":1,"
         "\"issued\":\"2024-05-01T00:00:00Z\",\"entitlements\":[\"a\",\"a\"]}",
         "lists 'a' twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = signed_text(cases[i].doc, f->vendor);
        dg_licence *lic = NULL;
        char why[256] = "";
        dg_refusal r = load(f, text, &lic, why, sizeof why);
        if (r != DG_REFUSAL_MALFORMED || !strstr(why, cases[i].why))
            fail_msg("case %zu: %s: %s (wanted '%s')", i, dg_refusal_name(r), why, cases[i].why);
        assert_null(lic);
        free(text);
    }
}

static void licence_refusal_malformed_envelope(void **state)
{
    lic_fixture *f = *state;
    static const struct {
        const char *text, *why;
        dg_refusal r;
    } cases[] = {
        {"not json", "not valid JSON", DG_REFUSAL_MALFORMED},
        {"[1,2]", "must be a JSON object", DG_REFUSAL_MALFORMED},
        {"{\"a\":1,\"a\":2}", "not valid JSON", DG_REFUSAL_MALFORMED},
        {"{\"format\":1}", "not a signed licence", DG_REFUSAL_MALFORMED},
        {"{\"licence\":{},\"extra\":1}", "unknown top-level key 'extra'", DG_REFUSAL_MALFORMED},
        {"{\"licence\":{\"format\":1}}", "has no 'signature'", DG_REFUSAL_UNSIGNED},
        {"{\"licence\":{},\"signature\":{\"alg\":\"rsa\",\"key_id\":\"0123456789abcdef\","
         "\"value\":\"\"}}",
         "must be \"ed25519\"", DG_REFUSAL_MALFORMED},
        {"{\"licence\":{},\"signature\":{\"alg\":\"ed25519\",\"key_id\":\"XYZ\",\"value\":\"\"}}",
         "'signature.key_id'", DG_REFUSAL_MALFORMED},
        {"{\"licence\":{},\"signature\":{\"alg\":\"ed25519\",\"key_id\":\"0123456789abcdef\","
         "\"value\":\"!!!!\"}}",
         "not base64", DG_REFUSAL_MALFORMED},
        {"{\"licence\":{\"seats\":1.5},\"signature\":{\"alg\":\"ed25519\",\"key_id\":"
         "\"0123456789abcdef\",\"value\":\"" /* 64 zero bytes */
         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
         "\"}}",
         "numbers must be integers", DG_REFUSAL_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dg_licence *lic = NULL;
        char why[256] = "";
        dg_refusal r = load(f, cases[i].text, &lic, why, sizeof why);
        if (r != cases[i].r || !strstr(why, cases[i].why))
            fail_msg("case %zu: %s: %s (wanted %s '%s')", i, dg_refusal_name(r), why,
                     dg_refusal_name(cases[i].r), cases[i].why);
        assert_null(lic);
    }
}

static void licence_refusal_expired_and_not_yet_valid(void **state)
{
    lic_fixture *f = *state;
    const char *doc = "{\"format\":1,\"id\":\"L-7\",\"licensee\":\"A\",\"plan\":\"p\",\"seats\":1,"
                      "\"issued\":\"2024-01-01T00:00:00Z\",\"not_before\":\"2024-02-01T00:00:00Z\","
                      "\"expires\":\"2024-03-01T00:00:00Z\",\"entitlements\":[\"x\"]}";
    char *text = signed_text(doc, f->vendor);
    dg_licence *lic = NULL;
    char why[256];
    assert_int_equal(load(f, text, &lic, why, sizeof why), DG_REFUSAL_NONE);
    int64_t t;
    assert_int_equal(dg_time_parse("2024-01-31T23:59:59Z", &t), 0);
    assert_int_equal(dg_licence_check_time(lic, t, why, sizeof why), DG_REFUSAL_NOT_YET_VALID);
    assert_string_equal(why, "licence L-7 is valid only from 2024-02-01T00:00:00Z");
    assert_int_equal(dg_licence_check_time(lic, t + 1, why, sizeof why), DG_REFUSAL_NONE);
    assert_int_equal(dg_time_parse("2024-03-01T00:00:00Z", &t), 0);
    assert_int_equal(dg_licence_check_time(lic, t - 1, why, sizeof why), DG_REFUSAL_NONE);
    assert_int_equal(dg_licence_check_time(lic, t, why, sizeof why), DG_REFUSAL_EXPIRED);
    assert_string_equal(why, "licence L-7 expired on 2024-03-01T00:00:00Z");
    assert_string_equal(dg_refusal_name(DG_REFUSAL_EXPIRED), "expired");
    assert_string_equal(dg_refusal_name(DG_REFUSAL_NOT_YET_VALID), "not yet valid");
    dg_licence_free(lic);
    free(text);
}

static void times_are_strict(void **state)
{
    int64_t t;
    assert_int_equal(dg_time_parse("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(dg_time_parse("2024-02-29T12:34:56Z", &t), 0);
    char buf[32];
    dg_time_format(t, buf);
    assert_string_equal(buf, "2024-02-29T12:34:56Z");
    static const char *const bad[] = {"2023-02-29T00:00:00Z",      "2024-05-01T24:00:00Z",
                                      "2024-05-01T00:00:60Z",      "2024-05-01 00:00:00Z",
                                      "2024-05-01T00:00:00",       "2024-05-01t00:00:00z",
                                      "1969-12-31T23:59:59Z",      "2024-5-01T00:00:00Z",
                                      "2024-05-01T00:00:00+01:00", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (dg_time_parse(bad[i], &t) == 0)
            fail_msg("accepted '%s'", bad[i]);
}

/* ---- the trial ---- */

static void trial_decisions(void **state)
{
    const int64_t len = 120000;
    dg_trial t = {-1, 0};
    int64_t left = -1;
    assert_int_equal(dg_trial_decide(1, &t, 0, len, &left), DG_ENTITLE_LICENSED);
    assert_int_equal(left, 0);
    assert_int_equal(dg_trial_decide(0, &t, 5000, len, &left), DG_ENTITLE_TRIAL);
    assert_int_equal(left, len); /* not started yet: the whole trial */
    t.started_ms = 1000;
    assert_int_equal(dg_trial_decide(0, &t, 61000, len, &left), DG_ENTITLE_TRIAL);
    assert_int_equal(left, 60000);
    assert_int_equal(dg_trial_decide(0, &t, 121000, len, &left), DG_ENTITLE_LOCKED);
    assert_int_equal(dg_trial_decide(1, &t, 999999, len, NULL), DG_ENTITLE_LICENSED);
    /* A lapsed licence is not a fresh trial... */
    dg_trial lapsed = {-1, 1};
    assert_int_equal(dg_trial_decide(0, &lapsed, 0, len, &left), DG_ENTITLE_LOCKED);
    /* ...but a trial under way keeps its time when a licence comes and goes. */
    dg_trial both = {1000, 1};
    assert_int_equal(dg_trial_decide(0, &both, 2000, len, &left), DG_ENTITLE_TRIAL);
    assert_string_equal(dg_entitle_name(DG_ENTITLE_TRIAL), "trial");
}

static void trial_length_only_shortened_in_test_builds(void **state)
{
    unsetenv("DENGON_TEST_TRIAL_SECONDS");
    assert_int_equal(dg_trial_length_ms(), DG_TRIAL_SECONDS * 1000);
    assert_int_equal(DG_TRIAL_SECONDS, 120);
    setenv("DENGON_TEST_TRIAL_SECONDS", "3", 1);
    assert_int_equal(dg_trial_length_ms(), dg_trial_testing_build() ? 3000 : 120000);
    static const char *const ignored[] = {"0", "121", "3s", "-1", ""};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        setenv("DENGON_TEST_TRIAL_SECONDS", ignored[i], 1);
        assert_int_equal(dg_trial_length_ms(), 120000);
    }
    unsetenv("DENGON_TEST_TRIAL_SECONDS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canon_sorts_and_strips),
        cmocka_unit_test(canon_escapes_only_quote_and_backslash),
        cmocka_unit_test(canon_refuses_what_has_two_spellings),
        cmocka_unit_test(base64_round_trip_and_strictness),
        cmocka_unit_test(keys_sign_verify_and_ids),
        cmocka_unit_test(vendor_key_is_the_committed_one),
        cmocka_unit_test(keyring_refuses_duplicates),
        cmocka_unit_test_setup_teardown(licence_valid_is_read, lic_setup, lic_teardown),
        cmocka_unit_test_setup_teardown(licence_refusal_tampered, lic_setup, lic_teardown),
        cmocka_unit_test_setup_teardown(licence_refusal_wrong_key, lic_setup, lic_teardown),
        cmocka_unit_test_setup_teardown(licence_refusal_truncated, lic_setup, lic_teardown),
        cmocka_unit_test_setup_teardown(licence_refusal_malformed, lic_setup, lic_teardown),
        cmocka_unit_test_setup_teardown(licence_refusal_malformed_envelope, lic_setup,
                                        lic_teardown),
        cmocka_unit_test_setup_teardown(licence_refusal_expired_and_not_yet_valid, lic_setup,
                                        lic_teardown),
        cmocka_unit_test(times_are_strict),
        cmocka_unit_test(trial_decisions),
        cmocka_unit_test(trial_length_only_shortened_in_test_builds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
