#include "ipmc_cbc.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "ipmc_consts.h"
#include "ipmc_error.h"
#include "ipmc_libctx.h"

void ipmc_cbc_iv(bool packetno_iv, const char *pktno, uint8_t iv[16])
{
    memset(iv, 0, 16);
    if (packetno_iv && pktno) {
        size_t n = strnlen(pktno, 15);
        memcpy(iv, pktno, n);
    }
}

static EVP_CIPHER *fetch(ipmc_suite suite, int *block, int *keylen)
{
    OSSL_LIB_CTX *lc = ipmc_libctx();
    if (!lc)
        return NULL;
    if (suite == IPMC_SUITE_RSA2048_AES256) {
        *block = 16;
        *keylen = IPMC_AES_KEY_LEN;
        return EVP_CIPHER_fetch(lc, "AES-256-CBC", NULL);
    }
    if (suite == IPMC_SUITE_RSA1024_BF128) {
        *block = 8;
        *keylen = IPMC_BF_KEY_LEN;
        return EVP_CIPHER_fetch(lc, "BF-CBC", NULL);
    }
    return NULL;
}

static int run(bool enc, ipmc_suite suite, const uint8_t *key, const uint8_t iv[16],
               const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
    int block = 0, keylen = 0;
    if (suite != IPMC_SUITE_RSA2048_AES256 && suite != IPMC_SUITE_RSA1024_BF128)
        return IPMC_ERR_SUITE;
    if (len > (size_t)INT32_MAX - 32)
        return IPMC_ERR_ARG;
    EVP_CIPHER *c = fetch(suite, &block, &keylen);
    if (!c)
        return IPMC_ERR_CRYPTO;
    if (!enc && (len == 0 || len % (size_t)block != 0)) {
        EVP_CIPHER_free(c);
        return IPMC_ERR_FORMAT;
    }
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t *buf = malloc(len + (size_t)block);
    int n1 = 0, n2 = 0;
    /* Key length first (Blowfish is variable-length), then key and IV. */
    int ok = ctx && buf && EVP_CipherInit_ex2(ctx, c, NULL, NULL, enc, NULL) == 1 &&
             EVP_CIPHER_CTX_set_key_length(ctx, keylen) == 1 &&
             EVP_CipherInit_ex2(ctx, NULL, key, iv, enc, NULL) == 1 &&
             EVP_CipherUpdate(ctx, buf, &n1, in, (int)len) == 1;
    int rc = ok ? IPMC_OK : IPMC_ERR_CRYPTO;
    if (ok && EVP_CipherFinal_ex(ctx, buf + n1, &n2) != 1)
        rc = enc ? IPMC_ERR_CRYPTO : IPMC_ERR_PADDING;
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    if (rc != IPMC_OK) {
        if (buf)
            OPENSSL_cleanse(buf, len + (size_t)block);
        free(buf);
        return rc;
    }
    *out = buf;
    *outlen = (size_t)(n1 + n2);
    return IPMC_OK;
}

int ipmc_cbc_encrypt(ipmc_suite suite, const uint8_t *key, const uint8_t iv[16], const uint8_t *in,
                     size_t len, uint8_t **out, size_t *outlen)
{
    return run(true, suite, key, iv, in, len, out, outlen);
}

int ipmc_cbc_decrypt(ipmc_suite suite, const uint8_t *key, const uint8_t iv[16], const uint8_t *in,
                     size_t len, uint8_t **out, size_t *outlen)
{
    return run(false, suite, key, iv, in, len, out, outlen);
}
