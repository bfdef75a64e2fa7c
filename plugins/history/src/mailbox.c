#include "mailbox.h"

#include <stdlib.h>
#include <string.h>

#include "state.h"

int mailbox_init(hist_mailbox *mb)
{
    memset(mb, 0, sizeof *mb);
    return pthread_mutex_init(&mb->lock, NULL) == 0 ? 0 : -1;
}

static void drain_post(void *user)
{
    mailbox_drain(user);
}

void mailbox_post(hist_state *st, mb_node *node, mb_fn fn)
{
    hist_mailbox *mb = &st->mailbox;
    node->fn = fn;
    node->next = NULL;
    pthread_mutex_lock(&mb->lock);
    if (mb->tail)
        mb->tail->next = node;
    else
        mb->head = node;
    mb->tail = node;
    bool post = !mb->posted;
    mb->posted = true;
    pthread_mutex_unlock(&mb->lock);
    if (post && st->api->post(st->ctx, drain_post, st) != DG_OK) {
        /* Not drained now: the next post or stop() will. */
        pthread_mutex_lock(&mb->lock);
        mb->posted = false;
        pthread_mutex_unlock(&mb->lock);
    }
}

void mailbox_drain(hist_state *st)
{
    hist_mailbox *mb = &st->mailbox;
    pthread_mutex_lock(&mb->lock);
    mb_node *n = mb->head;
    mb->head = mb->tail = NULL;
    mb->posted = false;
    pthread_mutex_unlock(&mb->lock);
    while (n) {
        mb_node *next = n->next;
        n->fn(st, n);
        n = next;
    }
}

void mailbox_destroy(hist_mailbox *mb)
{
    pthread_mutex_destroy(&mb->lock);
}

typedef struct log_line {
    mb_node node; /* first: the node is the line */
    int level;
    char msg[];
} log_line;

static void log_now(hist_state *st, mb_node *node)
{
    log_line *l = (log_line *)node;
    st->api->log(st->ctx, (dg_log_level)l->level, "%s", l->msg);
    free(l);
}

void mailbox_log(hist_state *st, int level, const char *msg)
{
    size_t len = strlen(msg);
    log_line *l = malloc(sizeof *l + len + 1);
    if (!l)
        return; /* out of memory: the line is lost, the counters still tell */
    l->level = level;
    memcpy(l->msg, msg, len + 1);
    mailbox_post(st, &l->node, log_now);
}
