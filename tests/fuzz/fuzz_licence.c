/*
 * libFuzzer harness for licence files: the JSON envelope, the signature
 * block, canonical JSON and the licence document's fields. Besides "no
 * crash, no leak", it checks what callers rely on:
 *   - a refused licence leaves *out NULL with a one-line reason;
 *   - canonical JSON is stable: re-parsing it gives an equal value whose
 *     canonical bytes are the same;
 *   - a document the field parser accepts, once signed, loads and verifies
 *     with the same id and entitlements (sign -> serialise -> verify round trip);
 *   - a time that parses formats back to itself.
 */
#include "licence/canon.h"
#include "licence/licence.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static dg_key *signer;
static dg_keyring *ring;

static void setup(void)
{
    if (ring)
        return;
    signer = dg_key_generate();
    char *pem = dg_key_pem(signer, 0);
    ring = dg_keyring_new();
    CHECK(signer && pem && ring);
    CHECK(dg_keyring_add(ring, "fuzz", dg_key_from_pem(pem, strlen(pem), NULL, 0)) == DG_OK);
    free(pem);
}

static void check_one_line(const char *why)
{
    CHECK(why[0] != '\0');
    CHECK(strchr(why, '\n') == NULL);
}

static void check_canon(const json_t *v)
{
    char err[256], *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    if (dg_canon_dump(v, &a, &alen, err, sizeof err) != 0) {
        CHECK(a == NULL);
        check_one_line(err);
        return;
    }
    json_error_t jerr;
    json_t *again = json_loadb(a, alen, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    CHECK(again != NULL);
    CHECK(json_equal(again, v));
    CHECK(dg_canon_dump(again, &b, &blen, err, sizeof err) == 0);
    CHECK(alen == blen && memcmp(a, b, alen) == 0);
    json_decref(again);
    free(a);
    free(b);
}

/* A document the field parser accepts must survive signing and verification. */
static void check_round_trip(const json_t *doc)
{
    dg_licence *lic = NULL;
    char why[512];
    if (dg_licence_parse_doc(doc, &lic, why, sizeof why) != DG_REFUSAL_NONE) {
        CHECK(lic == NULL);
        check_one_line(why);
        return;
    }
    json_t *env = dg_signed_make(doc, "licence", signer, why, sizeof why);
    CHECK(env != NULL);
    char *text = json_dumps(env, JSON_COMPACT);
    CHECK(text != NULL);
    dg_licence *back = NULL;
    CHECK(dg_licence_load(text, strlen(text), ring, &back, why, sizeof why) == DG_REFUSAL_NONE);
    CHECK(strcmp(back->id, lic->id) == 0 && back->seats == lic->seats);
    CHECK(back->n_entitlements == lic->n_entitlements);
    CHECK(strcmp(back->key_name, "fuzz") == 0);
    dg_refusal r = dg_licence_check_time(back, back->not_before, why, sizeof why);
    CHECK(r == DG_REFUSAL_NONE || r == DG_REFUSAL_EXPIRED);
    json_t *j = dg_licence_to_json(back);
    CHECK(j != NULL);
    json_decref(j);
    free(text);
    json_decref(env);
    dg_licence_free(back);
    dg_licence_free(lic);
}

static void check_time(const uint8_t *data, size_t size)
{
    char s[32];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    int64_t t, t2;
    if (dg_time_parse(s, &t) != 0)
        return;
    char back[32];
    dg_time_format(t, back);
    CHECK(strcmp(back, s) == 0);
    CHECK(dg_time_parse(back, &t2) == 0 && t2 == t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    char why[512] = "";
    dg_licence *lic = (dg_licence *)1;
    dg_refusal r = dg_licence_load((const char *)data, size, ring, &lic, why, sizeof why);
    if (r == DG_REFUSAL_NONE) {
        CHECK(lic != NULL);
        dg_licence_free(lic);
    } else {
        CHECK(lic == NULL);
        check_one_line(why);
    }
    json_error_t jerr;
    json_t *v =
        json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (v) {
        check_canon(v);
        const json_t *doc = json_object_get(v, "licence");
        check_round_trip(json_is_object(doc) ? doc : v);
        json_decref(v);
    }
    check_time(data, size);
    return 0;
}
