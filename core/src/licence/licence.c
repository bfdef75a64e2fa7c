/* Licence documents: strict fields, signature, validity window (licence.h). */
#include "licence/licence.h"

#include "plugin/manifest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static dg_refusal bad(char *why, size_t whylen, const char *fmt, ...) DG_PRINTF(3, 4);
static dg_refusal bad(char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
        dg_text_one_line(why); /* messages quote the document */
    }
    return DG_REFUSAL_MALFORMED;
}

void dg_licence_free(dg_licence *lic)
{
    if (!lic)
        return;
    free(lic->id);
    free(lic->licensee);
    free(lic->plan);
    for (size_t i = 0; i < lic->n_entitlements; i++)
        free(lic->entitlements[i]);
    free(lic->entitlements);
    free(lic->key_name);
    json_decref(lic->doc);
    free(lic);
}

/* A printable one-line text of 1..max bytes (canonical form already bans control characters). */
static dg_refusal text_field(const json_t *doc, const char *name, size_t max, char **out, char *why,
                             size_t whylen)
{
    const json_t *v = json_object_get(doc, name);
    if (!v)
        return bad(why, whylen, "missing '%s'", name);
    const char *s = json_string_value(v);
    if (!s)
        return bad(why, whylen, "'%s' must be a string", name);
    size_t n = strlen(s);
    if (n == 0 || n > max || n != json_string_length(v))
        return bad(why, whylen, "'%s' must be 1 to %zu bytes", name, max);
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return bad(why, whylen, "'%s' must not contain control characters", name);
    *out = strdup(s);
    return *out ? DG_REFUSAL_NONE : bad(why, whylen, "out of memory");
}

static dg_refusal time_field(const json_t *doc, const char *name, int required, int64_t *out,
                             char *why, size_t whylen)
{
    const json_t *v = json_object_get(doc, name);
    if (!v) {
        if (required)
            return bad(why, whylen, "missing '%s'", name);
        return DG_REFUSAL_NONE;
    }
    if (!json_is_string(v) || dg_time_parse(json_string_value(v), out) != 0)
        return bad(why, whylen, "'%s' must be a UTC time like \"2025-01-31T00:00:00Z\"", name);
    return DG_REFUSAL_NONE;
}

static dg_refusal entitlements_field(const json_t *doc, dg_licence *lic, char *why, size_t whylen)
{
    const json_t *a = json_object_get(doc, "entitlements");
    if (!a)
        return bad(why, whylen, "missing 'entitlements'");
    if (!json_is_array(a) || json_array_size(a) > DG_LICENCE_MAX_ENTITLEMENTS)
        return bad(why, whylen, "'entitlements' must be an array of at most %d ids",
                   DG_LICENCE_MAX_ENTITLEMENTS);
    size_t n = json_array_size(a);
    lic->entitlements = calloc(n ? n : 1, sizeof(char *));
    if (!lic->entitlements)
        return bad(why, whylen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *e = json_string_value(json_array_get(a, i));
        if (!e || !dg_plugin_id_valid(e))
            return bad(why, whylen, "'entitlements[%zu]' must be an id like \"file-encryption\"",
                       i);
        for (size_t k = 0; k < lic->n_entitlements; k++)
            if (strcmp(lic->entitlements[k], e) == 0)
                return bad(why, whylen, "'entitlements' lists '%s' twice", e);
        if (!(lic->entitlements[lic->n_entitlements] = strdup(e)))
            return bad(why, whylen, "out of memory");
        lic->n_entitlements++;
    }
    return DG_REFUSAL_NONE;
}

static dg_refusal check_keys(const json_t *doc, char *why, size_t whylen)
{
    static const char *const known[] = {"format", "id",         "licensee", "plan",         "seats",
                                        "issued", "not_before", "expires",  "entitlements", NULL};
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)doc, key, v)
    {
        int ok = 0;
        for (size_t i = 0; known[i] && !ok; i++)
            ok = strcmp(key, known[i]) == 0;
        if (!ok)
            return bad(why, whylen, "unknown key 'licence.%.40s'", key);
    }
    return DG_REFUSAL_NONE;
}

static dg_refusal parse_fields(const json_t *doc, dg_licence *lic, char *why, size_t whylen)
{
    if (!json_is_object(doc))
        return bad(why, whylen, "the licence must be an object");
    const json_t *format = json_object_get(doc, "format");
    if (!json_is_integer(format))
        return bad(why, whylen, "'format' must be the integer %d", DG_LICENCE_FORMAT);
    if (json_integer_value(format) != DG_LICENCE_FORMAT)
        return bad(why, whylen,
                   "unsupported licence format %" JSON_INTEGER_FORMAT
                   " (this dengon reads format %d)",
                   json_integer_value(format), DG_LICENCE_FORMAT);
    dg_refusal r;
    if ((r = check_keys(doc, why, whylen)) ||
        (r = text_field(doc, "id", 128, &lic->id, why, whylen)) ||
        (r = text_field(doc, "licensee", 256, &lic->licensee, why, whylen)) ||
        (r = text_field(doc, "plan", 64, &lic->plan, why, whylen)))
        return r;
    const json_t *seats = json_object_get(doc, "seats");
    if (!json_is_integer(seats) || json_integer_value(seats) < 1 ||
        json_integer_value(seats) > DG_LICENCE_MAX_SEATS)
        return bad(why, whylen, "'seats' must be an integer from 1 to %d", DG_LICENCE_MAX_SEATS);
    lic->seats = json_integer_value(seats);
    if ((r = time_field(doc, "issued", 1, &lic->issued, why, whylen)))
        return r;
    lic->not_before = lic->issued;
    if ((r = time_field(doc, "not_before", 0, &lic->not_before, why, whylen)) ||
        (r = time_field(doc, "expires", 0, &lic->expires, why, whylen)))
        return r;
    if (json_object_get(doc, "expires") && lic->expires <= lic->not_before)
        return bad(why, whylen, "'expires' must be later than '%s'",
                   json_object_get(doc, "not_before") ? "not_before" : "issued");
    return entitlements_field(doc, lic, why, whylen);
}

dg_refusal dg_licence_parse_doc(const json_t *doc, dg_licence **out, char *why, size_t whylen)
{
    *out = NULL;
    dg_licence *lic = calloc(1, sizeof(*lic));
    if (!lic)
        return bad(why, whylen, "out of memory");
    dg_refusal r = parse_fields(doc, lic, why, whylen);
    if (r == DG_REFUSAL_NONE && !(lic->doc = json_deep_copy(doc)))
        r = bad(why, whylen, "out of memory");
    if (r != DG_REFUSAL_NONE) {
        dg_licence_free(lic);
        return r;
    }
    *out = lic;
    return DG_REFUSAL_NONE;
}

dg_refusal dg_licence_load(const char *text, size_t len, const dg_keyring *ring, dg_licence **out,
                           char *why, size_t whylen)
{
    *out = NULL;
    if (len > DG_LICENCE_MAX_BYTES)
        return bad(why, whylen, "larger than %d bytes: not a licence", DG_LICENCE_MAX_BYTES);
    json_t *root = NULL;
    dg_refusal r = dg_signed_parse_json(text, len, &root, why, whylen);
    if (r != DG_REFUSAL_NONE)
        return r;
    const json_t *doc = NULL;
    dg_signature sig;
    int is_signed = 0;
    const char *signer = NULL;
    r = dg_signed_open(root, "licence", 0, &doc, &sig, &is_signed, why, whylen);
    if (r == DG_REFUSAL_NONE)
        r = dg_signed_verify(doc, &sig, ring, &signer, why, whylen);
    dg_licence *lic = NULL;
    if (r == DG_REFUSAL_NONE)
        r = dg_licence_parse_doc(doc, &lic, why, whylen);
    if (r == DG_REFUSAL_NONE) {
        memcpy(lic->key_id, sig.key_id, sizeof lic->key_id);
        if (!(lic->key_name = strdup(signer ? signer : "")))
            r = bad(why, whylen, "out of memory");
    }
    json_decref(root);
    if (r != DG_REFUSAL_NONE) {
        dg_licence_free(lic);
        return r;
    }
    *out = lic;
    return DG_REFUSAL_NONE;
}

dg_refusal dg_licence_check_time(const dg_licence *lic, int64_t now, char *why, size_t whylen)
{
    char when[32];
    if (now < lic->not_before) {
        dg_time_format(lic->not_before, when);
        if (why && whylen)
            snprintf(why, whylen, "licence %s is valid only from %s", lic->id, when);
        return DG_REFUSAL_NOT_YET_VALID;
    }
    if (lic->expires && now >= lic->expires) {
        dg_time_format(lic->expires, when);
        if (why && whylen)
            snprintf(why, whylen, "licence %s expired on %s", lic->id, when);
        return DG_REFUSAL_EXPIRED;
    }
    return DG_REFUSAL_NONE;
}

int dg_licence_grants(const dg_licence *lic, const char *entitlement)
{
    for (size_t i = 0; lic && entitlement && i < lic->n_entitlements; i++)
        if (strcmp(lic->entitlements[i], entitlement) == 0)
            return 1;
    return 0;
}

json_t *dg_licence_to_json(const dg_licence *lic)
{
    char issued[32], from[32], until[32];
    dg_time_format(lic->issued, issued);
    dg_time_format(lic->not_before, from);
    dg_time_format(lic->expires, until);
    json_t *ents = json_array();
    for (size_t i = 0; ents && i < lic->n_entitlements; i++)
        json_array_append_new(ents, json_string(lic->entitlements[i]));
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s?, s:o, s:s, s:s}", "id", lic->id,
                     "licensee", lic->licensee, "plan", lic->plan, "seats", (json_int_t)lic->seats,
                     "issued", issued, "not_before", from, "expires", lic->expires ? until : NULL,
                     "entitlements", ents ? ents : json_array(), "key_id", lic->key_id, "key",
                     lic->key_name ? lic->key_name : "");
}
