/*
 * Licences (docs/licence.md): a JSON document signed by the vendor (or by a
 * key the team policy trusts) naming the licensee, plan, seats, validity and
 * entitlements. The core checks it before any premium plugin is loaded.
 *
 *   {"licence": {"format": 1, "id": "L-2024-0042", "licensee": "ACME Ltd",
 *                "plan": "business", "seats": 50,
 *                "issued": "2024-05-01T00:00:00Z",
 *                "not_before": "2024-05-01T00:00:00Z",      (optional)
 *                "expires": "2025-05-01T00:00:00Z",         (optional: none = perpetual)
 *                "entitlements": ["file-encryption", "log-archive"]},
 *    "signature": {"alg": "ed25519", "key_id": "...", "value": "..."}}
 */
#ifndef DG_LICENCE_H
#define DG_LICENCE_H

#include "licence/keys.h"
#include "licence/signed.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DG_LICENCE_FORMAT 1
#define DG_LICENCE_MAX_BYTES (64 * 1024)
#define DG_LICENCE_MAX_ENTITLEMENTS 256
#define DG_LICENCE_MAX_SEATS 10000000

typedef struct dg_licence {
    char *id;
    char *licensee;
    char *plan;
    int64_t seats;
    int64_t issued;     /* Unix seconds (UTC) */
    int64_t not_before; /* = issued when the document has none */
    int64_t expires;    /* 0 = never */
    char **entitlements;
    size_t n_entitlements;
    char key_id[DG_KEY_ID_LEN + 1]; /* the key that signed it */
    char *key_name;                 /* its name in the keyring ("vendor", ...) */
    json_t *doc;                    /* the signed document */
} dg_licence;

/*
 * Parses and verifies a licence file: JSON, envelope, signature against ring,
 * then the document's fields. Does not look at the clock (see
 * dg_licence_check_time). Returns DG_REFUSAL_NONE with *out (new), or the
 * reason with a one-line explanation in why.
 */
dg_refusal dg_licence_load(const char *text, size_t len, const dg_keyring *ring, dg_licence **out,
                           char *why, size_t whylen);
/*
 * Only the document's fields, as dg_licence_load checks them after the
 * signature (used by the vendor tool before signing). key_id/key_name empty.
 */
dg_refusal dg_licence_parse_doc(const json_t *doc, dg_licence **out, char *why, size_t whylen);
void dg_licence_free(dg_licence *lic);

/* NONE while valid at now (Unix seconds), else EXPIRED or NOT_YET_VALID with a reason. */
dg_refusal dg_licence_check_time(const dg_licence *lic, int64_t now, char *why, size_t whylen);
/* 1 when the licence lists entitlement. */
int dg_licence_grants(const dg_licence *lic, const char *entitlement);
/*
 * {"id","licensee","plan","seats","issued","not_before","expires"(null when
 * none),"entitlements":[...],"key_id","key"}; new reference.
 */
json_t *dg_licence_to_json(const dg_licence *lic);

/*
 * Times are RFC 3339 in UTC with a 'Z' and whole seconds:
 * "2024-05-01T00:00:00Z". 0 ok, -1 malformed or out of range
 * (years 1970..9999).
 */
int dg_time_parse(const char *text, int64_t *out);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with the NUL). */
void dg_time_format(int64_t t, char buf[32]);

#endif
