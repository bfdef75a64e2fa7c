#include "ipmc_body.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipmc_cbc.h"
#include "ipmc_consts.h"
#include "ipmc_encode.h"
#include "ipmc_error.h"
#include "ipmc_keyex.h"
#include "ipmc_libctx.h"
#include "ipmc_plain.h"
#include "ipmc_pubkey.h"
#include "ipmc_rsa.h"

#define SIGN_BITS (IPMC_SIGN_SHA1 | IPMC_SIGN_SHA256)

const char *ipmc_sig_name(ipmc_sig s)
{
    switch (s) {
    case IPMC_SIG_NONE:
        return "unsigned";
    case IPMC_SIG_SHA1_OK:
        return "verified (SHA-1)";
    case IPMC_SIG_SHA256_OK:
        return "verified (SHA-256)";
    case IPMC_SIG_UNVERIFIED:
        return "signed, sender key unknown";
    }
    return "?";
}

int ipmc_body_encrypt_raw(const ipmc_body_in *in, const uint8_t *plain, size_t len, char **out,
                          char *err, size_t errlen)
{
    if (!in || !plain || !out)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "missing argument");
    ipmc_suite suite = ipmc_suite_of(in->capa);
    if (suite == IPMC_SUITE_NONE)
        return ipmc_fail(err, errlen, IPMC_ERR_SUITE, "capability %X names no supported suite",
                         (unsigned)in->capa);
    unsigned want = suite == IPMC_SUITE_RSA2048_AES256 ? 2048 : 1024;
    if (ipmc_key_bits(in->peer_key) != want)
        return ipmc_fail(err, errlen, IPMC_ERR_NOKEY, "%s needs the peer's RSA-%u key",
                         ipmc_suite_name(suite), want);
    bool sign = in->capa & SIGN_BITS;
    if (sign && ipmc_key_bits(in->sign_key) != 2048)
        return ipmc_fail(err, errlen, IPMC_ERR_NOKEY, "signing needs our RSA-2048 private key");
    bool b64 = in->capa & IPMC_ENCODE_BASE64;

    uint8_t skey[IPMC_AES_KEY_LEN];
    size_t sklen = suite == IPMC_SUITE_RSA2048_AES256 ? IPMC_AES_KEY_LEN : IPMC_BF_KEY_LEN;
    uint8_t wrapped[256], sig[256];
    size_t wlen = 0, siglen = 0;
    uint8_t iv[16];
    char pkt[16];
    snprintf(pkt, sizeof pkt, "%u", (unsigned)in->packet_no);
    ipmc_cbc_iv(in->capa & IPMC_PACKETNO_IV, pkt, iv);

    uint8_t *ct = NULL;
    size_t ctlen = 0;
    char *f_key = NULL, *f_ct = NULL, *f_sig = NULL;
    int rc = ipmc_random(skey, sklen);
    if (rc == IPMC_OK)
        rc = ipmc_rsa_wrap(in->peer_key, skey, sklen, wrapped, &wlen);
    if (rc == IPMC_OK)
        rc = ipmc_cbc_encrypt(suite, skey, iv, plain, len, &ct, &ctlen);
    OPENSSL_cleanse(skey, sizeof skey);
    if (rc == IPMC_OK && sign)
        rc = ipmc_rsa_sign(in->sign_key, in->capa & IPMC_SIGN_SHA256, plain, len, sig, &siglen);
    if (rc != IPMC_OK) {
        free(ct);
        return ipmc_fail(err, errlen, rc, "encryption failed (%s)", ipmc_status_str(rc));
    }
    f_key = ipmc_field_encode(b64, wrapped, wlen);
    f_ct = ipmc_field_encode(b64, ct, ctlen);
    f_sig = sign ? ipmc_field_encode(b64, sig, siglen) : NULL;
    free(ct);
    char *s = NULL;
    if (f_key && f_ct && (!sign || f_sig)) {
        size_t n = 9 + strlen(f_key) + strlen(f_ct) + (f_sig ? strlen(f_sig) + 1 : 0) + 3;
        s = malloc(n);
        if (s)
            snprintf(s, n, "%X:%s:%s%s%s", (unsigned)in->capa, f_key, f_ct, sign ? ":" : "",
                     sign ? f_sig : "");
    }
    free(f_key);
    free(f_ct);
    free(f_sig);
    if (!s)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "out of memory");
    *out = s;
    return IPMC_OK;
}

int ipmc_body_encrypt(const ipmc_body_in *in, const char *text, const char *attach,
                      const char *tolist, char **out, char *err, size_t errlen)
{
    uint8_t *plain = NULL;
    size_t len = 0;
    if (ipmc_plain_compose(text, attach, tolist, &plain, &len) != IPMC_OK)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "no message text");
    int rc = ipmc_body_encrypt_raw(in, plain, len, out, err, errlen);
    OPENSSL_cleanse(plain, len);
    free(plain);
    return rc;
}

/* Splits "a:b:c[:d]" into at most 4 non-empty fields. */
static int split_fields(const char *s, size_t len, const char *f[4], size_t fl[4], int *nf)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == ':') {
            if (n == 4 || i == start)
                return IPMC_ERR_FORMAT;
            f[n] = s + start;
            fl[n] = i - start;
            n++;
            start = i + 1;
        }
    }
    *nf = n;
    return IPMC_OK;
}

int ipmc_body_decrypt(const ipmc_body_src *src, const ipmc_keys *ours, ipmc_body_out *out,
                      char *err, size_t errlen)
{
    if (!out)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "no output");
    memset(out, 0, sizeof *out);
    if (!src || !src->extra || !ours)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "missing argument");
    const char *f[4];
    size_t fl[4];
    int nf = 0;
    uint32_t capa = 0;
    if (split_fields(src->extra, src->len, f, fl, &nf) != IPMC_OK || nf < 3)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                         "encrypted body is not capa:key:body[:signature]");
    if (ipmc_capa_parse(f[0], fl[0], &capa) != IPMC_OK)
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "capability field is not 1-8 hex digits");
    ipmc_suite suite = ipmc_suite_of(capa);
    if (suite == IPMC_SUITE_NONE)
        return ipmc_fail(err, errlen, IPMC_ERR_SUITE,
                         "capability %X names no supported suite (RSA-2048/AES-256 or "
                         "RSA-1024/Blowfish-128)",
                         (unsigned)capa);
    bool sign = capa & SIGN_BITS;
    if (nf != (sign ? 4 : 3))
        return ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "%s body must have %d fields, got %d",
                         sign ? "signed" : "unsigned", sign ? 4 : 3, nf);
    if (src->sender && ipmc_key_bits(src->sender) != 2048)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "sender key for signatures must be RSA-2048");
    const EVP_PKEY *priv = suite == IPMC_SUITE_RSA2048_AES256 ? ours->rsa2048 : ours->rsa1024;
    unsigned bits = suite == IPMC_SUITE_RSA2048_AES256 ? 2048 : 1024;
    if (ipmc_key_bits(priv) != bits)
        return ipmc_fail(err, errlen, IPMC_ERR_NOKEY, "we have no RSA-%u private key", bits);
    if ((capa & IPMC_PACKETNO_IV) && !src->packet_no)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "PACKETNO_IV needs the packet number");
    bool b64 = capa & IPMC_ENCODE_BASE64;
    const char *enc = b64 ? "base64" : "hex";

    uint8_t *wk = NULL, *ct = NULL, *sg = NULL, *pt = NULL;
    size_t wklen = 0, ctlen = 0, sglen = 0, ptlen = 0;
    uint8_t skey[64];
    size_t sklen = 0;
    uint8_t iv[16];
    int rc;
    if (ipmc_field_decode(b64, f[1], fl[1], &wk, &wklen) != IPMC_OK) {
        rc = ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "session key field is not valid %s", enc);
        goto out;
    }
    if (ipmc_field_decode(b64, f[2], fl[2], &ct, &ctlen) != IPMC_OK) {
        rc = ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "ciphertext field is not valid %s", enc);
        goto out;
    }
    if (sign && ipmc_field_decode(b64, f[3], fl[3], &sg, &sglen) != IPMC_OK) {
        rc = ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "signature field is not valid %s", enc);
        goto out;
    }
    if (wklen != bits / 8) {
        rc = ipmc_fail(err, errlen, IPMC_ERR_FORMAT,
                       "wrapped session key is %zu bytes, RSA-%u needs %u", wklen, bits, bits / 8);
        goto out;
    }
    if (sign && sglen != 256) {
        rc = ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "signature is %zu bytes, RSA-2048 needs 256",
                       sglen);
        goto out;
    }
    rc = ipmc_rsa_unwrap(priv, wk, wklen, skey, sizeof skey, &sklen);
    size_t want = suite == IPMC_SUITE_RSA2048_AES256 ? IPMC_AES_KEY_LEN : IPMC_BF_KEY_LEN;
    if (rc == IPMC_OK && sklen != want)
        rc = IPMC_ERR_KEY;
    if (rc != IPMC_OK) {
        rc = ipmc_fail(err, errlen, rc == IPMC_ERR_KEY ? IPMC_ERR_KEY : rc,
                       "session key does not unwrap with our RSA-%u key (encrypted for another "
                       "key, or corrupted)",
                       bits);
        goto out;
    }
    ipmc_cbc_iv(capa & IPMC_PACKETNO_IV, src->packet_no, iv);
    rc = ipmc_cbc_decrypt(suite, skey, iv, ct, ctlen, &pt, &ptlen);
    if (rc == IPMC_ERR_FORMAT) {
        rc = ipmc_fail(err, errlen, rc, "ciphertext length %zu is not a multiple of the block",
                       ctlen);
        goto out;
    }
    if (rc == IPMC_ERR_PADDING) {
        rc = ipmc_fail(err, errlen, rc,
                       "bad CBC padding after decryption (tampered ciphertext or wrong IV)");
        goto out;
    }
    if (rc != IPMC_OK) {
        rc = ipmc_fail(err, errlen, rc, "%s cipher unavailable", ipmc_suite_name(suite));
        goto out;
    }
    ipmc_sig sig = IPMC_SIG_NONE;
    if (sign && src->sender) {
        bool sha256 = capa & IPMC_SIGN_SHA256;
        rc = ipmc_rsa_verify(src->sender, sha256, pt, ptlen, sg, sglen);
        if (rc != IPMC_OK) {
            rc = ipmc_fail(err, errlen, rc == IPMC_ERR_SIGNATURE ? rc : IPMC_ERR_CRYPTO,
                           "%s signature does not match the sender's RSA-2048 key",
                           sha256 ? "SHA-256" : "SHA-1");
            goto out;
        }
        sig = sha256 ? IPMC_SIG_SHA256_OK : IPMC_SIG_SHA1_OK;
    } else if (sign) {
        sig = IPMC_SIG_UNVERIFIED;
    }
    ipmc_plain_parts parts;
    if (ipmc_plain_split(pt, ptlen, src->ext, &parts) != IPMC_OK) {
        rc = ipmc_fail(err, errlen, IPMC_ERR_FORMAT, "decrypted body is not NUL-terminated");
        goto out;
    }
    out->capa = capa;
    out->suite = suite;
    out->sig = sig;
    out->plain = pt;
    out->plain_len = ptlen;
    out->text = parts.text;
    out->attach = parts.attach;
    out->tolist = parts.tolist;
    pt = NULL;
    rc = IPMC_OK;
out:
    OPENSSL_cleanse(skey, sizeof skey);
    if (pt) {
        OPENSSL_cleanse(pt, ptlen);
        free(pt);
    }
    free(wk);
    free(ct);
    free(sg);
    return rc;
}

void ipmc_body_out_free(ipmc_body_out *out)
{
    if (!out)
        return;
    if (out->plain) {
        OPENSSL_cleanse(out->plain, out->plain_len);
        free(out->plain);
    }
    memset(out, 0, sizeof *out);
}
