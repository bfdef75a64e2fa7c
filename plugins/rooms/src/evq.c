#include "evq.h"

#include <stdlib.h>
#include <string.h>

/* Retry period while a subscriber is full: short, the backlog is in memory. */
#define EVQ_RETRY_MS 20

typedef struct evq_item {
    struct evq_item *next;
    char *topic;
    json_t *payload;
} evq_item;

struct rooms_evq {
    evq_item *head, *tail;
    size_t n;
    dg_timer *timer;
};

int rooms_evq_declare(rooms_state *st)
{
    static const char *const topics[] = {"chat.room.message", "chat.room.member"};
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++) {
        int rc = st->api->topic_declare(st->ctx, topics[i], DG_OVERFLOW_BLOCK);
        if (rc != DG_OK) {
            st->api->log(st->ctx, DG_LOG_ERROR, "cannot declare topic %s (%d)", topics[i], rc);
            return rc;
        }
    }
    return DG_OK;
}

/* DG_EAGAIN keeps our reference for a retry; anything else consumes it. */
static int try_publish(rooms_state *st, const char *topic, json_t *payload)
{
    json_incref(payload);
    int rc = st->api->publish(st->ctx, topic, payload);
    if (rc != DG_EAGAIN) {
        if (rc != DG_OK)
            st->api->log(st->ctx, DG_LOG_WARN, "publish %s failed (%d)", topic, rc);
        json_decref(payload);
    }
    return rc;
}

static void flush(dg_ctx *ctx, dg_timer *timer, void *user)
{
    rooms_state *st = user;
    rooms_evq *q = st->evq;
    while (q->head) {
        evq_item *it = q->head;
        if (try_publish(st, it->topic, it->payload) == DG_EAGAIN)
            return;
        q->head = it->next;
        if (!q->head)
            q->tail = NULL;
        q->n--;
        free(it->topic);
        free(it);
    }
    st->api->timer_cancel(ctx, timer);
    q->timer = NULL;
}

void rooms_evq_publish(rooms_state *st, const char *topic, json_t *payload)
{
    if (!payload)
        return;
    if (!st->evq && !(st->evq = calloc(1, sizeof(*st->evq)))) {
        st->api->publish(st->ctx, topic, payload); /* best effort, stolen */
        return;
    }
    rooms_evq *q = st->evq;
    if (!q->head && try_publish(st, topic, payload) != DG_EAGAIN)
        return;
    evq_item *it = calloc(1, sizeof(*it));
    char *t = strdup(topic);
    if (!it || !t) {
        free(it);
        free(t);
        st->api->log(st->ctx, DG_LOG_ERROR, "out of memory: event %s lost", topic);
        json_decref(payload);
        return;
    }
    it->topic = t;
    it->payload = payload;
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->n++;
    if (!q->timer)
        q->timer = st->api->timer_add(st->ctx, EVQ_RETRY_MS, EVQ_RETRY_MS, flush, st, NULL);
}

void rooms_evq_free(rooms_state *st)
{
    rooms_evq *q = st->evq;
    if (!q)
        return;
    if (q->n)
        st->api->log(st->ctx, DG_LOG_WARN, "%zu room events not published at stop", q->n);
    while (q->head) {
        evq_item *it = q->head;
        q->head = it->next;
        json_decref(it->payload);
        free(it->topic);
        free(it);
    }
    free(q);
    st->evq = NULL;
}
