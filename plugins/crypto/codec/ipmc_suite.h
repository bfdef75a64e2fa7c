/*
 * Cipher suites (§6.1, §6.3). Only the two pairings IP Messenger implements
 * exist: RSA-2048 + AES-256-CBC (optionally signed with SHA-1 or SHA-256)
 * and the legacy RSA-1024 + Blowfish-128-CBC (never signed). PACKETNO_IV and
 * ENCODE_BASE64 are modifiers of either.
 */
#ifndef DG_IPMC_SUITE_H
#define DG_IPMC_SUITE_H

#include <stdint.h>

typedef enum ipmc_suite {
    IPMC_SUITE_NONE = 0,
    IPMC_SUITE_RSA1024_BF128 = 1,
    IPMC_SUITE_RSA2048_AES256 = 2,
} ipmc_suite;

/*
 * The capability word to put in front of a body sent to a peer: the
 * strongest suite both sides have, masked like Windows' MakeEncryptMsg
 * (RSA2048|AES256|SIGN_SHA256, else RSA2048|AES256|SIGN_SHA1 (or unsigned),
 * else RSA1024|BLOWFISH128; each with PACKETNO_IV and ENCODE_BASE64 when both
 * have them). 0 when there is no common suite: send in clear or not at all.
 */
uint32_t ipmc_suite_choose(uint32_t local_capa, uint32_t peer_capa);

/*
 * The suite a received capability word names, or IPMC_SUITE_NONE when it is
 * not one of the two pairings (e.g. RSA_2048 with BLOWFISH_128, both RSA
 * bits, or a signature bit on the Blowfish suite).
 */
ipmc_suite ipmc_suite_of(uint32_t capa);

const char *ipmc_suite_name(ipmc_suite s);

#endif
