/*
 * libFuzzer harness for the INI configuration parser (dg_config_load_string)
 * and for the "config set" rewrite of a user file with that content.
 *
 * Besides "no crash, no leak" it checks invariants and abort()s on a breach:
 *  - a failed load leaves an error message and no values;
 *  - loading the same text again notifies no change;
 *  - every listed entry is consistent with the getters and serialises as JSON;
 *  - after "config set" on a file with this content, the file reads back
 *    with exactly the value set.
 */
#include "config/config.h"
#include "util/fs.h"
#include "util/log.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char scratch_dir[64];
static char *user_file;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (scratch_dir[0])
        nftw(scratch_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(user_file);
}

/* tmpfs when there is one: the rewrite fsyncs every run. */
static void init_once(void)
{
    if (user_file)
        return;
    dg_log_set_stderr(0);
    strcpy(scratch_dir, "/dev/shm/dg-fuzz-config-XXXXXX");
    if (!mkdtemp(scratch_dir)) {
        strcpy(scratch_dir, "/tmp/dg-fuzz-config-XXXXXX");
        CHECK(mkdtemp(scratch_dir) != NULL);
    }
    user_file = dg_path_join(scratch_dir, "dengon.ini");
    CHECK(user_file != NULL);
    atexit(cleanup);
}

static void count_change(const char *key, const char *old_value, const char *new_value, void *user)
{
    CHECK(key && dg_config_key_valid(key));
    CHECK(old_value || new_value);
    CHECK(!old_value || !new_value || strcmp(old_value, new_value) != 0);
    ++*(int *)user;
}

static dg_config *new_config(int *changes)
{
    dg_config *cfg = dg_config_new();
    CHECK(cfg != NULL);
    CHECK(dg_config_declare(cfg, "log.level", DG_CONF_STRING, "info", 1, "core", "level") == DG_OK);
    CHECK(dg_config_declare(cfg, "log.keep", DG_CONF_INT, "3", 0, "core", "kept") == DG_OK);
    CHECK(dg_config_declare(cfg, "plugins.allow_user", DG_CONF_BOOL, "false", 0, "core", "b") ==
          DG_OK);
    CHECK(dg_config_declare(cfg, "http.proxyHost", DG_CONF_STRING, NULL, 1, "core", "p") == DG_OK);
    dg_config_on_change(cfg, count_change, changes);
    return cfg;
}

static void check_listing(const dg_config *cfg)
{
    json_t *list = dg_config_list(cfg);
    CHECK(list != NULL);
    size_t i;
    json_t *entry;
    json_array_foreach(list, i, entry)
    {
        const char *key = json_string_value(json_object_get(entry, "key"));
        CHECK(key && dg_config_key_valid(key));
        const char *value = dg_config_get(cfg, key);
        const char *listed = json_string_value(json_object_get(entry, "value"));
        CHECK((value == NULL) == (listed == NULL));
        CHECK(!value || strcmp(value, listed) == 0);
        (void)dg_config_get_int(cfg, key, 0);
        (void)dg_config_get_bool(cfg, key, 0);
        CHECK(dg_config_source(cfg, key) >= -1);
        json_t *one = dg_config_describe(cfg, key);
        CHECK(one != NULL && json_equal(one, entry));
        json_decref(one);
    }
    char *dump = json_dumps(list, JSON_COMPACT);
    CHECK(dump != NULL); /* values are valid UTF-8, so serialisation cannot fail */
    free(dump);
    json_decref(list);
}

/* "config set" on a user file holding the input: must read back exactly. */
static void check_user_set(dg_config *cfg, const char *text, size_t len)
{
    CHECK(dg_write_file_atomic(user_file, text, len, 0600) == 0);
    char *err = NULL;
    int rc = dg_config_user_set(cfg, user_file, "http.proxyHost", "proxy.example:8080", &err);
    CHECK(rc == DG_OK);
    CHECK(strcmp(dg_config_get(cfg, "http.proxyHost"), "proxy.example:8080") == 0);
    rc = dg_config_user_set(cfg, user_file, "log.level", NULL, &err);
    CHECK(rc == DG_OK);
    CHECK(dg_config_source(cfg, "log.level") != DG_LAYER_USER);
    free(err);
    dg_config *again = dg_config_new();
    CHECK(again != NULL);
    CHECK(dg_config_load_file(again, DG_LAYER_USER, user_file, NULL) == DG_OK);
    CHECK(strcmp(dg_config_get(again, "http.proxyHost"), "proxy.example:8080") == 0);
    CHECK(dg_config_get(again, "log.level") == NULL);
    dg_config_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > DG_CONFIG_FILE_MAX)
        return 0;
    init_once();
    char *text = malloc(size + 1);
    CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';

    int changes = 0;
    dg_config *cfg = new_config(&changes);
    char *err = NULL;
    int rc = dg_config_load_string(cfg, DG_LAYER_SYSTEM, text, "fuzz.ini", &err);
    if (rc != DG_OK) {
        CHECK(rc == DG_EINVAL && err != NULL && strncmp(err, "fuzz.ini:", 9) == 0);
        CHECK(changes == 0);
        CHECK(dg_config_source(cfg, "log.level") == DG_LAYER_DEFAULT);
    } else {
        changes = 0;
        CHECK(dg_config_load_string(cfg, DG_LAYER_SYSTEM, text, "fuzz.ini", NULL) == DG_OK);
        CHECK(changes == 0);
        /* Same text as policy: locks whatever it sets. */
        CHECK(dg_config_load_string(cfg, DG_LAYER_POLICY, text, "policy", NULL) == DG_OK);
        check_listing(cfg);
        dg_config_clear_layer(cfg, DG_LAYER_POLICY);
        /* Embedded NULs would change the file's meaning; big inputs only slow it down. */
        if (strlen(text) == size && size < 65536)
            check_user_set(cfg, text, size);
    }
    free(err);
    check_listing(cfg);
    dg_config_free(cfg);
    free(text);
    return 0;
}
