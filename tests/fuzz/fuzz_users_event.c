/*
 * libFuzzer harness for the users plugin's directory rules
 * (plugins/users/src/rules.c, dir.c): presence.changed payloads carry names,
 * addresses and UUIDs that came off the network. The input is JSON lines,
 * applied in order to one directory: an object is a presence event, a string
 * a message exchange with that user, an integer an expiry check with that
 * maximum age, an array [who, level] a priority change. After every line
 * the directory's invariants must hold (every entry found by its key and
 * UUID, no key or UUID twice); a violation aborts.
 * Seeds: corpus/users_event/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dir.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static void check_invariants(const us_dir *d)
{
    for (size_t i = 0; i < d->n; i++) {
        const us_user *u = d->v[i];
        CHECK(u->index == i);
        CHECK(us_dir_find_key(d, u->key) == u);
        CHECK(!u->uuid[0] || us_dir_find_uuid(d, u->uuid) == u);
        CHECK(u->first_seen <= u->last_seen);
        CHECK(json_array_size(u->addresses) <= US_MAX_ADDRS);
        for (size_t j = i + 1; j < d->n; j++) {
            CHECK(strcasecmp(u->key, d->v[j]->key) != 0);
            CHECK(!u->uuid[0] || strcmp(u->uuid, d->v[j]->uuid) != 0);
        }
    }
}

static void one_line(us_dir *d, const char *line, size_t len, int64_t now)
{
    json_t *v = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!v)
        return;
    char err[256];
    if (json_is_object(v)) {
        us_event ev;
        if (us_event_parse(v, &ev, err, sizeof err) == 0) {
            us_applied r = us_dir_apply(d, &ev, now, (us_level)(now % 4));
            CHECK(r.change == US_CHANGE_ERROR || r.user);
            CHECK(r.change != US_CHANGE_MERGED || r.merged_from);
            CHECK(!r.merged_from || !us_dir_find_key(d, r.merged_from) ||
                  us_dir_find_key(d, r.merged_from) == r.user);
            free(r.merged_from);
        }
    } else if (json_is_string(v)) {
        us_user *u;
        int rc = us_dir_exchange(d, json_string_value(v), now, &u);
        CHECK(rc == 0 || (u && u->first_exchange > 0));
    } else if (json_is_integer(v)) {
        us_user **gone;
        size_t n = us_dir_expire(d, now, json_integer_value(v), &gone);
        for (size_t i = 0; i < n; i++) {
            CHECK(!us_dir_find_key(d, gone[i]->key));
            us_user_free(gone[i]);
        }
        free(gone);
    } else if (json_is_array(v)) {
        const char *who = json_string_value(json_array_get(v, 0));
        const char *level = json_string_value(json_array_get(v, 1));
        us_user *u;
        if (who && us_dir_resolve(d, who, &u, err, sizeof err) == US_RESOLVE_OK)
            us_user_set_level(u, level);
    }
    json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    us_dir d;
    us_dir_init(&d);
    const char *p = (const char *)data, *end = p + size;
    int64_t now = 1000;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        one_line(&d, p, len, now++);
        check_invariants(&d);
        p += len + (nl ? 1 : 0);
    }
    us_user **v = us_dir_sorted(&d);
    for (size_t i = 0; v && i + 1 < d.n; i++)
        CHECK(us_user_cmp(v[i], v[i + 1]) <= 0);
    for (size_t i = 0; v && i < d.n; i++)
        json_decref(us_user_json(v[i]));
    free(v);
    us_dir_free(&d);
    return 0;
}
