/*
 * Live presence and the daily upkeep. presence.changed keeps statuses
 * current; this file covers what events cannot: the state of the transport
 * when the plugin starts after it, events dropped in an overflow, peers that
 * vanished without BR_EXIT (the transport still has them "online", but has
 * not heard from them since), and expiry after users.offline_days.
 *
 * The transport's times are on the system clock; ours may be shifted (the
 * test clock), so only the age of its last_seen is carried over.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "state.h"

const dg_chat_transport_v1 *us_transport(us_state *st)
{
    if (st->transport)
        return st->transport;
    size_t size = 0;
    const dg_chat_transport_v1 *t =
        st->api->service_require(st->ctx, DG_CHAT_TRANSPORT_SERVICE, 1, &size);
    if (t && size >= offsetof(dg_chat_transport_v1, user_get) + sizeof(t->user_get) && t->user_get)
        st->transport = t;
    return st->transport;
}

/* Marks u offline because the transport does not know it (any more). */
static void gone(us_state *st, us_user *u)
{
    if (u->status == US_OFFLINE)
        return;
    u->status = US_OFFLINE;
    us_set_opt(&u->absence, NULL);
    us_save(st, u);
    us_publish(st, u, "updated", NULL);
}

/* Applies the transport's view of key (a users.get-shaped object, or NULL). */
static void sync_one(us_state *st, const char *key, const json_t *live, int64_t now)
{
    us_user *u = us_dir_find_key(&st->dir, key);
    if (!u)
        return; /* merged away by an earlier key of this round */
    us_event ev;
    char err[256];
    const char *live_key = json_string_value(json_object_get(live, "key"));
    if (!live || !live_key || strcasecmp(live_key, key) != 0 ||
        us_event_parse(live, &ev, err, sizeof err) != 0) {
        gone(st, u);
        return;
    }
    /*
     * Present: seen as long ago as the transport last heard from them.
     * Offline: keep our own record (when we learnt they left).
     */
    int64_t seen = u->last_seen;
    if (!ev.has_status || ev.status != US_OFFLINE) {
        int64_t age = ev.last_seen ? (int64_t)time(NULL) - ev.last_seen : 0;
        seen = now - (age > 0 ? age : 0);
    }
    us_applied r = us_dir_apply(&st->dir, &ev, seen, us_new_level(st));
    if (r.change == US_CHANGE_ERROR)
        return;
    if (r.merged_from)
        us_unsave(st, r.merged_from);
    us_save(st, r.user);
    if (r.change == US_CHANGE_MERGED)
        us_publish(st, r.user, "merged", r.merged_from);
    else if (r.change != US_CHANGE_NONE)
        us_publish(st, r.user, "updated", NULL);
    free(r.merged_from);
}

void us_resync(us_state *st)
{
    const dg_chat_transport_v1 *t = us_transport(st);
    if (!t || st->dir.n == 0)
        return;
    /* Keys first: applying may merge (rekey, remove) entries under our feet. */
    size_t n = st->dir.n;
    char **keys = calloc(n, sizeof(*keys));
    if (!keys)
        return;
    for (size_t i = 0; i < n; i++)
        keys[i] = strdup(st->dir.v[i]->key);
    int64_t now = us_now(st);
    for (size_t i = 0; i < n; i++) {
        if (!keys[i])
            continue;
        json_t *live = t->user_get(t->self, keys[i]);
        sync_one(st, keys[i], live, now);
        json_decref(live);
        free(keys[i]);
    }
    free(keys);
}

static json_t *expire(us_state *st, int64_t now)
{
    json_t *removed = json_array();
    us_user **gone_users = NULL;
    int64_t max_age = us_max_age(st);
    size_t n = us_dir_expire(&st->dir, now, max_age, &gone_users);
    for (size_t i = 0; i < n; i++) {
        us_user *u = gone_users[i];
        st->api->log(st->ctx, DG_LOG_INFO, "%s removed: not seen for %lld days", u->key,
                     (long long)(max_age / US_DAY_S));
        us_unsave(st, u->key);
        us_publish(st, u, "expired", NULL);
        json_array_append_new(removed, json_string(u->key));
        us_user_free(u);
    }
    free(gone_users);
    return removed;
}

json_t *us_maintain(us_state *st)
{
    int64_t now = us_now(st);
    if (us_transport(st)) {
        us_resync(st);
    } else {
        /* Only events tell us who is here: whoever is present was seen now. */
        for (size_t i = 0; i < st->dir.n; i++) {
            us_user *u = st->dir.v[i];
            if (u->status != US_OFFLINE && u->last_seen < now) {
                u->last_seen = now;
                us_save(st, u);
            }
        }
    }
    return expire(st, now);
}
