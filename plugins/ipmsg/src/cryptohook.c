#include "cryptohook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fpname.h"
#include "presence.h"
#include "resolve.h"
#include "rx.h"
#include "tx.h"

/* A recipient whose message waits for the provider (a WAIT verdict). */
typedef struct ipm_held {
    struct ipm_held *next;
    ipm_sent *s; /* stays alive: the recipient is SENDING, so the record is not trimmed */
    size_t rcpt;
    uint32_t no, cmd;
    bool utf8;
    char *text, *attach; /* UTF-8 */
    size_t len;
} ipm_held;

static void held_free(ipm_held *h)
{
    free(h->text);
    free(h->attach);
    free(h);
}

static void make_peer(const ipm_user *u, const char *key, const char *user, ipm_addr a,
                      char addr[IPM_ADDR_TEXT], dg_chat_crypto_peer *p)
{
    *p = (dg_chat_crypto_peer){
        .key = key,
        .user = user,
        .address = ipm_addr_format(a, addr),
        .status = u ? u->status : 0,
        .known = u != NULL,
    };
}

/* UTF-8 -> the wire encoding of a packet with (utf8) or without UTF8OPT. */
static char *wire_text(ipm_state *st, bool utf8, const char *in, size_t len, size_t *out_len)
{
    char *out = NULL;
    if (ipmsg_encode(st->cs, utf8 ? IPMSG_ENC_UTF8 : IPMSG_ENC_LEGACY, in, len, &out, out_len, NULL,
                     NULL) != IPMSG_OK)
        return NULL;
    return out;
}

/* The recipients of a message in t's wire encoding, for the TO list (§6.5).
 * A recipient known only by its address has no user:host and is left out. */
typedef struct ipm_tolist {
    dg_chat_crypto_rcpt v[IPM_TOLIST_MAX];
    char *names[2 * IPM_TOLIST_MAX];
    size_t n, nnames;
} ipm_tolist;

static void tolist_free(ipm_tolist *l)
{
    for (size_t i = 0; i < l->nnames; i++)
        free(l->names[i]);
    l->n = l->nnames = 0;
}

static int tolist_make(ipm_state *st, const ipm_target *t, const ipm_target *all, size_t n_all,
                       ipm_tolist *l)
{
    l->n = l->nnames = 0;
    for (size_t i = 0; i < n_all && l->n < IPM_TOLIST_MAX; i++) {
        const ipm_user *u = ipm_users_find_key(&st->users, all[i].key);
        const char *at = strrchr(all[i].key, '@');
        if (!u && !at)
            continue;
        size_t ul = u ? strlen(u->user) : (size_t)(at - all[i].key), wl;
        const char *host = u ? u->host : at + 1;
        char *wu = wire_text(st, t->utf8, u ? u->user : all[i].key, ul, &wl);
        char *wh = wu ? wire_text(st, t->utf8, host, strlen(host), &wl) : NULL;
        if (!wu || !wh) {
            free(wu);
            tolist_free(l);
            return -1;
        }
        l->names[l->nnames++] = wu;
        l->names[l->nnames++] = wh;
        l->v[l->n++] = (dg_chat_crypto_rcpt){wu, wh};
    }
    return 0;
}

void cryptohook_encrypt(ipm_state *st, const ipm_target *t, const ipm_target *all, size_t n_all,
                        uint32_t no, const char *text, size_t len, const char *attach, bool final,
                        ipm_crypt_out *out)
{
    *out = (ipm_crypt_out){.verdict = DG_CHAT_CRYPTO_REFUSE};
    const ipm_user *u = ipm_users_find_key(&st->users, t->key);
    char addr[IPM_ADDR_TEXT];
    char *name = strdup(u ? u->user : t->key);
    char *at = name ? strrchr(name, '@') : NULL;
    if (!u && at)
        *at = '\0';
    size_t wlen = 0, alen = 0;
    char *wtext = wire_text(st, t->utf8, text, len, &wlen);
    char *wattach = attach ? wire_text(st, t->utf8, attach, strlen(attach), &alen) : NULL;
    /* Several recipients: the provider may put them inside (§6.5). */
    bool to = n_all > 1 && DG_CHAT_CRYPTO_HAS(st->crypto, encrypt_to);
    ipm_tolist l = {0};
    if (!name || !wtext || (attach && !wattach) || (to && tolist_make(st, t, all, n_all, &l))) {
        snprintf(out->err, sizeof out->err, "cannot encode the message for %s", t->key);
    } else {
        dg_chat_crypto_peer p;
        make_peer(u, t->key, name, t->addr, addr, &p);
        out->verdict =
            to ? st->crypto->encrypt_to(st->crypto_user, &p, no, wtext, wlen, wattach, alen, l.v,
                                        l.n, final, &out->extra, &out->ext, out->err,
                                        sizeof out->err)
               : st->crypto->encrypt(st->crypto_user, &p, no, wtext, wlen, wattach, alen, final,
                                     &out->extra, &out->ext, out->err, sizeof out->err);
        /* The header (numbers, names) stays far below this margin. */
        size_t fixed = 64 + strlen(st->user) + strlen(st->host) + (out->ext ? 0 : alen);
        if (out->verdict == DG_CHAT_CRYPTO_ENCRYPTED && !out->extra) {
            out->verdict = DG_CHAT_CRYPTO_REFUSE;
            snprintf(out->err, sizeof out->err, "encryption for %s failed", t->key);
        } else if (out->verdict == DG_CHAT_CRYPTO_ENCRYPTED &&
                   strlen(out->extra) + fixed > IPM_TX_MAX) {
            out->verdict = DG_CHAT_CRYPTO_REFUSE;
            snprintf(out->err, sizeof out->err,
                     "the encrypted message does not fit in one IPMsg datagram (%u bytes at most)",
                     (unsigned)IPM_TX_MAX);
        } else if (out->verdict == DG_CHAT_CRYPTO_WAIT && final) {
            out->verdict = DG_CHAT_CRYPTO_REFUSE;
            snprintf(out->err, sizeof out->err, "no decision on encryption for %s", t->key);
        }
    }
    tolist_free(&l);
    free(name);
    free(wtext);
    free(wattach);
}

static int hold(ipm_state *st, ipm_sent *s, size_t i, uint32_t no, uint32_t cmd, bool utf8,
                const char *text, size_t len, const char *attach)
{
    ipm_held *h = calloc(1, sizeof *h);
    if (!h || !(h->text = malloc(len + 1)) || (attach && !(h->attach = strdup(attach)))) {
        if (h)
            held_free(h);
        return -1;
    }
    memcpy(h->text, text, len);
    h->text[len] = '\0';
    *h = (ipm_held){.next = st->held,
                    .s = s,
                    .rcpt = i,
                    .no = no,
                    .cmd = cmd,
                    .utf8 = utf8,
                    .text = h->text,
                    .attach = h->attach,
                    .len = len};
    st->held = h;
    return 0;
}

void cryptohook_dispatch(ipm_state *st, ipm_sent *s, size_t i, uint32_t no, uint32_t cmd, bool utf8,
                         const char *text, size_t len, const char *attach, ipm_crypt_out *out)
{
    switch (out->verdict) {
    case DG_CHAT_CRYPTO_ENCRYPTED:
        messages_send_one(st, s, i, no,
                          cmd | IPMSG_ENCRYPTOPT | (out->ext ? IPMSG_ENCEXTMSGOPT : 0), utf8,
                          out->extra, strlen(out->extra), out->ext ? NULL : attach);
        break;
    case DG_CHAT_CRYPTO_PLAIN:
        messages_send_one(st, s, i, no, cmd, utf8, text, len, attach);
        break;
    case DG_CHAT_CRYPTO_WAIT:
        if (hold(st, s, i, no, cmd, utf8, text, len, attach) != 0)
            messages_rcpt_failed(st, s, i, "out of memory");
        break;
    case DG_CHAT_CRYPTO_REFUSE:
    default:
        messages_rcpt_failed(st, s, i, out->err[0] ? out->err : "refused by the crypto provider");
        break;
    }
}

void cryptohook_resume(ipm_state *st, const char *who)
{
    if (!who)
        return;
    /* Take this peer's entries off the list first: dispatching may hold again elsewhere. */
    ipm_held *mine = NULL;
    for (ipm_held **pp = &st->held; *pp;) {
        ipm_held *h = *pp;
        if (strcasecmp(h->s->r[h->rcpt].key, who) == 0) {
            *pp = h->next;
            h->next = mine;
            mine = h;
        } else {
            pp = &h->next;
        }
    }
    while (mine) {
        ipm_held *h = mine;
        mine = h->next;
        ipm_target t = {.key = h->s->r[h->rcpt].key,
                        .nickname = h->s->r[h->rcpt].nickname,
                        .addr = h->s->r[h->rcpt].addr,
                        .utf8 = h->utf8};
        /* The whole recipient list again, for the TO list (§6.5): keys are what it needs. */
        size_t n_all = h->s->n <= IPM_TOLIST_MAX ? h->s->n : 0;
        ipm_target all[IPM_TOLIST_MAX];
        for (size_t j = 0; j < n_all; j++)
            all[j] = (ipm_target){.key = h->s->r[j].key, .addr = h->s->r[j].addr};
        ipm_crypt_out out;
        if (st->crypto)
            cryptohook_encrypt(st, &t, all, n_all, h->no, h->text, h->len, h->attach, true, &out);
        else
            out = (ipm_crypt_out){.verdict = DG_CHAT_CRYPTO_REFUSE,
                                  .err = "the crypto provider went away"};
        cryptohook_dispatch(st, h->s, h->rcpt, h->no, h->cmd, h->utf8, h->text, h->len, h->attach,
                            &out);
        free(out.extra);
        held_free(h);
    }
}

int cryptohook_decrypt(ipm_state *st, const ipmsg_packet *pkt, const ipm_user *u, const char *user,
                       const char *host, ipm_addr from, dg_chat_crypto_plain *out)
{
    char *key = ipm_key_make(user, host);
    if (!key)
        return -1;
    char addr[IPM_ADDR_TEXT], err[256] = "";
    dg_chat_crypto_peer p;
    make_peer(u, key, user, from, addr, &p);
    /* The IV is the header's packet-number field as received (§6.3): it
     * sits between the version's and the user name's separators. */
    const char *pn = pkt->version.ptr + pkt->version.len + 1;
    size_t pn_len = (size_t)(pkt->user.ptr - 1 - pn);
    int rc = st->crypto->decrypt(st->crypto_user, &p, pn, pn_len, pkt->opts, pkt->extra.ptr,
                                 pkt->extra.len, out, err, sizeof err);
    if (rc != 0 || !out->plain || !out->text) {
        free(out->plain);
        memset(out, 0, sizeof *out);
        st->api->log(st->ctx, DG_LOG_WARN, "encrypted message %u from %s rejected: %s",
                     (unsigned)pkt->packet_no, key, err[0] ? err : "not decrypted");
        rc = -1;
    }
    free(key);
    return rc;
}

json_t *cryptohook_tolist(ipm_state *st, const ipmsg_packet *pkt, const ipm_user *u,
                          const dg_chat_crypto_plain *plain)
{
    if (!DG_CHAT_CRYPTO_HAS(st->crypto, tolist))
        return NULL;
    size_t n = 0;
    char err[160] = "";
    dg_chat_crypto_rcpt *v =
        st->crypto->tolist(st->crypto_user, plain, pkt->opts, &n, err, sizeof err);
    if (!v) {
        if (err[0])
            st->api->log(st->ctx, DG_LOG_INFO, "message %u: recipient list ignored: %s",
                         (unsigned)pkt->packet_no, err);
        return NULL;
    }
    json_t *to = json_array();
    for (size_t i = 0; to && i < n; i++) {
        char *user = rx_text_from(st, pkt, u, (ipmsg_slice){v[i].user, strlen(v[i].user)});
        char *host = rx_text_from(st, pkt, u, (ipmsg_slice){v[i].host, strlen(v[i].host)});
        /* The other recipients: we know we got it (under either of our names). */
        bool self = user && host && !strcasecmp(host, st->host) &&
                    (!strcasecmp(user, st->user) || !strcasecmp(user, st->base_user));
        char *key = user && host && !self ? ipm_key_make(user, host) : NULL;
        if (key)
            json_array_append_new(to, json_string(key));
        free(key);
        free(user);
        free(host);
    }
    free(v);
    return to;
}

void cryptohook_on_keyex(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    if (!st->crypto) {
        st->stats.unsupported++;
        return;
    }
    char *user, *host;
    if (rx_names(st, pkt, &user, &host) != 0) {
        st->stats.malformed++;
        return;
    }
    const ipm_user *u = ipm_users_find(&st->users, user, host);
    char *key = ipm_key_make(user, host);
    if (key) {
        char addr[IPM_ADDR_TEXT];
        dg_chat_crypto_peer p;
        make_peer(u, key, user, from, addr, &p);
        if (pkt->mode == IPMSG_GETPUBKEY) {
            char *answer =
                st->crypto->on_getpubkey(st->crypto_user, &p, pkt->extra.ptr, pkt->extra.len);
            uint32_t utf8 = (pkt->opts & IPMSG_UTF8OPT) || (u && u->utf8) ? IPMSG_UTF8OPT : 0;
            if (answer)
                tx_simple(st, from, IPMSG_ANSPUBKEY | utf8, answer);
            free(answer);
        } else {
            st->crypto->on_anspubkey(st->crypto_user, &p, pkt->extra.ptr, pkt->extra.len);
        }
    }
    free(key);
    free(user);
    free(host);
}

void cryptohook_on_entry(ipm_state *st, const ipm_user *u, bool started)
{
    if (!st->crypto || !u)
        return;
    char addr[IPM_ADDR_TEXT];
    dg_chat_crypto_peer p;
    make_peer(u, u->key, u->user, u->addr, addr, &p);
    p.started = started;
    st->crypto->on_peer(st->crypto_user, &p);
}

uint32_t cryptohook_status(const ipm_state *st)
{
    if (!st->crypto)
        return 0;
    /* Only the encryption status bits: a provider cannot claim other features. */
    return st->crypto->status_bits(st->crypto_user) & (IPMSG_ENCRYPTOPT | IPMSG_ENCEXTMSGOPT);
}

int cryptohook_set(ipm_state *st, const dg_chat_crypto_hooks *hooks, void *user)
{
    /* The installed table again: its status bits changed (the provider's keys
     * are ready), and the name suffix may be known now. */
    if (hooks && hooks == st->crypto && user == st->crypto_user) {
        bool announced = st->announces > 0;
        fpname_provider_changed(st);
        if (announced)
            presence_round(st, IPMSG_BR_ABSENCE);
        return 0;
    }
    if (hooks && (st->crypto || hooks->struct_size < DG_CHAT_CRYPTO_HOOKS_V1_SIZE ||
                  !hooks->status_bits || !hooks->encrypt || !hooks->decrypt ||
                  !hooks->on_getpubkey || !hooks->on_anspubkey || !hooks->on_peer))
        return -1;
    uint32_t before = cryptohook_status(st);
    st->crypto = hooks;
    st->crypto_user = hooks ? user : NULL;
    if (!hooks) {
        /* Held messages fail: nobody will resume them. */
        while (st->held) {
            ipm_held *h = st->held;
            st->held = h->next;
            messages_rcpt_failed(st, h->s, h->rcpt,
                                 "the crypto plugin stopped before the peer's key arrived");
            held_free(h);
        }
    }
    if (hooks)
        fpname_provider_changed(st);
    /* Peers learn a status change from a BR_ABSENCE round (§4.2). */
    if (cryptohook_status(st) != before && st->announces > 0)
        presence_round(st, IPMSG_BR_ABSENCE);
    return 0;
}

int cryptohook_request_key(ipm_state *st, const char *who, const char *extra, int autoret)
{
    ipm_user *u;
    ipm_addr a;
    char err[256];
    /* Not under a name we may drop in a moment (fpname.h): the peer's answer
     * to our coming BR_ENTRY makes the provider ask again (on_peer). */
    if (st->name_wait)
        return -1;
    if (!who || !extra || ipm_resolve(&st->users, who, st->cfg.port, &u, &a, err, sizeof err) < 0)
        return -1;
    uint32_t cmd =
        IPMSG_GETPUBKEY | (autoret ? IPMSG_AUTORETOPT : 0) | (u && u->utf8 ? IPMSG_UTF8OPT : 0);
    return tx_simple(st, a, cmd, extra) ? 0 : -1;
}

void cryptohook_free(ipm_state *st)
{
    while (st->held) {
        ipm_held *h = st->held;
        st->held = h->next;
        held_free(h);
    }
}
