/*
 * Hooks a crypto provider hands to the ipmsg plugin with the chat.transport
 * member set_crypto (chat_transport.h): IP Messenger's encryption extension
 * (docs/ipmsg-protocol.md §6, docs/protocol/ipmsg-crypto.md "Wiring").
 *
 * The ipmsg plugin keeps the protocol (packets, charsets, acks, retries,
 * the inbox); the provider keeps keys, pins and policy. Strings handed to a
 * hook are borrowed for the call. Texts inside encrypted bodies are in wire
 * encoding (UTF-8 when the packet has UTF8OPT, else the legacy code page):
 * the ipmsg plugin converts them, the provider only encrypts bytes. Every
 * hook runs on the loop thread. Like the transport table, this table only
 * grows at its end (struct_size tells which members a provider set).
 */
#ifndef DENGON_CHAT_CRYPTO_H
#define DENGON_CHAT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* A peer as the ipmsg plugin knows it when a hook runs. */
typedef struct dg_chat_crypto_peer {
    const char *key;     /* user@host (UTF-8) */
    const char *user;    /* the user name alone (may carry a "-<fingerprint>", §6.4) */
    const char *address; /* "a.b.c.d:port" the packet came from / goes to */
    uint32_t status;     /* last entry status bits (ENCRYPTOPT, ENCEXTMSGOPT...), 0 if unknown */
    int known;           /* 1 when the peer is in the user table (status is meaningful) */
    int started;         /* on_peer: 1 for a BR_ENTRY (the peer just started: its key may be new) */
} dg_chat_crypto_peer;

/* What encrypt decided for one recipient. */
typedef enum dg_chat_crypto_verdict {
    DG_CHAT_CRYPTO_ENCRYPTED = 0, /* *extra is the SENDMSG|ENCRYPTOPT extra */
    DG_CHAT_CRYPTO_PLAIN = 1,     /* send in clear: the peer cannot decrypt, and that is allowed */
    DG_CHAT_CRYPTO_WAIT = 2,      /* a key was requested: hold the message until resume_crypto */
    DG_CHAT_CRYPTO_REFUSE = 3,    /* do not send: err says why (pinned peer without key) */
} dg_chat_crypto_verdict;

/* A decrypted body (wire encoding, pointers into plain). */
typedef struct dg_chat_crypto_plain {
    char *plain;        /* whole plaintext, malloc'd (free()), ends with NUL */
    size_t plain_len;   /* with the final NUL */
    const char *text;   /* NUL-terminated, into plain */
    const char *attach; /* with ENCEXTMSGOPT: attach list (maybe ""), else NULL */
    int verified;       /* 1: signed by the pinned, trusted key of this peer */
    char note[160];     /* why not verified ("" when verified) */
    char suite[48];     /* e.g. "RSA2048+AES256/SHA256" */
} dg_chat_crypto_plain;

/* One recipient of a message in a "TO:" recipient list (§6.5), wire encoding. */
typedef struct dg_chat_crypto_rcpt {
    const char *user;
    const char *host;
} dg_chat_crypto_rcpt;

typedef struct dg_chat_crypto_hooks {
    uint32_t struct_size;
    /* Status bits to advertise in our entry packets: ENCRYPTOPT, ENCEXTMSGOPT. */
    uint32_t (*status_bits)(void *user);
    /*
     * One recipient of a SENDMSG with packet number packet_no: text and attach
     * (NULL for none) in wire encoding, without NULs. final != 0 after a WAIT
     * was resumed: the provider must now decide (no second WAIT). On
     * ENCRYPTED *extra (malloc'd) is the extra and *ext says the attach list
     * is inside it (ENCEXTMSGOPT); otherwise the attach list goes in clear
     * after the extra (§1.4). err gets the reason of a REFUSE.
     */
    dg_chat_crypto_verdict (*encrypt)(void *user, const dg_chat_crypto_peer *peer,
                                      uint32_t packet_no, const char *text, size_t text_len,
                                      const char *attach, size_t attach_len, int final,
                                      char **extra, int *ext, char *err, size_t errlen);
    /*
     * A SENDMSG|ENCRYPTOPT: packet_no is the header's packet-number field as
     * received (the IV), opts the command's options. 0 with *out filled, or
     * -1 with the reason in err (the message is then not genuine; the ipmsg
     * plugin sends the error auto-reply and drops it).
     */
    int (*decrypt)(void *user, const dg_chat_crypto_peer *peer, const char *packet_no,
                   size_t packet_no_len, uint32_t opts, const char *extra, size_t len,
                   dg_chat_crypto_plain *out, char *err, size_t errlen);
    /* GETPUBKEY: a malloc'd ANSPUBKEY extra to send back, or NULL for no answer. */
    char *(*on_getpubkey)(void *user, const dg_chat_crypto_peer *peer, const char *extra,
                          size_t len);
    /* ANSPUBKEY from peer. */
    void (*on_anspubkey)(void *user, const dg_chat_crypto_peer *peer, const char *extra,
                         size_t len);
    /* An entry packet (BR_ENTRY, ANSENTRY, BR_ABSENCE) from a peer: status is current. */
    void (*on_peer)(void *user, const dg_chat_crypto_peer *peer);

    /* ---- appended for the recipient list (§6.5): struct_size tells ---- */

    /*
     * encrypt for a message with several recipients: to[0..n_to) are all of
     * them (this peer included), user and host in this peer's wire encoding.
     * When set, the ipmsg plugin calls it instead of encrypt for messages to
     * two or more recipients; the provider puts the list inside the
     * ciphertext ("TO:", §6.5) when the peer reads it there (ENCEXTMSGOPT)
     * and there are at most 30.
     */
    dg_chat_crypto_verdict (*encrypt_to)(void *user, const dg_chat_crypto_peer *peer,
                                         uint32_t packet_no, const char *text, size_t text_len,
                                         const char *attach, size_t attach_len,
                                         const dg_chat_crypto_rcpt *to, size_t n_to, int final,
                                         char **extra, int *ext, char *err, size_t errlen);
    /*
     * The "TO:" list inside a plaintext decrypt returned, for a SENDMSG with
     * options opts: one malloc'd block (a single free()) holding *n
     * recipients and their strings (wire encoding), or NULL with *n = 0 when
     * there is none, or with a reason in err when it is malformed (the
     * message itself stands).
     */
    dg_chat_crypto_rcpt *(*tolist)(void *user, const dg_chat_crypto_plain *plain, uint32_t opts,
                                   size_t *n, char *err, size_t errlen);

    /* ---- appended for fingerprinted user names (§6.4): struct_size tells ---- */

    /*
     * The suffix IP Messenger v3+ appends to our user name, "-<16 hex>"
     * computed from our RSA-2048 key, so peers can check the key against the
     * name. 1 with the suffix in out (cap bytes), 0 when the name stays
     * plain (the user turned it off, or no RSA-2048 key), -1 when not known
     * yet (keys being made): the provider installs the same table again
     * (set_crypto) when it is, and the ipmsg plugin asks again. The ipmsg
     * plugin asks before its first BR_ENTRY and keeps the answer for the run.
     */
    int (*name_suffix)(void *user, char *out, size_t cap);
} dg_chat_crypto_hooks;

/* Size of the first table (up to on_peer): the smallest a provider may hand over. */
#define DG_CHAT_CRYPTO_HOOKS_V1_SIZE                                                               \
    (offsetof(dg_chat_crypto_hooks, on_peer) +                                                     \
     sizeof(void (*)(void *, const dg_chat_crypto_peer *)))
/* True when the provider's table has member and it is set. */
#define DG_CHAT_CRYPTO_HAS(h, member)                                                              \
    ((h) != NULL &&                                                                                \
     offsetof(dg_chat_crypto_hooks, member) + sizeof((h)->member) <= (size_t)(h)->struct_size &&   \
     (h)->member != NULL)

#endif
