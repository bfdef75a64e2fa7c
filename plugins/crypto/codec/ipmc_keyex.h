/*
 * GETPUBKEY / ANSPUBKEY extra fields (§6.2):
 *   GETPUBKEY  "<capa hex>"                      e.g. "65920006"
 *   ANSPUBKEY  "<capa HEX>:<E HEX>-<n hex>"      e.g. "65920006:10001-c3a1..."
 * Builders write what Windows writes (uppercase capability and exponent,
 * lowercase modulus); parsers read either case but nothing else: no
 * leading/trailing text, no empty fields, capability 1-8 hex digits.
 */
#ifndef DG_IPMC_KEYEX_H
#define DG_IPMC_KEYEX_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipmc_keys.h"

/* Exactly len bytes of 1-8 hex digits -> *capa. IPMC_ERR_FORMAT otherwise. */
int ipmc_capa_parse(const char *s, size_t len, uint32_t *capa);

/* "%X" of capa into out (cap >= 9). */
int ipmc_getpubkey_build(uint32_t capa, char *out, size_t cap);
int ipmc_getpubkey_parse(const char *extra, size_t len, uint32_t *capa, char *err, size_t errlen);

/* "<capa>:<E>-<n>" (malloc'd) for the public part of key. */
int ipmc_anspubkey_build(uint32_t capa, const EVP_PKEY *key, char **out, char *err, size_t errlen);
/* *key receives a new public key the caller frees. */
int ipmc_anspubkey_parse(const char *extra, size_t len, uint32_t *capa, EVP_PKEY **key, char *err,
                         size_t errlen);

/*
 * Which of our keys answers a GETPUBKEY, the way Windows decides
 * (mainwinmsg.cpp MsgGetPubKey): no answer (NULL) if the requester shares no
 * capability bit with us, or if its user name carries a fingerprint (§6.4)
 * but its capability lacks RSA_2048 or a SIGN bit (a spoofing attempt);
 * otherwise our 2048-bit key if it has RSA_2048, else the 1024-bit key.
 */
const EVP_PKEY *ipmc_getpubkey_answer_key(const ipmc_keys *ours, uint32_t local_capa,
                                          uint32_t requester_capa, bool requester_fingerprinted);

#endif
