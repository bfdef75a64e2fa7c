/*
 * Signed documents: a JSON document and a detached Ed25519 signature over its
 * canonical bytes (canon.h), shipped together in one file:
 *
 *   {"<member>": { ...the document... },
 *    "signature": {"alg": "ed25519", "key_id": "<16 hex>", "value": "<base64>"}}
 *
 * <member> is "licence" for licences and "policy" for signed policies. The
 * signature covers only the canonical bytes of the document, so any tool that
 * can canonicalise JSON and sign with Ed25519 (openssl pkeyutl -sign -rawin)
 * can make one. key_id is a hint naming the signer: a key nobody trusts is
 * refused as "wrong key", a trusted key whose signature does not match as
 * "tampered".
 */
#ifndef DG_LICENCE_SIGNED_H
#define DG_LICENCE_SIGNED_H

#include "licence/keys.h"

#include <dengon/plugin.h>
#include <jansson.h>
#include <stddef.h>

/* Why a licence or a policy was refused. */
typedef enum dg_refusal {
    DG_REFUSAL_NONE = 0,
    DG_REFUSAL_MALFORMED,     /* not JSON, wrong shape, bad field, unsupported format */
    DG_REFUSAL_TRUNCATED,     /* the file or the signature ends too early */
    DG_REFUSAL_TAMPERED,      /* a trusted key's signature does not match the content */
    DG_REFUSAL_WRONG_KEY,     /* signed by a key this installation does not trust */
    DG_REFUSAL_EXPIRED,       /* past its expiry time */
    DG_REFUSAL_NOT_YET_VALID, /* before its not_before (or issued) time */
    DG_REFUSAL_UNSIGNED       /* no signature where one is required */
} dg_refusal;

/* "malformed", "truncated", "tampered", "wrong key", "expired", "not yet valid", "unsigned". */
const char *dg_refusal_name(dg_refusal r);

/*
 * Makes a reason safe to show and to put in JSON: one line (control
 * characters become spaces) of valid UTF-8 (stray bytes, and a character cut
 * by a full buffer, become '?'). Reasons quote parts of untrusted files.
 */
void dg_text_one_line(char *text);

#define DG_SIGNED_MAX_BYTES (256 * 1024) /* larger files are refused as malformed */

typedef struct dg_signature {
    char key_id[DG_KEY_ID_LEN + 1];
    unsigned char value[DG_SIG_BYTES];
} dg_signature;

/*
 * Parses text as JSON (duplicate keys refused). Truncated JSON (the text ends
 * inside a value) is DG_REFUSAL_TRUNCATED, other syntax errors MALFORMED.
 * Fills *root (new). why gets a one-line reason on failure.
 */
dg_refusal dg_signed_parse_json(const char *text, size_t len, json_t **root, char *why,
                                size_t whylen);

/*
 * Splits an envelope: *doc (borrowed from root) is root[member] (an object),
 * sig is filled from root["signature"]. A root without member is MALFORMED,
 * unless allow_bare: then *doc = root and *is_signed = 0 (an unsigned policy).
 */
dg_refusal dg_signed_open(const json_t *root, const char *member, int allow_bare,
                          const json_t **doc, dg_signature *sig, int *is_signed, char *why,
                          size_t whylen);

/*
 * Checks sig over the canonical bytes of doc with the key named by
 * sig->key_id in ring. *signer (borrowed, may be NULL) gets the key's name.
 */
dg_refusal dg_signed_verify(const json_t *doc, const dg_signature *sig, const dg_keyring *ring,
                            const char **signer, char *why, size_t whylen);

/*
 * Makes an envelope {member: doc, signature: {...}} signed with key (private).
 * New reference, or NULL with a reason (doc not canonicalisable).
 */
json_t *dg_signed_make(const json_t *doc, const char *member, const dg_key *key, char *why,
                       size_t whylen);

#endif
