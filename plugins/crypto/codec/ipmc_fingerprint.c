#include "ipmc_fingerprint.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "ipmc_encode.h"
#include "ipmc_error.h"
#include "ipmc_libctx.h"
#include "ipmc_pubkey.h"

int ipmc_fingerprint_hex(const EVP_PKEY *key2048, char out[17])
{
    uint8_t mod[256];
    size_t mlen = 0;
    if (ipmc_key_bits(key2048) != 2048 ||
        ipmc_key_modulus(key2048, mod, sizeof mod, &mlen) != IPMC_OK)
        return IPMC_ERR_ARG;
    /* CryptoAPI order: least significant byte first. */
    for (size_t i = 0; i < mlen / 2; i++) {
        uint8_t t = mod[i];
        mod[i] = mod[mlen - 1 - i];
        mod[mlen - 1 - i] = t;
    }
    uint8_t data[24] = {0};
    uint8_t dig[20];
    unsigned dlen = 0;
    EVP_MD *sha1 = EVP_MD_fetch(ipmc_libctx(), "SHA1", NULL);
    int ok = sha1 && EVP_Digest(mod, mlen, dig, &dlen, sha1, NULL) == 1 && dlen == 20;
    EVP_MD_free(sha1);
    if (!ok)
        return IPMC_ERR_CRYPTO;
    for (int i = 0; i < 20; i++)
        data[i] = dig[19 - i];
    uint8_t val[8];
    for (int i = 0; i < 8; i++)
        val[i] = data[i] ^ data[8 + i] ^ data[16 + i];
    ipmc_hex_encode(val, 8, out);
    return IPMC_OK;
}

int ipmc_username_add_fingerprint(const char *name, const EVP_PKEY *key2048, char *out, size_t cap)
{
    char hex[17];
    if (!name || !out)
        return IPMC_ERR_ARG;
    int rc = ipmc_fingerprint_hex(key2048, hex);
    if (rc != IPMC_OK)
        return rc;
    int n = snprintf(out, cap, "%s-<%s>", name, hex);
    return n < 0 || (size_t)n >= cap ? IPMC_ERR_ARG : IPMC_OK;
}

bool ipmc_username_fingerprint(const char *user, char hex[17])
{
    if (!user)
        return false;
    size_t n = strlen(user);
    if (n < 19)
        return false;
    const char *f = user + n - 19;
    if (f[0] != '-' || f[1] != '<' || f[18] != '>')
        return false;
    for (int i = 0; i < 16; i++) {
        if (!isxdigit((unsigned char)f[2 + i]))
            return false;
    }
    if (hex) {
        for (int i = 0; i < 16; i++)
            hex[i] = (char)tolower((unsigned char)f[2 + i]);
        hex[16] = '\0';
    }
    return true;
}

int ipmc_username_verify(const char *user, const EVP_PKEY *key2048, char *err, size_t errlen)
{
    char want[17], got[17];
    if (!ipmc_username_fingerprint(user, want))
        return ipmc_fail(err, errlen, IPMC_ERR_NOKEY, "user name carries no key fingerprint");
    if (ipmc_fingerprint_hex(key2048, got) != IPMC_OK)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG,
                         "a fingerprinted name must come with an RSA-2048 key");
    if (strcmp(want, got) != 0)
        return ipmc_fail(err, errlen, IPMC_ERR_MISMATCH,
                         "user name fingerprint %s does not match the key's %s", want, got);
    return IPMC_OK;
}
