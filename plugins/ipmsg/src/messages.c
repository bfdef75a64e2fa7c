#include "messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "absence.h"
#include "cryptohook.h"
#include "json_text.h"
#include "net.h"
#include "outbox.h"
#include "rx.h"
#include "tx.h"

/* Finished sent records kept for late READMSG (opened) notices. */
#define SENT_KEEP 256

int messages_publish(ipm_state *st, const char *topic, json_t *payload)
{
    int rc = payload ? st->api->publish_ordered(st->ctx, topic, payload) : DG_ENOMEM;
    if (rc < 0)
        st->api->log(st->ctx, DG_LOG_ERROR, "event %s lost (%d)", topic, rc);
    return rc;
}

static const char *rcpt_state_name(ipm_rcpt_state s)
{
    return s == IPM_RCPT_DELIVERED ? "delivered" : s == IPM_RCPT_FAILED ? "failed" : "sending";
}

/* ---- sent records ---- */

static void sent_free(ipm_sent *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->r[i].key);
        free(s->r[i].nickname);
    }
    free(s->r);
    free(s->via);
    free(s);
}

/*
 * Drops finished records beyond SENT_KEEP (newest are at the head). The walk
 * runs once the list has grown by SENT_KEEP since the last one, so its cost
 * per message stays constant however many messages are in flight.
 */
static void sent_trim(ipm_state *st)
{
    if (st->sent_count < st->sent_trim_at)
        return;
    size_t finished = 0;
    for (ipm_sent **pp = &st->sent; *pp;) {
        ipm_sent *s = *pp;
        if (s->open == 0 && !s->wait && ++finished > SENT_KEEP) {
            *pp = s->next;
            sent_free(s);
            st->sent_count--;
        } else {
            pp = &s->next;
        }
    }
    st->sent_trim_at = st->sent_count + SENT_KEEP;
}

/*
 * The answer to chat.send ({id, sealed, time, recipients: [{key, nickname,
 * address, state, opened}]}), written as text: at thousands of messages a
 * second, building a tree and then serialising it was a visible part of the
 * sender's time per message. A host older than ABI 1.2 gets the text parsed.
 */
void messages_reply_sent(ipm_state *st, dg_rpc_call *call, const ipm_sent *s)
{
    dg_jt w;
    dg_jt_init(&w, 160 + 128 * s->n);
    dg_jt_begin_object(&w);
    dg_jt_member_int(&w, "id", s->id);
    dg_jt_member_bool(&w, "sealed", s->sealed);
    dg_jt_member_int(&w, "time", s->time);
    dg_jt_key(&w, "recipients");
    dg_jt_begin_array(&w);
    for (size_t i = 0; i < s->n; i++) {
        char a[IPM_ADDR_TEXT];
        dg_jt_begin_object(&w);
        dg_jt_member_string(&w, "key", s->r[i].key);
        dg_jt_member_string(&w, "nickname", s->r[i].nickname);
        dg_jt_member_string(&w, "address", ipm_addr_format(s->r[i].addr, a));
        dg_jt_member_string(&w, "state", rcpt_state_name(s->r[i].state));
        dg_jt_member_bool(&w, "opened", s->r[i].opened);
        dg_jt_end_object(&w);
    }
    dg_jt_end_array(&w);
    dg_jt_end_object(&w);
    size_t len = 0;
    char *text = dg_jt_finish(&w, &len);
    json_t *tree = NULL;
    if (text && DG_API_HAS(st->api, rpc_reply_json)) {
        st->api->rpc_reply_json(call, text, len);
    } else if (text && (tree = json_loadb(text, len, 0, NULL))) {
        free(text);
        st->api->rpc_reply(call, tree);
    } else {
        free(text);
        st->api->rpc_fail(call, DG_RPC_FAILED, "out of memory");
    }
}

static json_t *rcpt_event(const ipm_sent *s, size_t i)
{
    char a[IPM_ADDR_TEXT];
    json_t *ev = json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)s->id, "to", s->r[i].key,
                           "nickname", s->r[i].nickname, "address",
                           ipm_addr_format(s->r[i].addr, a), "time", (json_int_t)ipm_now());
    if (ev && s->via)
        json_object_set_new(ev, "via", json_string(s->via));
    return ev;
}

/* A recipient reached its final state: event, and maybe the waiting chat.send.
 * reason (NULL: "no answer") says why a recipient failed. */
static void rcpt_final_why(ipm_state *st, ipm_sent *s, size_t i, ipm_rcpt_state state,
                           const char *reason)
{
    if (s->r[i].state != IPM_RCPT_SENDING)
        return;
    s->r[i].state = state;
    s->open--;
    json_t *ev = rcpt_event(s, i);
    if (state == IPM_RCPT_DELIVERED) {
        st->stats.delivered++;
        messages_publish(st, "chat.message.delivered", ev);
    } else {
        st->stats.failed++;
        json_object_set_new(
            ev, "reason",
            reason ? json_string(reason)
                   : json_sprintf("no answer after %lld tries", (long long)st->cfg.retries + 1));
        messages_publish(st, "chat.message.failed", ev);
    }
    if (s->open == 0 && s->wait) {
        messages_reply_sent(st, s->wait, s);
        s->wait = NULL;
    }
    sent_trim(st);
}

static void rcpt_final(ipm_state *st, ipm_sent *s, size_t i, ipm_rcpt_state state)
{
    rcpt_final_why(st, s, i, state, NULL);
}

void messages_rcpt_failed(ipm_state *st, ipm_sent *s, size_t i, const char *reason)
{
    rcpt_final_why(st, s, i, IPM_RCPT_FAILED, reason);
}

void messages_send_one(ipm_state *st, ipm_sent *s, size_t i, uint32_t no, uint32_t cmd, bool utf8,
                       const char *extra, size_t extra_len, const char *attach)
{
    char buf[IPM_TX_MAX];
    size_t len;
    if (tx_build_attach(st, no, cmd | (utf8 ? IPMSG_UTF8OPT : 0), extra, extra_len, attach, buf,
                        sizeof buf, &len) != 0) {
        messages_rcpt_failed(st, s, i, "the message does not fit in one IPMsg datagram");
        return;
    }
    ipm_pending *p = outbox_send(st, IPM_PEND_SENDMSG, no, s->r[i].addr, s->r[i].key, buf, len);
    if (p) {
        p->sent = s;
        p->rcpt = i;
    } else {
        rcpt_final(st, s, i, IPM_RCPT_FAILED);
    }
}

void messages_on_give_up(ipm_state *st, ipm_pending *p)
{
    char a[IPM_ADDR_TEXT];
    if (p->kind == IPM_PEND_SENDMSG && p->sent) {
        rcpt_final(st, p->sent, p->rcpt, IPM_RCPT_FAILED);
    } else {
        st->api->log(st->ctx, DG_LOG_INFO, "no ANSREADMSG from %s for message %u",
                     ipm_addr_format(p->addr, a), (unsigned)p->msg_id);
    }
}

/* ---- sending ---- */

static ipm_sent *sent_new(uint32_t id, bool seal, const ipm_target *t, size_t n)
{
    ipm_sent *s = calloc(1, sizeof(*s));
    if (!s || !(s->r = calloc(n, sizeof(*s->r)))) {
        free(s);
        return NULL;
    }
    s->id = id;
    s->sealed = seal;
    s->time = ipm_now();
    s->n = s->open = n;
    for (size_t i = 0; i < n; i++) {
        s->r[i].key = strdup(t[i].key);
        s->r[i].nickname = strdup(t[i].nickname ? t[i].nickname : t[i].key);
        s->r[i].addr = t[i].addr;
        if (!s->r[i].key || !s->r[i].nickname) {
            sent_free(s);
            return NULL;
        }
    }
    return s;
}

/*
 * The two buffers a message is built into, once per encoding. Kept for the
 * plugin's life: two 32 KB allocations per message cost more than the rest
 * of sending it (glibc returns such blocks to the system on free).
 */
static bool tx_buffers(ipm_state *st, char **legacy, char **utf8)
{
    if (!st->tx_legacy)
        st->tx_legacy = malloc(IPM_TX_MAX);
    if (!st->tx_utf8)
        st->tx_utf8 = malloc(IPM_TX_MAX);
    *legacy = st->tx_legacy;
    *utf8 = st->tx_utf8;
    return *legacy && *utf8;
}

ipm_sent *messages_send(ipm_state *st, const ipm_target *t, size_t n, const char *text, size_t len,
                        bool seal, const char *attach, const char *via, char *err, size_t errlen)
{
    uint32_t no = ipmsg_pktno_next_now(&st->pktno);
    uint32_t cmd = IPMSG_SENDMSG | IPMSG_SENDCHECKOPT;
    if (attach)
        cmd |= IPMSG_FILEATTACHOPT;
    if (seal)
        cmd |= IPMSG_SECRETEXOPT; /* SECRETOPT|READCHECKOPT, as Windows sends it (§3.1) */
    if (n > 1)
        cmd |= IPMSG_MULTICASTOPT; /* §4.3 "several recipients" */

    /* Built once per encoding, before anything is sent: all or nothing. */
    char *legacy, *utf8;
    bool buffers = tx_buffers(st, &legacy, &utf8);
    size_t legacy_len = 0, utf8_len = 0;
    bool need_legacy = false, need_utf8 = false;
    ipm_sent *s = NULL;
    /* With a crypto provider each recipient gets its own verdict first
     * (chat_crypto.h); the shared plaintext buffers serve the PLAIN ones. */
    ipm_crypt_out *enc = NULL;
    if (!buffers || (st->crypto && !(enc = calloc(n, sizeof *enc)))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; enc && i < n; i++)
        cryptohook_encrypt(st, &t[i], t, n <= IPM_TOLIST_MAX ? n : 0, no, text, len, attach, false,
                           &enc[i]);
    if (enc && n == 1 && enc[0].verdict == DG_CHAT_CRYPTO_REFUSE) {
        snprintf(err, errlen, "%s", enc[0].err);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (!enc || enc[i].verdict == DG_CHAT_CRYPTO_PLAIN)
            *(t[i].utf8 ? &need_utf8 : &need_legacy) = true;
    if ((need_utf8 && tx_build_attach(st, no, cmd | IPMSG_UTF8OPT, text, len, attach, utf8,
                                      IPM_TX_MAX, &utf8_len) != 0) ||
        (need_legacy &&
         tx_build_attach(st, no, cmd, text, len, attach, legacy, IPM_TX_MAX, &legacy_len) != 0)) {
        snprintf(err, errlen, "the message does not fit in one IPMsg datagram (%u bytes at most)",
                 (unsigned)IPM_TX_MAX);
        goto out;
    }
    s = sent_new(no, seal, t, n);
    if (s && via && !(s->via = strdup(via))) {
        sent_free(s);
        s = NULL;
    }
    if (!s) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    s->next = st->sent;
    st->sent = s;
    st->sent_count++;
    for (size_t i = 0; i < n; i++) {
        if (enc && enc[i].verdict != DG_CHAT_CRYPTO_PLAIN) {
            cryptohook_dispatch(st, s, i, no, cmd, t[i].utf8, text, len, attach, &enc[i]);
            continue;
        }
        const char *data = t[i].utf8 ? utf8 : legacy;
        size_t dlen = t[i].utf8 ? utf8_len : legacy_len;
        ipm_pending *p = outbox_send(st, IPM_PEND_SENDMSG, no, t[i].addr, t[i].key, data, dlen);
        if (p) {
            p->sent = s;
            p->rcpt = i;
        } else {
            rcpt_final(st, s, i, IPM_RCPT_FAILED);
        }
    }
out:
    for (size_t i = 0; enc && i < n; i++)
        free(enc[i].extra);
    free(enc);
    return s;
}

static json_t *sent_to(const char *key, const char *nickname, ipm_addr a)
{
    char text[IPM_ADDR_TEXT];
    return json_pack("{s:s, s:s, s:s, s:s, s:b}", "key", key, "nickname", nickname, "address",
                     ipm_addr_format(a, text), "state", "sent", "opened", 0);
}

json_t *messages_broadcast(ipm_state *st, const char *text, size_t len, char *err, size_t errlen)
{
    uint32_t no = ipmsg_pktno_next_now(&st->pktno);
    /* No SENDCHECKOPT: a broadcast is never acknowledged (§4.3). */
    uint32_t cmd = IPMSG_SENDMSG | IPMSG_BROADCASTOPT;
    char *legacy, *utf8;
    bool buffers = tx_buffers(st, &legacy, &utf8);
    size_t legacy_len = 0, utf8_len = 0;
    ipm_addr_list done = {0}, targets = {0};
    json_t *rs = json_array(), *result = NULL;
    if (!buffers || !rs) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    size_t users = 0;
    bool need_utf8 = false;
    for (size_t i = 0; i < st->users.n; i++) {
        users += st->users.v[i]->presence != IPM_OFFLINE;
        need_utf8 |= st->users.v[i]->presence != IPM_OFFLINE && st->users.v[i]->utf8;
    }
    /* Every encoding needed before anything is sent: all or nothing. */
    if (tx_build(st, no, cmd, text, len, legacy, IPM_TX_MAX, &legacy_len) != 0 ||
        (need_utf8 &&
         tx_build(st, no, cmd | IPMSG_UTF8OPT, text, len, utf8, IPM_TX_MAX, &utf8_len) != 0)) {
        snprintf(err, errlen, "the message does not fit in one IPMsg datagram (%u bytes at most)",
                 (unsigned)IPM_TX_MAX);
        goto out;
    }
    net_entry_targets(st, &targets);
    if (users == 0 && targets.n == 0) {
        snprintf(err, errlen,
                 "nobody to send a broadcast to: no user is online and there is no broadcast "
                 "target (a loopback bind address sends no broadcasts; see ipmsg.hosts)");
        goto out;
    }
    /* Known users first, by unicast in their encoding: their copy should arrive first. */
    for (size_t i = 0; i < st->users.n; i++) {
        const ipm_user *u = st->users.v[i];
        if (u->presence == IPM_OFFLINE)
            continue;
        if (!ipm_addrlist_has(&done, u->addr)) {
            net_send(st, u->addr, u->utf8 ? utf8 : legacy, u->utf8 ? utf8_len : legacy_len);
            ipm_addrlist_add(&done, u->addr);
        }
        json_array_append_new(rs, sent_to(u->key, u->nickname ? u->nickname : u->key, u->addr));
    }
    for (size_t i = 0; i < targets.n; i++) {
        if (ipm_addrlist_has(&done, targets.v[i]))
            continue;
        char a[IPM_ADDR_TEXT];
        net_send(st, targets.v[i], legacy, legacy_len);
        ipm_addr_format(targets.v[i], a);
        json_array_append_new(rs, sent_to(a, a, targets.v[i]));
    }
    result = json_pack("{s:I, s:b, s:b, s:I, s:O}", "id", (json_int_t)no, "sealed", 0, "broadcast",
                       1, "time", (json_int_t)ipm_now(), "recipients", rs);
    if (!result)
        snprintf(err, errlen, "out of memory");
out:
    json_decref(rs);
    ipm_addrlist_free(&done);
    ipm_addrlist_free(&targets);
    return result;
}

/* The sent record with this id, or NULL. */
static ipm_sent *sent_find(ipm_state *st, uint32_t id)
{
    for (ipm_sent *s = st->sent; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

/* ---- receiving ---- */

static bool wants_ack(uint32_t opts)
{
    /* §4.3: only with SENDCHECKOPT, never for broadcasts or automatic replies. */
    return (opts & IPMSG_SENDCHECKOPT) && !(opts & (IPMSG_BROADCASTOPT | IPMSG_AUTORETOPT));
}

/* Answer in UTF-8 when the request was UTF-8 or the peer showed CAPUTF8 (§1.3). */
static uint32_t reply_utf8(const ipmsg_packet *pkt, const ipm_user *u)
{
    return ((pkt->opts & IPMSG_UTF8OPT) || (u && u->utf8)) ? IPMSG_UTF8OPT : 0;
}

/* The sender's key: user@host without a fingerprint field (users.h). */
static char *make_key(const char *user, const char *host)
{
    return ipm_key_make(user, host);
}

static void auto_reply(ipm_state *st, ipm_addr to, uint32_t utf8)
{
    /* §4.2: absent users answer direct messages with SENDMSG|AUTORETOPT, unacked;
     * Windows sends nothing when the absence text is empty. */
    const char *text = away_text(st);
    if (*text)
        tx_simple(st, to, IPMSG_SENDMSG | IPMSG_AUTORETOPT | utf8, text);
}

void messages_on_sendmsg(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    if ((pkt->opts & IPMSG_ENCRYPTOPT) && !st->crypto) {
        /* Without a crypto provider we do not advertise ENCRYPTOPT: a peer should not send this. */
        st->stats.unsupported++;
        return;
    }
    dg_chat_crypto_plain plain = {0};
    char *user, *host;
    if (rx_names(st, pkt, &user, &host) != 0) {
        st->stats.malformed++;
        return;
    }
    ipm_user *u = ipm_users_find(&st->users, user, host);
    uint32_t utf8 = reply_utf8(pkt, u);
    if (wants_ack(pkt->opts)) {
        tx_number(st, from, IPMSG_RECVMSG | utf8, pkt->packet_no);
        st->stats.acks_sent++;
    }
    if (ipm_dedup_check(&st->dedup, pkt->packet_no, pkt->user.ptr, pkt->user.len, pkt->host.ptr,
                        pkt->host.len)) {
        st->stats.duplicates++;
        goto out;
    }
    bool answerable = !(pkt->opts & (IPMSG_BROADCASTOPT | IPMSG_AUTORETOPT));
    if (!u && answerable && !(pkt->opts & IPMSG_NOADDLISTOPT)) {
        /* An unknown sender: introduce ourselves so it answers with ANSENTRY (§4.3).
         * Not for broadcasts and automatic replies, which get no answer at all
         * (Windows' MsgSendMsg), nor for one-shot senders (NOADDLISTOPT). */
        char buf[IPM_TX_MAX];
        size_t len;
        if (tx_entry(st, IPMSG_BR_ENTRY, 0, buf, sizeof buf, &len) == 0)
            net_send(st, from, buf, len);
    }
    bool encrypted = (pkt->opts & IPMSG_ENCRYPTOPT) != 0;
    if (encrypted && cryptohook_decrypt(st, pkt, u, user, host, from, &plain) != 0) {
        /* Not genuine (the provider published why): Windows answers with an
         * unlogged automatic error message (§6.3), never to an automatic one. */
        if (answerable)
            tx_simple(st, from, IPMSG_SENDMSG | IPMSG_NOLOGOPT | IPMSG_AUTORETOPT | utf8,
                      IPM_DECRYPT_ERROR_TEXT);
        goto out;
    }
    ipm_msg *m = calloc(1, sizeof(*m));
    if (!m)
        goto out;
    m->id = ipmsg_pktno_next_now(&st->msg_ids);
    m->packet_no = pkt->packet_no;
    m->from = make_key(user, host);
    m->nickname = strdup(u && u->nickname && *u->nickname ? u->nickname : user);
    m->addr = from;
    m->text = rx_text_from(st, pkt, u,
                           encrypted ? (ipmsg_slice){plain.text, strlen(plain.text)} : pkt->extra);
    /* §5.1: the attach list is the first section after the text's NUL, or
     * inside the ciphertext with ENCEXTMSGOPT (§6.3). */
    ipmsg_slice attach = encrypted && plain.attach
                             ? (ipmsg_slice){plain.attach, strlen(plain.attach)}
                             : (pkt->n_sections > 0 ? pkt->sections[0] : (ipmsg_slice){0});
    if ((pkt->opts & IPMSG_FILEATTACHOPT) && attach.len > 0 &&
        !(m->attachments = rx_text_from(st, pkt, u, attach))) {
        ipm_msg_free(m);
        goto out;
    }
    if (encrypted) {
        m->encrypted = true;
        m->verified = plain.verified != 0;
        m->suite = strdup(plain.suite);
        m->to = cryptohook_tolist(st, pkt, u, &plain);
        if (!m->verified && !(m->crypto_note = strdup(plain.note))) {
            ipm_msg_free(m);
            goto out;
        }
    }
    m->sealed = (pkt->opts & IPMSG_SECRETOPT) != 0;
    m->readcheck = (pkt->opts & IPMSG_READCHECKOPT) != 0;
    m->broadcast = (pkt->opts & IPMSG_BROADCASTOPT) != 0;
    m->multicast = (pkt->opts & IPMSG_MULTICASTOPT) != 0;
    m->autoret = (pkt->opts & IPMSG_AUTORETOPT) != 0;
    m->utf8 = utf8 != 0;
    m->time = ipm_now();
    if (!m->from || !m->nickname || !m->text) {
        ipm_msg_free(m);
        goto out;
    }
    /*
     * The event carries the text even when sealed: the history plugin stores it.
     * Published before the inbox sees it: a plugin that consumes the message
     * (rooms vetoes its own envelopes) leaves no inbox entry and no auto-reply.
     */
    json_t *ev = ipm_msg_json(m, true);
    if (!ev) {
        ipm_msg_free(m);
        goto out;
    }
    if (messages_publish(st, "chat.message.received", ev) == DG_STOP) {
        st->stats.consumed++;
        ipm_msg_free(m);
        goto out;
    }
    if (!ipm_inbox_add(&st->inbox, m))
        goto out;
    st->stats.received++;
    if (away_active(st) && answerable)
        auto_reply(st, from, utf8);
out:
    free(plain.plain);
    free(user);
    free(host);
}

/* The decimal packet number in the extra of RECVMSG/READMSG/ANSREADMSG (§1.4). */
static int extra_number(ipm_state *st, const ipmsg_packet *pkt, uint32_t *out)
{
    if (ipmsg_parse_u32(pkt->extra, out, NULL) != IPMSG_OK) {
        st->stats.malformed++;
        return -1;
    }
    return 0;
}

void messages_on_recvmsg(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    uint32_t no;
    char *user, *host;
    if (extra_number(st, pkt, &no) != 0 || rx_names(st, pkt, &user, &host) != 0)
        return;
    char *key = make_key(user, host);
    ipm_pending *p = outbox_find(st, IPM_PEND_SENDMSG, no, from, key);
    if (p) {
        ipm_sent *s = p->sent;
        size_t i = p->rcpt;
        outbox_done(st, p);
        if (s)
            rcpt_final(st, s, i, IPM_RCPT_DELIVERED);
    }
    free(key);
    free(user);
    free(host);
}

void messages_on_readmsg(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    uint32_t no;
    char *user, *host;
    if (extra_number(st, pkt, &no) != 0 || rx_names(st, pkt, &user, &host) != 0)
        return;
    ipm_user *u = ipm_users_find(&st->users, user, host);
    /* §4.4: ANSREADMSG carries the READMSG's own packet number; answer every retry. */
    if (pkt->opts & IPMSG_READCHECKOPT)
        tx_number(st, from, IPMSG_ANSREADMSG | reply_utf8(pkt, u), pkt->packet_no);
    if (ipm_dedup_check(&st->dedup, pkt->packet_no, pkt->user.ptr, pkt->user.len, pkt->host.ptr,
                        pkt->host.len)) {
        st->stats.duplicates++;
        goto out;
    }
    char *key = make_key(user, host);
    ipm_sent *s = sent_find(st, no);
    size_t i = 0;
    while (s && i < s->n && !ipm_addr_eq(s->r[i].addr, from) &&
           !(key && strcasecmp(s->r[i].key, key) == 0))
        i++;
    if (s && i < s->n) {
        if (!s->r[i].opened) {
            s->r[i].opened = true;
            st->stats.opened++;
            messages_publish(st, "chat.message.opened", rcpt_event(s, i));
        }
    } else if (key) {
        /* Sent before a restart or long ago: still worth telling. */
        char a[IPM_ADDR_TEXT];
        st->stats.opened++;
        messages_publish(st, "chat.message.opened",
                         json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)no, "to", key,
                                   "nickname", u && u->nickname ? u->nickname : user, "address",
                                   ipm_addr_format(from, a), "time", (json_int_t)ipm_now()));
    }
    free(key);
out:
    free(user);
    free(host);
}

void messages_on_ansreadmsg(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    uint32_t no;
    if (extra_number(st, pkt, &no) != 0)
        return;
    ipm_pending *p = outbox_find(st, IPM_PEND_READMSG, no, from, NULL);
    if (p)
        outbox_done(st, p);
}

void messages_open(ipm_state *st, ipm_msg *m)
{
    bool first = !m->opened;
    m->opened = true;
    if (!first)
        return;
    /* The local user read it: the history may now show a sealed message's text. */
    messages_publish(st, "chat.message.read",
                     json_pack("{s:I, s:s, s:b, s:I}", "id", (json_int_t)m->id, "from", m->from,
                               "sealed", m->sealed, "time", (json_int_t)ipm_now()));
    if (!m->sealed)
        return;
    uint32_t cmd = IPMSG_READMSG | (m->utf8 ? IPMSG_UTF8OPT : 0);
    char extra[16];
    snprintf(extra, sizeof extra, "%u", (unsigned)m->packet_no);
    if (!m->readcheck) {
        tx_simple(st, m->addr, cmd, extra);
        return;
    }
    /* §4.4: with READCHECKOPT the READMSG carries it too and is retried until ANSREADMSG. */
    cmd |= IPMSG_READCHECKOPT;
    char buf[256];
    size_t len;
    uint32_t no = ipmsg_pktno_next_now(&st->pktno);
    if (tx_build(st, no, cmd, extra, strlen(extra), buf, sizeof buf, &len) != 0)
        return;
    ipm_pending *p = outbox_send(st, IPM_PEND_READMSG, no, m->addr, m->from, buf, len);
    if (p)
        p->msg_id = m->id;
}

void messages_on_query(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    char *user, *host;
    if (rx_names(st, pkt, &user, &host) != 0) {
        st->stats.malformed++;
        return;
    }
    uint32_t utf8 = reply_utf8(pkt, ipm_users_find(&st->users, user, host));
    if (pkt->mode == IPMSG_GETINFO)
        tx_simple(st, from, IPMSG_SENDINFO | utf8, st->version);
    else
        /* Windows answers "Not absence mode" when present (§1.4). */
        tx_simple(st, from, IPMSG_SENDABSENCEINFO | utf8,
                  away_active(st) ? away_text(st) : "Not absence mode");
    free(user);
    free(host);
}

void messages_on_releasefiles(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    uint32_t no;
    char *user, *host;
    if (extra_number(st, pkt, &no) != 0)
        return;
    if (rx_names(st, pkt, &user, &host) != 0) {
        st->stats.malformed++;
        return;
    }
    /* Not deduplicated: releasing twice is harmless and the files plugin
     * simply finds the share gone the second time. */
    char *key = make_key(user, host);
    char a[IPM_ADDR_TEXT];
    if (key)
        messages_publish(st, "chat.files.released",
                         json_pack("{s:s, s:s, s:I, s:I}", "from", key, "address",
                                   ipm_addr_format(from, a), "packet_no", (json_int_t)no, "time",
                                   (json_int_t)ipm_now()));
    free(key);
    free(user);
    free(host);
}

void messages_free(ipm_state *st)
{
    while (st->sent) {
        ipm_sent *s = st->sent;
        st->sent = s->next;
        if (s->wait)
            st->api->rpc_fail(s->wait, DG_RPC_FAILED,
                              "the ipmsg plugin stopped before every "
                              "recipient answered");
        sent_free(s);
    }
    st->sent_count = st->sent_trim_at = 0;
    free(st->tx_legacy);
    free(st->tx_utf8);
    st->tx_legacy = st->tx_utf8 = NULL;
}
