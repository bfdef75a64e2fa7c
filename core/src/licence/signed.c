/* Signed documents: envelope, canonical bytes, Ed25519 check (signed.h). */
#include "licence/signed.h"

#include "licence/canon.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *dg_refusal_name(dg_refusal r)
{
    switch (r) {
    case DG_REFUSAL_NONE:
        return "ok";
    case DG_REFUSAL_MALFORMED:
        return "malformed";
    case DG_REFUSAL_TRUNCATED:
        return "truncated";
    case DG_REFUSAL_TAMPERED:
        return "tampered";
    case DG_REFUSAL_WRONG_KEY:
        return "wrong key";
    case DG_REFUSAL_EXPIRED:
        return "expired";
    case DG_REFUSAL_NOT_YET_VALID:
        return "not yet valid";
    case DG_REFUSAL_UNSIGNED:
        return "unsigned";
    }
    return "refused";
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = s[0] < 0x80             ? 1
               : (s[0] & 0xe0) == 0xc0 ? 2
               : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    if (n == 2 && s[0] < 0xc2)
        return 0; /* overlong */
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

void dg_text_one_line(char *text)
{
    unsigned char *s = (unsigned char *)text;
    while (s && *s) {
        size_t n = utf8_len(s);
        if (n == 0) {
            *s++ = '?';
            continue;
        }
        if (n == 1 && (*s < 0x20 || *s == 0x7f))
            *s = ' ';
        s += n;
    }
}

static dg_refusal refuse(dg_refusal r, char *why, size_t whylen, const char *fmt, ...)
    DG_PRINTF(4, 5);
static dg_refusal refuse(dg_refusal r, char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
        dg_text_one_line(why);
    }
    return r;
}

/* Bytes of an incomplete UTF-8 sequence at the end of text (a file cut mid-character), or 0. */
static size_t cut_utf8_tail(const char *text, size_t len)
{
    for (size_t k = 1; k <= 3 && k <= len; k++) {
        unsigned char c = (unsigned char)text[len - k];
        if ((c & 0xc0) == 0x80)
            continue; /* a continuation byte: look further back for the lead */
        size_t need = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
        return need > k ? k : 0;
    }
    return 0;
}

dg_refusal dg_signed_parse_json(const char *text, size_t len, json_t **root, char *why,
                                size_t whylen)
{
    *root = NULL;
    if (!text || len == 0)
        return refuse(DG_REFUSAL_TRUNCATED, why, whylen, "the file is empty");
    if (len > DG_SIGNED_MAX_BYTES)
        return refuse(DG_REFUSAL_MALFORMED, why, whylen, "larger than %d bytes",
                      DG_SIGNED_MAX_BYTES);
    json_error_t jerr;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        /* Cut short: the parser ran out of input inside a value (maybe inside a character). */
        size_t tail = cut_utf8_tail(text, len);
        json_error_t cut;
        if (json_error_code(&jerr) == json_error_invalid_utf8 && tail) {
            json_t *again = json_loadb(text, len - tail, JSON_REJECT_DUPLICATES, &cut);
            json_decref(again);
            if (!again && json_error_code(&cut) == json_error_premature_end_of_input)
                jerr = cut;
        }
        if (json_error_code(&jerr) == json_error_premature_end_of_input)
            return refuse(DG_REFUSAL_TRUNCATED, why, whylen,
                          "the JSON ends early (line %d, column %d): %s", jerr.line, jerr.column,
                          jerr.text);
        return refuse(DG_REFUSAL_MALFORMED, why, whylen, "not valid JSON (line %d, column %d): %s",
                      jerr.line, jerr.column, jerr.text);
    }
    if (!json_is_object(v)) {
        json_decref(v);
        return refuse(DG_REFUSAL_MALFORMED, why, whylen, "the top level must be a JSON object");
    }
    *root = v;
    return DG_REFUSAL_NONE;
}

static int is_hex_id(const char *s)
{
    if (!s || strlen(s) != DG_KEY_ID_LEN)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

static dg_refusal parse_signature(const json_t *s, dg_signature *sig, char *why, size_t whylen)
{
    if (!json_is_object(s))
        return refuse(DG_REFUSAL_MALFORMED, why, whylen, "'signature' must be an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)s, key, v)
    {
        if (strcmp(key, "alg") != 0 && strcmp(key, "key_id") != 0 && strcmp(key, "value") != 0)
            return refuse(DG_REFUSAL_MALFORMED, why, whylen, "unknown key 'signature.%.40s'", key);
    }
    const char *alg = json_string_value(json_object_get(s, "alg"));
    const char *id = json_string_value(json_object_get(s, "key_id"));
    const char *value = json_string_value(json_object_get(s, "value"));
    if (!alg || strcmp(alg, "ed25519") != 0)
        return refuse(DG_REFUSAL_MALFORMED, why, whylen, "'signature.alg' must be \"ed25519\"");
    if (!is_hex_id(id))
        return refuse(DG_REFUSAL_MALFORMED, why, whylen,
                      "'signature.key_id' must be %d lowercase hex digits", DG_KEY_ID_LEN);
    if (!value)
        return refuse(DG_REFUSAL_MALFORMED, why, whylen, "'signature.value' must be a string");
    unsigned char raw[2 * DG_SIG_BYTES];
    long n = dg_base64_decode(value, raw, sizeof raw);
    if (n < 0)
        return refuse(DG_REFUSAL_MALFORMED, why, whylen,
                      "'signature.value' is not base64 of %d bytes", DG_SIG_BYTES);
    if (n < DG_SIG_BYTES)
        return refuse(DG_REFUSAL_TRUNCATED, why, whylen,
                      "the signature has %ld bytes, an Ed25519 signature has %d", n, DG_SIG_BYTES);
    if (n > DG_SIG_BYTES)
        return refuse(DG_REFUSAL_MALFORMED, why, whylen,
                      "the signature has %ld bytes, an Ed25519 signature has %d", n, DG_SIG_BYTES);
    memcpy(sig->key_id, id, DG_KEY_ID_LEN + 1);
    memcpy(sig->value, raw, DG_SIG_BYTES);
    return DG_REFUSAL_NONE;
}

dg_refusal dg_signed_open(const json_t *root, const char *member, int allow_bare,
                          const json_t **doc, dg_signature *sig, int *is_signed, char *why,
                          size_t whylen)
{
    *doc = NULL;
    *is_signed = 0;
    memset(sig, 0, sizeof(*sig));
    const json_t *d = json_object_get(root, member);
    if (!d) {
        if (!allow_bare)
            return refuse(DG_REFUSAL_MALFORMED, why, whylen,
                          "not a signed %s: expected {\"%s\": {...}, \"signature\": {...}}", member,
                          member);
        if (json_object_get(root, "signature"))
            return refuse(DG_REFUSAL_MALFORMED, why, whylen,
                          "a 'signature' without a '%s' document", member);
        *doc = root;
        return DG_REFUSAL_NONE;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)root, key, v)
    {
        if (strcmp(key, member) != 0 && strcmp(key, "signature") != 0)
            return refuse(DG_REFUSAL_MALFORMED, why, whylen,
                          "unknown top-level key '%.40s' (expected '%s' and 'signature')", key,
                          member);
    }
    if (!json_is_object(d))
        return refuse(DG_REFUSAL_MALFORMED, why, whylen, "'%s' must be an object", member);
    const json_t *s = json_object_get(root, "signature");
    if (!s)
        return refuse(DG_REFUSAL_UNSIGNED, why, whylen, "the %s has no 'signature'", member);
    dg_refusal r = parse_signature(s, sig, why, whylen);
    if (r != DG_REFUSAL_NONE)
        return r;
    *doc = d;
    *is_signed = 1;
    return DG_REFUSAL_NONE;
}

dg_refusal dg_signed_verify(const json_t *doc, const dg_signature *sig, const dg_keyring *ring,
                            const char **signer, char *why, size_t whylen)
{
    if (signer)
        *signer = NULL;
    char err[256];
    char *canon = NULL;
    size_t len = 0;
    if (dg_canon_dump(doc, &canon, &len, err, sizeof err) != 0)
        return refuse(DG_REFUSAL_MALFORMED, why, whylen, "cannot be signed: %s", err);
    const char *name = NULL;
    const dg_key *key = dg_keyring_find(ring, sig->key_id, &name);
    if (!key) {
        free(canon);
        return refuse(DG_REFUSAL_WRONG_KEY, why, whylen,
                      "signed by key %s, which this installation does not trust", sig->key_id);
    }
    int ok = dg_key_verify(key, canon, len, sig->value);
    free(canon);
    if (!ok)
        return refuse(DG_REFUSAL_TAMPERED, why, whylen,
                      "the signature of key %s ('%s') does not match the content", sig->key_id,
                      name);
    if (signer)
        *signer = name;
    return DG_REFUSAL_NONE;
}

json_t *dg_signed_make(const json_t *doc, const char *member, const dg_key *key, char *why,
                       size_t whylen)
{
    char err[256];
    char *canon = NULL;
    size_t len = 0;
    if (dg_canon_dump(doc, &canon, &len, err, sizeof err) != 0) {
        refuse(DG_REFUSAL_MALFORMED, why, whylen, "cannot be signed: %s", err);
        return NULL;
    }
    unsigned char sig[DG_SIG_BYTES];
    int rc = dg_key_sign(key, canon, len, sig);
    free(canon);
    if (rc != 0) {
        refuse(DG_REFUSAL_MALFORMED, why, whylen, "signing failed (is it a private Ed25519 key?)");
        return NULL;
    }
    char *b64 = dg_base64_encode(sig, sizeof sig);
    json_t *env = b64 ? json_pack("{s:O, s:{s:s, s:s, s:s}}", member, (json_t *)doc, "signature",
                                  "alg", "ed25519", "key_id", dg_key_id(key), "value", b64)
                      : NULL;
    free(b64);
    if (!env)
        refuse(DG_REFUSAL_MALFORMED, why, whylen, "out of memory");
    return env;
}
