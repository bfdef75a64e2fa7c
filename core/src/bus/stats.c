/* dg_bus_stats: counters as JSON for the debug/stats RPC. */
#include "bus/bus_internal.h"

static json_t *topic_stats(const dg_bus *bus, const dgb_topic *t)
{
    json_t *owners = json_array();
    for (size_t i = 0; owners != NULL && i < t->n_owners; i++)
        json_array_append_new(owners, json_string(dgb_owner_name(bus, t->owners[i])));
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o*}", "overflow",
                     dg_overflow_name(t->overflow), "published", (json_int_t)t->published,
                     "delivered", (json_int_t)t->delivered, "dropped", (json_int_t)t->dropped,
                     "coalesced", (json_int_t)t->coalesced, "vetoed", (json_int_t)t->vetoed,
                     "rejected", (json_int_t)t->rejected, "deferred", (json_int_t)t->deferred,
                     "owners", owners);
}

static json_t *topics_stats(const dg_bus *bus)
{
    json_t *topics = json_object();
    for (size_t i = 0; topics != NULL && i < bus->tbl_size; i++) {
        for (const dgb_topic *t = bus->tbl[i]; t != NULL; t = t->hnext)
            json_object_set_new(topics, t->name, topic_stats(bus, t));
    }
    return topics;
}

static json_t *sub_stats(const dg_bus *bus, const dg_sub *s)
{
    return json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I}", "owner",
                     dgb_owner_name(bus, s->owner), "pattern", s->pattern, "priority", s->priority,
                     "capacity", (json_int_t)s->capacity, "depth", (json_int_t)s->ring.live,
                     "max_depth", (json_int_t)s->max_depth, "dropped", (json_int_t)s->dropped,
                     "coalesced", (json_int_t)s->coalesced, "delivered", (json_int_t)s->delivered);
}

static json_t *icpt_stats(const dg_bus *bus, const dg_sub *s)
{
    return json_pack("{s:s, s:s, s:i, s:I, s:I}", "owner", dgb_owner_name(bus, s->owner), "pattern",
                     s->pattern, "priority", s->priority, "calls", (json_int_t)s->delivered,
                     "vetoed", (json_int_t)s->dropped);
}

/* Live entries only: dead ones are about to be reaped. */
static json_t *list_stats(const dg_bus *bus, const dg_sub *list,
                          json_t *(*one)(const dg_bus *, const dg_sub *))
{
    json_t *arr = json_array();
    for (const dg_sub *s = list; arr != NULL && s != NULL; s = s->next) {
        if (!s->dead)
            json_array_append_new(arr, one(bus, s));
    }
    return arr;
}

json_t *dg_bus_stats(dg_bus *bus)
{
    if (bus == NULL)
        return NULL;
    uv_mutex_lock(&bus->inbox_lock);
    json_int_t inbox = (json_int_t)(bus->in_block + bus->in_other);
    json_int_t in_dropped = (json_int_t)bus->in_dropped;
    uv_mutex_unlock(&bus->inbox_lock);
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o*, s:o*, s:o*}",
        "published", (json_int_t)bus->published, "delivered", (json_int_t)bus->delivered, "vetoed",
        (json_int_t)bus->vetoed, "rejected", (json_int_t)bus->rejected, "dropped",
        (json_int_t)bus->dropped + in_dropped, "coalesced", (json_int_t)bus->coalesced, "pending",
        (json_int_t)bus->fifo_len, "interceptor_errors", (json_int_t)bus->icpt_errors, "inbox",
        inbox, "inbox_dropped", in_dropped, "inbox_failed", (json_int_t)bus->in_failed, "waiting",
        (json_int_t)bus->n_waiting, "waiting_dropped", (json_int_t)bus->waiting_dropped, "topics",
        topics_stats(bus), "subscribers", list_stats(bus, bus->subs, sub_stats), "interceptors",
        list_stats(bus, bus->icpts, icpt_stats));
}
