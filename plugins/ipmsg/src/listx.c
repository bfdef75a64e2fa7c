#include "listx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"
#include "listx_logic.h"
#include "net.h"
#include "presence.h"
#include "tx.h"

/* A GETLIST is sent at most this often (the first time and two resends). */
#define LISTX_GETLIST_TRIES 3
/* BR_ISGETLIST2 rounds before giving up: the first and one with RETRYOPT (Windows). */
#define LISTX_ASKS 2

typedef enum lx_phase {
    LX_IDLE = 0,
    LX_ASKING = 1,   /* BR_ISGETLIST2 sent, waiting for OKGETLIST */
    LX_FETCHING = 2, /* GETLIST sent to the server, waiting for ANSLIST */
} lx_phase;

static const char *const phase_names[] = {"idle", "asking", "fetching"};

typedef struct ipm_listx {
    lx_phase phase;
    int asks;        /* BR_ISGETLIST2 rounds of this exchange */
    ipm_addr server; /* the first host that answered OKGETLIST */
    uint32_t start;  /* index of the page asked for */
    int tries;       /* GETLIST sends for that index */
    unsigned pages;  /* pages of this exchange */
    size_t listed;   /* entries of this exchange */
    size_t added;    /* of which new or back from offline */
    dg_timer *timer; /* one-shot: the answer did not come in time */
    /* Totals since start, for ipmsg.discovery. */
    uint64_t exchanges, completed, failed, pages_received, ok_sent, pages_served, hosts_served;
    uint64_t ignored; /* OKGETLIST/ANSLIST nobody asked for (late, or another server) */
    /* The last finished exchange. */
    bool last_valid, last_ok;
    const char *last_why;
    char last_server[IPM_ADDR_TEXT];
    unsigned last_pages;
    size_t last_listed, last_added;
    int64_t last_time;
} ipm_listx;

int listx_init(ipm_state *st)
{
    st->listx = calloc(1, sizeof(ipm_listx));
    return st->listx ? 0 : -1;
}

void listx_free(ipm_state *st)
{
    free(st->listx); /* the host removes the timer */
    st->listx = NULL;
}

bool listx_running(const ipm_state *st)
{
    return st->listx && st->listx->phase != LX_IDLE;
}

/* ---- requester ---- */

static void on_timer(dg_ctx *ctx, dg_timer *timer, void *user);

static void arm(ipm_state *st)
{
    ipm_listx *lx = st->listx;
    if (lx->timer)
        st->api->timer_cancel(st->ctx, lx->timer);
    lx->timer = st->api->timer_add(st->ctx, (uint64_t)st->cfg.list_wait_ms, 0, on_timer, st, NULL);
}

/* BR_ISGETLIST2 to every entry target, like BroadcastEntry(IPMSG_BR_ISGETLIST2). */
static void send_request(ipm_state *st, uint32_t opts)
{
    char buf[IPM_TX_MAX];
    size_t len;
    if (tx_named(st, IPMSG_BR_ISGETLIST2 | tx_status(st) | opts, buf, sizeof buf, &len) != 0)
        return;
    ipm_addr_list targets = {0};
    net_entry_targets(st, &targets);
    for (size_t i = 0; i < targets.n; i++)
        net_send(st, targets.v[i], buf, len);
    st->api->log(st->ctx, DG_LOG_DEBUG, "BR_ISGETLIST2%s sent to %zu targets",
                 (opts & IPMSG_RETRYOPT) ? "|RETRYOPT" : "", targets.n);
    ipm_addrlist_free(&targets);
}

/* GETLIST: empty extra for the first page (Windows), else the decimal index. */
static void send_getlist(ipm_state *st)
{
    ipm_listx *lx = st->listx;
    char extra[16] = "";
    if (lx->start)
        snprintf(extra, sizeof extra, "%u", (unsigned)lx->start);
    lx->tries++;
    /* CAPUTF8OPT: a Windows server then answers in UTF-8 (SendHostList). */
    tx_simple(st, lx->server, IPMSG_GETLIST | IPMSG_CAPUTF8OPT, extra);
    arm(st);
}

static void finish(ipm_state *st, bool ok, const char *why)
{
    ipm_listx *lx = st->listx;
    if (lx->timer)
        st->api->timer_cancel(st->ctx, lx->timer);
    lx->timer = NULL;
    char a[IPM_ADDR_TEXT] = "";
    if (lx->phase == LX_FETCHING)
        ipm_addr_format(lx->server, a);
    lx->phase = LX_IDLE;
    *(ok ? &lx->completed : &lx->failed) += 1;
    lx->last_valid = true;
    lx->last_ok = ok;
    lx->last_why = why;
    snprintf(lx->last_server, sizeof lx->last_server, "%s", a);
    lx->last_pages = lx->pages;
    lx->last_listed = lx->listed;
    lx->last_added = lx->added;
    lx->last_time = ipm_now();
    st->api->log(st->ctx, ok ? DG_LOG_INFO : DG_LOG_WARN,
                 "host list%s%s: %s; %u pages, %zu hosts listed, %zu new", a[0] ? " from " : "", a,
                 why, lx->pages, lx->listed, lx->added);
    /* §4.5 step 5: now the usual entry round, which reaches the listed hosts too. */
    presence_round(st, IPMSG_BR_ENTRY);
}

static void on_timer(dg_ctx *ctx, dg_timer *timer, void *user)
{
    ipm_state *st = user;
    ipm_listx *lx = st->listx;
    lx->timer = NULL; /* one-shot: gone after this call */
    if (lx->phase == LX_ASKING) {
        if (lx->asks < LISTX_ASKS) {
            lx->asks++;
            send_request(st, IPMSG_RETRYOPT);
            arm(st);
        } else {
            finish(st, false, "no list server answered");
        }
    } else if (lx->phase == LX_FETCHING) {
        if (lx->tries < LISTX_GETLIST_TRIES)
            send_getlist(st);
        else
            finish(st, false, "the list server stopped answering");
    }
}

void listx_start(ipm_state *st)
{
    ipm_listx *lx = st->listx;
    if (lx->phase != LX_IDLE)
        return;
    lx->exchanges++;
    lx->phase = LX_ASKING;
    lx->asks = 1;
    lx->pages = 0;
    lx->listed = lx->added = 0;
    send_request(st, 0);
    arm(st);
}

static void on_okgetlist(ipm_state *st, ipm_addr from)
{
    ipm_listx *lx = st->listx;
    if (lx->phase != LX_ASKING) {
        lx->ignored++; /* a second server, or an answer after we gave up */
        return;
    }
    lx->phase = LX_FETCHING;
    lx->server = from;
    lx->start = 0;
    lx->tries = 0;
    send_getlist(st);
}

static void remember_peer(ipm_state *st, ipm_addr a)
{
    if (st->list_peers.n < IPM_ADDRLIST_MAX)
        ipm_addrlist_add(&st->list_peers, a);
}

static void on_anslist(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    ipm_listx *lx = st->listx;
    if (lx->phase != LX_FETCHING || !ipm_addr_eq(from, lx->server)) {
        lx->ignored++; /* only the server we asked may fill our user list */
        return;
    }
    ipmsg_hostlist_page page;
    ipmsg_error err;
    if (ipmsg_hostlist_parse(pkt->extra, &page, &err) != IPMSG_OK) {
        st->stats.malformed++;
        st->api->log(st->ctx, DG_LOG_WARN, "bad ANSLIST page: %s", err.reason);
        finish(st, false, "the list server sent a malformed page");
        return;
    }
    lx->pages++;
    lx->pages_received++;
    ipm_listx_ctx c = {
        .users = &st->users,
        .cs = st->cs,
        .enc = ipmsg_packet_enc(pkt->command),
        .self_user = st->user,
        .self_host = st->host,
        .now = ipm_now(),
    };
    ipmsg_hostlist_iter it;
    ipmsg_hostlist_entry e;
    size_t entries = 0, bad = 0;
    int rc;
    ipmsg_hostlist_begin(&page, &it);
    while ((rc = ipmsg_hostlist_next(&it, &e, &err)) != 0) {
        if (rc < 0) {
            /* Entries before stay valid; the rest of this page is lost. */
            st->stats.malformed++;
            st->api->log(st->ctx, DG_LOG_WARN, "bad ANSLIST entry at byte %zu: %s", err.offset,
                         err.reason);
            break;
        }
        entries++;
        ipm_user *u = NULL;
        ipm_addr a;
        switch (ipm_listx_apply(&c, &e, &u, &a)) {
        case IPM_LISTX_NEW:
            lx->added++;
            presence_publish(st, u, "new", NULL);
            remember_peer(st, a);
            break;
        case IPM_LISTX_UPDATED:
            lx->added++;
            presence_publish(st, u, "updated", NULL);
            remember_peer(st, a);
            break;
        case IPM_LISTX_SAME:
            remember_peer(st, a);
            break;
        case IPM_LISTX_BAD:
            bad++;
            break;
        case IPM_LISTX_ERROR:
            st->api->log(st->ctx, DG_LOG_WARN, "out of memory while reading a host list");
            break;
        case IPM_LISTX_KNOWN: /* heard first hand: reachable already */
        case IPM_LISTX_SELF:
        case IPM_LISTX_GONE:
            break;
        }
    }
    lx->listed += entries;
    if (bad)
        st->api->log(st->ctx, DG_LOG_INFO, "%zu unusable hosts in an ANSLIST page skipped", bad);
    switch (ipm_listx_after_page(lx->start, page.next_start, entries, lx->pages)) {
    case IPM_LISTX_CONTINUE:
        lx->start = page.next_start;
        lx->tries = 0;
        send_getlist(st);
        break;
    case IPM_LISTX_DONE:
        finish(st, true, "complete");
        break;
    case IPM_LISTX_STUCK:
        finish(st, false, "the list server's pages do not progress");
        break;
    }
}

/* ---- list server ---- */

static void on_isgetlist(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    if (!st->cfg.list_server)
        return;
    /* Windows: only after ListGetMSec of uptime, and a list client itself only answers retries. */
    if (ipm_mono_ms() - st->started_ms < (uint64_t)st->cfg.list_wait_ms)
        return;
    if (st->cfg.list_get && !(pkt->opts & IPMSG_RETRYOPT))
        return;
    if (tx_simple(st, from, IPMSG_OKGETLIST, NULL))
        st->listx->ok_sent++;
}

static void on_getlist(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    if (!st->cfg.list_server)
        return;
    uint32_t start;
    if (ipmsg_getlist_start(pkt->extra, &start, NULL) != IPMSG_OK) {
        st->stats.malformed++;
        return;
    }
    bool utf8 = (pkt->opts & (IPMSG_CAPUTF8OPT | IPMSG_UTF8OPT)) != 0;
    uint32_t cmd = IPMSG_ANSLIST | (utf8 ? IPMSG_UTF8OPT : 0);
    uint32_t no = ipmsg_pktno_next_now(&st->pktno);
    char *buf = malloc(IPM_TX_MAX), *extra = malloc(IPM_TX_MAX);
    ipm_listx_table tab = {0};
    size_t hlen, elen, written, len;
    uint32_t next;
    ipmsg_error err = {0};
    /* The page gets what the header (same number, same names) leaves of the datagram. */
    if (!buf || !extra || tx_build(st, no, cmd, NULL, 0, buf, IPM_TX_MAX, &hlen) != 0 ||
        ipm_listx_table_build(&st->users, &tab) != 0)
        goto out;
    int rc = ipmsg_hostlist_build(tab.hosts, tab.n, start, st->cs,
                                  utf8 ? IPMSG_ENC_UTF8 : IPMSG_ENC_LEGACY, extra,
                                  IPM_TX_MAX - hlen, &elen, &written, &next, &err);
    if (rc != IPMSG_OK) {
        st->api->log(st->ctx, DG_LOG_WARN, "cannot build an ANSLIST page: %s",
                     err.reason ? err.reason : ipmsg_status_str(rc));
        goto out;
    }
    if (tx_build_raw(st, no, cmd, extra, elen, buf, IPM_TX_MAX, &len) != 0)
        goto out;
    if (net_send(st, from, buf, len) == 0) {
        st->listx->pages_served++;
        st->listx->hosts_served += written;
    }
out:
    ipm_listx_table_free(&tab);
    free(buf);
    free(extra);
}

void listx_on_packet(ipm_state *st, const ipmsg_packet *pkt, ipm_addr from)
{
    switch (pkt->mode) {
    case IPMSG_BR_ISGETLIST2:
        on_isgetlist(st, pkt, from);
        break;
    case IPMSG_OKGETLIST:
        on_okgetlist(st, from);
        break;
    case IPMSG_GETLIST:
        on_getlist(st, pkt, from);
        break;
    case IPMSG_ANSLIST:
        on_anslist(st, pkt, from);
        break;
    default:
        break;
    }
}

json_t *listx_json(const ipm_state *st)
{
    const ipm_listx *lx = st->listx;
    char a[IPM_ADDR_TEXT];
    json_t *o = json_pack("{s:b, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                          "list_get", st->cfg.list_get, "list_server", st->cfg.list_server, "state",
                          phase_names[lx->phase], "exchanges", (json_int_t)lx->exchanges,
                          "completed", (json_int_t)lx->completed, "failed", (json_int_t)lx->failed,
                          "pages_received", (json_int_t)lx->pages_received, "ok_sent",
                          (json_int_t)lx->ok_sent, "pages_served", (json_int_t)lx->pages_served,
                          "hosts_served", (json_int_t)lx->hosts_served, "ignored",
                          (json_int_t)lx->ignored, "peers", (json_int_t)st->list_peers.n);
    if (!o)
        return NULL;
    if (lx->phase == LX_FETCHING) {
        json_object_set_new(o, "server", json_string(ipm_addr_format(lx->server, a)));
        json_object_set_new(o, "start", json_integer(lx->start));
    }
    if (lx->last_valid)
        json_object_set_new(
            o, "last",
            json_pack("{s:b, s:s, s:s, s:I, s:I, s:I, s:I}", "ok", lx->last_ok, "result",
                      lx->last_why, "server", lx->last_server, "pages", (json_int_t)lx->last_pages,
                      "hosts", (json_int_t)lx->last_listed, "new", (json_int_t)lx->last_added,
                      "time", (json_int_t)lx->last_time));
    return o;
}
