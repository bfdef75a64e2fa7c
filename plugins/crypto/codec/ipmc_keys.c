#include "ipmc_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipmc_error.h"
#include "ipmc_libctx.h"

/* A PEM key is a few KB; anything far bigger is not one of ours. */
#define KEYFILE_MAX (64 * 1024)

int ipmc_key_generate(unsigned bits, EVP_PKEY **out, char *err, size_t errlen)
{
    if (!out || (bits != 1024 && bits != 2048))
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "RSA key size must be 1024 or 2048");
    OSSL_LIB_CTX *lc = ipmc_libctx();
    EVP_PKEY_CTX *ctx = lc ? EVP_PKEY_CTX_new_from_name(lc, "RSA", NULL) : NULL;
    EVP_PKEY *key = NULL;
    if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) <= 0 ||
        EVP_PKEY_generate(ctx, &key) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return ipmc_fail(err, errlen, IPMC_ERR_CRYPTO, "RSA-%u key generation failed", bits);
    }
    EVP_PKEY_CTX_free(ctx);
    *out = key;
    return IPMC_OK;
}

/* Never prompt on a terminal for a passphrase: our files have none. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static int read_all(int fd, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap)
            return -2;
    }
    *len = n;
    return 0;
}

int ipmc_key_load(const char *path, unsigned bits, EVP_PKEY **out, char *err, size_t errlen)
{
    if (!path || !out)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "no key path");
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return ipmc_fail(err, errlen, IPMC_ERR_NOKEY, "%s does not exist", path);
        if (errno == ELOOP)
            return ipmc_fail(err, errlen, IPMC_ERR_PERM,
                             "%s is a symbolic link: refusing to use it as a key file", path);
        return ipmc_fail(err, errlen, IPMC_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ipmc_fail(err, errlen, IPMC_ERR_IO, "cannot stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ipmc_fail(err, errlen, IPMC_ERR_PERM, "%s is not a regular file", path);
    }
    if (st.st_uid != geteuid()) {
        close(fd);
        return ipmc_fail(err, errlen, IPMC_ERR_PERM,
                         "%s is owned by uid %u, not by us (uid %u): refusing a foreign key", path,
                         (unsigned)st.st_uid, (unsigned)geteuid());
    }
    if (st.st_mode & 077) {
        close(fd);
        return ipmc_fail(err, errlen, IPMC_ERR_PERM,
                         "%s has mode %04o: group/others may read the private key; "
                         "run chmod 600 on it if it was not exposed, or delete it to get a "
                         "new key",
                         path, (unsigned)(st.st_mode & 07777));
    }
    char *buf = malloc(KEYFILE_MAX);
    if (!buf) {
        close(fd);
        return ipmc_fail(err, errlen, IPMC_ERR_IO, "out of memory");
    }
    size_t len = 0;
    int rr = read_all(fd, buf, KEYFILE_MAX, &len);
    int e = errno;
    close(fd);
    if (rr == -1) {
        free(buf);
        return ipmc_fail(err, errlen, IPMC_ERR_IO, "cannot read %s: %s", path, strerror(e));
    }
    if (rr == -2) {
        free(buf);
        return ipmc_fail(err, errlen, IPMC_ERR_CORRUPT, "%s is too large to be a key file", path);
    }
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    EVP_PKEY *key =
        bio ? PEM_read_bio_PrivateKey_ex(bio, NULL, no_passphrase, NULL, ipmc_libctx(), NULL)
            : NULL;
    BIO_free(bio);
    OPENSSL_cleanse(buf, len);
    free(buf);
    if (!key)
        return ipmc_fail(err, errlen, IPMC_ERR_CORRUPT,
                         "%s does not contain a readable PEM private key (left untouched)", path);
    if (!EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_get_bits(key) != (int)bits) {
        int got = EVP_PKEY_get_bits(key);
        EVP_PKEY_free(key);
        return ipmc_fail(err, errlen, IPMC_ERR_CORRUPT,
                         "%s holds a %d-bit non-RSA or wrong-size key, expected RSA-%u (left "
                         "untouched)",
                         path, got, bits);
    }
    *out = key;
    return IPMC_OK;
}

static int fsync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int ipmc_key_save(const char *path, const EVP_PKEY *key, char *err, size_t errlen)
{
    if (!path || !key)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "no key or path");
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(bio);
        return ipmc_fail(err, errlen, IPMC_ERR_CRYPTO, "cannot serialise the private key");
    }
    char *pem = NULL;
    long pemlen = BIO_get_mem_data(bio, &pem);

    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp) {
        BIO_free(bio);
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "key path too long");
    }
    int fd = mkostemp(tmp, O_CLOEXEC); /* created 0600 */
    if (fd < 0) {
        int e = errno;
        BIO_free(bio);
        return ipmc_fail(err, errlen, IPMC_ERR_IO, "cannot create %s: %s", tmp, strerror(e));
    }
    int ok = fchmod(fd, 0600) == 0 && write_all(fd, pem, (size_t)pemlen) == 0 && fsync(fd) == 0;
    int e = errno;
    BIO_free(bio); /* the mem BIO clears nothing: the PEM is freed with it */
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            e = errno;
        unlink(tmp);
        return ipmc_fail(err, errlen, IPMC_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    if (fsync_dir_of(path) != 0)
        return ipmc_fail(err, errlen, IPMC_ERR_IO, "cannot sync the directory of %s: %s", path,
                         strerror(errno));
    return IPMC_OK;
}

static int load_or_make(const char *dir, const char *name, unsigned bits, EVP_PKEY **out,
                        bool *created, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "key directory path too long");
    int rc = ipmc_key_load(path, bits, out, err, errlen);
    if (rc != IPMC_ERR_NOKEY)
        return rc;
    rc = ipmc_key_generate(bits, out, err, errlen);
    if (rc != IPMC_OK)
        return rc;
    rc = ipmc_key_save(path, *out, err, errlen);
    if (rc != IPMC_OK) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return rc;
    }
    if (created)
        *created = true;
    return IPMC_OK;
}

int ipmc_keys_load_or_create(const char *dir, ipmc_keys *out, bool *created, char *err,
                             size_t errlen)
{
    if (!dir || !out)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "no key directory");
    out->rsa2048 = out->rsa1024 = NULL;
    if (created)
        *created = false;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return ipmc_fail(err, errlen, IPMC_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    int rc = load_or_make(dir, IPMC_KEYFILE_2048, 2048, &out->rsa2048, created, err, errlen);
    if (rc == IPMC_OK)
        rc = load_or_make(dir, IPMC_KEYFILE_1024, 1024, &out->rsa1024, created, err, errlen);
    if (rc != IPMC_OK)
        ipmc_keys_free(out);
    return rc;
}

int ipmc_keys_load_existing(const char *dir, ipmc_keys *out, bool *complete, char *err,
                            size_t errlen)
{
    if (!dir || !out || !complete)
        return ipmc_fail(err, errlen, IPMC_ERR_ARG, "no key directory");
    out->rsa2048 = out->rsa1024 = NULL;
    *complete = false;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return ipmc_fail(err, errlen, IPMC_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    static const struct {
        const char *name;
        unsigned bits;
    } files[] = {{IPMC_KEYFILE_2048, 2048}, {IPMC_KEYFILE_1024, 1024}};
    EVP_PKEY **slot[] = {&out->rsa2048, &out->rsa1024};
    for (size_t i = 0; i < 2; i++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, files[i].name) >= (int)sizeof path) {
            ipmc_keys_free(out);
            return ipmc_fail(err, errlen, IPMC_ERR_ARG, "key directory path too long");
        }
        int rc = ipmc_key_load(path, files[i].bits, slot[i], err, errlen);
        if (rc != IPMC_OK && rc != IPMC_ERR_NOKEY) {
            ipmc_keys_free(out);
            return rc;
        }
    }
    *complete = out->rsa2048 && out->rsa1024;
    return IPMC_OK;
}

void ipmc_keys_free(ipmc_keys *keys)
{
    if (!keys)
        return;
    EVP_PKEY_free(keys->rsa2048);
    EVP_PKEY_free(keys->rsa1024);
    keys->rsa2048 = keys->rsa1024 = NULL;
}
