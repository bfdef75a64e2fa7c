/* Unit tests for the identity (core/src/identity). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "identity/identity.h"
#include "util/fs.h"
#include "util/log.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KNOWN_UUID "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
/* printf '%s' "1b4e28ba-2fa1-41d2-883f-0016d3cca427:acme" | sha256sum */
#define KNOWN_KEY_ACME "7bd0416b8ee2d2ba2ba20d8f02d24fd87974e9c557f6b083b3472848744813fa"
/* printf '%s' "1b4e28ba-2fa1-41d2-883f-0016d3cca427:" | sha256sum */
#define KNOWN_KEY_EMPTY "7a0d88953ae0f039ed4655b1cf770f871638b151ffc13510037d6b548d707a27"

typedef struct fixture {
    char dir[64];
    char *data_dir; /* not created: dg_identity_load must make it */
    char *uuid_file;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/dg-test-identity-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->data_dir = dg_path_join(f->dir, "home/data");
    f->uuid_file = dg_path_join(f->data_dir, "identity.uuid");
    dg_log_set_stderr(0);
    *state = f;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f->data_dir);
    free(f->uuid_file);
    free(f);
    return 0;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void write_uuid_file(fixture *f, const char *text)
{
    assert_int_equal(dg_mkdir_p(f->data_dir, 0700), 0);
    assert_int_equal(dg_write_file_atomic(f->uuid_file, text, strlen(text), 0600), 0);
}

static void test_uuid_created_once(void **state)
{
    fixture *f = *state;
    dg_identity a, b;
    char *err = NULL;
    assert_int_equal(dg_identity_load(&a, f->data_dir, "alice", "pc1", NULL, NULL, NULL, &err), 0);
    assert_null(err);
    assert_true(dg_uuid_valid(a.uuid));
    assert_int_equal(a.uuid[14], '4');           /* version 4 */
    assert_non_null(strchr("89ab", a.uuid[19])); /* RFC 4122 variant */
    struct stat st;
    assert_int_equal(stat(f->uuid_file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(f->data_dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char *text = NULL;
    assert_int_equal(dg_read_file(f->uuid_file, 100, &text, NULL), 0);
    assert_int_equal(strlen(text), 37);
    assert_memory_equal(text, a.uuid, 36);
    free(text);
    /* Stable across loads, whatever the names. */
    assert_int_equal(dg_identity_load(&b, f->data_dir, "bob", "pc2", "t", NULL, NULL, &err), 0);
    assert_string_equal(a.uuid, b.uuid);
    /* No temp files left behind. */
    assert_int_equal(count_entries(f->data_dir), 1);
}

static void test_existing_uuid_used(void **state)
{
    fixture *f = *state;
    write_uuid_file(f, KNOWN_UUID "\n");
    dg_identity id;
    assert_int_equal(dg_identity_load(&id, f->data_dir, "u", "h", "acme", NULL, NULL, NULL), 0);
    assert_string_equal(id.uuid, KNOWN_UUID);
    assert_string_equal(id.cloud_key, KNOWN_KEY_ACME);
}

static void expect_corrupt(fixture *f, const char *content)
{
    write_uuid_file(f, content);
    dg_identity id;
    char *err = NULL;
    assert_int_equal(dg_identity_load(&id, f->data_dir, "u", "h", NULL, NULL, NULL, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, f->uuid_file));
    assert_non_null(strstr(err, "not a valid identity UUID"));
    free(err);
    /* The file is left exactly as it was. */
    char *text = NULL;
    assert_int_equal(dg_read_file(f->uuid_file, 4096, &text, NULL), 0);
    assert_string_equal(text, content);
    free(text);
}

static void test_corrupt_uuid_refused(void **state)
{
    fixture *f = *state;
    expect_corrupt(f, "");
    expect_corrupt(f, "not a uuid\n");
    expect_corrupt(f, "1B4E28BA-2FA1-41D2-883F-0016D3CCA427\n");
    expect_corrupt(f, KNOWN_UUID "x\n");
    expect_corrupt(f, KNOWN_UUID "\n" KNOWN_UUID "\n");
    expect_corrupt(f, "1b4e28ba2fa141d2883f0016d3cca427\n");
}

static void test_cloud_key_known_answer(void **state)
{
    fixture *f = *state;
    write_uuid_file(f, KNOWN_UUID);
    dg_identity id;
    assert_int_equal(dg_identity_load(&id, f->data_dir, "u", "h", NULL, NULL, NULL, NULL), 0);
    assert_string_equal(id.tenant, "");
    assert_string_equal(id.cloud_key, KNOWN_KEY_EMPTY);
    dg_identity_update(&id, "acme", "Nick", "Sales");
    assert_string_equal(id.cloud_key, KNOWN_KEY_ACME);
    assert_string_equal(id.nickname, "Nick");
    assert_string_equal(id.group, "Sales");
    dg_identity_update(&id, NULL, "", NULL);
    assert_string_equal(id.cloud_key, KNOWN_KEY_EMPTY);
    assert_string_equal(id.nickname, "u");
    assert_string_equal(id.group, "");
}

static void test_names(void **state)
{
    fixture *f = *state;
    dg_identity id;
    assert_int_equal(dg_identity_load(&id, f->data_dir, "ad:min", "pc:1", NULL, NULL, "g", NULL),
                     0);
    assert_string_equal(id.user, "ad;min");
    assert_string_equal(id.host, "pc;1");
    assert_string_equal(id.lan_key, "ad;min@pc;1");
    assert_string_equal(id.nickname, "ad;min"); /* default nickname = user */
    assert_string_equal(id.group, "g");
    /* Never empty. */
    assert_int_equal(dg_identity_load(&id, f->data_dir, "", "", NULL, "Nick", NULL, NULL), 0);
    assert_string_equal(id.user, "user");
    assert_string_equal(id.host, "localhost");
    assert_string_equal(id.lan_key, "user@localhost");
    assert_string_equal(id.nickname, "Nick");
    /* From the system: a short host name, a non-empty user. */
    assert_int_equal(dg_identity_load(&id, f->data_dir, NULL, NULL, NULL, NULL, NULL, NULL), 0);
    assert_true(id.user[0] != '\0');
    assert_true(id.host[0] != '\0');
    assert_null(strchr(id.host, '.'));
    assert_null(strchr(id.user, ':'));
    /* Over-long names are cut at a character boundary, not mid-UTF-8. */
    char nick[301];
    memset(nick, 0, sizeof nick);
    for (int i = 0; i < 100; i++)
        memcpy(nick + 3 * i, "\xe4\xbc\x9d", 3); /* "伝" */
    dg_identity_update(&id, NULL, nick, NULL);
    assert_int_equal(strlen(id.nickname), 126);
}

static void test_to_json(void **state)
{
    fixture *f = *state;
    write_uuid_file(f, KNOWN_UUID "\n");
    dg_identity id;
    assert_int_equal(dg_identity_load(&id, f->data_dir, "u", "h", "acme", "N", "G", NULL), 0);
    json_t *j = dg_identity_to_json(&id);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "lan_key")), "u@h");
    assert_string_equal(json_string_value(json_object_get(j, "uuid")), KNOWN_UUID);
    assert_string_equal(json_string_value(json_object_get(j, "cloud_key")), KNOWN_KEY_ACME);
    assert_string_equal(json_string_value(json_object_get(j, "tenant")), "acme");
    assert_string_equal(json_string_value(json_object_get(j, "nickname")), "N");
    assert_string_equal(json_string_value(json_object_get(j, "group")), "G");
    assert_string_equal(json_string_value(json_object_get(j, "user")), "u");
    assert_string_equal(json_string_value(json_object_get(j, "host")), "h");
    json_decref(j);
}

static void test_uuid_valid(void **state)
{
    (void)state;
    assert_true(dg_uuid_valid(KNOWN_UUID));
    assert_false(dg_uuid_valid(NULL));
    assert_false(dg_uuid_valid(""));
    assert_false(dg_uuid_valid("1b4e28ba-2fa1-41d2-883f-0016d3cca42"));
    assert_false(dg_uuid_valid("1b4e28ba-2fa1-41d2-883f-0016d3cca4270"));
    assert_false(dg_uuid_valid("1b4e28ba_2fa1-41d2-883f-0016d3cca427"));
    assert_false(dg_uuid_valid("1b4e28ba-2fa1-41d2-883f-0016d3cca42g"));
}

static void test_unusable_data_dir(void **state)
{
    fixture *f = *state;
    /* A file where the data folder should be (works as root too, unlike chmod). */
    char *file = dg_path_join(f->dir, "file");
    assert_int_equal(dg_write_file_atomic(file, "x", 1, 0600), 0);
    char *data = dg_path_join(file, "data");
    dg_identity id;
    char *err = NULL;
    assert_int_equal(dg_identity_load(&id, data, "u", "h", NULL, NULL, NULL, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, data));
    free(err);
    free(data);
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_uuid_created_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_uuid_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_uuid_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cloud_key_known_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_to_json, setup, teardown),
        cmocka_unit_test(test_uuid_valid),
        cmocka_unit_test_setup_teardown(test_unusable_data_dir, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
