/*
 * AES-256-CTR over a whole §6.6 TCP stream (headers included), as
 * aes.cpp EncryptCTR does: the initial counter block is the request's packet
 * number printed with "%d" into a zeroed 16-byte buffer (so a number above
 * 2^31-1 prints negative, as on Windows), and the block is incremented as
 * one 128-bit big-endian number from its last byte. This is exactly
 * OpenSSL's AES-256-CTR with that block as IV. Encryption and decryption are
 * the same operation; data may be fed in pieces of any size.
 */
#ifndef DG_IPMC_CTR_H
#define DG_IPMC_CTR_H

#include <stddef.h>
#include <stdint.h>

typedef struct ipmc_ctr ipmc_ctr;

/* The initial counter block for a request packet number. */
void ipmc_ctr_nonce(uint32_t packet_no, uint8_t nonce[16]);

int ipmc_ctr_new(const uint8_t key[32], uint32_t packet_no, ipmc_ctr **out);

/* XORs the next len bytes of key stream into in -> out (in == out allowed). */
int ipmc_ctr_apply(ipmc_ctr *c, const uint8_t *in, uint8_t *out, size_t len);

void ipmc_ctr_free(ipmc_ctr *c);

#endif
