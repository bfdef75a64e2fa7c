/*
 * The crypto.keys service (<dengon/crypto_keys.h>): seals and opens bodies
 * for other plugins (the encrypted file transfer) with our key pairs and the
 * peers' pinned keys, exactly like message bodies (§6.3), without the keys
 * leaving this plugin. Loop thread only, like the rest of the plugin.
 */
#include "service.h"

#include <dengon/crypto_keys.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "ipmc_body.h"
#include "ipmc_consts.h"
#include "ipmc_error.h"
#include "ipmc_fingerprint.h"
#include "ipmc_pubkey.h"
#include "ipmc_suite.h"

/* The suite a modern pair uses (§6.3): RSA-2048, AES-256, SHA-256, PACKETNO_IV, base64. */
#define MODERN_CAPA                                                                                \
    (IPMC_RSA_2048 | IPMC_AES_256 | IPMC_SIGN_SHA256 | IPMC_PACKETNO_IV | IPMC_ENCODE_BASE64)

/* Keys are made in the background on a first start: nothing works before. */
static bool ready(const cr_state *st)
{
    return st->keys.rsa2048 != NULL;
}

/*
 * who: "<user>@<host>", the user maybe with a "-<16 hex>" field (§6.4). The
 * key of the person (ADR 0017: keys carry no fingerprint field) goes to key,
 * the user name as given to user. false when it does not fit.
 */
static bool split_who(const char *who, char *key, size_t keycap, char *user, size_t usercap)
{
    const char *at = who ? strrchr(who, '@') : NULL;
    if (!at || (size_t)(at - who) >= usercap)
        return false;
    size_t ulen = (size_t)(at - who);
    memcpy(user, who, ulen);
    user[ulen] = '\0';
    size_t base = ipmc_username_fingerprint(user, NULL) ? ulen - 19 : ulen;
    int n = snprintf(key, keycap, "%.*s%s", (int)base, user, at);
    return n > 0 && (size_t)n < keycap;
}

/* The trusted RSA-2048 key pinned for key, or NULL (err). */
static const EVP_PKEY *trusted_key(cr_state *st, const char *key, char *err, size_t errlen)
{
    cr_peer *p = key ? peer_find(st, key) : NULL;
    if (!p || !p->pub) {
        snprintf(err, errlen, "no key pinned for %s", key ? key : "?");
        return NULL;
    }
    if (p->pending) {
        snprintf(err, errlen, "%s shows a changed key that is not accepted yet", key);
        return NULL;
    }
    if (ipmc_key_bits(p->pub) != 2048) {
        snprintf(err, errlen, "the key pinned for %s is not RSA-2048", key);
        return NULL;
    }
    return p->pub;
}

static int svc_qualifies(void *self, const char *peer, const char *user, char *err, size_t errlen)
{
    cr_state *st = self;
    if (!ready(st)) {
        snprintf(err, errlen, "our key pairs are not ready yet");
        return DG_CRYPTO_KEYS_NOT_READY;
    }
    const EVP_PKEY *key = trusted_key(st, peer, err, errlen);
    /* A fingerprinted name that matches the pinned key (§6.6, as Windows checks). */
    return key && user && ipmc_username_verify(user, key, err, errlen) == IPMC_OK ? 1 : 0;
}

static int svc_seal(void *self, const char *peer, uint32_t packet_no, const void *plain, size_t len,
                    char **extra, char *err, size_t errlen)
{
    cr_state *st = self;
    *extra = NULL;
    if (!ready(st)) {
        snprintf(err, errlen, "our key pairs are not ready yet");
        return DG_CRYPTO_KEYS_NOT_READY;
    }
    const EVP_PKEY *key = trusted_key(st, peer, err, errlen);
    if (!key)
        return -1;
    cr_peer *p = peer_find(st, peer);
    /* What the peer offered in ANSPUBKEY, when known; a pin loaded from the
     * store alone gets the modern suite its RSA-2048 key implies. */
    uint32_t capa = p->capa ? ipmc_suite_choose(IPMC_CAPA_LOCAL, p->capa) : MODERN_CAPA;
    if (ipmc_suite_of(capa) != IPMC_SUITE_RSA2048_AES256 ||
        !(capa & (IPMC_SIGN_SHA256 | IPMC_SIGN_SHA1))) {
        snprintf(err, errlen, "%s offers no signed RSA-2048/AES-256 suite", peer);
        return -1;
    }
    ipmc_body_in in = {
        .capa = capa, .packet_no = packet_no, .peer_key = key, .sign_key = st->keys.rsa2048};
    return ipmc_body_encrypt_raw(&in, plain, len, extra, err, errlen) == IPMC_OK ? 0 : -1;
}

static int svc_open(void *self, const char *sender_who, const char *packet_no, size_t packet_no_len,
                    const char *extra, size_t len, char **plain, size_t *plain_len, int *verified,
                    char *peer, size_t cap, char *err, size_t errlen)
{
    cr_state *st = self;
    *plain = NULL;
    *plain_len = 0;
    *verified = 0;
    if (!ready(st)) {
        snprintf(err, errlen, "our key pairs are not ready yet");
        return DG_CRYPTO_KEYS_NOT_READY;
    }
    char user[256];
    if (!split_who(sender_who, peer, cap, user, sizeof user)) {
        snprintf(err, errlen, "bad sender name");
        return -1;
    }
    cr_peer *p = peer_find(st, peer);
    const EVP_PKEY *sender = p && p->pub && ipmc_key_bits(p->pub) == 2048 ? p->pub : NULL;
    /* A fingerprint in the sender's name must be the one of the key pinned for it. */
    if (sender && ipmc_username_fingerprint(user, NULL) &&
        ipmc_username_verify(user, sender, err, errlen) != IPMC_OK)
        return -1;
    /* Windows copies at most 15 characters of the field into the IV (§6.3). */
    char pn[16];
    snprintf(pn, sizeof pn, "%.*s", (int)(packet_no_len < 15 ? packet_no_len : 15), packet_no);
    ipmc_body_src src = {.extra = extra, .len = len, .packet_no = pn, .sender = sender};
    ipmc_body_out bo = {0};
    if (ipmc_body_decrypt(&src, &st->keys, &bo, err, errlen) != IPMC_OK)
        return -1;
    /* §6.6 requests carry an AES-256 key: wrapped in legacy RSA-1024 it
     * would be only as strong as that. v4 peers always use RSA-2048. */
    if (bo.suite != IPMC_SUITE_RSA2048_AES256) {
        ipmc_body_out_free(&bo);
        snprintf(err, errlen, "a file request must use RSA-2048 + AES-256");
        return -1;
    }
    bool sig_ok = bo.sig == IPMC_SIG_SHA1_OK || bo.sig == IPMC_SIG_SHA256_OK;
    *verified = sig_ok && sender && !p->pending;
    *plain = (char *)bo.plain;
    *plain_len = bo.plain_len;
    bo.plain = NULL;
    ipmc_body_out_free(&bo);
    return 0;
}

static int svc_own_user(void *self, const char *base, char *out, size_t cap)
{
    cr_state *st = self;
    if (!ready(st))
        return DG_CRYPTO_KEYS_NOT_READY;
    if (ipmc_username_fingerprint(base, NULL)) {
        int n = snprintf(out, cap, "%s", base);
        return n < 0 || (size_t)n >= cap ? -1 : 0;
    }
    return ipmc_username_add_fingerprint(base, st->keys.rsa2048, out, cap) == IPMC_OK ? 0 : -1;
}

int service_provide(cr_state *st)
{
    static dg_crypto_keys_v1 table; /* one crypto plugin per process */
    table = (dg_crypto_keys_v1){
        .struct_size = sizeof(dg_crypto_keys_v1),
        .self = st,
        .qualifies = svc_qualifies,
        .seal = svc_seal,
        .open = svc_open,
        .own_user = svc_own_user,
    };
    return st->api->service_provide(st->ctx, DG_CRYPTO_KEYS_SERVICE, DG_CRYPTO_KEYS_VERSION, &table,
                                    sizeof table) == DG_OK
               ? 0
               : -1;
}
