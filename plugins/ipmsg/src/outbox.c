#include "outbox.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net.h"

static void pending_free(ipm_pending *p)
{
    free(p->key);
    free(p->data);
    free(p);
}

static void unlink_pending(ipm_state *st, ipm_pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        st->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        st->pending_tail = p->prev;
}

static void on_retry(dg_ctx *ctx, dg_timer *timer, void *user)
{
    ipm_pending *p = user;
    ipm_state *st = p->st;
    if (p->sends > st->cfg.retries) {
        /* The answer did not come: give up (the timer goes with the entry). */
        messages_on_give_up(st, p);
        outbox_done(st, p);
        return;
    }
    p->sends++;
    st->stats.retries++;
    net_send(st, p->addr, p->data, p->len);
}

ipm_pending *outbox_send(ipm_state *st, ipm_pend_kind kind, uint32_t packet_no, ipm_addr addr,
                         const char *key, const char *data, size_t len)
{
    ipm_pending *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->st = st;
    p->kind = kind;
    p->packet_no = packet_no;
    p->addr = addr;
    p->key = strdup(key ? key : "");
    p->data = malloc(len ? len : 1);
    uint64_t every = (uint64_t)st->cfg.retry_interval_ms;
    if (p->key && p->data)
        p->timer = st->api->timer_add(st->ctx, every, every, on_retry, p, NULL);
    if (!p->timer) {
        pending_free(p);
        return NULL;
    }
    memcpy(p->data, data, len);
    p->len = len;
    p->next = st->pending;
    if (p->next)
        p->next->prev = p;
    else
        st->pending_tail = p;
    st->pending = p;
    p->sends = 1;
    net_send(st, addr, data, len);
    return p;
}

ipm_pending *outbox_find(ipm_state *st, ipm_pend_kind kind, uint32_t packet_no, ipm_addr from,
                         const char *key)
{
    /* From the oldest: with hundreds in flight, acks mostly come in the order
     * the packets went out (from the newest, each ack walked the whole list). */
    for (ipm_pending *p = st->pending_tail; p; p = p->prev)
        if (p->kind == kind && p->packet_no == packet_no &&
            (ipm_addr_eq(p->addr, from) || (key && strcasecmp(p->key, key) == 0)))
            return p;
    return NULL;
}

void outbox_done(ipm_state *st, ipm_pending *p)
{
    unlink_pending(st, p);
    st->api->timer_cancel(st->ctx, p->timer);
    pending_free(p);
}

void outbox_free_all(ipm_state *st)
{
    while (st->pending) {
        ipm_pending *p = st->pending;
        st->pending = p->next;
        pending_free(p);
    }
    st->pending_tail = NULL;
}
