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

typedef struct ipm_evq {
    evq_item *head, *tail;
    size_t n;
    dg_timer *timer;
} ipm_evq;

/* Topics and their overflow policies, as documented in docs/events.md. */
static const struct {
    const char *topic;
    dg_overflow overflow;
} topics[] = {
    {"presence.changed", DG_OVERFLOW_DROP_OLDEST},   {"chat.message.received", DG_OVERFLOW_BLOCK},
    {"chat.message.sent", DG_OVERFLOW_BLOCK},        {"chat.message.delivered", DG_OVERFLOW_BLOCK},
    {"chat.message.failed", DG_OVERFLOW_BLOCK},      {"chat.message.opened", DG_OVERFLOW_BLOCK},
    {"presence.self.changed", DG_OVERFLOW_COALESCE}, {"chat.message.read", DG_OVERFLOW_BLOCK},
};

int evq_declare_topics(ipm_state *st)
{
    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
        int rc = st->api->topic_declare(st->ctx, topics[i].topic, topics[i].overflow);
        if (rc != DG_OK) {
            st->api->log(st->ctx, DG_LOG_ERROR, "cannot declare topic %s (%d)", topics[i].topic,
                         rc);
            return rc;
        }
    }
    return DG_OK;
}

/* DG_EAGAIN keeps our reference for a retry; anything else consumes it. */
static int try_publish(ipm_state *st, const char *topic, json_t *payload)
{
    json_incref(payload);
    int rc = st->api->publish(st->ctx, topic, payload);
    if (rc != DG_EAGAIN) {
        if (rc != DG_OK && rc != DG_STOP) /* a veto is a subscriber's choice, not a failure */
            st->api->log(st->ctx, DG_LOG_WARN, "publish %s failed (%d)", topic, rc);
        json_decref(payload);
    }
    return rc;
}

static void flush(dg_ctx *ctx, dg_timer *timer, void *user)
{
    ipm_state *st = user;
    ipm_evq *q = st->evq;
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

int evq_publish(ipm_state *st, const char *topic, json_t *payload)
{
    if (!payload)
        return DG_OK;
    if (!st->evq) {
        st->evq = calloc(1, sizeof(ipm_evq));
        if (!st->evq) {
            int rc = st->api->publish(st->ctx, topic, payload); /* best effort, stolen */
            return rc == DG_STOP ? DG_STOP : DG_OK;
        }
    }
    ipm_evq *q = st->evq;
    if (!q->head) {
        int rc = try_publish(st, topic, payload);
        if (rc != DG_EAGAIN)
            return rc == DG_STOP ? DG_STOP : DG_OK;
    }
    /* Queued: payload already holds our reference from try_publish, or ours. */
    evq_item *it = calloc(1, sizeof(*it));
    char *t = strdup(topic);
    if (!it || !t) {
        free(it);
        free(t);
        st->api->log(st->ctx, DG_LOG_ERROR, "out of memory: event %s lost", topic);
        json_decref(payload);
        return DG_OK;
    }
    it->topic = t;
    it->payload = payload;
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->n++;
    st->stats.events_deferred++;
    if (!q->timer)
        q->timer = st->api->timer_add(st->ctx, EVQ_RETRY_MS, EVQ_RETRY_MS, flush, st, NULL);
    return DG_OK;
}

void evq_free(ipm_state *st)
{
    ipm_evq *q = st->evq;
    if (!q)
        return;
    if (q->n)
        st->api->log(st->ctx, DG_LOG_WARN, "%zu events not published at stop", q->n);
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
