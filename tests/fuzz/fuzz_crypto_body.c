/*
 * libFuzzer harness for the IPMsg crypto library's parsers of outside input
 * (plugins/crypto/codec): encrypted SENDMSG bodies (decrypt + verify),
 * ANSPUBKEY/GETPUBKEY fields, §6.6 file requests and fingerprinted user
 * names. The first input byte selects the parser:
 *   0: body   byte 1 = flags (bit0 ENCEXTMSGOPT, bit1 pass the sender key),
 *             then "<packet number>\n<extra>"
 *   1: ANSPUBKEY extra   2: file request (byte 1 bit0 GETFILEDATA, bit1 ENCFILEOPT)
 *   3: user name (fingerprint check), GETPUBKEY extra and "TO:" recipient
 *      list (§6.5)
 * Invariants (abort on violation): a successful decrypt returns a
 * NUL-terminated plaintext whose suite matches its capability word and whose
 * signature status matches the flags; a failure returns nothing and a
 * reason; what parses rebuilds to the same thing.
 *
 * The keys below are TEST-ONLY (generated for this harness, never used
 * anywhere else); the seeds in corpus/crypto_body/ were encrypted to them and
 * signed by the 2048-bit one with the real library (ipmc_tool).
 */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipmc_body.h"
#include "ipmc_consts.h"
#include "ipmc_error.h"
#include "ipmc_filereq.h"
#include "ipmc_fingerprint.h"
#include "ipmc_keyex.h"
#include "ipmc_keys.h"
#include "ipmc_libctx.h"
#include "ipmc_pubkey.h"
#include "ipmc_suite.h"
#include "ipmc_tolist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static const char test_key_2048[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQDGRZQhFROxzXqC\n"
    "G6RG3wIlRK0vNlQSOfHSIuzD7zcg2lZ9oPrQlA/Q9BMFRfOdPZWpjGzGThnpAPry\n"
    "7KxJmiF84iM8OL3u4Qb2CqfZvKWIiq3L4ak7xECSsJvqY9arx+po+gFNLv18UqTS\n"
    "ijgi3hakldunEh0Ux3UHrLzgZGASOIpnmgSpiAjW2aaINExM3lS6KSbnFI7pLa3f\n"
    "LymRdN9uWA5PTGtiBt+ZKeJYuIJE64mzAp+szkIQTxZ+jFTYo9PofWaFGhfhoj0R\n"
    "+npnXQnbmH/ok0WoWMfZE7jowS4pnDGtsygJn+SLK73TRGY9QL431zk5XIZEwsDd\n"
    "OA2obn5jAgMBAAECggEAAKetMBjKOl2j6Hcf6U4GS0o5Sj0jNPY1Cs0rvA/3vieK\n"
    "fprACV1b2gRcZbmP7vaLnoZEu7j5U/A5ZAENJqcYMjnrBOFpGzdqFvj9CfaaE2Pl\n"
    "5BUIQpbI4dMsiK8wv9uGtjcRNwiPNNBvE/T573+NUpjeI2SnbPClvdM/wnwCZz0A\n"
    "FvsVJr9rWqMQXw381QoM4w+E5wWYJn///og7+vfWaPMkKO5GQiwAjZT7xxqXoMVy\n"
    "NV+rU30NZvNj2cvJooysITRBeKbbgspQuatoYjMBi8Bxq2Y0xHfv9mhKmfjAP2IB\n"
    "B3LS8dPY/9hxhQiMDs6ifZddEsHR52lU9NfWosdlCQKBgQDiS24Zc9cBXlqFWMeX\n"
    "2mDTvU9+6O7CQo79sNaN6O8prsrFVtB4WPkipv8nyUnH1QNzygbvTxS1K54SmxJu\n"
    "77s4SXh/jQe0GEUJRcevRgSd739uf6pSVCBrPZexKh/gYdNBrUVmGig8bZm3gQWR\n"
    "YWqOEAEkVNhY+6GoRZER46/oaQKBgQDgTHK1m+PBDGZJ1uhnjmqsBA5RoCWYgvf4\n"
    "RbmN0h+ShrvcsQYSbwb3+Akx4luI74X3YSVt9md/4fsnJFjfAffEj8hj055RSK7F\n"
    "2QxNErH/bGfLPU5xpPnGB2DS0IqT+lUpaBEPzD1UhkjfU/Cumfusovu5s5ItAxYE\n"
    "4AYyBb426wKBgQCMg3XsDAf3a5Uds9DLs+fn0mcoUI7gxN9xG3s+RuMqqMRz4MI1\n"
    "2FlqcPOCyvQrR1OLdGj1887R6DGRMAU0KVvBSa2u1e1woJlNdqzVYs6/GtWv0Un7\n"
    "MQ2oSWiFs7hzZYr9/w9WpOtTCmMmlNDWQv0dFUcAPkbQif8JM5ku2IiD8QKBgQDI\n"
    "HYzOWRo3d3+fa30IP3kOpcO8sbw5OMhSGqs1S/5dNZZQjSQUuDgoboSNnB38q28D\n"
    "ygmh9RBceVshjf04YkITfhDUd86tSMKdxEuETCTA9ZAZNUZSgFVUh+qry+GHqvXm\n"
    "LnHifV9OlUxY7EQ1Ey8G1JbwFLVbMYCostL0OEmAJwKBgQCF93jZ7bBygeGEsR8v\n"
    "wF4v6WKV6Gp38umdMp9RTybqx2ag+kUE3cZi/PUAV4FQze8v7DDPUPB9nOeqv0da\n"
    "YLnuLzLG/uVGN963wnmC4hB1e7Wu5vtD0M8qyVwzBBPPk82GOe73spjf65Z42ZJp\n"
    "F8d9JPPTFwmRXLbIv6xXcJN7bA==\n"
    "-----END PRIVATE KEY-----\n";

static const char test_key_1024[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICdQIBADANBgkqhkiG9w0BAQEFAASCAl8wggJbAgEAAoGBAO1Ui2Q+L/Dro/ve\n"
    "Hoa9QSpIvlL1C7ScquahFw/K5//LgWJBJWM/pNuC07hbdMYTGi1yqOy6NtLBqMZ2\n"
    "leTx03r+/XW0u4fLsl2PmnRHuSxWeeNrF2A3mktYuYYbQptLhqvvy9cusDRXUEL7\n"
    "mSeM+4oDT1PLW3k1EZNVPIV4XoV9AgMBAAECgYBvdAm1/MJU2MR8zrX1PsFwkxLW\n"
    "MH/bxMs5XaNP5lEHPlG3i7J8JnJMJ+c3p7NyJZxghX0xFs4SMaIJ+byw9KQEMkrP\n"
    "t14Af709sva3stM1+1GBq85ff/pvVRmqPcXdDA/vYUmYYFpk+/1b34AoRTdMisFk\n"
    "ikdSBwRNcJZc959QfQJBAP2Kr9SA9gwtL0fJD0idVhk9/YLwgTLTJoXWZvWq0xik\n"
    "JYxlSyBkygDqq4OsSo8WmF4wk7e+tlqte1d4oTdTLfcCQQDvoZ6J/9zaQ7LZekAt\n"
    "Tp6Hoi7xl6BGGVJ1qyOtLH2t6CCmc4z/Blt8oaGkdYL47H2CkW9e6ls1ka4p3kvc\n"
    "qVsrAkAdlXQkyJNtIkyVBLna0Dj+owQUpjl9E7Q4A6dp3O/avTSAaEVW10vWxYsT\n"
    "xyPABHPs8aAa3Y7rj7iHoVS2XudLAkAyX+ZlGj2CQLMLVtDA9YML/kMiFH7j3ZTh\n"
    "GZ4BXJX7Bg4/D5F3Vw3KcGv7l5x12bk0xoAEEv4jj8FuGcYW2B9LAkBPTwVKB9AL\n"
    "HbbBvwtkwhR5SBU7bBrLecqkmpuPszUWiJLkJACrNE7d/LAESunKAeQh1ZcTW+ne\n"
    "pn0hUGqUDnOD\n"
    "-----END PRIVATE KEY-----\n";

static ipmc_keys keys;
static EVP_PKEY *sender;

static EVP_PKEY *load_pem(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey_ex(b, NULL, NULL, NULL, ipmc_libctx(), NULL) : NULL;
    BIO_free(b);
    return k;
}

static void init_keys(void)
{
    if (keys.rsa2048)
        return;
    keys.rsa2048 = load_pem(test_key_2048);
    keys.rsa1024 = load_pem(test_key_1024);
    sender = ipmc_pubkey_public_copy(keys.rsa2048);
    CHECK(keys.rsa2048 && keys.rsa1024 && sender);
}

/* A TO list that parses rebuilds to the same entries and parses again. */
static void check_tolist(const char *s)
{
    ipmc_tolist t, t2;
    char err[256], *again = NULL;
    if (ipmc_tolist_parse(s, &t, err, sizeof err) != IPMC_OK) {
        CHECK(t.buf == NULL && t.n == 0 && err[0] != '\0');
        return;
    }
    CHECK(t.n >= 1 && t.n <= IPMC_TOLIST_MAX);
    CHECK(ipmc_tolist_build(t.v, t.n, &again, err, sizeof err) == IPMC_OK);
    CHECK(ipmc_tolist_parse(again, &t2, err, sizeof err) == IPMC_OK && t2.n == t.n);
    for (size_t i = 0; i < t.n; i++)
        CHECK(!strcmp(t.v[i].user, t2.v[i].user) && !strcmp(t.v[i].host, t2.v[i].host));
    ipmc_tolist_free(&t);
    ipmc_tolist_free(&t2);
    free(again);
}

static void fuzz_body(const uint8_t *d, size_t n)
{
    if (n < 1)
        return;
    uint8_t flags = d[0];
    d++;
    n--;
    const uint8_t *nl = memchr(d, '\n', n < 16 ? n : 16);
    char pkt[16] = "";
    if (nl) {
        memcpy(pkt, d, (size_t)(nl - d));
        n -= (size_t)(nl - d) + 1;
        d = nl + 1;
    }
    ipmc_body_src src = {.extra = (const char *)d,
                         .len = n,
                         .packet_no = pkt,
                         .ext = flags & 1,
                         .sender = (flags & 2) ? sender : NULL};
    ipmc_body_out out;
    char err[512] = "";
    int rc = ipmc_body_decrypt(&src, &keys, &out, err, sizeof err);
    if (rc != IPMC_OK) {
        CHECK(out.plain == NULL && out.text == NULL && err[0] != '\0');
        CHECK(rc < 0 && strcmp(ipmc_status_str(rc), "unknown error") != 0);
        return;
    }
    CHECK(out.plain && out.plain_len > 0 && out.plain[out.plain_len - 1] == '\0');
    CHECK(out.text == (const char *)out.plain && strlen(out.text) < out.plain_len);
    CHECK(out.suite != IPMC_SUITE_NONE && out.suite == ipmc_suite_of(out.capa));
    bool signed_ = out.capa & (IPMC_SIGN_SHA1 | IPMC_SIGN_SHA256);
    if (!signed_)
        CHECK(out.sig == IPMC_SIG_NONE);
    else if (!(flags & 2))
        CHECK(out.sig == IPMC_SIG_UNVERIFIED);
    else
        CHECK(out.sig == IPMC_SIG_SHA1_OK || out.sig == IPMC_SIG_SHA256_OK);
    if (!(flags & 1))
        CHECK(out.attach == NULL && out.tolist == NULL);
    if (out.attach)
        CHECK(out.attach > out.text && out.attach < (const char *)out.plain + out.plain_len);
    if (out.tolist) {
        CHECK(out.tolist > out.text && out.tolist < (const char *)out.plain + out.plain_len);
        check_tolist(out.tolist);
    }
    ipmc_body_out_free(&out);
}

static void fuzz_anspubkey(const uint8_t *d, size_t n)
{
    uint32_t capa = 0;
    EVP_PKEY *k = NULL;
    char err[256];
    if (ipmc_anspubkey_parse((const char *)d, n, &capa, &k, err, sizeof err) != IPMC_OK) {
        CHECK(k == NULL);
        return;
    }
    unsigned bits = ipmc_key_bits(k);
    CHECK(bits == 1024 || bits == 2048);
    char *s = NULL;
    uint32_t capa2 = 0;
    EVP_PKEY *k2 = NULL;
    CHECK(ipmc_anspubkey_build(capa, k, &s, err, sizeof err) == IPMC_OK);
    CHECK(ipmc_anspubkey_parse(s, strlen(s), &capa2, &k2, err, sizeof err) == IPMC_OK);
    CHECK(capa2 == capa && ipmc_pubkey_equal(k, k2));
    char hex[17];
    if (bits == 2048)
        CHECK(ipmc_fingerprint_hex(k, hex) == IPMC_OK && strlen(hex) == 16);
    free(s);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
}

static void fuzz_filereq(const uint8_t *d, size_t n)
{
    if (n < 1 || n > 400)
        return;
    bool off = d[0] & 1, enc = d[0] & 2;
    char *text = strndup((const char *)d + 1, n - 1);
    ipmc_filereq r, r2;
    char err[256], buf[256];
    if (text && ipmc_filereq_parse(text, off, enc, &r, err, sizeof err) == IPMC_OK) {
        CHECK(!enc || r.mode == IPMC_FILECAPA_AES || r.mode == IPMC_FILECAPA_NOENC);
        CHECK(!enc || r.req_pkt != 0);
        CHECK(ipmc_filereq_build(&r, buf, sizeof buf) == IPMC_OK);
        CHECK(ipmc_filereq_parse(buf, off, enc, &r2, err, sizeof err) == IPMC_OK);
        CHECK(r2.packet_id == r.packet_id && r2.file_id == r.file_id && r2.offset == r.offset &&
              r2.mode == r.mode && r2.req_pkt == r.req_pkt &&
              memcmp(r2.aes_key, r.aes_key, 32) == 0);
        ipmc_replay g = {0};
        CHECK(ipmc_replay_check(&g, r.req_pkt) == IPMC_OK);
        CHECK(ipmc_replay_check(&g, r.req_pkt) == IPMC_ERR_REPLAY);
    }
    free(text);
}

static void fuzz_names(const uint8_t *d, size_t n)
{
    char *s = strndup((const char *)d, n);
    if (!s)
        return;
    char hex[17], err[256];
    bool has = ipmc_username_fingerprint(s, hex);
    int rc = ipmc_username_verify(s, keys.rsa2048, err, sizeof err);
    CHECK(has ? (rc == IPMC_OK || rc == IPMC_ERR_MISMATCH) : rc == IPMC_ERR_NOKEY);
    uint32_t capa;
    (void)ipmc_getpubkey_parse(s, strlen(s), &capa, err, sizeof err);
    check_tolist(s);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 70000)
        return 0;
    init_keys();
    switch (data[0] % 4) {
    case 0:
        fuzz_body(data + 1, size - 1);
        break;
    case 1:
        fuzz_anspubkey(data + 1, size - 1);
        break;
    case 2:
        fuzz_filereq(data + 1, size - 1);
        break;
    default:
        fuzz_names(data + 1, size - 1);
        break;
    }
    return 0;
}
