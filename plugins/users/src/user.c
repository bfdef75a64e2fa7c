#include "user.h"

#include "json_text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {"online", "absent", "offline"};
static const char *const level_names[] = {"highest", "high", "medium", "low"};

const char *us_status_name(us_status s)
{
    return (unsigned)s < 3 ? status_names[s] : "offline";
}

int us_status_parse(const char *s, us_status *out)
{
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, status_names[i]) == 0) {
            *out = (us_status)i;
            return 0;
        }
    return -1;
}

const char *us_level_name(us_level l)
{
    return (unsigned)l < 4 ? level_names[l] : "medium";
}

int us_level_parse(const char *s, us_level *out)
{
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (us_level)i;
            return 0;
        }
    return -1;
}

bool us_uuid_valid(const char *s)
{
    if (!s || strlen(s) != US_UUID_LEN)
        return false;
    for (size_t i = 0; i < US_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

us_user *us_user_new(const char *user, const char *host)
{
    if (!user || !host || !*user || !*host)
        return NULL;
    us_user *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    size_t klen = strlen(user) + 1 + strlen(host) + 1;
    u->key = malloc(klen);
    u->user = strdup(user);
    u->host = strdup(host);
    u->nickname = strdup("");
    u->group = strdup("");
    u->address = strdup("");
    u->addresses = json_array();
    u->caps = json_array();
    if (!u->key || !u->user || !u->host || !u->nickname || !u->group || !u->address ||
        !u->addresses || !u->caps) {
        us_user_free(u);
        return NULL;
    }
    snprintf(u->key, klen, "%s@%s", user, host);
    u->status = US_OFFLINE;
    u->priority = US_MEDIUM;
    return u;
}

void us_user_free(us_user *u)
{
    if (!u)
        return;
    free(u->key);
    free(u->user);
    free(u->host);
    free(u->nickname);
    free(u->group);
    free(u->address);
    json_decref(u->addresses);
    free(u->absence);
    json_decref(u->caps);
    free(u->version);
    free(u);
}

static char *dup_opt(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *c = strdup(s);
    if (!c)
        *oom = true;
    return c;
}

us_user *us_user_clone(const us_user *u)
{
    us_user *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    *c = *u;
    bool oom = false;
    c->key = dup_opt(u->key, &oom);
    c->user = dup_opt(u->user, &oom);
    c->host = dup_opt(u->host, &oom);
    c->nickname = dup_opt(u->nickname, &oom);
    c->group = dup_opt(u->group, &oom);
    c->address = dup_opt(u->address, &oom);
    c->absence = dup_opt(u->absence, &oom);
    c->version = dup_opt(u->version, &oom);
    /* Deep copies: the clone may be read on another thread (writer.c). */
    c->addresses = json_deep_copy(u->addresses);
    c->caps = json_deep_copy(u->caps);
    c->next_key = c->next_uuid = NULL;
    c->index = 0;
    if (oom || !c->addresses || !c->caps) {
        us_user_free(c);
        return NULL;
    }
    return c;
}

int us_set_str(char **dst, const char *src)
{
    if (!src)
        src = "";
    if (*dst && strcmp(*dst, src) == 0)
        return 0;
    char *c = strdup(src);
    if (!c)
        return -1;
    free(*dst);
    *dst = c;
    return 1;
}

int us_set_opt(char **dst, const char *src)
{
    if (!src) {
        if (!*dst)
            return 0;
        free(*dst);
        *dst = NULL;
        return 1;
    }
    return us_set_str(dst, src);
}

/* One decimal number 0..max without leading zeros (as ipmsg formats them). */
static int parse_num(const char **p, unsigned long max, unsigned long *out)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s))
        return -1;
    if (s[0] == '0' && isdigit((unsigned char)s[1]))
        return -1;
    unsigned long v = 0;
    while (isdigit((unsigned char)*s)) {
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max)
            return -1;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

int us_addr_parse(const char *s, uint32_t *ip, uint16_t *port, bool *has_port)
{
    if (!s)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned long octet;
        if (parse_num(&s, 255, &octet) != 0)
            return -1;
        v = v << 8 | (uint32_t)octet;
        if (i < 3 && *s++ != '.')
            return -1;
    }
    unsigned long p = 0;
    *has_port = false;
    if (*s == ':') {
        s++;
        if (parse_num(&s, 65535, &p) != 0 || p == 0)
            return -1;
        *has_port = true;
    }
    if (*s)
        return -1;
    *ip = v;
    *port = (uint16_t)p;
    return 0;
}

int us_user_set_address(us_user *u, const char *address)
{
    if (!address || !*address) {
        int rc = us_set_str(&u->address, "");
        if (rc > 0)
            u->has_addr = false;
        return rc;
    }
    uint32_t ip;
    uint16_t port;
    bool has_port;
    if (us_addr_parse(address, &ip, &port, &has_port) != 0)
        return -1;
    int rc = us_set_str(&u->address, address);
    if (rc < 0)
        return -1;
    u->ip = ip;
    u->port = port;
    u->has_addr = true;
    /* History: this address first, no duplicates, bounded. */
    size_t i;
    json_t *a;
    json_array_foreach(u->addresses, i, a)
    {
        if (strcmp(json_string_value(a), address) == 0) {
            if (i == 0)
                return rc;
            json_array_remove(u->addresses, i);
            break;
        }
    }
    if (json_array_insert_new(u->addresses, 0, json_string(address)) != 0)
        return -1;
    while (json_array_size(u->addresses) > US_MAX_ADDRS)
        json_array_remove(u->addresses, US_MAX_ADDRS);
    return 1;
}

json_t *us_user_json(const us_user *u)
{
    /* Copies, not references: the entry's arrays change later, published payloads must not. */
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:I, s:I, s:s, s:b}", "key",
                  u->key, "user", u->user, "host", u->host, "nickname", u->nickname, "group",
                  u->group, "address", u->address, "addresses", json_deep_copy(u->addresses),
                  "status", us_status_name(u->status), "capabilities", json_deep_copy(u->caps),
                  "first_seen", (json_int_t)u->first_seen, "last_seen", (json_int_t)u->last_seen,
                  "priority", us_level_name(u->priority), "hidden", u->hidden);
    if (!o)
        return NULL;
    if (u->uuid[0])
        json_object_set_new(o, "uuid", json_string(u->uuid));
    if (u->version)
        json_object_set_new(o, "version", json_string(u->version));
    if (u->absence)
        json_object_set_new(o, "absence", json_string(u->absence));
    if (u->first_exchange)
        json_object_set_new(o, "first_exchange", json_integer(u->first_exchange));
    return o;
}

void us_user_write_json(const us_user *u, dg_jt *w)
{
    /* Keys and their order as us_user_json (the unit test compares both). */
    dg_jt_begin_object(w);
    dg_jt_member_string(w, "key", u->key);
    dg_jt_member_string(w, "user", u->user);
    dg_jt_member_string(w, "host", u->host);
    dg_jt_member_string(w, "nickname", u->nickname);
    dg_jt_member_string(w, "group", u->group);
    dg_jt_member_string(w, "address", u->address);
    dg_jt_key(w, "addresses");
    dg_jt_value(w, u->addresses);
    dg_jt_member_string(w, "status", us_status_name(u->status));
    dg_jt_key(w, "capabilities");
    dg_jt_value(w, u->caps);
    dg_jt_member_int(w, "first_seen", u->first_seen);
    dg_jt_member_int(w, "last_seen", u->last_seen);
    dg_jt_member_string(w, "priority", us_level_name(u->priority));
    dg_jt_member_bool(w, "hidden", u->hidden);
    if (u->uuid[0])
        dg_jt_member_string(w, "uuid", u->uuid);
    if (u->version)
        dg_jt_member_string(w, "version", u->version);
    if (u->absence)
        dg_jt_member_string(w, "absence", u->absence);
    if (u->first_exchange)
        dg_jt_member_int(w, "first_exchange", u->first_exchange);
    dg_jt_end_object(w);
}

void us_user_prefetch(const us_user *u)
{
    __builtin_prefetch(u->key);
    __builtin_prefetch(u->user);
    __builtin_prefetch(u->host);
    __builtin_prefetch(u->nickname);
    __builtin_prefetch(u->group);
    __builtin_prefetch(u->address);
    __builtin_prefetch(u->addresses);
    __builtin_prefetch(u->caps);
    if (u->version)
        __builtin_prefetch(u->version);
}
