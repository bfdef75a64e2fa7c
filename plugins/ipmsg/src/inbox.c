#include "inbox.h"

#include <stdlib.h>
#include <string.h>

void ipm_inbox_init(ipm_inbox *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max ? max : 1000;
}

void ipm_msg_free(ipm_msg *m)
{
    if (!m)
        return;
    free(m->from);
    free(m->nickname);
    free(m->text);
    free(m->attachments);
    free(m->crypto_note);
    free(m->suite);
    json_decref(m->to);
    free(m);
}

void ipm_inbox_free(ipm_inbox *b)
{
    for (size_t i = 0; i < b->n; i++)
        ipm_msg_free(b->v[i]);
    free(b->v);
    b->v = NULL;
    b->n = 0;
}

ipm_msg *ipm_inbox_add(ipm_inbox *b, ipm_msg *m)
{
    if (!m)
        return NULL;
    if (!b->v) {
        b->v = calloc(b->max, sizeof(*b->v));
        if (!b->v) {
            ipm_msg_free(m);
            return NULL;
        }
    }
    if (b->n == b->max) {
        ipm_msg_free(b->v[0]);
        memmove(&b->v[0], &b->v[1], (b->n - 1) * sizeof(*b->v));
        b->n--;
        b->evicted++;
    }
    b->v[b->n++] = m;
    return m;
}

ipm_msg *ipm_inbox_find(const ipm_inbox *b, uint32_t id)
{
    for (size_t i = b->n; i-- > 0;)
        if (b->v[i]->id == id)
            return b->v[i];
    return NULL;
}

size_t ipm_inbox_unread(const ipm_inbox *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        n += !b->v[i]->opened;
    return n;
}

json_t *ipm_msg_json(const ipm_msg *m, bool with_text)
{
    char addr[IPM_ADDR_TEXT];
    json_t *o = json_pack(
        "{s:I, s:I, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:I}", "id", (json_int_t)m->id,
        "packet_no", (json_int_t)m->packet_no, "from", m->from, "nickname", m->nickname, "address",
        ipm_addr_format(m->addr, addr), "sealed", m->sealed, "broadcast", m->broadcast, "multicast",
        m->multicast, "auto_reply", m->autoret, "opened", m->opened, "time", (json_int_t)m->time);
    if (o)
        json_object_set_new(o, "encrypted", json_boolean(m->encrypted));
    if (o && m->encrypted) {
        json_object_set_new(o, "verified", json_boolean(m->verified));
        json_object_set_new(o, "suite", json_string(m->suite ? m->suite : ""));
        if (!m->verified && m->crypto_note)
            json_object_set_new(o, "verify_note", json_string(m->crypto_note));
        if (m->to)
            json_object_set_new(o, "to", json_deep_copy(m->to));
    }
    if (o && with_text)
        json_object_set_new(o, "text", json_string(m->text));
    if (o && with_text && m->attachments)
        json_object_set_new(o, "attachments", json_string(m->attachments));
    return o;
}
