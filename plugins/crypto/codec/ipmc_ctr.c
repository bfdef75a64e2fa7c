#include "ipmc_ctr.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipmc_error.h"
#include "ipmc_libctx.h"

struct ipmc_ctr {
    EVP_CIPHER_CTX *ctx;
};

void ipmc_ctr_nonce(uint32_t packet_no, uint8_t nonce[16])
{
    char s[16];
    memset(nonce, 0, 16);
    int n = snprintf(s, sizeof s, "%d", (int)(int32_t)packet_no);
    memcpy(nonce, s, (size_t)n);
}

int ipmc_ctr_new(const uint8_t key[32], uint32_t packet_no, ipmc_ctr **out)
{
    if (!key || !out)
        return IPMC_ERR_ARG;
    uint8_t nonce[16];
    ipmc_ctr_nonce(packet_no, nonce);
    OSSL_LIB_CTX *lc = ipmc_libctx();
    EVP_CIPHER *cipher = lc ? EVP_CIPHER_fetch(lc, "AES-256-CTR", NULL) : NULL;
    ipmc_ctr *c = calloc(1, sizeof *c);
    if (c)
        c->ctx = EVP_CIPHER_CTX_new();
    int ok = cipher && c && c->ctx && EVP_EncryptInit_ex2(c->ctx, cipher, key, nonce, NULL) == 1;
    EVP_CIPHER_free(cipher);
    if (!ok) {
        ipmc_ctr_free(c);
        return IPMC_ERR_CRYPTO;
    }
    *out = c;
    return IPMC_OK;
}

int ipmc_ctr_apply(ipmc_ctr *c, const uint8_t *in, uint8_t *out, size_t len)
{
    if (!c || (len && (!in || !out)))
        return IPMC_ERR_ARG;
    while (len) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        int n = 0;
        if (EVP_EncryptUpdate(c->ctx, out, &n, in, chunk) != 1 || n != chunk)
            return IPMC_ERR_CRYPTO;
        in += chunk;
        out += chunk;
        len -= (size_t)chunk;
    }
    return IPMC_OK;
}

void ipmc_ctr_free(ipmc_ctr *c)
{
    if (!c)
        return;
    EVP_CIPHER_CTX_free(c->ctx);
    free(c);
}
