/*
 * Unit tests of encrypted SENDMSG bodies and §6.6 requests: round trips of
 * both suites in hex and base64, with and without PACKETNO_IV and
 * signatures, and every rejection (tampered ciphertext, session key and
 * signature, truncated input, wrong recipient key, wrong sender key, wrong
 * IV, unknown suite, missing keys, bad plaintext).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "ipmc_body.h"
#include "ipmc_consts.h"
#include "ipmc_encode.h"
#include "ipmc_error.h"
#include "ipmc_filereq.h"
#include "ipmc_keys.h"
#include "ipmc_libctx.h"
#include "ipmc_pubkey.h"

static ipmc_keys alice, bob, eve;
static EVP_PKEY *alice_pub, *bob_pub, *bob_pub1024, *eve_pub;
static char err[512];

static int setup(void **state)
{
    (void)state;
    ipmc_keys *all[] = {&alice, &bob, &eve};
    for (int i = 0; i < 3; i++) {
        if (ipmc_key_generate(2048, &all[i]->rsa2048, err, sizeof err) != IPMC_OK ||
            ipmc_key_generate(1024, &all[i]->rsa1024, err, sizeof err) != IPMC_OK)
            return -1;
    }
    alice_pub = ipmc_pubkey_public_copy(alice.rsa2048);
    bob_pub = ipmc_pubkey_public_copy(bob.rsa2048);
    bob_pub1024 = ipmc_pubkey_public_copy(bob.rsa1024);
    eve_pub = ipmc_pubkey_public_copy(eve.rsa2048);
    return alice_pub && bob_pub && bob_pub1024 && eve_pub ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ipmc_keys_free(&alice);
    ipmc_keys_free(&bob);
    ipmc_keys_free(&eve);
    EVP_PKEY_free(alice_pub);
    EVP_PKEY_free(bob_pub);
    EVP_PKEY_free(bob_pub1024);
    EVP_PKEY_free(eve_pub);
    ipmc_libctx_shutdown();
    return 0;
}

/* alice -> bob */
static char *seal(uint32_t capa, uint32_t pkt, const char *text, const char *att, const char *to)
{
    ipmc_body_in in = {.capa = capa,
                       .packet_no = pkt,
                       .peer_key = capa & IPMC_RSA_2048 ? bob_pub : bob_pub1024,
                       .sign_key = alice.rsa2048};
    char *out = NULL;
    int rc = ipmc_body_encrypt(&in, text, att, to, &out, err, sizeof err);
    if (rc != IPMC_OK)
        fail_msg("encrypt: %s", err);
    return out;
}

static int open_as(const ipmc_keys *who, const char *extra, const char *pkt, const EVP_PKEY *sender,
                   bool ext, ipmc_body_out *out)
{
    ipmc_body_src src = {
        .extra = extra, .len = strlen(extra), .packet_no = pkt, .ext = ext, .sender = sender};
    err[0] = '\0';
    int rc = ipmc_body_decrypt(&src, who, out, err, sizeof err);
    if (rc != IPMC_OK) {
        assert_null(out->plain);
        assert_true(strlen(err) > 0);
    }
    return rc;
}

static void roundtrip(uint32_t capa, ipmc_sig want_sig)
{
    const char *text = "h\xc3\xa9llo\nworld";
    char *x = seal(capa, 1700000000u, text, "0:a.txt:10:5f5e100:1:\a", "TO:bob:h\acarol:h\a");
    char head[16];
    snprintf(head, sizeof head, "%X:", (unsigned)capa);
    assert_memory_equal(x, head, strlen(head));
    ipmc_body_out o;
    assert_int_equal(open_as(&bob, x, "1700000000", alice_pub, true, &o), IPMC_OK);
    assert_int_equal(o.capa, capa);
    assert_int_equal(o.sig, want_sig);
    assert_string_equal(o.text, text);
    assert_string_equal(o.attach, "0:a.txt:10:5f5e100:1:\a");
    assert_string_equal(o.tolist, "TO:bob:h\acarol:h\a");
    assert_int_equal(o.plain[o.plain_len - 1], 0);
    ipmc_body_out_free(&o);
    /* Without ENCEXTMSGOPT only the text is taken. */
    assert_int_equal(open_as(&bob, x, "1700000000", alice_pub, false, &o), IPMC_OK);
    assert_null(o.attach);
    assert_null(o.tolist);
    ipmc_body_out_free(&o);
    free(x);
}

static void test_aes_roundtrips(void **state)
{
    (void)state;
    roundtrip(0x41900004u, IPMC_SIG_SHA256_OK);
    roundtrip(0x40900004u, IPMC_SIG_SHA256_OK); /* hex */
    roundtrip(0x21900004u, IPMC_SIG_SHA1_OK);
    roundtrip(0x01100004u, IPMC_SIG_NONE); /* unsigned, zero IV */
}

static void test_blowfish_roundtrips(void **state)
{
    (void)state;
    if (!ipmc_legacy_available())
        fail_msg("OpenSSL legacy provider not available: the Blowfish suite cannot work");
    roundtrip(0x01820002u, IPMC_SIG_NONE);
    roundtrip(0x00020002u, IPMC_SIG_NONE);
}

static void test_unverified_without_sender_key(void **state)
{
    (void)state;
    char *x = seal(0x41900004u, 5, "hi", NULL, NULL);
    ipmc_body_out o;
    assert_int_equal(open_as(&bob, x, "5", NULL, true, &o), IPMC_OK);
    assert_int_equal(o.sig, IPMC_SIG_UNVERIFIED);
    assert_string_equal(o.text, "hi");
    ipmc_body_out_free(&o);
    /* A 1024-bit key cannot be a signer. */
    EVP_PKEY *p1024 = ipmc_pubkey_public_copy(alice.rsa1024);
    assert_int_equal(open_as(&bob, x, "5", p1024, true, &o), IPMC_ERR_ARG);
    EVP_PKEY_free(p1024);
    free(x);
}

/* Flips one bit of the decoded field idx (0=capa..3=sig) of a base64 body. */
static char *tamper(const char *x, int idx, size_t byte)
{
    char *c = strdup(x);
    char *f[4] = {c};
    int n = 1;
    for (char *p = c; *p && n < 4; p++)
        if (*p == ':') {
            *p = '\0';
            f[n++] = p + 1;
        }
    uint8_t *bin = NULL;
    size_t len = 0;
    assert_int_equal(ipmc_field_decode(true, f[idx], strlen(f[idx]), &bin, &len), IPMC_OK);
    bin[byte % len] ^= 0x01;
    char *enc = ipmc_field_encode(true, bin, len);
    size_t total = strlen(x) + 8;
    char *out = malloc(total);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(out, ":");
        strcat(out, i == idx ? enc : f[i]);
    }
    free(bin);
    free(enc);
    free(c);
    return out;
}

static void test_tampering(void **state)
{
    (void)state;
    char text[200];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    char *x = seal(0x41900004u, 77, text, NULL, NULL);
    ipmc_body_out o;
    char *t;
    /* Ciphertext, first block: decrypts to garbage, the signature catches it. */
    t = tamper(x, 2, 0);
    assert_int_equal(open_as(&bob, t, "77", alice_pub, true, &o), IPMC_ERR_SIGNATURE);
    free(t);
    /* Unsigned body: the same change cannot be caught by a signature... */
    char *u = seal(0x01900004u, 77, text, NULL, NULL);
    /* ...but the last block carries the padding. */
    ipmc_body_src src = {.extra = u, .len = strlen(u), .packet_no = "77", .ext = false};
    /* 200 plaintext bytes -> 208 ciphertext bytes; byte 191 (last of the
     * previous block) flips the padding byte of the last block. */
    t = tamper(u, 2, 191);
    src.extra = t;
    src.len = strlen(t);
    assert_int_equal(ipmc_body_decrypt(&src, &bob, &o, err, sizeof err), IPMC_ERR_PADDING);
    free(t);
    free(u);
    /* Wrapped session key. */
    t = tamper(x, 1, 40);
    assert_int_equal(open_as(&bob, t, "77", alice_pub, true, &o), IPMC_ERR_KEY);
    free(t);
    /* Signature. */
    t = tamper(x, 3, 100);
    assert_int_equal(open_as(&bob, t, "77", alice_pub, true, &o), IPMC_ERR_SIGNATURE);
    free(t);
    /* Capability word: unknown suite / other suite. */
    t = strdup(x);
    memcpy(t, "41920006", 8);
    assert_int_equal(open_as(&bob, t, "77", alice_pub, true, &o), IPMC_ERR_SUITE);
    memcpy(t, "40100004", 8); /* drops BASE64: fields are no longer hex */
    assert_int_equal(open_as(&bob, t, "77", alice_pub, true, &o), IPMC_ERR_FORMAT);
    memcpy(t, "01900004", 8); /* drops the signature bit: 4 fields for an unsigned body */
    assert_int_equal(open_as(&bob, t, "77", alice_pub, true, &o), IPMC_ERR_FORMAT);
    free(t);
    /* Wrong IV (another packet number): first block garbled. */
    assert_int_equal(open_as(&bob, x, "78", alice_pub, true, &o), IPMC_ERR_SIGNATURE);
    /* Wrong recipient, wrong claimed sender. */
    assert_int_equal(open_as(&eve, x, "77", alice_pub, true, &o), IPMC_ERR_KEY);
    assert_int_equal(open_as(&bob, x, "77", eve_pub, true, &o), IPMC_ERR_SIGNATURE);
    free(x);
}

static void test_truncated_and_malformed(void **state)
{
    (void)state;
    char *x = seal(0x41900004u, 9, "truncate me", NULL, NULL);
    ipmc_body_out o;
    size_t n = strlen(x);
    for (size_t cut = 0; cut < n; cut += 37) {
        char *t = strndup(x, cut);
        int rc = open_as(&bob, t, "9", alice_pub, true, &o);
        assert_int_not_equal(rc, IPMC_OK);
        free(t);
    }
    const char *bad[] = {"",
                         ":::",
                         "41900004",
                         "41900004:",
                         "41900004::a:b",
                         "zz:a:b:c",
                         "41900004:a:b:c:d",
                         "123456789:a:b:c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(open_as(&bob, bad[i], "9", alice_pub, true, &o), IPMC_ERR_FORMAT);
    /* Trailing newline or space: not silently accepted. */
    char *t = malloc(n + 2);
    snprintf(t, n + 2, "%s\n", x);
    assert_int_not_equal(open_as(&bob, t, "9", alice_pub, true, &o), IPMC_OK);
    free(t);
    free(x);
}

static void test_missing_keys_and_args(void **state)
{
    (void)state;
    ipmc_body_in in = {
        .capa = 0x41900004u, .packet_no = 1, .peer_key = bob_pub1024, .sign_key = alice.rsa2048};
    char *out = NULL;
    assert_int_equal(ipmc_body_encrypt(&in, "x", NULL, NULL, &out, err, sizeof err),
                     IPMC_ERR_NOKEY);
    in.peer_key = bob_pub;
    in.sign_key = NULL;
    assert_int_equal(ipmc_body_encrypt(&in, "x", NULL, NULL, &out, err, sizeof err),
                     IPMC_ERR_NOKEY);
    in.capa = 0x00120004u;
    assert_int_equal(ipmc_body_encrypt(&in, "x", NULL, NULL, &out, err, sizeof err),
                     IPMC_ERR_SUITE);
    in.capa = 0x41900004u;
    in.sign_key = alice.rsa2048;
    assert_int_equal(ipmc_body_encrypt(&in, NULL, NULL, NULL, &out, err, sizeof err), IPMC_ERR_ARG);
    char *x = seal(0x01820002u, 3, "legacy", NULL, NULL);
    ipmc_keys no1024 = {.rsa2048 = bob.rsa2048};
    ipmc_body_out o;
    assert_int_equal(open_as(&no1024, x, "3", NULL, false, &o), IPMC_ERR_NOKEY);
    /* PACKETNO_IV needs the packet number. */
    assert_int_equal(open_as(&bob, x, NULL, NULL, false, &o), IPMC_ERR_ARG);
    free(x);
}

static void test_plaintext_without_nul(void **state)
{
    (void)state;
    ipmc_body_in in = {
        .capa = 0x41900004u, .packet_no = 1, .peer_key = bob_pub, .sign_key = alice.rsa2048};
    char *x = NULL;
    assert_int_equal(ipmc_body_encrypt_raw(&in, (const uint8_t *)"abc", 3, &x, err, sizeof err),
                     IPMC_OK);
    ipmc_body_out o;
    assert_int_equal(open_as(&bob, x, "1", alice_pub, true, &o), IPMC_ERR_FORMAT);
    free(x);
}

static void test_filereq_over_body(void **state)
{
    (void)state;
    ipmc_filereq r = {
        .packet_id = 0x65000001, .file_id = 0, .mode = IPMC_FILECAPA_AES, .req_pkt = 1700000500u};
    assert_int_equal(ipmc_random(r.aes_key, 32), IPMC_OK);
    char req[160];
    assert_int_equal(ipmc_filereq_build(&r, req, sizeof req), IPMC_OK);
    /* bob requests from alice: encrypted to alice, signed by bob. */
    ipmc_body_in in = {.capa = 0x41900004u,
                       .packet_no = r.req_pkt,
                       .peer_key = alice_pub,
                       .sign_key = bob.rsa2048};
    char *x = NULL;
    assert_int_equal(ipmc_body_encrypt(&in, req, NULL, NULL, &x, err, sizeof err), IPMC_OK);
    char pkt[16];
    snprintf(pkt, sizeof pkt, "%u", (unsigned)r.req_pkt);
    ipmc_body_out o;
    assert_int_equal(open_as(&alice, x, pkt, bob_pub, false, &o), IPMC_OK);
    ipmc_replay last = {0};
    ipmc_filereq got;
    assert_int_equal(ipmc_filereq_accept(&o, false, true, &last, &got, err, sizeof err), IPMC_OK);
    assert_int_equal(last.top, r.req_pkt);
    assert_memory_equal(got.aes_key, r.aes_key, 32);
    /* The same request again is a replay. */
    assert_int_equal(ipmc_filereq_accept(&o, false, true, &last, &got, err, sizeof err),
                     IPMC_ERR_REPLAY);
    ipmc_body_out_free(&o);
    /* Without the sender's key the signature is not verified: refused. */
    assert_int_equal(open_as(&alice, x, pkt, NULL, false, &o), IPMC_OK);
    last = (ipmc_replay){0};
    assert_int_equal(ipmc_filereq_accept(&o, false, true, &last, &got, err, sizeof err),
                     IPMC_ERR_SIGNATURE);
    assert_int_equal(last.seen, 0);
    ipmc_body_out_free(&o);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aes_roundtrips),
        cmocka_unit_test(test_blowfish_roundtrips),
        cmocka_unit_test(test_unverified_without_sender_key),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_truncated_and_malformed),
        cmocka_unit_test(test_missing_keys_and_args),
        cmocka_unit_test(test_plaintext_without_nul),
        cmocka_unit_test(test_filereq_over_body),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
