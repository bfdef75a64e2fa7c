#include "ipmc_rsa.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "ipmc_error.h"
#include "ipmc_libctx.h"

/* The EVP API takes non-const keys; none of these calls modify them. */
static EVP_PKEY *unconst(const EVP_PKEY *k)
{
    return (EVP_PKEY *)k;
}

int ipmc_rsa_wrap(const EVP_PKEY *pub, const uint8_t *in, size_t inlen, uint8_t *out,
                  size_t *outlen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(ipmc_libctx(), unconst(pub), NULL);
    size_t cap = (size_t)EVP_PKEY_get_size(pub);
    int ok = ctx && EVP_PKEY_encrypt_init(ctx) > 0 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
             EVP_PKEY_encrypt(ctx, out, &cap, in, inlen) > 0;
    EVP_PKEY_CTX_free(ctx);
    if (!ok)
        return IPMC_ERR_CRYPTO;
    *outlen = cap;
    return IPMC_OK;
}

int ipmc_rsa_unwrap(const EVP_PKEY *priv, const uint8_t *in, size_t inlen, uint8_t *out, size_t cap,
                    size_t *outlen)
{
    size_t ksize = (size_t)EVP_PKEY_get_size(priv);
    uint8_t buf[512];
    if (ksize > sizeof buf)
        return IPMC_ERR_ARG;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(ipmc_libctx(), unconst(priv), NULL);
    if (!ctx || EVP_PKEY_decrypt_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return IPMC_ERR_CRYPTO;
    }
    size_t n = sizeof buf;
    int ok = EVP_PKEY_decrypt(ctx, buf, &n, in, inlen) > 0;
    EVP_PKEY_CTX_free(ctx);
    if (!ok || n > cap) {
        OPENSSL_cleanse(buf, sizeof buf);
        return IPMC_ERR_KEY;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = buf[i];
    OPENSSL_cleanse(buf, sizeof buf);
    *outlen = n;
    return IPMC_OK;
}

int ipmc_rsa_sign(const EVP_PKEY *priv, bool sha256, const uint8_t *msg, size_t len, uint8_t *out,
                  size_t *outlen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t n = (size_t)EVP_PKEY_get_size(priv);
    int ok = md &&
             EVP_DigestSignInit_ex(md, &pctx, sha256 ? "SHA256" : "SHA1", ipmc_libctx(), NULL,
                                   unconst(priv), NULL) > 0 &&
             EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 &&
             EVP_DigestSign(md, out, &n, msg, len) > 0;
    EVP_MD_CTX_free(md);
    if (!ok)
        return IPMC_ERR_CRYPTO;
    *outlen = n;
    return IPMC_OK;
}

int ipmc_rsa_verify(const EVP_PKEY *pub, bool sha256, const uint8_t *msg, size_t len,
                    const uint8_t *sig, size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (!md ||
        EVP_DigestVerifyInit_ex(md, &pctx, sha256 ? "SHA256" : "SHA1", ipmc_libctx(), NULL,
                                unconst(pub), NULL) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
        EVP_MD_CTX_free(md);
        return IPMC_ERR_CRYPTO;
    }
    int r = EVP_DigestVerify(md, sig, siglen, msg, len);
    EVP_MD_CTX_free(md);
    return r == 1 ? IPMC_OK : IPMC_ERR_SIGNATURE;
}
