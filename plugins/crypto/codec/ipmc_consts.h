/*
 * IP Messenger encryption constants (docs/ipmsg-protocol.md §6.1, values from
 * ipmsg.h v4.50). They live in their own namespace: the capability word is
 * carried as hex in GETPUBKEY/ANSPUBKEY and in front of every encrypted body,
 * never in the command field. iptux's header has different, stale values for
 * AES and signing: these are the Windows ones.
 */
#ifndef DG_IPMC_CONSTS_H
#define DG_IPMC_CONSTS_H

#define IPMC_RSA_1024 0x00000002u
#define IPMC_RSA_2048 0x00000004u
#define IPMC_BLOWFISH_128 0x00020000u
#define IPMC_AES_256 0x00100000u
#define IPMC_PACKETNO_IV 0x00800000u
#define IPMC_ENCODE_BASE64 0x01000000u
#define IPMC_NOENC_FILEBODY 0x04000000u
#define IPMC_SIGN_SHA1 0x20000000u
#define IPMC_SIGN_SHA256 0x40000000u

/* What Windows advertises for each key (pubkey.cpp SetupRSAKey, XP and later). */
#define IPMC_CAPA_KEY1024                                                                          \
    (IPMC_RSA_1024 | IPMC_BLOWFISH_128 | IPMC_PACKETNO_IV | IPMC_ENCODE_BASE64)
#define IPMC_CAPA_KEY2048                                                                          \
    (IPMC_RSA_2048 | IPMC_AES_256 | IPMC_SIGN_SHA1 | IPMC_SIGN_SHA256 | IPMC_PACKETNO_IV |         \
     IPMC_NOENC_FILEBODY | IPMC_ENCODE_BASE64)
/* Our advertised capability: both keys, 0x65920006 like a modern Windows. */
#define IPMC_CAPA_LOCAL (IPMC_CAPA_KEY1024 | IPMC_CAPA_KEY2048)

/* §6.6 file-request modes (the hex word inside the plaintext request). */
#define IPMC_FILECAPA_AES (IPMC_AES_256 | IPMC_PACKETNO_IV) /* 0x900000 */
#define IPMC_FILECAPA_NOENC IPMC_NOENC_FILEBODY             /* 0x4000000 */

/* Command-field options that matter to callers of this library (§3.1). */
#define IPMC_OPT_ENCFILEOPT 0x00000800u
#define IPMC_OPT_CAPFILEENCOPT 0x00040000u
#define IPMC_OPT_ENCRYPTOPT 0x00400000u
#define IPMC_OPT_ENCEXTMSGOPT 0x04000000u

#define IPMC_AES_KEY_LEN 32
#define IPMC_BF_KEY_LEN 16
#define IPMC_FINGERPRINT_HEX 16

#endif
