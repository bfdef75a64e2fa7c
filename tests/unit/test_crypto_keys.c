/*
 * Unit tests of key files: creation (PEM, 0600, atomic: no temp files left),
 * reload, and refusal of group/world-readable, symlinked, foreign-owned,
 * corrupt and wrong-size key files, which are never overwritten.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipmc_error.h"
#include "ipmc_keys.h"
#include "ipmc_libctx.h"
#include "ipmc_pubkey.h"

static char dir[64], p2048[128], p1024[128], err[512];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ipmc-keys-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(p2048, sizeof p2048, "%s/keys/%s", dir, IPMC_KEYFILE_2048);
    snprintf(p1024, sizeof p1024, "%s/keys/%s", dir, IPMC_KEYFILE_1024);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    int rc = system(cmd);
    ipmc_libctx_shutdown();
    return rc == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = calloc(1, 65536);
    size_t n = fread(b, 1, 65535, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

static void test_create_and_reload(void **state)
{
    (void)state;
    char kd[128];
    snprintf(kd, sizeof kd, "%s/keys", dir);
    ipmc_keys k, k2;
    bool created = false;
    assert_int_equal(ipmc_keys_load_or_create(kd, &k, &created, err, sizeof err), IPMC_OK);
    assert_true(created);
    assert_int_equal(ipmc_key_bits(k.rsa2048), 2048);
    assert_int_equal(ipmc_key_bits(k.rsa1024), 1024);
    struct stat st;
    assert_int_equal(stat(p2048, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(p1024, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(kd, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char *pem = slurp(p2048);
    assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    free(pem);
    /* No temporary files left behind. */
    DIR *d = opendir(kd);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            assert_null(strstr(e->d_name, ".tmp."));
            files++;
        }
    closedir(d);
    assert_int_equal(files, 2);
    created = true;
    assert_int_equal(ipmc_keys_load_or_create(kd, &k2, &created, err, sizeof err), IPMC_OK);
    assert_false(created);
    assert_true(ipmc_pubkey_equal(k.rsa2048, k2.rsa2048));
    assert_true(ipmc_pubkey_equal(k.rsa1024, k2.rsa1024));
    ipmc_keys_free(&k);
    ipmc_keys_free(&k2);
}

static void expect_refused(int want, const char *why)
{
    char kd[128];
    snprintf(kd, sizeof kd, "%s/keys", dir);
    char *before = slurp(p2048);
    ipmc_keys k;
    int rc = ipmc_keys_load_or_create(kd, &k, NULL, err, sizeof err);
    if (rc != want)
        fail_msg("%s: got %d (%s), want %d", why, rc, err, want);
    assert_null(k.rsa2048);
    assert_true(strlen(err) > 0);
    char *after = slurp(p2048);
    if (before)
        assert_string_equal(before, after); /* never replaced */
    free(before);
    free(after);
}

static void test_refuses_readable(void **state)
{
    (void)state;
    assert_int_equal(chmod(p2048, 0644), 0);
    expect_refused(IPMC_ERR_PERM, "world-readable");
    assert_non_null(strstr(err, "0644"));
    assert_int_equal(chmod(p2048, 0640), 0);
    expect_refused(IPMC_ERR_PERM, "group-readable");
    assert_int_equal(chmod(p2048, 0600), 0);
}

static void test_refuses_symlink(void **state)
{
    (void)state;
    char moved[160];
    snprintf(moved, sizeof moved, "%s/elsewhere.pem", dir);
    assert_int_equal(rename(p2048, moved), 0);
    assert_int_equal(symlink(moved, p2048), 0);
    ipmc_keys k;
    char kd[128];
    snprintf(kd, sizeof kd, "%s/keys", dir);
    assert_int_equal(ipmc_keys_load_or_create(kd, &k, NULL, err, sizeof err), IPMC_ERR_PERM);
    assert_int_equal(unlink(p2048), 0);
    assert_int_equal(rename(moved, p2048), 0);
}

static void test_refuses_foreign_owner(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        /* Only root can give a file away; the check itself is covered by root CI runs. */
        skip();
    }
    assert_int_equal(chown(p2048, 12345, 12345), 0);
    expect_refused(IPMC_ERR_PERM, "foreign owner");
    assert_non_null(strstr(err, "12345"));
    assert_int_equal(chown(p2048, 0, 0), 0);
}

static void test_refuses_corrupt_and_wrong_size(void **state)
{
    (void)state;
    char *orig = slurp(p2048);
    FILE *f = fopen(p2048, "wb");
    fputs("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", f);
    fclose(f);
    expect_refused(IPMC_ERR_CORRUPT, "corrupt");
    /* Truncated PEM. */
    f = fopen(p2048, "wb");
    fwrite(orig, 1, strlen(orig) / 2, f);
    fclose(f);
    expect_refused(IPMC_ERR_CORRUPT, "truncated");
    /* A valid key of the wrong size. */
    char *k1024 = slurp(p1024);
    f = fopen(p2048, "wb");
    fputs(k1024, f);
    fclose(f);
    expect_refused(IPMC_ERR_CORRUPT, "wrong size");
    free(k1024);
    /* Empty file. */
    f = fopen(p2048, "wb");
    fclose(f);
    expect_refused(IPMC_ERR_CORRUPT, "empty");
    f = fopen(p2048, "wb");
    fputs(orig, f);
    fclose(f);
    free(orig);
    ipmc_keys k;
    char kd[128];
    snprintf(kd, sizeof kd, "%s/keys", dir);
    assert_int_equal(ipmc_keys_load_or_create(kd, &k, NULL, err, sizeof err), IPMC_OK);
    ipmc_keys_free(&k);
}

static void test_save_load_single(void **state)
{
    (void)state;
    EVP_PKEY *k = NULL, *l = NULL;
    char path[160];
    snprintf(path, sizeof path, "%s/single.pem", dir);
    assert_int_equal(ipmc_key_load(path, 1024, &l, err, sizeof err), IPMC_ERR_NOKEY);
    assert_int_equal(ipmc_key_generate(1024, &k, err, sizeof err), IPMC_OK);
    assert_int_equal(ipmc_key_save(path, k, err, sizeof err), IPMC_OK);
    assert_int_equal(ipmc_key_load(path, 1024, &l, err, sizeof err), IPMC_OK);
    assert_true(ipmc_pubkey_equal(k, l));
    EVP_PKEY_free(l);
    l = NULL;
    assert_int_equal(ipmc_key_load(path, 2048, &l, err, sizeof err), IPMC_ERR_CORRUPT);
    assert_int_equal(ipmc_key_generate(512, &l, err, sizeof err), IPMC_ERR_ARG);
    snprintf(path, sizeof path, "%s/no/such/dir/x.pem", dir);
    assert_int_equal(ipmc_key_save(path, k, err, sizeof err), IPMC_ERR_IO);
    EVP_PKEY_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_reload),
        cmocka_unit_test(test_refuses_readable),
        cmocka_unit_test(test_refuses_symlink),
        cmocka_unit_test(test_refuses_foreign_owner),
        cmocka_unit_test(test_refuses_corrupt_and_wrong_size),
        cmocka_unit_test(test_save_load_single),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
