/*
 * Unit tests of the IPMsg crypto library's text and pure parts: hex/base64,
 * GETPUBKEY/ANSPUBKEY fields, public keys in wire form, fingerprinted names,
 * suite choice, plaintext layout, §6.6 requests, replay guard, CTR stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "ipmc_consts.h"
#include "ipmc_ctr.h"
#include "ipmc_encode.h"
#include "ipmc_error.h"
#include "ipmc_filereq.h"
#include "ipmc_fingerprint.h"
#include "ipmc_keyex.h"
#include "ipmc_keys.h"
#include "ipmc_libctx.h"
#include "ipmc_plain.h"
#include "ipmc_pubkey.h"
#include "ipmc_suite.h"
#include "ipmc_tolist.h"

static EVP_PKEY *k2048, *k1024;

static int setup(void **state)
{
    (void)state;
    char err[256];
    if (ipmc_key_generate(2048, &k2048, err, sizeof err) != IPMC_OK ||
        ipmc_key_generate(1024, &k1024, err, sizeof err) != IPMC_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(k2048);
    EVP_PKEY_free(k1024);
    ipmc_libctx_shutdown();
    return 0;
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t in[] = {0x00, 0x7f, 0xff, 0xa5}, out[8];
    char s[16];
    size_t n = 0;
    assert_int_equal(ipmc_hex_encode(in, 4, s), 8);
    assert_string_equal(s, "007fffa5");
    assert_int_equal(ipmc_hex_decode("007FffA5", 8, out, sizeof out, &n), IPMC_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, in, 4);
    assert_int_equal(ipmc_hex_decode("abc", 3, out, sizeof out, &n), IPMC_ERR_FORMAT);
    assert_int_equal(ipmc_hex_decode("zz", 2, out, sizeof out, &n), IPMC_ERR_FORMAT);
    assert_int_equal(ipmc_hex_decode("0011", 4, out, 1, &n), IPMC_ERR_FORMAT);
}

static void test_base64(void **state)
{
    (void)state;
    const char *vec[][2] = {{"", ""},
                            {"f", "Zg=="},
                            {"fo", "Zm8="},
                            {"foo", "Zm9v"},
                            {"foob", "Zm9vYg=="},
                            {"fooba", "Zm9vYmE="},
                            {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        char s[16];
        uint8_t b[16];
        size_t n = 99;
        ipmc_b64_encode((const uint8_t *)vec[i][0], strlen(vec[i][0]), s);
        assert_string_equal(s, vec[i][1]);
        assert_int_equal(ipmc_b64_decode(s, strlen(s), b, sizeof b, &n), IPMC_OK);
        assert_int_equal(n, strlen(vec[i][0]));
        assert_memory_equal(b, vec[i][0], n);
    }
    uint8_t b[16];
    size_t n;
    const char *bad[] = {"Zg=", "Z===", "Zm9v\n", "Zh==", "Zm9=Zm9v", "Zm-v", "=Zm9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ipmc_b64_decode(bad[i], strlen(bad[i]), b, sizeof b, &n), IPMC_ERR_FORMAT);
    uint8_t *p = NULL;
    assert_int_equal(ipmc_field_decode(true, "", 0, &p, &n), IPMC_ERR_FORMAT);
}

static void test_capa_and_getpubkey(void **state)
{
    (void)state;
    uint32_t c = 0;
    char buf[16], err[128];
    assert_int_equal(ipmc_getpubkey_build(IPMC_CAPA_LOCAL, buf, sizeof buf), IPMC_OK);
    assert_string_equal(buf, "65920006");
    assert_int_equal(ipmc_getpubkey_parse("65920006", 8, &c, err, sizeof err), IPMC_OK);
    assert_int_equal(c, 0x65920006u);
    assert_int_equal(ipmc_getpubkey_parse("abcdef12", 8, &c, err, sizeof err), IPMC_OK);
    assert_int_equal(c, 0xabcdef12u);
    assert_int_equal(ipmc_getpubkey_parse("", 0, &c, err, sizeof err), IPMC_ERR_FORMAT);
    assert_int_equal(ipmc_getpubkey_parse("123456789", 9, &c, err, sizeof err), IPMC_ERR_FORMAT);
    assert_int_equal(ipmc_getpubkey_parse("12 4", 4, &c, err, sizeof err), IPMC_ERR_FORMAT);
    assert_true(strlen(err) > 0);
    assert_int_equal(ipmc_getpubkey_build(1, buf, 4), IPMC_ERR_ARG);
}

static void test_pubkey_wire(void **state)
{
    (void)state;
    char err[256], *w = NULL;
    EVP_PKEY *p = NULL;
    assert_int_equal(ipmc_pubkey_to_wire(k2048, &w, err, sizeof err), IPMC_OK);
    assert_int_equal(strlen(w), 6 + 512);
    assert_memory_equal(w, "10001-", 6);
    assert_int_equal(ipmc_pubkey_from_wire(w, strlen(w), &p, err, sizeof err), IPMC_OK);
    assert_true(ipmc_pubkey_equal(p, k2048));
    assert_int_equal(ipmc_key_bits(p), 2048);
    EVP_PKEY_free(p);
    p = NULL;
    /* Uppercase modulus is accepted. */
    for (char *q = w; *q; q++)
        if (*q >= 'a' && *q <= 'f')
            *q = (char)(*q - 'a' + 'A');
    assert_int_equal(ipmc_pubkey_from_wire(w, strlen(w), &p, err, sizeof err), IPMC_OK);
    EVP_PKEY_free(p);
    /* Truncated modulus, missing dash, bad exponent, even modulus. */
    assert_int_equal(ipmc_pubkey_from_wire(w, strlen(w) - 2, &p, err, sizeof err), IPMC_ERR_FORMAT);
    assert_int_equal(ipmc_pubkey_from_wire(w + 6, strlen(w) - 6, &p, err, sizeof err),
                     IPMC_ERR_FORMAT);
    w[4] = '2'; /* exponent 10002: even */
    assert_int_equal(ipmc_pubkey_from_wire(w, strlen(w), &p, err, sizeof err), IPMC_ERR_FORMAT);
    w[4] = '1';
    w[strlen(w) - 1] = 'E'; /* even modulus */
    assert_int_equal(ipmc_pubkey_from_wire(w, strlen(w), &p, err, sizeof err), IPMC_ERR_FORMAT);
    w[6] = '0'; /* top bit clear: not a full 2048-bit modulus */
    assert_int_equal(ipmc_pubkey_from_wire(w, strlen(w), &p, err, sizeof err), IPMC_ERR_FORMAT);
    free(w);
    assert_int_equal(ipmc_pubkey_to_wire(k1024, &w, err, sizeof err), IPMC_OK);
    assert_int_equal(strlen(w), 6 + 256);
    free(w);
}

static void test_anspubkey(void **state)
{
    (void)state;
    char err[256], *s = NULL;
    uint32_t capa = 0;
    EVP_PKEY *p = NULL;
    assert_int_equal(ipmc_anspubkey_build(IPMC_CAPA_LOCAL, k1024, &s, err, sizeof err), IPMC_OK);
    assert_memory_equal(s, "65920006:10001-", 15);
    assert_int_equal(ipmc_anspubkey_parse(s, strlen(s), &capa, &p, err, sizeof err), IPMC_OK);
    assert_int_equal(capa, IPMC_CAPA_LOCAL);
    assert_true(ipmc_pubkey_equal(p, k1024));
    EVP_PKEY_free(p);
    assert_int_equal(ipmc_anspubkey_parse(s, 8, &capa, &p, err, sizeof err), IPMC_ERR_FORMAT);
    assert_int_equal(ipmc_anspubkey_parse(s + 8, strlen(s) - 8, &capa, &p, err, sizeof err),
                     IPMC_ERR_FORMAT);
    s[3] = 'x';
    assert_int_equal(ipmc_anspubkey_parse(s, strlen(s), &capa, &p, err, sizeof err),
                     IPMC_ERR_FORMAT);
    free(s);

    ipmc_keys ours = {.rsa2048 = k2048, .rsa1024 = k1024};
    assert_ptr_equal(ipmc_getpubkey_answer_key(&ours, IPMC_CAPA_LOCAL, 0x65920006u, true), k2048);
    assert_ptr_equal(ipmc_getpubkey_answer_key(&ours, IPMC_CAPA_LOCAL, IPMC_CAPA_KEY1024, false),
                     k1024);
    assert_null(ipmc_getpubkey_answer_key(&ours, IPMC_CAPA_LOCAL, IPMC_CAPA_KEY1024, true));
    assert_null(ipmc_getpubkey_answer_key(&ours, IPMC_CAPA_LOCAL, 0x08000000u, false));
}

static void test_fingerprint(void **state)
{
    (void)state;
    char hex[17], name[64], got[17], err[256];
    assert_int_equal(ipmc_fingerprint_hex(k2048, hex), IPMC_OK);
    assert_int_equal(strlen(hex), 16);
    assert_int_equal(ipmc_username_add_fingerprint("alice", k2048, name, sizeof name), IPMC_OK);
    assert_memory_equal(name, "alice-<", 7);
    assert_true(ipmc_username_fingerprint(name, got));
    assert_string_equal(got, hex);
    assert_int_equal(ipmc_username_verify(name, k2048, err, sizeof err), IPMC_OK);
    /* Uppercase digits in a received name still match. */
    for (char *q = name + 7; *q != '>'; q++)
        if (*q >= 'a' && *q <= 'f')
            *q = (char)(*q - 'a' + 'A');
    assert_int_equal(ipmc_username_verify(name, k2048, err, sizeof err), IPMC_OK);
    name[8] = name[8] == '0' ? '1' : '0';
    assert_int_equal(ipmc_username_verify(name, k2048, err, sizeof err), IPMC_ERR_MISMATCH);
    assert_int_equal(ipmc_username_verify("alice", k2048, err, sizeof err), IPMC_ERR_NOKEY);
    assert_false(ipmc_username_fingerprint("a-<0123456789abcdef>x", NULL));
    assert_false(ipmc_username_fingerprint("a-<0123456789abcdeg>", NULL));
    assert_false(ipmc_username_fingerprint("a-<0123456789abcde>", NULL));
    assert_true(ipmc_username_fingerprint("-<0123456789abcdef>", NULL));
    assert_int_equal(ipmc_fingerprint_hex(k1024, hex), IPMC_ERR_ARG);
    assert_int_equal(ipmc_username_add_fingerprint("alice", k2048, name, 10), IPMC_ERR_ARG);
}

static void test_suite(void **state)
{
    (void)state;
    assert_int_equal(ipmc_suite_choose(IPMC_CAPA_LOCAL, IPMC_CAPA_LOCAL), 0x41900004u);
    /* v3 peer: SHA-1 only. */
    assert_int_equal(ipmc_suite_choose(IPMC_CAPA_LOCAL, 0x21920006u), 0x21900004u);
    /* Legacy peer: 1024 + Blowfish. */
    assert_int_equal(ipmc_suite_choose(IPMC_CAPA_LOCAL, 0x01820002u), 0x01820002u);
    assert_int_equal(ipmc_suite_choose(IPMC_CAPA_LOCAL, 0x00020002u), 0x00020002u);
    assert_int_equal(ipmc_suite_choose(IPMC_CAPA_LOCAL, 0), 0);
    assert_int_equal(ipmc_suite_choose(IPMC_CAPA_LOCAL, IPMC_RSA_2048 | IPMC_BLOWFISH_128), 0);
    assert_int_equal(ipmc_suite_of(0x41900004u), IPMC_SUITE_RSA2048_AES256);
    assert_int_equal(ipmc_suite_of(0x01820002u), IPMC_SUITE_RSA1024_BF128);
    assert_int_equal(ipmc_suite_of(0x41820002u), IPMC_SUITE_NONE);
    assert_int_equal(ipmc_suite_of(0x00100006u), IPMC_SUITE_NONE);
    assert_int_equal(ipmc_suite_of(0x00120004u), IPMC_SUITE_NONE);
    assert_string_equal(ipmc_suite_name(IPMC_SUITE_NONE), "none");
}

static void test_plain(void **state)
{
    (void)state;
    uint8_t *b = NULL;
    size_t n = 0;
    ipmc_plain_parts p;
    assert_int_equal(ipmc_plain_compose("hi", NULL, "TO:a:b\a", &b, &n), IPMC_OK);
    assert_int_equal(n, 3 + 1 + 8);
    assert_memory_equal(b, "hi\0\0TO:a:b\a\0", n);
    assert_int_equal(ipmc_plain_split(b, n, 1, &p), IPMC_OK);
    assert_string_equal(p.text, "hi");
    assert_null(p.attach);
    assert_string_equal(p.tolist, "TO:a:b\a");
    assert_int_equal(ipmc_plain_split(b, n, 0, &p), IPMC_OK);
    assert_null(p.tolist);
    assert_int_equal(ipmc_plain_split(b, n - 1, 1, &p), IPMC_ERR_FORMAT);
    assert_int_equal(ipmc_plain_split(b, 0, 1, &p), IPMC_ERR_FORMAT);
    free(b);
    assert_int_equal(ipmc_plain_compose("x", "att", NULL, &b, &n), IPMC_OK);
    assert_int_equal(ipmc_plain_split(b, n, 1, &p), IPMC_OK);
    assert_string_equal(p.attach, "att");
    assert_null(p.tolist);
    free(b);
}

static void assert_same_req(const ipmc_filereq *a, const ipmc_filereq *b)
{
    assert_int_equal(a->packet_id, b->packet_id);
    assert_int_equal(a->file_id, b->file_id);
    assert_int_equal(a->has_offset, b->has_offset);
    assert_int_equal(a->offset, b->offset);
    assert_int_equal(a->mode, b->mode);
    assert_memory_equal(a->aes_key, b->aes_key, sizeof a->aes_key);
    assert_int_equal(a->req_pkt, b->req_pkt);
}

static void test_filereq(void **state)
{
    (void)state;
    char buf[160], err[256];
    ipmc_filereq r = {
        .packet_id = 0x65a1b2c3, .file_id = 2, .mode = IPMC_FILECAPA_AES, .req_pkt = 0x65a1b2d0};
    for (int i = 0; i < 32; i++)
        r.aes_key[i] = (uint8_t)i;
    assert_int_equal(ipmc_filereq_build(&r, buf, sizeof buf), IPMC_OK);
    assert_string_equal(buf, "65a1b2c3:2:900000:000102030405060708090a0b0c0d0e0f101112131415161718"
                             "191a1b1c1d1e1f:65a1b2d0");
    ipmc_filereq q;
    assert_int_equal(ipmc_filereq_parse(buf, false, true, &q, err, sizeof err), IPMC_OK);
    assert_same_req(&q, &r);
    r.mode = IPMC_FILECAPA_NOENC;
    r.has_offset = true;
    r.offset = 0x123456789ull;
    memset(r.aes_key, 0, sizeof r.aes_key);
    assert_int_equal(ipmc_filereq_build(&r, buf, sizeof buf), IPMC_OK);
    assert_string_equal(buf, "65a1b2c3:2:123456789:4000000:65a1b2d0");
    assert_int_equal(ipmc_filereq_parse(buf, true, true, &q, err, sizeof err), IPMC_OK);
    assert_same_req(&q, &r);
    r.mode = 0;
    r.has_offset = false;
    assert_int_equal(ipmc_filereq_build(&r, buf, sizeof buf), IPMC_OK);
    assert_string_equal(buf, "65a1b2c3:2:");
    assert_int_equal(ipmc_filereq_parse(buf, false, false, &q, err, sizeof err), IPMC_OK);
    const char *bad[] = {"1:2:900000:00:5", "1:2:4000000:",   "1:2:4000000:0",
                         "1:2:800000:5",    "1:2:4000000:5:", "1:2:4000000:5:6",
                         "1::4000000:5",    "x:2:4000000:5",  "123456789:2:4000000:5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(ipmc_filereq_parse(bad[i], false, true, &q, err, sizeof err), IPMC_OK);
    assert_int_equal(ipmc_filereq_parse("1:2:3", false, false, &q, err, sizeof err),
                     IPMC_ERR_FORMAT);
    assert_int_equal(ipmc_filereq_build(&(ipmc_filereq){.mode = 7}, buf, sizeof buf), IPMC_ERR_ARG);
}

static void test_replay(void **state)
{
    (void)state;
    ipmc_replay g = {0};
    assert_int_equal(ipmc_replay_check(&g, 1000), IPMC_OK);
    assert_int_equal(g.top, 1000);
    assert_int_equal(ipmc_replay_check(&g, 1000), IPMC_ERR_REPLAY);
    /* Out of order inside the window (several downloads at once): once each. */
    assert_int_equal(ipmc_replay_check(&g, 999), IPMC_OK);
    assert_int_equal(ipmc_replay_check(&g, 999), IPMC_ERR_REPLAY);
    assert_int_equal(ipmc_replay_check(&g, 1002), IPMC_OK);
    assert_int_equal(ipmc_replay_check(&g, 1001), IPMC_OK);
    assert_int_equal(ipmc_replay_check(&g, 1001), IPMC_ERR_REPLAY);
    assert_int_equal(ipmc_replay_check(&g, 1000), IPMC_ERR_REPLAY); /* remembered across the move */
    assert_int_equal(g.top, 1002);
    /* Older than the window: refused even if never seen. */
    assert_int_equal(ipmc_replay_check(&g, 1002 - IPMC_REPLAY_WINDOW), IPMC_ERR_REPLAY);
    assert_int_equal(ipmc_replay_check(&g, 1002 - IPMC_REPLAY_WINDOW + 1), IPMC_OK);
    /* A jump past the window forgets everything below it. */
    assert_int_equal(ipmc_replay_check(&g, 5000), IPMC_OK);
    assert_int_equal(ipmc_replay_check(&g, 1002), IPMC_ERR_REPLAY);
    assert_int_equal(ipmc_replay_check(&g, 4999), IPMC_OK);
    assert_int_equal(ipmc_replay_check(NULL, 1), IPMC_ERR_ARG);
}

static void test_ctr(void **state)
{
    (void)state;
    uint8_t nonce[16], want[16] = "1700000000";
    ipmc_ctr_nonce(1700000000u, nonce);
    assert_memory_equal(nonce, want, 16);
    uint8_t neg[16] = "-1294967296";
    ipmc_ctr_nonce(3000000000u, nonce);
    assert_memory_equal(nonce, neg, 16);

    uint8_t key[32] = {1, 2, 3}, data[1000], a[1000], b[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    ipmc_ctr *c1 = NULL, *c2 = NULL;
    assert_int_equal(ipmc_ctr_new(key, 42, &c1), IPMC_OK);
    assert_int_equal(ipmc_ctr_new(key, 42, &c2), IPMC_OK);
    assert_int_equal(ipmc_ctr_apply(c1, data, a, sizeof data), IPMC_OK);
    /* Same stream whatever the piece sizes. */
    size_t off = 0, steps[] = {1, 15, 16, 17, 100, 851};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(ipmc_ctr_apply(c2, data + off, b + off, steps[i]), IPMC_OK);
        off += steps[i];
    }
    assert_int_equal(off, sizeof data);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, data, sizeof a);
    ipmc_ctr_free(c1);
    /* Applying the stream again decrypts. */
    assert_int_equal(ipmc_ctr_new(key, 42, &c1), IPMC_OK);
    assert_int_equal(ipmc_ctr_apply(c1, a, a, sizeof a), IPMC_OK);
    assert_memory_equal(a, data, sizeof a);
    ipmc_ctr_free(c1);
    ipmc_ctr_free(c2);
}

static void test_tolist(void **state)
{
    (void)state;
    char *s = NULL, err[128];
    ipmc_rcpt r[IPMC_TOLIST_MAX + 1] = {
        {"alice", "pc1"}, {"bob-<0123456789abcdef>", "pc2"}, {"\xe5\xa4\xaa\xe9\x83\x8e", "pc3"}};
    assert_int_equal(ipmc_tolist_build(r, 3, &s, err, sizeof err), IPMC_OK);
    assert_string_equal(s,
                        "TO:alice:pc1\abob-<0123456789abcdef>:pc2\a\xe5\xa4\xaa\xe9\x83\x8e:pc3\a");
    ipmc_tolist t;
    assert_int_equal(ipmc_tolist_parse(s, &t, err, sizeof err), IPMC_OK);
    assert_int_equal(t.n, 3);
    assert_string_equal(t.v[1].user, "bob-<0123456789abcdef>");
    assert_string_equal(t.v[2].host, "pc3");
    ipmc_tolist_free(&t);
    free(s);
    /* The BEL after the last entry may be missing. */
    assert_int_equal(ipmc_tolist_parse("TO:a:b\ac:d", &t, err, sizeof err), IPMC_OK);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.v[1].user, "c");
    assert_string_equal(t.v[1].host, "d");
    ipmc_tolist_free(&t);
    /* Malformed lists: a reason, nothing to free. */
    static const char *const bad[] = {
        "",        "to:a:b\a",   "TO:",        "TO:ab\a",     "TO::b\a",
        "TO:a:\a", "TO:a:b:c\a", "TO:a:b\a\a", "TO:a\x01:b\a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(ipmc_tolist_parse(bad[i], &t, err, sizeof err), IPMC_ERR_FORMAT);
        assert_null(t.buf);
        assert_int_equal(t.n, 0);
        assert_true(err[0] != '\0');
    }
    /* 30 at most, both ways. */
    for (size_t i = 0; i < IPMC_TOLIST_MAX + 1; i++)
        r[i] = (ipmc_rcpt){"u", "h"};
    assert_int_equal(ipmc_tolist_build(r, IPMC_TOLIST_MAX, &s, err, sizeof err), IPMC_OK);
    assert_int_equal(ipmc_tolist_parse(s, &t, err, sizeof err), IPMC_OK);
    assert_int_equal(t.n, IPMC_TOLIST_MAX);
    ipmc_tolist_free(&t);
    free(s);
    assert_int_equal(ipmc_tolist_build(r, IPMC_TOLIST_MAX + 1, &s, err, sizeof err), IPMC_ERR_ARG);
    assert_null(s);
    assert_int_equal(ipmc_tolist_parse("TO:u:h\au:h\au:h\au:h\au:h\au:h\au:h\au:h\au:h\au:h\a"
                                       "u:h\au:h\au:h\au:h\au:h\au:h\au:h\au:h\au:h\au:h\a"
                                       "u:h\au:h\au:h\au:h\au:h\au:h\au:h\au:h\au:h\au:h\au:h\a",
                                       &t, err, sizeof err),
                     IPMC_ERR_FORMAT);
    /* Names the wire could not tell apart are refused when building. */
    ipmc_rcpt colon[] = {{"a:b", "h"}}, bel[] = {{"a", "h\a"}}, empty[] = {{"", "h"}};
    assert_int_equal(ipmc_tolist_build(colon, 1, &s, err, sizeof err), IPMC_ERR_ARG);
    assert_int_equal(ipmc_tolist_build(bel, 1, &s, err, sizeof err), IPMC_ERR_ARG);
    assert_int_equal(ipmc_tolist_build(empty, 1, &s, err, sizeof err), IPMC_ERR_ARG);
    assert_int_equal(ipmc_tolist_build(r, 0, &s, err, sizeof err), IPMC_ERR_ARG);
}

static void test_status_strings(void **state)
{
    (void)state;
    for (int s = 0; s >= -13; s--)
        assert_string_not_equal(ipmc_status_str(s), "unknown error");
    assert_string_equal(ipmc_status_str(-99), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_capa_and_getpubkey),
        cmocka_unit_test(test_pubkey_wire),
        cmocka_unit_test(test_anspubkey),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_suite),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_tolist),
        cmocka_unit_test(test_filereq),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_ctr),
        cmocka_unit_test(test_status_strings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
