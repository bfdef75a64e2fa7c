#include "ipmc_pubkey.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipmc_encode.h"
#include "ipmc_error.h"
#include "ipmc_libctx.h"

unsigned ipmc_key_bits(const EVP_PKEY *key)
{
    if (!key || !EVP_PKEY_is_a(key, "RSA"))
        return 0;
    int b = EVP_PKEY_get_bits(key);
    return b > 0 ? (unsigned)b : 0;
}

int ipmc_key_modulus(const EVP_PKEY *key, uint8_t *buf, size_t cap, size_t *len)
{
    unsigned bits = ipmc_key_bits(key);
    size_t n = bits / 8;
    if (!bits || bits % 8 || cap < n)
        return IPMC_ERR_ARG;
    BIGNUM *bn = NULL;
    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &bn))
        return IPMC_ERR_CRYPTO;
    int ok = BN_bn2binpad(bn, buf, (int)n) == (int)n;
    BN_free(bn);
    if (!ok)
        return IPMC_ERR_CRYPTO;
    *len = n;
    return IPMC_OK;
}

int ipmc_pubkey_to_wire(const EVP_PKEY *key, char **out, char *err, size_t errlen)
{
    unsigned bits = ipmc_key_bits(key);
    if (bits != 1024 && bits != 2048)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "not an RSA-1024/2048 key");
    uint8_t mod[256];
    size_t mlen = 0;
    BIGNUM *e = NULL;
    if (ipmc_key_modulus(key, mod, sizeof mod, &mlen) != IPMC_OK ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e))
        return ipmc_fail(err, errlen, IPMC_ERR_CRYPTO, "cannot read the RSA key parameters");
    /* Windows keeps the exponent in a DWORD: anything wider cannot be sent. */
    BN_ULONG ev = BN_get_word(e);
    BN_free(e);
    if (ev == 0 || ev > 0xffffffffUL)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "RSA exponent does not fit in 32 bits");
    char *s = malloc(9 + 1 + 2 * mlen + 1);
    if (!s)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "out of memory");
    int n = snprintf(s, 11, "%lX-", (unsigned long)ev);
    ipmc_hex_encode(mod, mlen, s + n);
    *out = s;
    return IPMC_OK;
}

static EVP_PKEY *from_ne(const uint8_t *mod, size_t mlen, unsigned long e)
{
    BIGNUM *n = BN_bin2bn(mod, (int)mlen, NULL);
    BIGNUM *be = BN_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *key = NULL;
    if (!n || !be || !bld || !BN_set_word(be, e) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)))
        goto out;
    ctx = EVP_PKEY_CTX_new_from_name(ipmc_libctx(), "RSA", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        key = NULL;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(be);
    return key;
}

int ipmc_pubkey_from_wire(const char *s, size_t len, EVP_PKEY **out, char *err, size_t errlen)
{
    if (!s || !out)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "no key text");
    const char *dash = memchr(s, '-', len);
    if (!dash)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                         "public key has no '-' between exponent and modulus");
    size_t elen = (size_t)(dash - s);
    if (elen < 1 || elen > 8)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "public exponent must be 1-8 hex digits");
    unsigned long e = 0;
    for (size_t i = 0; i < elen; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "public exponent is not hex");
        e = e << 4 | (unsigned long)d;
    }
    if (e < 3 || !(e & 1))
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                         "public exponent %lX is not a valid RSA exponent", e);
    const char *m = dash + 1;
    size_t mhex = len - elen - 1;
    if (mhex != 256 && mhex != 512)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                         "modulus has %zu hex digits, expected 256 (RSA-1024) or 512 (RSA-2048)",
                         mhex);
    uint8_t mod[256];
    size_t mlen = 0;
    if (ipmc_hex_decode(m, mhex, mod, sizeof mod, &mlen) != IPMC_OK)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "modulus is not hex");
    if (!(mod[0] & 0x80) || !(mod[mlen - 1] & 1))
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                         "modulus is not a full-size odd %zu-bit number", mlen * 8);
    EVP_PKEY *key = from_ne(mod, mlen, e);
    if (!key)
        return ipmc_fail(err, errlen, IPMC_ERR_CRYPTO, "OpenSSL rejected the public key");
    *out = key;
    return IPMC_OK;
}

EVP_PKEY *ipmc_pubkey_public_copy(const EVP_PKEY *key)
{
    uint8_t mod[512];
    size_t mlen = 0;
    BIGNUM *e = NULL;
    if (ipmc_key_modulus(key, mod, sizeof mod, &mlen) != IPMC_OK ||
        !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e))
        return NULL;
    BN_ULONG ev = BN_get_word(e);
    BN_free(e);
    if (ev == 0 || ev > 0xffffffffUL)
        return NULL;
    return from_ne(mod, mlen, (unsigned long)ev);
}

bool ipmc_pubkey_equal(const EVP_PKEY *a, const EVP_PKEY *b)
{
    return a && b && EVP_PKEY_eq(a, b) == 1;
}
