/* Ed25519 keys with OpenSSL 3 EVP (keys.h). */
#include "licence/keys.h"

#include "util/fs.h"

#include <dengon/plugin.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dg_key {
    EVP_PKEY *pkey;
    int private_part;
    char id[DG_KEY_ID_LEN + 1];
};

typedef struct ring_entry {
    char *name;
    dg_key *key;
} ring_entry;

struct dg_keyring {
    ring_entry *entries;
    size_t n;
};

static int set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

/* Fills key->id from the raw public key. 0 or -1 (not Ed25519). */
static int finish_key(dg_key *key)
{
    unsigned char raw[32];
    size_t n = sizeof raw;
    if (EVP_PKEY_get_id(key->pkey) != EVP_PKEY_ED25519 ||
        EVP_PKEY_get_raw_public_key(key->pkey, raw, &n) != 1 || n != sizeof raw)
        return -1;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(raw, sizeof raw, digest);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < DG_KEY_ID_LEN / 2; i++) {
        key->id[2 * i] = hex[digest[i] >> 4];
        key->id[2 * i + 1] = hex[digest[i] & 15];
    }
    key->id[DG_KEY_ID_LEN] = '\0';
    return 0;
}

static dg_key *wrap(EVP_PKEY *pkey, int private_part, char *err, size_t errlen)
{
    dg_key *key = pkey ? calloc(1, sizeof(*key)) : NULL;
    if (!key) {
        EVP_PKEY_free(pkey);
        set_err(err, errlen, pkey ? "out of memory" : "not a PEM key");
        return NULL;
    }
    key->pkey = pkey;
    key->private_part = private_part;
    if (finish_key(key) != 0) {
        dg_key_free(key);
        set_err(err, errlen, "not an Ed25519 key");
        return NULL;
    }
    return key;
}

dg_key *dg_key_from_pem(const char *pem, size_t len, char *err, size_t errlen)
{
    if (!pem || len == 0 || len > DG_KEY_FILE_MAX || len > 0x7fffffff) {
        set_err(err, errlen, "not a PEM key (empty or too large)");
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    int private_part = 0;
    if (!pkey) {
        /* A private key holds its public half: accept it where a public key is wanted. */
        BIO_reset(bio);
        pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        private_part = pkey != NULL;
    }
    BIO_free(bio);
    ERR_clear_error(); /* a failed read leaves entries that would confuse a later caller */
    return wrap(pkey, private_part, err, errlen);
}

static char *read_key_file(const char *path, size_t *len, char *err, size_t errlen)
{
    char *text = NULL;
    int rc = dg_read_file(path, DG_KEY_FILE_MAX, &text, len);
    if (rc != 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path,
                     rc == -EFBIG ? "too large for a key file" : strerror(-rc));
        return NULL;
    }
    return text;
}

dg_key *dg_key_load(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = read_key_file(path, &len, err, errlen);
    if (!text)
        return NULL;
    char why[128];
    dg_key *key = dg_key_from_pem(text, len, why, sizeof why);
    free(text);
    if (!key && err && errlen)
        snprintf(err, errlen, "%s: %s", path, why);
    return key;
}

dg_key *dg_key_load_private(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = read_key_file(path, &len, err, errlen);
    if (!text)
        return NULL;
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    ERR_clear_error();
    OPENSSL_cleanse(text, len);
    free(text);
    char why[128];
    dg_key *key = wrap(pkey, 1, why, sizeof why);
    if (!key && err && errlen)
        snprintf(err, errlen, "%s: %s", path,
                 pkey || strcmp(why, "not a PEM key") != 0 ? why : "not a PEM private key");
    return key;
}

dg_key *dg_key_generate(void)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return wrap(pkey, 1, NULL, 0);
}

void dg_key_free(dg_key *key)
{
    if (!key)
        return;
    EVP_PKEY_free(key->pkey);
    free(key);
}

const char *dg_key_id(const dg_key *key)
{
    return key ? key->id : "";
}

int dg_key_is_private(const dg_key *key)
{
    return key && key->private_part;
}

char *dg_key_pem(const dg_key *key, int private_part)
{
    if (!key || (private_part && !key->private_part))
        return NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return NULL;
    int ok = private_part ? PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_bio_PUBKEY(bio, key->pkey);
    char *data = NULL;
    long n = ok == 1 ? BIO_get_mem_data(bio, &data) : 0;
    char *out = n > 0 ? strndup(data, (size_t)n) : NULL;
    BIO_free(bio);
    return out;
}

int dg_key_sign(const dg_key *key, const void *msg, size_t len, unsigned char sig[DG_SIG_BYTES])
{
    if (!key || !key->private_part)
        return -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t siglen = DG_SIG_BYTES;
    /* Ed25519 is "pure": no digest is named, the whole message is signed. */
    int ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestSign(md, sig, &siglen, msg, len) == 1 && siglen == DG_SIG_BYTES;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

int dg_key_verify(const dg_key *key, const void *msg, size_t len,
                  const unsigned char sig[DG_SIG_BYTES])
{
    if (!key)
        return 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestVerify(md, sig, DG_SIG_BYTES, msg, len) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

dg_keyring *dg_keyring_new(void)
{
    return calloc(1, sizeof(dg_keyring));
}

void dg_keyring_free(dg_keyring *ring)
{
    if (!ring)
        return;
    for (size_t i = 0; i < ring->n; i++) {
        free(ring->entries[i].name);
        dg_key_free(ring->entries[i].key);
    }
    free(ring->entries);
    free(ring);
}

int dg_keyring_add(dg_keyring *ring, const char *name, dg_key *key)
{
    if (!ring || !name || !key) {
        dg_key_free(key);
        return DG_EINVAL;
    }
    for (size_t i = 0; i < ring->n; i++) {
        if (strcmp(ring->entries[i].name, name) == 0 ||
            strcmp(ring->entries[i].key->id, key->id) == 0) {
            dg_key_free(key);
            return DG_EEXIST;
        }
    }
    ring_entry *grown = realloc(ring->entries, (ring->n + 1) * sizeof(*grown));
    char *copy = strdup(name);
    if (!grown || !copy) {
        if (grown)
            ring->entries = grown;
        free(copy);
        dg_key_free(key);
        return DG_ENOMEM;
    }
    ring->entries = grown;
    ring->entries[ring->n++] = (ring_entry){copy, key};
    return DG_OK;
}

size_t dg_keyring_size(const dg_keyring *ring)
{
    return ring ? ring->n : 0;
}

const dg_key *dg_keyring_find(const dg_keyring *ring, const char *key_id, const char **name)
{
    for (size_t i = 0; ring && key_id && i < ring->n; i++) {
        if (strcmp(ring->entries[i].key->id, key_id) == 0) {
            if (name)
                *name = ring->entries[i].name;
            return ring->entries[i].key;
        }
    }
    return NULL;
}

const dg_key *dg_keyring_get(const dg_keyring *ring, size_t i, const char **name)
{
    if (!ring || i >= ring->n)
        return NULL;
    if (name)
        *name = ring->entries[i].name;
    return ring->entries[i].key;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *dg_base64_encode(const unsigned char *data, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

long dg_base64_decode(const char *text, unsigned char *out, size_t max)
{
    size_t n = text ? strlen(text) : 0;
    if (n % 4 != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int pad = (text[i + 2] == '=') + (text[i + 3] == '=');
        int last = i + 4 == n;
        if (pad && (!last || (text[i + 2] == '=' && text[i + 3] != '=')))
            return -1;
        int v[4];
        for (int k = 0; k < 4 - pad; k++)
            if ((v[k] = b64_value(text[i + (size_t)k])) < 0)
                return -1;
        for (int k = 4 - pad; k < 4; k++)
            v[k] = 0;
        uint32_t w =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        /* Padding bits must be zero, so each byte string has one spelling. */
        if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
            return -1;
        unsigned char bytes[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8),
                                  (unsigned char)w};
        for (int k = 0; k < 3 - pad; k++) {
            if (o >= max)
                return -1;
            out[o++] = bytes[k];
        }
    }
    return (long)o;
}
