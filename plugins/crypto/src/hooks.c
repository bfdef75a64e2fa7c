#include "hooks.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipmc_body.h"
#include "ipmc_consts.h"
#include "ipmc_error.h"
#include "ipmc_fingerprint.h"
#include "ipmc_keyex.h"
#include "ipmc_plain.h"
#include "ipmc_pubkey.h"
#include "ipmc_suite.h"
#include "ipmc_tolist.h"
#include "pins.h"

cr_peer *peer_find(cr_state *st, const char *key)
{
    for (cr_peer *p = st->peers; p; p = p->next)
        if (strcasecmp(p->key, key) == 0)
            return p;
    return NULL;
}

static cr_peer *peer_get(cr_state *st, const char *key)
{
    cr_peer *p = peer_find(st, key);
    if (p)
        return p;
    p = calloc(1, sizeof *p);
    if (!p || !(p->key = strdup(key))) {
        free(p);
        return NULL;
    }
    p->st = st;
    p->next = st->peers;
    st->peers = p;
    return p;
}

void peers_free(cr_state *st)
{
    while (st->peers) {
        cr_peer *p = st->peers;
        st->peers = p->next;
        if (p->timer)
            st->api->timer_cancel(st->ctx, p->timer);
        EVP_PKEY_free(p->pub);
        EVP_PKEY_free(p->pending);
        free(p->key);
        free(p);
    }
}

static void publish(cr_state *st, const char *topic, json_t *ev)
{
    if (!ev || st->api->publish(st->ctx, topic, ev) < 0)
        st->api->log(st->ctx, DG_LOG_ERROR, "event %s lost", topic);
}

/* ---- key requests ---- */

static void request_key(cr_state *st, cr_peer *p, bool autoret)
{
    char extra[16];
    ipmc_getpubkey_build(IPMC_CAPA_LOCAL, extra, sizeof extra);
    if (st->t->request_key(st->t->self, p->key, extra, autoret) == 0)
        p->asked = true;
}

static void on_wait_timeout(dg_ctx *ctx, dg_timer *timer, void *user)
{
    cr_peer *p = user;
    p->timer = NULL;
    p->waiting = false;
    p->st->api->log(ctx, DG_LOG_INFO, "no ANSPUBKEY from %s in time", p->key);
    p->st->t->resume_crypto(p->st->t->self, p->key);
}

/* ---- encrypt ---- */

/* The suite word for p's trusted key, or 0 when none fits. */
static uint32_t suite_for(const cr_peer *p)
{
    if (!p->pub)
        return 0;
    uint32_t capa = ipmc_suite_choose(IPMC_CAPA_LOCAL, p->capa);
    unsigned need = ipmc_suite_of(capa) == IPMC_SUITE_RSA2048_AES256  ? 2048
                    : ipmc_suite_of(capa) == IPMC_SUITE_RSA1024_BF128 ? 1024
                                                                      : 0;
    return need && ipmc_key_bits(p->pub) == need ? capa : 0;
}

/* The "TO:" list for peer (§6.5): only for ENCEXTMSGOPT peers and 2 to 30
 * recipients. NULL when none goes in, also when a name cannot be carried. */
static char *tolist_for(cr_state *st, const dg_chat_crypto_peer *peer,
                        const dg_chat_crypto_rcpt *to, size_t n_to)
{
    if (!to || n_to < 2 || n_to > IPMC_TOLIST_MAX || !(peer->status & IPMC_OPT_ENCEXTMSGOPT))
        return NULL;
    ipmc_rcpt r[IPMC_TOLIST_MAX];
    for (size_t i = 0; i < n_to; i++)
        r[i] = (ipmc_rcpt){to[i].user, to[i].host};
    char *list = NULL, err[160];
    if (ipmc_tolist_build(r, n_to, &list, err, sizeof err) != IPMC_OK)
        st->api->log(st->ctx, DG_LOG_DEBUG, "no TO list for %s: %s", peer->key, err);
    return list;
}

static dg_chat_crypto_verdict encrypt_one(cr_state *st, const dg_chat_crypto_peer *peer,
                                          uint32_t packet_no, const char *text, size_t text_len,
                                          const char *attach, size_t attach_len,
                                          const dg_chat_crypto_rcpt *to, size_t n_to, int final,
                                          char **extra, int *ext, char *err, size_t errlen)
{
    cr_peer *p = peer_get(st, peer->key);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return DG_CHAT_CRYPTO_REFUSE;
    }
    bool pinned = p->pub != NULL;
    /* A peer counts as able to encrypt only when its entry status says so
     * (§6.2); one we have not heard from yet, only when its key is pinned. */
    bool offers = peer->known ? (peer->status & IPMC_OPT_ENCRYPTOPT) != 0 : pinned;
    if (p->pending) {
        snprintf(err, errlen,
                 "the key of %s changed and is not trusted yet: check it with `dengon keys` "
                 "and accept it with `dengon keys accept %s`",
                 p->key, p->key);
        return DG_CHAT_CRYPTO_REFUSE;
    }
    /* Until our own keys exist (keygen.c) nothing can be encrypted or signed:
     * hold as for a missing peer key; the same timeout applies. */
    uint32_t capa = offers && st->ready ? suite_for(p) : 0;
    if (!capa && offers && (!pinned || !st->ready) && !final) {
        /* First message to a peer that may encrypt: ask for its key and hold (§6.2). */
        if (!p->waiting) {
            if (!pinned)
                request_key(st, p, false);
            p->waiting = true;
            p->timer = st->api->timer_add(st->ctx, (uint64_t)st->key_timeout_ms, 0, on_wait_timeout,
                                          p, NULL);
            if (!p->timer) {
                p->waiting = false;
                snprintf(err, errlen, "out of memory");
                return DG_CHAT_CRYPTO_REFUSE;
            }
        }
        return DG_CHAT_CRYPTO_WAIT;
    }
    if (!capa) {
        if (!pinned || st->allow_plain_pinned)
            return DG_CHAT_CRYPTO_PLAIN;
        snprintf(err, errlen,
                 "%s has a pinned key but %s: not sending in clear "
                 "(crypto.allow_plaintext_to_pinned is false)",
                 p->key, !offers ? "no longer offers encryption" : "no common encryption suite");
        return DG_CHAT_CRYPTO_REFUSE;
    }
    char *t = strndup(text, text_len);
    char *a = attach ? strndup(attach, attach_len) : NULL;
    char *tol = tolist_for(st, peer, to, n_to);
    /* The attach and TO lists go inside only for peers that read them there (ENCEXTMSGOPT). */
    *ext = (attach || tol) && (peer->status & IPMC_OPT_ENCEXTMSGOPT) ? 1 : 0;
    ipmc_body_in in = {
        .capa = capa, .packet_no = packet_no, .peer_key = p->pub, .sign_key = st->keys.rsa2048};
    int rc = t && (!attach || a)
                 ? ipmc_body_encrypt(&in, t, *ext ? a : NULL, tol, extra, err, errlen)
                 : IPMC_ERR_ARG;
    free(t);
    free(a);
    free(tol);
    if (rc != IPMC_OK) {
        if (err[0] == '\0')
            snprintf(err, errlen, "encryption failed: %s", ipmc_status_str(rc));
        return DG_CHAT_CRYPTO_REFUSE;
    }
    return DG_CHAT_CRYPTO_ENCRYPTED;
}

static dg_chat_crypto_verdict cr_encrypt(void *user, const dg_chat_crypto_peer *peer,
                                         uint32_t packet_no, const char *text, size_t text_len,
                                         const char *attach, size_t attach_len, int final,
                                         char **extra, int *ext, char *err, size_t errlen)
{
    return encrypt_one(user, peer, packet_no, text, text_len, attach, attach_len, NULL, 0, final,
                       extra, ext, err, errlen);
}

static dg_chat_crypto_verdict cr_encrypt_to(void *user, const dg_chat_crypto_peer *peer,
                                            uint32_t packet_no, const char *text, size_t text_len,
                                            const char *attach, size_t attach_len,
                                            const dg_chat_crypto_rcpt *to, size_t n_to, int final,
                                            char **extra, int *ext, char *err, size_t errlen)
{
    return encrypt_one(user, peer, packet_no, text, text_len, attach, attach_len, to, n_to, final,
                       extra, ext, err, errlen);
}

/* ---- decrypt ---- */

static void rejected(cr_state *st, const dg_chat_crypto_peer *peer, const char *pn, size_t pn_len,
                     int code, const char *reason)
{
    publish(st, "crypto.message.rejected",
            json_pack("{s:s, s:s, s:s%, s:s, s:s, s:I}", "from", peer->key, "address",
                      peer->address, "packet_no", pn, pn_len, "reason", reason, "code",
                      ipmc_status_str(code), "time", (json_int_t)cr_now()));
}

static int cr_decrypt(void *user, const dg_chat_crypto_peer *peer, const char *packet_no,
                      size_t packet_no_len, uint32_t opts, const char *extra, size_t len,
                      dg_chat_crypto_plain *out, char *err, size_t errlen)
{
    cr_state *st = user;
    if (!st->ready) {
        snprintf(err, errlen, "our key pairs are still being created");
        rejected(st, peer, packet_no, packet_no_len, IPMC_ERR_NOKEY, err);
        return -1;
    }
    cr_peer *p = peer_get(st, peer->key);
    /* Windows copies at most 15 characters of the field into the IV (§6.3). */
    char pn[16];
    snprintf(pn, sizeof pn, "%.*s", (int)(packet_no_len < 15 ? packet_no_len : 15), packet_no);
    /* Verify with the trusted key, or with a changed one (tampering still shows),
     * never report the latter as verified. */
    const EVP_PKEY *sender = p ? (p->pending ? p->pending : p->pub) : NULL;
    if (sender && ipmc_key_bits(sender) != 2048)
        sender = NULL;
    ipmc_body_src src = {.extra = extra,
                         .len = len,
                         .packet_no = pn,
                         .ext = (opts & IPMC_OPT_ENCEXTMSGOPT) != 0,
                         .sender = sender};
    ipmc_body_out bo = {0};
    int rc = ipmc_body_decrypt(&src, &st->keys, &bo, err, errlen);
    if (rc != IPMC_OK) {
        rejected(st, peer, packet_no, packet_no_len, rc, err);
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->plain = (char *)bo.plain;
    out->plain_len = bo.plain_len;
    out->text = bo.text;
    out->attach = bo.attach;
    snprintf(out->suite, sizeof out->suite, "%s%s", ipmc_suite_name(bo.suite),
             bo.sig == IPMC_SIG_SHA256_OK ? "/SHA256"
             : bo.sig == IPMC_SIG_SHA1_OK ? "/SHA1"
                                          : "");
    bool sig_ok = bo.sig == IPMC_SIG_SHA1_OK || bo.sig == IPMC_SIG_SHA256_OK;
    out->verified = sig_ok && p && !p->pending && p->pub == sender;
    if (out->verified)
        out->note[0] = '\0';
    else if (bo.sig == IPMC_SIG_NONE)
        snprintf(out->note, sizeof out->note, "unsigned (the legacy RSA-1024/Blowfish suite)");
    else if (p && p->pending)
        snprintf(out->note, sizeof out->note,
                 "signed by a changed key that is not accepted yet (dengon keys accept %s)",
                 peer->key);
    else {
        snprintf(out->note, sizeof out->note, "the sender's key is unknown: requested");
        /* Windows fetches the key to verify later messages (GETPUBKEY|AUTORETOPT, §6.3). */
        if (p && !p->asked)
            request_key(st, p, true);
    }
    bo.plain = NULL;
    ipmc_body_out_free(&bo);
    return 0;
}

static dg_chat_crypto_rcpt *cr_tolist(void *user, const dg_chat_crypto_plain *plain, uint32_t opts,
                                      size_t *n, char *err, size_t errlen)
{
    (void)user;
    *n = 0;
    if (errlen)
        err[0] = '\0';
    ipmc_plain_parts parts;
    if (!(opts & IPMC_OPT_ENCEXTMSGOPT) || !plain || !plain->plain ||
        ipmc_plain_split((const uint8_t *)plain->plain, plain->plain_len, 1, &parts) != IPMC_OK ||
        !parts.tolist)
        return NULL;
    ipmc_tolist t;
    if (ipmc_tolist_parse(parts.tolist, &t, err, errlen) != IPMC_OK)
        return NULL;
    /* One block: the array, then the strings it points to. */
    size_t bytes = t.n * sizeof(dg_chat_crypto_rcpt);
    for (size_t i = 0; i < t.n; i++)
        bytes += strlen(t.v[i].user) + strlen(t.v[i].host) + 2;
    dg_chat_crypto_rcpt *v = malloc(bytes);
    if (v) {
        char *p = (char *)(v + t.n);
        for (size_t i = 0; i < t.n; i++) {
            size_t ul = strlen(t.v[i].user) + 1, hl = strlen(t.v[i].host) + 1;
            v[i].user = memcpy(p, t.v[i].user, ul);
            v[i].host = memcpy(p + ul, t.v[i].host, hl);
            p += ul + hl;
        }
        *n = t.n;
    } else {
        snprintf(err, errlen, "out of memory");
    }
    ipmc_tolist_free(&t);
    return v;
}

/* ---- key exchange ---- */

static char *cr_on_getpubkey(void *user, const dg_chat_crypto_peer *peer, const char *extra,
                             size_t len)
{
    cr_state *st = user;
    uint32_t capa;
    char err[128], fp[17];
    if (!st->ready)
        return NULL; /* nothing to answer with yet: we do not advertise ENCRYPTOPT */
    if (ipmc_getpubkey_parse(extra, len, &capa, err, sizeof err) != IPMC_OK) {
        st->api->log(st->ctx, DG_LOG_DEBUG, "bad GETPUBKEY from %s: %s", peer->key, err);
        return NULL;
    }
    const EVP_PKEY *k = ipmc_getpubkey_answer_key(&st->keys, IPMC_CAPA_LOCAL, capa,
                                                  ipmc_username_fingerprint(peer->user, fp));
    char *answer = NULL;
    if (k && ipmc_anspubkey_build(IPMC_CAPA_LOCAL, k, &answer, err, sizeof err) != IPMC_OK)
        answer = NULL;
    return answer;
}

static json_t *key_event(const cr_peer *p, const char *address, const EVP_PKEY *k)
{
    char fp[48];
    cr_fingerprint(k, fp);
    return json_pack("{s:s, s:s, s:s, s:i, s:I}", "peer", p->key, "address", address, "fingerprint",
                     fp, "bits", (int)ipmc_key_bits(k), "time", (json_int_t)cr_now());
}

static void cr_on_anspubkey(void *user, const dg_chat_crypto_peer *peer, const char *extra,
                            size_t len)
{
    cr_state *st = user;
    uint32_t capa;
    EVP_PKEY *k = NULL;
    char err[160];
    if (ipmc_anspubkey_parse(extra, len, &capa, &k, err, sizeof err) != IPMC_OK) {
        st->api->log(st->ctx, DG_LOG_WARN, "bad ANSPUBKEY from %s: %s", peer->key, err);
        return;
    }
    cr_peer *p = peer_get(st, peer->key);
    char fp[17];
    /* A fingerprinted name must match the key it answers with (§6.4). */
    if (p && ipmc_username_fingerprint(peer->user, fp) &&
        (ipmc_key_bits(k) != 2048 ||
         ipmc_username_verify(peer->user, k, err, sizeof err) != IPMC_OK)) {
        json_t *ev = key_event(p, peer->address, k);
        json_object_set_new(ev, "reason",
                            json_string("the key does not match the fingerprint in the user name"));
        json_object_set_new(ev, "user", json_string(peer->user));
        publish(st, "crypto.key.rejected", ev);
        st->api->log(st->ctx, DG_LOG_WARN, "%s: key does not match its fingerprinted name",
                     peer->key);
        EVP_PKEY_free(k);
        k = NULL;
    } else if (p && !p->pub) {
        p->pub = k;
        p->capa = capa;
        k = NULL;
        if (pins_add(st, p) == 0)
            publish(st, "crypto.key.pinned", key_event(p, peer->address, p->pub));
    } else if (p && ipmc_pubkey_equal(p->pub, k)) {
        p->capa = capa;
        pins_seen(st, p);
    } else if (p && (!p->pending || !ipmc_pubkey_equal(p->pending, k))) {
        EVP_PKEY_free(p->pending);
        p->pending = k;
        p->pending_capa = capa;
        k = NULL;
        pins_set_pending(st, p);
        char old[48];
        cr_fingerprint(p->pub, old);
        json_t *ev = key_event(p, peer->address, p->pending);
        json_object_set_new(ev, "old_fingerprint", json_string(old));
        json_object_set_new(ev, "trust", json_string("changed"));
        publish(st, "crypto.key.changed", ev);
        st->api->log(st->ctx, DG_LOG_WARN,
                     "the key of %s CHANGED (now %s, pinned %s): marked unverified until "
                     "`dengon keys accept %s`",
                     p->key, json_string_value(json_object_get(ev, "fingerprint")), old, p->key);
    }
    EVP_PKEY_free(k);
    /* Without our keys the held messages wait for hooks_keys_ready. */
    if (p && p->waiting && st->ready) {
        st->api->timer_cancel(st->ctx, p->timer);
        p->timer = NULL;
        p->waiting = false;
        st->t->resume_crypto(st->t->self, p->key);
    }
}

static void cr_on_peer(void *user, const dg_chat_crypto_peer *peer)
{
    cr_state *st = user;
    if (!(peer->status & IPMC_OPT_ENCRYPTOPT))
        return;
    /* Once per run, and again whenever the peer (re)starts: it may show a
     * new key, which pinning must see. */
    cr_peer *p = peer_get(st, peer->key);
    if (p && (!p->asked || peer->started))
        request_key(st, p, false);
}

static uint32_t cr_status_bits(void *user)
{
    const cr_state *st = user;
    return st->ready ? IPMC_OPT_ENCRYPTOPT | IPMC_OPT_ENCEXTMSGOPT : 0;
}

static int cr_name_suffix(void *user, char *out, size_t cap)
{
    const cr_state *st = user;
    char hex[17];
    if (!st->fingerprint_name)
        return 0;
    if (!st->ready)
        return st->gen.running ? -1 : 0; /* -1: asked again when the keys are there */
    if (ipmc_fingerprint_hex(st->keys.rsa2048, hex) != IPMC_OK)
        return 0;
    return snprintf(out, cap, "-<%s>", hex) < (int)cap ? 1 : 0;
}

static void stop_waiting(cr_peer *p)
{
    if (p->timer)
        p->st->api->timer_cancel(p->st->ctx, p->timer);
    p->timer = NULL;
    p->waiting = false;
    p->st->t->resume_crypto(p->st->t->self, p->key);
}

void hooks_keys_ready(cr_state *st)
{
    st->ready = true;
    /* Installing the same table again makes ipmsg re-read status_bits and
     * announce the change (BR_ABSENCE round, §4.2). */
    if (st->hooked && st->t->set_crypto(st->t->self, &st->hooks, st) != 0)
        st->api->log(st->ctx, DG_LOG_WARN, "cannot announce that encryption is available");
    /* Resuming may add peers at the head of the list: the walk goes on behind. */
    for (cr_peer *p = st->peers; p; p = p->next) {
        if (!p->waiting)
            continue;
        if (p->pub || p->pending)
            stop_waiting(p);
        else if (!p->asked)
            request_key(st, p, false); /* its ANSPUBKEY resumes (or the timer) */
    }
}

void hooks_keys_failed(cr_state *st)
{
    /* ipmsg waits for our name suffix: there will be none (name_suffix says 0 now). */
    if (st->hooked)
        (void)st->t->set_crypto(st->t->self, &st->hooks, st);
    for (cr_peer *p = st->peers; p; p = p->next)
        if (p->waiting)
            stop_waiting(p);
}

/* Keys never carry a user name's fingerprint field (§6.4, ADR 0017): the
 * user may still type it ("bob-<hex>@pc"). */
static cr_peer *peer_find_user(cr_state *st, const char *key)
{
    const char *at = strrchr(key, '@');
    char user[256], plain[512];
    size_t ulen = at ? (size_t)(at - key) : 0;
    if (!at || ulen >= sizeof user)
        return peer_find(st, key);
    memcpy(user, key, ulen);
    user[ulen] = '\0';
    if (!ipmc_username_fingerprint(user, NULL))
        return peer_find(st, key);
    snprintf(plain, sizeof plain, "%.*s%s", (int)(ulen - 19), key, at);
    return peer_find(st, plain);
}

int hooks_accept(cr_state *st, const char *key, char *err, size_t errlen)
{
    cr_peer *p = peer_find_user(st, key);
    if (!p || !p->pending) {
        snprintf(err, errlen, "%s has no changed key to accept (see `dengon keys`)", key);
        return -1;
    }
    EVP_PKEY_free(p->pub);
    p->pub = p->pending;
    p->capa = p->pending_capa;
    p->pending = NULL;
    p->pending_capa = 0;
    if (pins_accept(st, p) != 0) {
        snprintf(err, errlen, "cannot store the accepted key");
        return -1;
    }
    char fp[48];
    cr_fingerprint(p->pub, fp);
    publish(st, "crypto.key.accepted",
            json_pack("{s:s, s:s, s:i, s:I}", "peer", p->key, "fingerprint", fp, "bits",
                      (int)ipmc_key_bits(p->pub), "time", (json_int_t)cr_now()));
    return 0;
}

void hooks_init(cr_state *st)
{
    st->hooks = (dg_chat_crypto_hooks){
        .struct_size = sizeof(dg_chat_crypto_hooks),
        .status_bits = cr_status_bits,
        .encrypt = cr_encrypt,
        .decrypt = cr_decrypt,
        .on_getpubkey = cr_on_getpubkey,
        .on_anspubkey = cr_on_anspubkey,
        .on_peer = cr_on_peer,
        .encrypt_to = cr_encrypt_to,
        .tolist = cr_tolist,
        .name_suffix = cr_name_suffix,
    };
}
