#include "ipmc_libctx.h"

#include <openssl/provider.h>
#include <openssl/rand.h>
#include <pthread.h>

#include "ipmc_error.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *ctx;
static OSSL_PROVIDER *prov_default;
static OSSL_PROVIDER *prov_legacy;

static void init_ctx(void)
{
    ctx = OSSL_LIB_CTX_new();
    if (!ctx)
        return;
    prov_default = OSSL_PROVIDER_load(ctx, "default");
    if (!prov_default) {
        OSSL_LIB_CTX_free(ctx);
        ctx = NULL;
        return;
    }
    /* Optional: only the legacy suite needs it. */
    prov_legacy = OSSL_PROVIDER_load(ctx, "legacy");
}

OSSL_LIB_CTX *ipmc_libctx(void)
{
    pthread_once(&once, init_ctx);
    return ctx;
}

bool ipmc_legacy_available(void)
{
    return ipmc_libctx() && prov_legacy;
}

int ipmc_random(void *buf, size_t len)
{
    OSSL_LIB_CTX *c = ipmc_libctx();
    if (!c)
        return IPMC_ERR_CRYPTO;
    return RAND_bytes_ex(c, buf, len, 0) == 1 ? IPMC_OK : IPMC_ERR_CRYPTO;
}

void ipmc_libctx_shutdown(void)
{
    if (!ctx)
        return;
    if (prov_legacy)
        OSSL_PROVIDER_unload(prov_legacy);
    OSSL_PROVIDER_unload(prov_default);
    OSSL_LIB_CTX_free(ctx);
    prov_legacy = prov_default = NULL;
    ctx = NULL;
}
