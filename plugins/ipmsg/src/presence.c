#include "presence.h"

#include <stdlib.h>
#include <string.h>

#include "awaytext.h"
#include "cryptohook.h"
#include "entry.h"
#include "listx.h"
#include "net.h"
#include "rx.h"
#include "tx.h"

void presence_round(ipm_state *st, uint32_t mode)
{
    /* Our logon name is not settled (fpname.h): the BR_ENTRY to come carries the status. */
    if (st->name_wait && (mode == IPMSG_BR_ENTRY || mode == IPMSG_BR_ABSENCE)) {
        st->entry_due = true;
        return;
    }
    char buf[IPM_TX_MAX];
    size_t len;
    /* Broadcast commands never carry UTF8OPT (§1.3): tx_entry adds only status bits. */
    if (tx_entry(st, mode, 0, buf, sizeof buf, &len) != 0)
        return;
    ipm_addr_list targets = {0};
    net_entry_targets(st, &targets);
    for (size_t i = 0; i < targets.n; i++)
        net_send(st, targets.v[i], buf, len);
    st->api->log(st->ctx, DG_LOG_DEBUG, "%s sent to %zu targets", ipmsg_command_name(mode),
                 targets.n);
    ipm_addrlist_free(&targets);
}

void presence_announce(ipm_state *st)
{
    if (st->name_wait) {
        st->entry_due = true; /* fpname.c announces once the name is settled */
        return;
    }
    st->announces++;
    if (st->cfg.list_get)
        listx_start(st); /* §4.5: BR_ISGETLIST2 instead of BR_ENTRY, entry round at the end */
    else
        presence_round(st, IPMSG_BR_ENTRY);
}

static void on_entry_timer(dg_ctx *ctx, dg_timer *timer, void *user)
{
    presence_announce(user);
}

static void on_announce_timer(dg_ctx *ctx, dg_timer *timer, void *user)
{
    presence_announce(user);
}

void presence_rearm(ipm_state *st)
{
    if (st->announce_timer)
        st->api->timer_cancel(st->ctx, st->announce_timer);
    st->announce_timer = NULL;
    uint64_t every = (uint64_t)st->cfg.announce_interval_s * 1000u;
    if (every)
        st->announce_timer = st->api->timer_add(st->ctx, every, every, on_announce_timer, st, NULL);
}

int presence_start(ipm_state *st)
{
    presence_round(st, IPMSG_NOOPERATION);
    if (!st->api->timer_add(st->ctx, IPM_ENTRY_DELAY_MS, 0, on_entry_timer, st, NULL))
        return -1;
    presence_rearm(st);
    return 0;
}

void presence_publish(ipm_state *st, const ipm_user *u, const char *change, const char *moved_from)
{
    json_t *o = ipm_user_json(u);
    if (!o)
        return;
    json_object_set_new(o, "change", json_string(change));
    if (moved_from)
        json_object_set_new(o, "moved_from", json_string(moved_from));
    /* drop_oldest (docs/events.md): never DG_EAGAIN, a lagging reader resyncs with users.list. */
    st->api->publish(st->ctx, "presence.changed", o);
}

/* ---- ANSENTRY after a random delay (§4.1 step 3) ---- */

typedef struct answer {
    ipm_state *st;
    ipm_addr to;
    bool utf8;
} answer;

static void schedule_answer(ipm_state *st, ipm_addr to, bool utf8);

static void on_answer(dg_ctx *ctx, dg_timer *timer, void *user)
{
    answer *a = user;
    char buf[IPM_TX_MAX];
    size_t len;
    ipm_addrlist_remove(&a->st->answering, a->to);
    if (a->st->name_wait) {
        /* Not with a name we may drop in a moment (fpname.h): answer later. */
        schedule_answer(a->st, a->to, a->utf8);
        return;
    }
    /* Windows answers a CAPUTF8 entry with ANSENTRY|UTF8OPT (§1.3). */
    if (tx_entry(a->st, IPMSG_ANSENTRY, a->utf8 ? IPMSG_UTF8OPT : 0, buf, sizeof buf, &len) == 0)
        net_send(a->st, a->to, buf, len);
}

/* Windows' jitter: 0-1023 ms below 50 known hosts, 0-2047 below 300, else 0-4095 ms. */
static uint32_t answer_delay_ms(size_t known)
{
    uint32_t span = known < 50 ? 1024 : known < 300 ? 2048 : 4096;
    return arc4random_uniform(span);
}

static void schedule_answer(ipm_state *st, ipm_addr to, bool utf8)
{
    if (ipm_addrlist_has(&st->answering, to))
        return; /* already queued */
    answer *a = malloc(sizeof *a);
    if (!a || ipm_addrlist_add(&st->answering, to) != 0) {
        free(a);
        return;
    }
    *a = (answer){st, to, utf8};
    /* One-shot: the host frees a after it fires, or at stop if it never did. */
    if (!st->api->timer_add(st->ctx, answer_delay_ms(st->users.n), 0, on_answer, a, free)) {
        ipm_addrlist_remove(&st->answering, to);
        free(a);
    }
}

/* ---- incoming entries ---- */

/*
 * An ANSENTRY from iptux answers our broadcast BR_ENTRY, whose legacy fields
 * are in the legacy code page (CP932 by default), and iptux reads only UTF-8
 * (§8): it now shows our nickname garbled. A unicast ANSENTRY in UTF-8 makes
 * it update our nickname and group (iptux answers an ANSENTRY only when the
 * encodings differ, so no ping-pong; BR_ABSENCE cannot carry UTF8OPT, §1.3).
 * One per second at most: iptux answers each copy of a BR_ENTRY (every
 * broadcast address, the host list).
 */
static void reintroduce_in_utf8(ipm_state *st, ipm_user *u, ipm_addr to)
{
    uint64_t now = ipm_mono_ms();
    if (u->reintroduced_ms && now - u->reintroduced_ms < 1000)
        return;
    u->reintroduced_ms = now;
    char buf[IPM_TX_MAX];
    size_t len;
    if (tx_entry(st, IPMSG_ANSENTRY, IPMSG_UTF8OPT, buf, sizeof buf, &len) == 0)
        net_send(st, to, buf, len);
}

/* iptux's version ("1_iptux 0.8.3") or its 4th entry section, an encoding
 * name ("utf-8"): not an empty section or a UTF-8 block after an empty one. */
static bool looks_like_iptux(const ipmsg_packet *pkt, const ipmsg_entry *e)
{
    if (memmem(pkt->version.ptr, pkt->version.len, "iptux", 5))
        return true;
    const char *enc = e->iptux_encoding;
    return enc && *enc && !strchr(enc, '\n') && !strchr(enc, ':');
}

/* iptux sets ABSENCEOPT in every entry it sends (§8): from it the bit says
 * nothing, so an iptux peer is online until it leaves. */
static ipm_presence presence_of(uint32_t mode, uint32_t opts, bool iptux)
{
    if (mode == IPMSG_BR_EXIT)
        return IPM_OFFLINE;
    return (opts & IPMSG_ABSENCEOPT) && !iptux ? IPM_ABSENT : IPM_ONLINE;
}

void presence_on_entry(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    ipmsg_entry e;
    ipmsg_error err;
    if (ipmsg_entry_decode(pkt, st->cs, &e, &err) != IPMSG_OK) {
        st->stats.malformed++;
        st->api->log(st->ctx, DG_LOG_DEBUG, "bad entry packet: %s", err.reason);
        return;
    }
    ipm_user *known = ipm_users_find(&st->users, e.user, e.host);
    if (pkt->mode == IPMSG_BR_EXIT && (!known || known->presence == IPM_OFFLINE)) {
        ipmsg_entry_clear(&e); /* a stranger leaving: nothing to record */
        return;
    }
    ipm_presence before = known ? known->presence : IPM_OFFLINE;
    /* Windows sends "nick[title]" while absent (§4.2): the list keeps the
     * plain nickname (recipients are resolved by it), the status says absent.
     * iptux always sets ABSENCEOPT (§9.3) and never decorates: left alone. */
    bool iptux = looks_like_iptux(pkt, &e);
    if ((pkt->opts & IPMSG_ABSENCEOPT) && !iptux && e.nick)
        e.nick[ipm_nick_undecorated_len(e.nick, strlen(e.nick))] = '\0';
    ipm_user_info info = {
        .user = e.user,
        .host = e.host,
        .nickname = e.nick,
        .group = e.group,
        .version = e.version,
        .uuid = e.uuid,
        .addr = from,
        /* A BR_EXIT carries the status too, but the peer is gone: keep its capabilities.
         * UTF8OPT tells how this packet is encoded, not what the host is: not kept
         * (the status goes out again in ANSLIST pages, §4.5). */
        .status =
            pkt->mode == IPMSG_BR_EXIT && known ? known->status : (pkt->opts & ~IPMSG_UTF8OPT),
        .presence = presence_of(pkt->mode, pkt->opts, iptux),
        /* iptux ignores UTF8OPT but tries UTF-8 before its other encodings
         * (§8), whatever encoding it announces: UTF-8 is always read right. */
        .iptux = iptux,
    };
    ipm_user *u = NULL;
    char *moved_from = NULL;
    ipm_upsert rc = ipm_users_upsert(&st->users, &info, ipm_now(), &u, &moved_from);
    switch (rc) {
    case IPM_UPSERT_ERROR:
        st->api->log(st->ctx, DG_LOG_WARN, "cannot record user %s@%s", e.user, e.host);
        break;
    case IPM_UPSERT_NEW:
        presence_publish(st, u, "new", NULL);
        break;
    case IPM_UPSERT_MOVED:
        st->api->log(st->ctx, DG_LOG_INFO, "%s moved to %s (same identity %s)", moved_from, u->key,
                     u->uuid);
        presence_publish(st, u, "moved", moved_from);
        break;
    case IPM_UPSERT_CHANGED:
        presence_publish(st, u, u->presence == IPM_OFFLINE ? "offline" : "updated", NULL);
        break;
    case IPM_UPSERT_SAME:
        break;
    }
    free(moved_from);
    /* The crypto provider fetches keys of peers that can encrypt (§6.2). */
    if (u && pkt->mode != IPMSG_BR_EXIT)
        cryptohook_on_entry(st, u, pkt->mode == IPMSG_BR_ENTRY);
    if (u && pkt->mode == IPMSG_BR_ENTRY)
        schedule_answer(st, from, u->utf8);
    else if (u && u->iptux && pkt->mode == IPMSG_ANSENTRY)
        reintroduce_in_utf8(st, u, from);
    /* Just went absent: ask for the text, as the user list shows it (§4.6). */
    if (u && u->presence == IPM_ABSENT && before != IPM_ABSENT)
        tx_simple(st, from, IPMSG_GETABSENCEINFO | (u->utf8 ? IPMSG_UTF8OPT : 0), NULL);
    ipmsg_entry_clear(&e);
}

void presence_on_info(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    char *user, *host, *text = NULL;
    if (rx_names(st, pkt, &user, &host) != 0)
        return;
    ipm_user *u = ipm_users_find(&st->users, user, host);
    if (u && (text = rx_text(st, pkt, pkt->extra)) != NULL) {
        char **dst = pkt->mode == IPMSG_SENDABSENCEINFO ? &u->absence_text : &u->version;
        if (!*dst || strcmp(*dst, text) != 0) {
            free(*dst);
            *dst = text;
            text = NULL;
            presence_publish(st, u, "updated", NULL);
        }
    }
    free(text);
    free(user);
    free(host);
}

/* ---- our own names ---- */

static int set_name(char **dst, const char *v)
{
    if (!v)
        v = "";
    if (*dst && strcmp(*dst, v) == 0)
        return 0;
    char *c = strdup(v);
    if (!c)
        return 0;
    free(*dst);
    *dst = c;
    return 1;
}

int presence_set_names(ipm_state *st, const json_t *identity)
{
    const char *nick = json_string_value(json_object_get(identity, "nickname"));
    const char *group = json_string_value(json_object_get(identity, "group"));
    /* Never an empty nickname: old clients show the extra as the name. */
    int changed = set_name(&st->nickname, nick && *nick ? nick : st->base_user);
    changed |= set_name(&st->group, group);
    return changed;
}

void presence_identity_changed(ipm_state *st, const json_t *identity)
{
    if (presence_set_names(st, identity))
        presence_round(st, IPMSG_BR_ABSENCE);
}
