#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- parsing ---- */

/* Optional string field: 0 (absent or a string of at most US_TEXT_MAX bytes), -1 otherwise. */
static int opt_text(const json_t *o, const char *key, const char **out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "'%s' is not a string", key);
        return -1;
    }
    if (json_string_length(v) > US_TEXT_MAX ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errlen, "'%s' is longer than %d bytes or contains NUL", key, US_TEXT_MAX);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* A capability name: 1-64 bytes of [a-z0-9_.-]. */
static bool cap_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
              *s == '.'))
            return false;
    return true;
}

int us_event_parse(const json_t *o, us_event *ev, char *err, size_t errlen)
{
    memset(ev, 0, sizeof(*ev));
    ev->utf8 = -1;
    if (!json_is_object(o)) {
        snprintf(err, errlen, "payload is not an object");
        return -1;
    }
    const char *key, *status;
    if (opt_text(o, "user", &ev->user, err, errlen) ||
        opt_text(o, "host", &ev->host, err, errlen) || opt_text(o, "key", &key, err, errlen) ||
        opt_text(o, "nickname", &ev->nickname, err, errlen) ||
        opt_text(o, "group", &ev->group, err, errlen) ||
        opt_text(o, "address", &ev->address, err, errlen) ||
        opt_text(o, "absence", &ev->absence, err, errlen) ||
        opt_text(o, "uuid", &ev->uuid, err, errlen) ||
        opt_text(o, "version", &ev->version, err, errlen) ||
        opt_text(o, "status", &status, err, errlen) ||
        opt_text(o, "change", &ev->change, err, errlen) ||
        opt_text(o, "moved_from", &ev->moved_from, err, errlen))
        return -1;
    if (!ev->user || !ev->host || !*ev->user || !*ev->host) {
        snprintf(err, errlen, "no user or host");
        return -1;
    }
    if (strchr(ev->host, '@')) {
        snprintf(err, errlen, "host '%s' contains '@'", ev->host);
        return -1;
    }
    if (key) {
        size_t ul = strlen(ev->user);
        if (strncasecmp(key, ev->user, ul) != 0 || key[ul] != '@' ||
            strcasecmp(key + ul + 1, ev->host) != 0) {
            snprintf(err, errlen, "key '%s' is not user@host", key);
            return -1;
        }
    }
    if (status) {
        if (us_status_parse(status, &ev->status) != 0) {
            snprintf(err, errlen, "unknown status '%s'", status);
            return -1;
        }
        ev->has_status = true;
    }
    if (ev->address && *ev->address) {
        uint32_t ip;
        uint16_t port;
        bool has_port;
        if (us_addr_parse(ev->address, &ip, &port, &has_port) != 0) {
            snprintf(err, errlen, "'%s' is not an IPv4 address", ev->address);
            return -1;
        }
    }
    if (ev->uuid && *ev->uuid && !us_uuid_valid(ev->uuid)) {
        snprintf(err, errlen, "'%s' is not a UUID", ev->uuid);
        return -1;
    }
    if (ev->uuid && !*ev->uuid)
        ev->uuid = NULL;
    const json_t *caps = json_object_get(o, "capabilities");
    if (caps && !json_is_null(caps)) {
        if (!json_is_array(caps) || json_array_size(caps) > US_MAX_CAPS) {
            snprintf(err, errlen, "'capabilities' is not an array of at most %d names",
                     US_MAX_CAPS);
            return -1;
        }
        size_t i;
        const json_t *c;
        json_array_foreach(caps, i, c)
        {
            if (!json_is_string(c) || !cap_name_ok(json_string_value(c))) {
                snprintf(err, errlen, "capability %zu is not a name like \"utf8\"", i);
                return -1;
            }
        }
        ev->caps = caps;
    }
    const json_t *utf8 = json_object_get(o, "utf8");
    if (utf8 && !json_is_null(utf8)) {
        if (!json_is_boolean(utf8)) {
            snprintf(err, errlen, "'utf8' is not a boolean");
            return -1;
        }
        ev->utf8 = json_is_true(utf8);
    }
    const json_t *seen = json_object_get(o, "last_seen");
    if (json_is_integer(seen) && json_integer_value(seen) > 0)
        ev->last_seen = json_integer_value(seen);
    return 0;
}

/* ---- applying ---- */

/* The capability list an event implies, or NULL to keep the known one. New reference. */
static json_t *event_caps(const us_event *ev)
{
    if (ev->caps) {
        /* Without duplicates, in the sender's order. */
        json_t *out = json_array();
        size_t i, j;
        const json_t *c, *seen;
        json_array_foreach(ev->caps, i, c)
        {
            bool dup = false;
            json_array_foreach(out, j, seen) dup |= json_equal(seen, c);
            if (!dup)
                json_array_append_new(out, json_string(json_string_value(c)));
        }
        return out;
    }
    if (ev->utf8 < 0)
        return NULL;
    return ev->utf8 ? json_pack("[s]", "utf8") : json_array();
}

/* Copies what ev says into u. 1 when something visible changed, 0 not, -1 OOM. */
static int update_fields(us_dir *d, us_user *u, const us_event *ev)
{
    int changed = 0, rc;
    if (ev->nickname) {
        if ((rc = us_set_str(&u->nickname, ev->nickname)) < 0)
            return -1;
        changed |= rc;
    }
    if (ev->group) {
        if ((rc = us_set_str(&u->group, ev->group)) < 0)
            return -1;
        changed |= rc;
    }
    if (ev->address) {
        if ((rc = us_user_set_address(u, ev->address)) < 0)
            return -1;
        changed |= rc;
    }
    if (ev->has_status && ev->status != u->status) {
        u->status = ev->status;
        changed = 1;
    }
    /* The absence text belongs to an absence: it goes when the user is back. */
    if (ev->absence)
        rc = us_set_opt(&u->absence, ev->absence);
    else
        rc = ev->has_status && ev->status != US_ABSENT ? us_set_opt(&u->absence, NULL) : 0;
    if (rc < 0)
        return -1;
    changed |= rc;
    if (ev->version) {
        if ((rc = us_set_opt(&u->version, ev->version)) < 0)
            return -1;
        changed |= rc;
    }
    if (ev->uuid && strcasecmp(u->uuid, ev->uuid) != 0) {
        if (us_dir_set_uuid(d, u, ev->uuid) != 0)
            return -1;
        changed = 1;
    }
    json_t *caps = event_caps(ev);
    if (caps) {
        if (!json_equal(caps, u->caps)) {
            json_decref(u->caps);
            u->caps = caps;
            changed = 1;
        } else {
            json_decref(caps);
        }
    }
    return changed;
}

/* The entry that is this person's previous PC, or NULL. */
static us_user *previous_pc(const us_dir *d, const us_event *ev, const us_user *here)
{
    us_user *g = ev->uuid ? us_dir_find_uuid(d, ev->uuid) : NULL;
    if (g)
        return g != here ? g : NULL; /* already filed under this key */
    if (ev->moved_from && (!ev->change || strcmp(ev->change, "moved") == 0)) {
        us_user *m = us_dir_find_key(d, ev->moved_from);
        if (m && m != here && (!m->uuid[0] || (ev->uuid && strcasecmp(m->uuid, ev->uuid) == 0)))
            return m;
    }
    return NULL;
}

us_applied us_dir_apply(us_dir *d, const us_event *ev, int64_t seen_at, us_level new_level)
{
    us_applied r = {US_CHANGE_ERROR, NULL, NULL};
    us_user *probe = us_user_new(ev->user, ev->host);
    if (!probe)
        return r;
    us_user *here = us_dir_find_key(d, probe->key);
    us_user *prev = previous_pc(d, ev, here);
    us_user *u;
    if (prev) {
        r.merged_from = strdup(prev->key);
        if (!r.merged_from) {
            us_user_free(probe);
            return r;
        }
        /* Whoever held the new key under another identity gives way to the person. */
        if (here)
            us_user_free(us_dir_detach(d, here));
        if (us_dir_rekey(d, prev, ev->user, ev->host) != 0) {
            free(r.merged_from);
            r.merged_from = NULL;
            us_user_free(probe);
            return r;
        }
        /* The old PC's addresses are not this person's any more. */
        json_array_clear(prev->addresses);
        prev->has_addr = false;
        us_set_str(&prev->address, "");
        u = prev;
        r.change = US_CHANGE_MERGED;
        us_user_free(probe);
    } else if (here) {
        u = here;
        r.change = US_CHANGE_NONE;
        us_user_free(probe);
    } else {
        u = probe;
        u->priority = new_level;
        u->first_seen = seen_at;
        if (us_dir_add(d, u) != 0) {
            us_user_free(u);
            return r;
        }
        r.change = US_CHANGE_NEW;
    }
    int changed = update_fields(d, u, ev);
    if (changed < 0) {
        /* Partly updated is still consistent (the invariants hold); report it as changed. */
        changed = 1;
    }
    if (r.change == US_CHANGE_NONE && changed)
        r.change = US_CHANGE_UPDATED;
    if (seen_at > u->last_seen)
        u->last_seen = seen_at;
    if (u->first_seen == 0 || u->first_seen > u->last_seen)
        u->first_seen = u->last_seen;
    r.user = u;
    return r;
}

/* ---- exchange, level, expiry ---- */

int us_dir_exchange(us_dir *d, const char *who, int64_t now, us_user **out)
{
    if (out)
        *out = NULL;
    us_user *u = us_dir_find_key(d, who);
    uint32_t ip;
    uint16_t port;
    bool has_port;
    if (!u && us_addr_parse(who, &ip, &port, &has_port) == 0)
        for (size_t i = 0; i < d->n && !u; i++)
            if (d->v[i]->has_addr && d->v[i]->ip == ip && (!has_port || d->v[i]->port == port))
                u = d->v[i];
    if (!u)
        return 0;
    if (out)
        *out = u;
    if (u->first_exchange != 0)
        return 0;
    u->first_exchange = now > 0 ? now : 1;
    if (u->priority != US_LOW)
        return 1;
    u->priority = US_MEDIUM;
    return 2;
}

int us_user_set_level(us_user *u, const char *level)
{
    if (level && strcmp(level, "hidden") == 0) {
        if (u->hidden)
            return 0;
        u->hidden = true;
        return 1;
    }
    us_level l;
    if (us_level_parse(level, &l) != 0)
        return -1;
    int changed = u->hidden || u->priority != l;
    u->hidden = false;
    u->priority = l;
    return changed;
}

size_t us_dir_expire(us_dir *d, int64_t now, int64_t max_age, us_user ***out)
{
    *out = NULL;
    if (max_age <= 0)
        return 0;
    size_t n = 0;
    us_user **v = NULL;
    for (size_t i = 0; i < d->n;) {
        us_user *u = d->v[i];
        if (u->last_seen >= now - max_age) {
            i++;
            continue;
        }
        us_user **grown = realloc(v, (n + 1) * sizeof(*v));
        if (!grown)
            break; /* the rest waits for the next check */
        v = grown;
        v[n++] = us_dir_detach(d, u); /* swap-removal: index i now holds another entry */
    }
    *out = v;
    return n;
}
