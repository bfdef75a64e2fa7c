#include "envelope.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = {
    [ROOM_OP_POST] = "post",     [ROOM_OP_JOIN] = "join",         [ROOM_OP_LEAVE] = "leave",
    [ROOM_OP_INVITE] = "invite", [ROOM_OP_ANNOUNCE] = "announce", [ROOM_OP_QUERY] = "query",
    [ROOM_OP_SYNC] = "sync",
};
#define N_OPS (sizeof(op_names) / sizeof(op_names[0]))

const char *room_op_name(room_op op)
{
    return op > ROOM_OP_NONE && (size_t)op < N_OPS ? op_names[op] : NULL;
}

bool room_op_logged(room_op op)
{
    return op == ROOM_OP_POST || op == ROOM_OP_JOIN || op == ROOM_OP_LEAVE || op == ROOM_OP_INVITE;
}

static room_op op_from_name(const char *s)
{
    for (size_t i = 1; i < N_OPS; i++)
        if (strcmp(s, op_names[i]) == 0)
            return (room_op)i;
    return ROOM_OP_NONE;
}

static void fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- validators ---- */

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool room_id_valid(const char *s)
{
    if (!s || strlen(s) != ROOM_ID_LEN)
        return false;
    for (size_t i = 0; i < ROOM_ID_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool room_uuid_valid(const char *s)
{
    if (!s || strlen(s) != ROOM_UUID_LEN)
        return false;
    for (size_t i = 0; i < ROOM_UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return false;
    }
    return true;
}

/* Decodes one UTF-8 sequence at p (left bytes); its length, or 0 when invalid. */
static size_t utf8_next(const unsigned char *p, size_t left, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n;
    uint32_t c, min;
    if ((p[0] & 0xE0) == 0xC0) {
        n = 2, c = p[0] & 0x1F, min = 0x80;
    } else if ((p[0] & 0xF0) == 0xE0) {
        n = 3, c = p[0] & 0x0F, min = 0x800;
    } else if ((p[0] & 0xF8) == 0xF0) {
        n = 4, c = p[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

bool room_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0 || cp == 0)
            return false;
        i += n;
    }
    return true;
}

/* Every code point of s passes ok(); s is valid UTF-8 of 1..max bytes (0.. with allow_empty). */
static bool text_ok(const char *s, size_t max, bool allow_empty, bool (*ok)(uint32_t))
{
    size_t len = s ? strlen(s) : 0;
    if (!s || len > max || (len == 0 && !allow_empty))
        return false;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0 || !ok(cp))
            return false;
        i += n;
    }
    return true;
}

static bool not_control(uint32_t c)
{
    return c >= 0x20 && c != 0x7F && !(c >= 0x80 && c <= 0x9F);
}

static bool name_char(uint32_t c)
{
    return not_control(c) && c != ' ' && c != 0xA0 && c != 0x3000;
}

/* user@host: no controls, no ':' (IPMsg cannot carry it in names). */
static bool key_char(uint32_t c)
{
    return not_control(c) && c != ':';
}

bool room_name_valid(const char *s)
{
    return text_ok(s, ROOM_NAME_MAX, false, name_char) && s[0] != '#' && !room_id_valid(s);
}

static bool key_valid(const char *s)
{
    return text_ok(s, ROOM_KEY_MAX, false, key_char) && strchr(s, '@') != NULL;
}

static bool nick_valid(const char *s)
{
    return text_ok(s, ROOM_NICK_MAX, true, not_control);
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'F')
            *s = (char)(*s - 'A' + 'a');
}

/* ---- check ---- */

static int check_refs(const room_ref *r, size_t n, size_t max, const char *what, char *err,
                      size_t errlen)
{
    if (n > max) {
        fail(err, errlen, "'%s' has %zu entries (at most %zu)", what, n, max);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!room_uuid_valid(r[i].uuid) || !key_valid(r[i].key) ||
            (r[i].nick && !nick_valid(r[i].nick))) {
            fail(err, errlen, "'%s' entry %zu is not {uuid, key, nick?}", what, i);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(r[i].uuid, r[j].uuid) == 0) {
                fail(err, errlen, "'%s' names %s twice", what, r[i].uuid);
                return -1;
            }
    }
    return 0;
}

static bool num_ok(uint64_t v, bool zero_ok)
{
    return v <= (uint64_t)ROOM_NUM_MAX && (zero_ok || v > 0);
}

int room_env_check(const room_env *e, char *err, size_t errlen)
{
    if (!room_op_name(e->op)) {
        fail(err, errlen, "unknown operation");
        return -1;
    }
    const char *op = room_op_name(e->op);
    bool logged = room_op_logged(e->op);
    if (!room_uuid_valid(e->origin)) {
        fail(err, errlen, "%s: 'origin' must be a UUID", op);
        return -1;
    }
    if (e->room[0] ? !room_id_valid(e->room) : e->op != ROOM_OP_QUERY) {
        fail(err, errlen, "%s: 'room' must be 32 lowercase hex digits", op);
        return -1;
    }
    if (e->name ? !room_name_valid(e->name)
                : (e->op == ROOM_OP_JOIN || e->op == ROOM_OP_INVITE || e->op == ROOM_OP_ANNOUNCE ||
                   (e->op == ROOM_OP_QUERY && !e->room[0]))) {
        fail(err, errlen, "%s: 'name' must be a room name", op);
        return -1;
    }
    if (e->priv < -1 || e->priv > 1 ||
        (e->priv == -1 && (e->op == ROOM_OP_INVITE || e->op == ROOM_OP_ANNOUNCE))) {
        fail(err, errlen, "%s: 'private' must be true or false", op);
        return -1;
    }
    if (e->from ? !key_valid(e->from) : logged) {
        fail(err, errlen, "%s: 'from' must be user@host", op);
        return -1;
    }
    if (e->nick && !nick_valid(e->nick)) {
        fail(err, errlen, "%s: 'nick' has control characters or is too long", op);
        return -1;
    }
    if (logged ? !num_ok(e->seq, false) || !num_ok(e->clock, false) : e->seq || e->clock) {
        fail(err, errlen, "%s: 'seq' and 'clock' must be 1..2^53-1 (logged operations only)", op);
        return -1;
    }
    if (e->time < 0 || !num_ok((uint64_t)e->time, true) || e->created < 0 ||
        !num_ok((uint64_t)e->created, true)) {
        fail(err, errlen, "%s: 'time' and 'created' must be 0..2^53-1", op);
        return -1;
    }
    if (check_refs(e->members, e->n_members, ROOM_MEMBERS_MAX, "members", err, errlen) != 0 ||
        check_refs(e->invited, e->n_invited, ROOM_INVITED_MAX, "invited", err, errlen) != 0)
        return -1;
    if (e->op == ROOM_OP_INVITE && e->n_invited == 0) {
        fail(err, errlen, "invite: 'invited' names nobody");
        return -1;
    }
    if (e->n_have > ROOM_HAVE_MAX) {
        fail(err, errlen, "'have' has %zu entries (at most %d)", e->n_have, ROOM_HAVE_MAX);
        return -1;
    }
    for (size_t i = 0; i < e->n_have; i++) {
        if (!room_uuid_valid(e->have[i].uuid) || !num_ok(e->have[i].seq, true)) {
            fail(err, errlen, "'have' entry %zu is not uuid: 0..2^53-1", i);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(e->have[i].uuid, e->have[j].uuid) == 0) {
                fail(err, errlen, "'have' names %s twice", e->have[i].uuid);
                return -1;
            }
    }
    if (e->op == ROOM_OP_POST) {
        if (!e->text || e->text_len == 0 || e->text_len > ROOM_TEXT_MAX ||
            strlen(e->text) != e->text_len || !room_utf8_valid(e->text, e->text_len)) {
            fail(err, errlen, "post: the text must be 1..%d bytes of UTF-8 without NUL",
                 ROOM_TEXT_MAX);
            return -1;
        }
    } else if (e->text_len != 0) {
        fail(err, errlen, "%s: only a post has a body", op);
        return -1;
    }
    return 0;
}

/* ---- parse ---- */

/* Optional string member: absent leaves *out NULL; wrong type fails. New copy. */
static int get_str(const json_t *h, const char *key, char **out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(h, key);
    if (!v)
        return 0;
    if (!json_is_string(v)) {
        fail(err, errlen, "'%s' must be a string", key);
        return -1;
    }
    *out = strdup(json_string_value(v));
    if (!*out) {
        fail(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Fixed-size member (uuid, room id): copied when it has exactly want bytes, else fails. */
static int get_fixed(const json_t *h, const char *key, char *out, size_t want, char *err,
                     size_t errlen)
{
    const json_t *v = json_object_get(h, key);
    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) != want) {
        fail(err, errlen, "'%s' must be a string of %zu characters", key, want);
        return -1;
    }
    memcpy(out, json_string_value(v), want + 1);
    return 0;
}

static int get_num(const json_t *h, const char *key, uint64_t *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(h, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > ROOM_NUM_MAX) {
        fail(err, errlen, "'%s' must be an integer 0..2^53-1", key);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_refs(const json_t *h, const char *key, room_ref **out, size_t *n, size_t max,
                    char *err, size_t errlen)
{
    const json_t *a = json_object_get(h, key);
    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > max) {
        fail(err, errlen, "'%s' must be an array of at most %zu members", key, max);
        return -1;
    }
    size_t count = json_array_size(a);
    if (count == 0)
        return 0;
    *out = calloc(count, sizeof(**out));
    if (!*out) {
        fail(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *m = json_array_get(a, i);
        room_ref *r = &(*out)[i];
        *n = i + 1;
        if (!json_is_object(m)) {
            fail(err, errlen, "'%s' entry %zu is not an object", key, i);
            return -1;
        }
        if (get_fixed(m, "uuid", r->uuid, ROOM_UUID_LEN, err, errlen) ||
            get_str(m, "key", &r->key, err, errlen) || get_str(m, "nick", &r->nick, err, errlen))
            return -1;
        lower(r->uuid);
    }
    return 0;
}

static int get_have(const json_t *h, room_env *e, char *err, size_t errlen)
{
    const json_t *o = json_object_get(h, "have");
    if (!o)
        return 0;
    if (!json_is_object(o) || json_object_size(o) > ROOM_HAVE_MAX) {
        fail(err, errlen, "'have' must be an object of at most %d entries", ROOM_HAVE_MAX);
        return -1;
    }
    if (json_object_size(o) == 0)
        return 0;
    e->have = calloc(json_object_size(o), sizeof(*e->have));
    if (!e->have) {
        fail(err, errlen, "out of memory");
        return -1;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        room_have *x = &e->have[e->n_have];
        if (strlen(k) != ROOM_UUID_LEN || !json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > ROOM_NUM_MAX) {
            fail(err, errlen, "'have' must map UUIDs to integers 0..2^53-1");
            return -1;
        }
        memcpy(x->uuid, k, ROOM_UUID_LEN + 1);
        lower(x->uuid);
        x->seq = (uint64_t)json_integer_value(v);
        e->n_have++;
    }
    return 0;
}

static int from_json(const json_t *h, room_env *e, char *err, size_t errlen)
{
    const json_t *op = json_object_get(h, "op");
    if (!json_is_string(op) || (e->op = op_from_name(json_string_value(op))) == ROOM_OP_NONE) {
        fail(err, errlen, "'op' must be one of post, join, leave, invite, announce, query, sync");
        return -1;
    }
    const json_t *priv = json_object_get(h, "private");
    if (priv && !json_is_boolean(priv)) {
        fail(err, errlen, "'private' must be true or false");
        return -1;
    }
    e->priv = priv ? json_is_true(priv) : -1;
    uint64_t time = 0, created = 0;
    if (get_fixed(h, "room", e->room, ROOM_ID_LEN, err, errlen) ||
        get_fixed(h, "origin", e->origin, ROOM_UUID_LEN, err, errlen) ||
        get_str(h, "name", &e->name, err, errlen) || get_str(h, "from", &e->from, err, errlen) ||
        get_str(h, "nick", &e->nick, err, errlen) || get_num(h, "seq", &e->seq, err, errlen) ||
        get_num(h, "clock", &e->clock, err, errlen) || get_num(h, "time", &time, err, errlen) ||
        get_num(h, "created", &created, err, errlen) ||
        get_refs(h, "members", &e->members, &e->n_members, ROOM_MEMBERS_MAX, err, errlen) ||
        get_refs(h, "invited", &e->invited, &e->n_invited, ROOM_INVITED_MAX, err, errlen) ||
        get_have(h, e, err, errlen))
        return -1;
    lower(e->origin);
    e->time = (int64_t)time;
    e->created = (int64_t)created;
    if (room_op_logged(e->op) && !json_object_get(h, "time")) {
        fail(err, errlen, "%s: 'time' is missing", room_op_name(e->op));
        return -1;
    }
    return 0;
}

room_env_rc room_env_parse(const char *data, size_t len, room_env *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->priv = -1;
    if (len < ROOM_MARKER_LEN || memcmp(data, ROOM_MARKER, ROOM_MARKER_LEN) != 0)
        return ROOM_ENV_NOT_ROOM;
    if (len > ROOM_ENVELOPE_MAX) {
        fail(err, errlen, "envelope of %zu bytes (at most %d)", len, ROOM_ENVELOPE_MAX);
        return ROOM_ENV_BAD;
    }
    const char *head = data + ROOM_MARKER_LEN;
    const char *nl = memchr(head, '\n', len - ROOM_MARKER_LEN);
    if (!nl) {
        fail(err, errlen, "no line feed after the header");
        return ROOM_ENV_BAD;
    }
    size_t hlen = (size_t)(nl - head);
    if (hlen > ROOM_HEADER_MAX) {
        fail(err, errlen, "header of %zu bytes (at most %d)", hlen, ROOM_HEADER_MAX);
        return ROOM_ENV_BAD;
    }
    json_error_t jerr;
    json_t *h = json_loadb(head, hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!h) {
        fail(err, errlen, "header is not JSON: %s", jerr.text);
        return ROOM_ENV_BAD;
    }
    int rc = -1;
    if (!json_is_object(h))
        fail(err, errlen, "header is not a JSON object");
    else
        rc = from_json(h, out, err, errlen);
    json_decref(h);
    size_t blen = len - ROOM_MARKER_LEN - hlen - 1;
    if (rc == 0 && blen > 0) {
        if (blen > ROOM_TEXT_MAX || !room_utf8_valid(nl + 1, blen)) {
            fail(err, errlen, "body must be at most %d bytes of UTF-8 without NUL", ROOM_TEXT_MAX);
            rc = -1;
        } else if (!(out->text = malloc(blen + 1))) {
            fail(err, errlen, "out of memory");
            rc = -1;
        } else {
            memcpy(out->text, nl + 1, blen);
            out->text[blen] = '\0';
            out->text_len = blen;
        }
    }
    if (rc == 0)
        rc = room_env_check(out, err, errlen);
    if (rc != 0) {
        room_env_clear(out);
        return ROOM_ENV_BAD;
    }
    return ROOM_ENV_OK;
}

/* ---- build ---- */

static json_t *refs_json(const room_ref *r, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *m = json_pack("{s:s, s:s}", "uuid", r[i].uuid, "key", r[i].key);
        if (m && r[i].nick)
            json_object_set_new(m, "nick", json_string(r[i].nick));
        if (!m || json_array_append_new(a, m) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Sets key to v (stolen); a NULL v (out of memory) makes *ok false. */
static void put(json_t *h, const char *key, json_t *v, bool *ok)
{
    if (!v || json_object_set_new(h, key, v) != 0)
        *ok = false;
}

char *room_env_build(const room_env *e, size_t *len, char *err, size_t errlen)
{
    if (room_env_check(e, err, errlen) != 0)
        return NULL;
    bool ok = true;
    json_t *h = json_object();
    if (!h) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    /* A fixed key order keeps envelopes of equal content byte-identical. */
    put(h, "op", json_string(room_op_name(e->op)), &ok);
    if (e->room[0])
        put(h, "room", json_string(e->room), &ok);
    if (e->name)
        put(h, "name", json_string(e->name), &ok);
    if (e->priv >= 0)
        put(h, "private", json_boolean(e->priv), &ok);
    put(h, "origin", json_string(e->origin), &ok);
    if (e->from)
        put(h, "from", json_string(e->from), &ok);
    if (e->nick)
        put(h, "nick", json_string(e->nick), &ok);
    if (room_op_logged(e->op)) {
        put(h, "seq", json_integer((json_int_t)e->seq), &ok);
        put(h, "clock", json_integer((json_int_t)e->clock), &ok);
        put(h, "time", json_integer((json_int_t)e->time), &ok);
    } else if (e->time) {
        put(h, "time", json_integer((json_int_t)e->time), &ok);
    }
    if (e->created)
        put(h, "created", json_integer((json_int_t)e->created), &ok);
    if (e->n_members)
        put(h, "members", refs_json(e->members, e->n_members), &ok);
    if (e->n_invited)
        put(h, "invited", refs_json(e->invited, e->n_invited), &ok);
    if (e->op == ROOM_OP_SYNC || e->n_have) {
        json_t *have = json_object();
        for (size_t i = 0; have && i < e->n_have; i++)
            put(have, e->have[i].uuid, json_integer((json_int_t)e->have[i].seq), &ok);
        put(h, "have", have, &ok);
    }
    char *head = ok ? json_dumps(h, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(h);
    if (!head) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    size_t hlen = strlen(head);
    if (hlen > ROOM_HEADER_MAX) {
        fail(err, errlen, "header of %zu bytes (at most %d)", hlen, ROOM_HEADER_MAX);
        free(head);
        return NULL;
    }
    size_t total = ROOM_MARKER_LEN + hlen + 1 + e->text_len;
    char *out = malloc(total + 1);
    if (!out) {
        fail(err, errlen, "out of memory");
        free(head);
        return NULL;
    }
    memcpy(out, ROOM_MARKER, ROOM_MARKER_LEN);
    memcpy(out + ROOM_MARKER_LEN, head, hlen);
    out[ROOM_MARKER_LEN + hlen] = '\n';
    if (e->text_len)
        memcpy(out + ROOM_MARKER_LEN + hlen + 1, e->text, e->text_len);
    out[total] = '\0';
    free(head);
    *len = total;
    return out;
}

static void refs_free(room_ref *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].key);
        free(r[i].nick);
    }
    free(r);
}

void room_env_clear(room_env *e)
{
    free(e->name);
    free(e->from);
    free(e->nick);
    refs_free(e->members, e->n_members);
    refs_free(e->invited, e->n_invited);
    free(e->have);
    free(e->text);
    memset(e, 0, sizeof(*e));
    e->priv = -1;
}
