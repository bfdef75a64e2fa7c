/*
 * The library's private OpenSSL context. Blowfish (the legacy RSA-1024 suite)
 * lives in OpenSSL 3's "legacy" provider; loading it into the process-wide
 * default context would make legacy algorithms available to every other
 * component (and to anything that fetches by name). So all crypto of this
 * library runs in its own OSSL_LIB_CTX with the "default" and "legacy"
 * providers, and the global context is never touched.
 *
 * Initialisation is lazy and thread-safe (pthread_once). If the legacy
 * provider cannot be loaded (module missing), the context still works and
 * only the Blowfish suite reports IPMC_ERR_CRYPTO.
 */
#ifndef DG_IPMC_LIBCTX_H
#define DG_IPMC_LIBCTX_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>

/* The private context, or NULL if OpenSSL could not create it. */
OSSL_LIB_CTX *ipmc_libctx(void);

/* True when Blowfish-CBC can be fetched (legacy provider loaded). */
bool ipmc_legacy_available(void);

/* Cryptographically random bytes from the private context. */
int ipmc_random(void *buf, size_t len);

/*
 * Frees the context and its providers (for leak checkers at exit). Every
 * EVP_PKEY made by this library must have been freed before; after this call
 * the library must not be used again.
 */
void ipmc_libctx_shutdown(void);

#endif
