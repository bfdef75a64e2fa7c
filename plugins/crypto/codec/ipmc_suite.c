#include "ipmc_suite.h"

#include "ipmc_consts.h"

#define MODIFIERS (IPMC_PACKETNO_IV | IPMC_ENCODE_BASE64)

uint32_t ipmc_suite_choose(uint32_t local_capa, uint32_t peer_capa)
{
    uint32_t c = local_capa & peer_capa;
    if ((c & IPMC_RSA_2048) && (c & IPMC_AES_256)) {
        if (c & IPMC_SIGN_SHA256)
            return c & (IPMC_RSA_2048 | IPMC_AES_256 | IPMC_SIGN_SHA256 | MODIFIERS);
        return c & (IPMC_RSA_2048 | IPMC_AES_256 | IPMC_SIGN_SHA1 | MODIFIERS);
    }
    if ((c & IPMC_RSA_1024) && (c & IPMC_BLOWFISH_128))
        return c & (IPMC_RSA_1024 | IPMC_BLOWFISH_128 | MODIFIERS);
    return 0;
}

ipmc_suite ipmc_suite_of(uint32_t capa)
{
    uint32_t rsa = capa & (IPMC_RSA_1024 | IPMC_RSA_2048);
    uint32_t sym = capa & (IPMC_BLOWFISH_128 | IPMC_AES_256);
    if (rsa == IPMC_RSA_2048 && sym == IPMC_AES_256)
        return IPMC_SUITE_RSA2048_AES256;
    if (rsa == IPMC_RSA_1024 && sym == IPMC_BLOWFISH_128 &&
        !(capa & (IPMC_SIGN_SHA1 | IPMC_SIGN_SHA256)))
        return IPMC_SUITE_RSA1024_BF128;
    return IPMC_SUITE_NONE;
}

const char *ipmc_suite_name(ipmc_suite s)
{
    switch (s) {
    case IPMC_SUITE_RSA2048_AES256:
        return "RSA-2048/AES-256-CBC";
    case IPMC_SUITE_RSA1024_BF128:
        return "RSA-1024/Blowfish-128-CBC";
    default:
        return "none";
    }
}
