/*
 * The ipmsg side of the crypto hooks (include/dengon/chat_crypto.h): one
 * recipient's verdict (encrypt, send in clear, hold for a key, refuse),
 * messages held until the provider resumes them, decrypting received
 * SENDMSG|ENCRYPTOPT, and routing GETPUBKEY/ANSPUBKEY (§6.2) to the provider.
 * The provider decides policy; this file only carries packets and texts in
 * their wire encoding.
 */
#ifndef DG_IPM_CRYPTOHOOK_H
#define DG_IPM_CRYPTOHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "messages.h"
#include "packet.h"
#include "state.h"

/* What Windows sends back (SENDMSG|NOLOGOPT|AUTORETOPT) when a body does not decrypt (§6.3). */
#define IPM_DECRYPT_ERROR_TEXT                                                                     \
    "The message could not be decrypted or its signature did not verify; it was not accepted."

typedef struct ipm_crypt_out {
    dg_chat_crypto_verdict verdict;
    char *extra; /* ENCRYPTED: the wire extra (free()) */
    int ext;     /* ENCRYPTED: the attach list is inside (ENCEXTMSGOPT) */
    char err[256];
} ipm_crypt_out;

/* Recipients a "TO:" list carries at most (§6.5); more, and none is sent. */
#define IPM_TOLIST_MAX 30

/*
 * Asks the provider about recipient t of the message to all[0..n_all) (text
 * and attach in UTF-8, as given to messages_send). With two or more (at most
 * IPM_TOLIST_MAX) and a provider with encrypt_to, it gets them all for the
 * TO list.
 */
void cryptohook_encrypt(ipm_state *st, const ipm_target *t, const ipm_target *all, size_t n_all,
                        uint32_t no, const char *text, size_t len, const char *attach, bool final,
                        ipm_crypt_out *out);
/* Acts on a verdict other than PLAIN-in-the-shared-buffer for recipient i of s. */
void cryptohook_dispatch(ipm_state *st, ipm_sent *s, size_t i, uint32_t no, uint32_t cmd, bool utf8,
                         const char *text, size_t len, const char *attach, ipm_crypt_out *out);
/* A SENDMSG|ENCRYPTOPT: 0 with *out (free out->plain), or -1 (not genuine). */
int cryptohook_decrypt(ipm_state *st, const ipmsg_packet *pkt, const ipm_user *u, const char *user,
                       const char *host, ipm_addr from, dg_chat_crypto_plain *out);
/*
 * The other recipients ("user@host", UTF-8, ourselves left out) a decrypted
 * message lists inside its ciphertext (§6.5): a new JSON array, or NULL
 * when it has no (valid) list or the provider cannot tell.
 */
json_t *cryptohook_tolist(ipm_state *st, const ipmsg_packet *pkt, const ipm_user *u,
                          const dg_chat_crypto_plain *plain);
/* GETPUBKEY / ANSPUBKEY. */
void cryptohook_on_keyex(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from);
/* An entry packet updated u; started for a BR_ENTRY. */
void cryptohook_on_entry(ipm_state *st, const ipm_user *u, bool started);
/* The status bits the provider wants advertised (0 without one). */
uint32_t cryptohook_status(const ipm_state *st);

/* chat.transport members (service.c). */
int cryptohook_set(ipm_state *st, const dg_chat_crypto_hooks *hooks, void *user);
int cryptohook_request_key(ipm_state *st, const char *who, const char *extra, int autoret);
void cryptohook_resume(ipm_state *st, const char *who);
/* At stop: frees held messages (their records go with messages_free). */
void cryptohook_free(ipm_state *st);

#endif
