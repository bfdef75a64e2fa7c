/* Unit tests for the layered configuration (core/src/config). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "util/fs.h"
#include "util/log.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fixture: a temp dir, a log file to look at, a config with core-like keys ---- */

typedef struct fixture {
    char dir[64];
    char *log_path;
    char *user_file;
    dg_config *cfg;
    char events[4096]; /* "key:old>new;" for each change notification */
    int n_events;
} fixture;

static void on_change(const char *key, const char *old_value, const char *new_value, void *user)
{
    fixture *f = user;
    size_t used = strlen(f->events);
    snprintf(f->events + used, sizeof f->events - used, "%s:%s>%s;", key,
             old_value ? old_value : "-", new_value ? new_value : "-");
    f->n_events++;
}

static void reset_events(fixture *f)
{
    f->events[0] = '\0';
    f->n_events = 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/dg-test-config-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->log_path = dg_path_join(f->dir, "test.log");
    f->user_file = dg_path_join(f->dir, "config/dengon.ini");
    dg_log_set_stderr(0);
    assert_int_equal(dg_log_open_file(f->log_path, 0, 0), 0);
    f->cfg = dg_config_new();
    assert_non_null(f->cfg);
    dg_config *c = f->cfg;
    assert_int_equal(dg_config_declare(c, "log.level", DG_CONF_STRING, "info", 1, "core", "level"),
                     DG_OK);
    assert_int_equal(dg_config_declare(c, "log.keep", DG_CONF_INT, "3", 0, "core", "kept"), DG_OK);
    assert_int_equal(dg_config_declare(c, "http.proxyHost", DG_CONF_STRING, NULL, 1, "core", "px"),
                     DG_OK);
    assert_int_equal(dg_config_declare(c, "plugins.allow_user", DG_CONF_BOOL, "false", 0, "core",
                                       "user plugins"),
                     DG_OK);
    dg_config_on_change(c, on_change, f);
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
    dg_config_free(f->cfg);
    dg_log_close_file();
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f->log_path);
    free(f->user_file);
    free(f);
    return 0;
}

static char *slurp(const char *path)
{
    char *text = NULL;
    if (dg_read_file(path, 1 << 20, &text, NULL) != 0)
        return NULL;
    return text;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static int log_count(fixture *f, const char *needle)
{
    char *text = slurp(f->log_path);
    int n = count(text, needle);
    free(text);
    return n;
}

static void write_text(const char *path, const char *text)
{
    assert_int_equal(dg_write_file_atomic(path, text, strlen(text), 0644), 0);
}

static void make_config_dir(fixture *f)
{
    char *dir = dg_path_join(f->dir, "config");
    assert_int_equal(dg_mkdir_p(dir, 0700), 0);
    free(dir);
}

static void load(dg_config *c, dg_config_layer layer, const char *text)
{
    char *err = NULL;
    int rc = dg_config_load_string(c, layer, text, "test", &err);
    if (rc != DG_OK)
        fail_msg("load failed: %s", err ? err : "?");
    free(err);
}

/* ---- layering ---- */

static void test_layer_order(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    assert_string_equal(dg_config_get(c, "log.level"), "info"); /* declared default */
    assert_int_equal(dg_config_source(c, "log.level"), DG_LAYER_DEFAULT);
    load(c, DG_LAYER_PROFILE, "log.level = warn\n");
    assert_string_equal(dg_config_get(c, "log.level"), "warn");
    load(c, DG_LAYER_SYSTEM, "[log]\nlevel = error\n");
    assert_string_equal(dg_config_get(c, "log.level"), "error");
    load(c, DG_LAYER_USER, "log.level = debug\n");
    assert_string_equal(dg_config_get(c, "log.level"), "debug");
    assert_int_equal(dg_config_set_layer(c, DG_LAYER_CMDLINE, "log.level", "info", NULL), DG_OK);
    assert_string_equal(dg_config_get(c, "log.level"), "info");
    assert_int_equal(dg_config_source(c, "log.level"), DG_LAYER_CMDLINE);
    assert_int_equal(dg_config_set_layer(c, DG_LAYER_CMDLINE, "log.level", NULL, NULL), DG_OK);
    assert_int_equal(dg_config_source(c, "log.level"), DG_LAYER_USER);
    dg_config_clear_layer(c, DG_LAYER_USER);
    assert_string_equal(dg_config_get(c, "log.level"), "error");
    assert_null(dg_config_get(c, "nothing.here"));
    assert_int_equal(dg_config_source(c, "nothing.here"), -1);
    assert_string_equal(dg_config_layer_name(DG_LAYER_CMDLINE), "cmdline");
    assert_string_equal(dg_config_layer_name(DG_LAYER_POLICY), "policy");
}

static void test_policy_lock_beats_cmdline(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    assert_int_equal(dg_config_set_layer(c, DG_LAYER_CMDLINE, "log.level", "debug", NULL), DG_OK);
    load(c, DG_LAYER_USER, "log.level = warn\n");
    assert_string_equal(dg_config_get(c, "log.level"), "debug");
    assert_false(dg_config_is_locked(c, "log.level"));
    dg_config_set_policy_label(c, "team policy 'sales'");
    load(c, DG_LAYER_POLICY, "[log]\nlevel = error\n");
    assert_true(dg_config_is_locked(c, "log.level"));
    assert_string_equal(dg_config_get(c, "log.level"), "error");
    assert_int_equal(dg_config_source(c, "log.level"), DG_LAYER_POLICY);
    assert_int_equal(log_count(f, "-o log.level=debug is ignored"), 1);
    /* Reloading either layer does not repeat the warning. */
    load(c, DG_LAYER_POLICY, "[log]\nlevel = error\n");
    assert_int_equal(dg_config_set_layer(c, DG_LAYER_CMDLINE, "log.level", "info", NULL), DG_OK);
    assert_int_equal(log_count(f, "is locked by team policy 'sales'"), 1);
    assert_string_equal(dg_config_get(c, "log.level"), "error");
    dg_config_clear_layer(c, DG_LAYER_POLICY);
    assert_string_equal(dg_config_get(c, "log.level"), "info");
}

static void test_section_equals_flat(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    load(c, DG_LAYER_SYSTEM, "[http]\nproxyHost = proxy.example\n");
    const char *a = dg_config_get(c, "http.proxyHost");
    assert_non_null(a);
    assert_string_equal(a, "proxy.example");
    reset_events(f);
    load(c, DG_LAYER_SYSTEM, "http.proxyHost=proxy.example\n");
    assert_string_equal(dg_config_get(c, "http.proxyHost"), "proxy.example");
    assert_int_equal(f->n_events, 0);
    /* Keys are case-sensitive; nested sections and dotted names combine. */
    load(c, DG_LAYER_SYSTEM, "[a.b]\nc.d = 1\nHTTP.proxyhost = x\n");
    assert_string_equal(dg_config_get(c, "a.b.c.d"), "1");
    assert_null(dg_config_get(c, "http.proxyHost"));
    assert_string_equal(dg_config_get(c, "a.b.HTTP.proxyhost"), "x");
}

static void test_ini_dialect(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    load(c, DG_LAYER_SYSTEM,
         "\xEF\xBB\xBF; comment\n# another\n"
         "a = one ; inline comment\n"
         "b = x;y\n"
         "c: colon\n"
         "   d = indented\n" /* not a continuation of c */
         "e =\n"
         "f = \"quoted\"\r\n"
         "[s] ; section comment\n"
         "  g = 1\n");
    assert_string_equal(dg_config_get(c, "a"), "one");
    assert_string_equal(dg_config_get(c, "b"), "x;y");
    assert_string_equal(dg_config_get(c, "c"), "colon");
    assert_string_equal(dg_config_get(c, "d"), "indented");
    assert_string_equal(dg_config_get(c, "e"), "");
    assert_string_equal(dg_config_get(c, "f"), "\"quoted\"");
    assert_string_equal(dg_config_get(c, "s.g"), "1");
}

static void expect_error(dg_config *c, const char *text, const char *needle)
{
    char *err = NULL;
    int rc = dg_config_load_string(c, DG_LAYER_SYSTEM, text, "sys.ini", &err);
    assert_int_equal(rc, DG_EINVAL);
    assert_non_null(err);
    if (!strstr(err, needle))
        fail_msg("error '%s' lacks '%s'", err, needle);
    free(err);
}

static void test_bad_syntax_keeps_layer(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    load(c, DG_LAYER_SYSTEM, "log.level = warn\nx.y = 1\n");
    reset_events(f);
    expect_error(c, "log.level = error\nthis is not ini\n", "sys.ini:2: syntax error");
    expect_error(c, "log.level = error\n\nbad key! = 1\n", "sys.ini:3: invalid key");
    expect_error(c, "a=1\n[sec\n", "sys.ini:2: syntax error");
    expect_error(c, "[]\na=1\n", "sys.ini:1: invalid section");
    expect_error(c, "[ok] trailing\n", "sys.ini:1: unexpected text after section");
    expect_error(c, "a..b = 1\n", "sys.ini:1: invalid key");
    expect_error(c, "= value\n", "sys.ini:1: invalid key");
    expect_error(c, "a = \x01\n", "sys.ini:1: a: value contains a control character");
    expect_error(c, "a = \xff\xfe\n", "sys.ini:1: a: value is not valid UTF-8");
    /* A section name libinih would cut at 49 bytes. */
    expect_error(c, "[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\nb=1\n",
                 "sys.ini:1: invalid section");
    /* Key longer than 128 bytes. */
    char key[200];
    memset(key, 'k', 150);
    strcpy(key + 150, " = 1\n");
    expect_error(c, key, "sys.ini:1: invalid key");
    /* A value over 4096 bytes, and a line libinih would split. */
    char *big = malloc(10000);
    assert_non_null(big);
    strcpy(big, "ok = 1\nv = ");
    memset(big + 11, 'v', 5000);
    strcpy(big + 5011, "\n");
    expect_error(c, big, "sys.ini:2: v: value is longer than 4096 bytes");
    strcpy(big, "ok = 1\n\nv = ");
    memset(big + 12, 'v', 9000);
    strcpy(big + 9012, "=x\n");
    expect_error(c, big, "sys.ini:3: line longer than 8191 bytes");
    free(big);
    assert_string_equal(dg_config_get(c, "log.level"), "warn");
    assert_string_equal(dg_config_get(c, "x.y"), "1");
    assert_int_equal(f->n_events, 0);
    /* A value just at the limit is fine. */
    char *max = malloc(4200);
    assert_non_null(max);
    strcpy(max, "v = ");
    memset(max + 4, 'v', 4096);
    strcpy(max + 4100, "\n");
    load(c, DG_LAYER_SYSTEM, max);
    assert_int_equal(strlen(dg_config_get(c, "v")), 4096);
    free(max);
}

static void test_load_file(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    char *path = dg_path_join(f->dir, "system.ini");
    char *err = NULL;
    write_text(path, "[log]\nkeep = 7\n");
    assert_int_equal(dg_config_load_file(c, DG_LAYER_SYSTEM, path, &err), DG_OK);
    assert_int_equal(dg_config_get_int(c, "log.keep", 0), 7);
    write_text(path, "[log]\nkeep = 8\nbroken\n");
    assert_int_equal(dg_config_load_file(c, DG_LAYER_SYSTEM, path, &err), DG_EINVAL);
    assert_non_null(err);
    char *want = NULL;
    assert_true(asprintf(&want, "%s:3:", path) > 0);
    assert_non_null(strstr(err, want));
    free(want);
    free(err);
    err = NULL;
    assert_int_equal(dg_config_get_int(c, "log.keep", 0), 7);
    /* NUL bytes in a file are reported with their line. */
    assert_int_equal(dg_write_file_atomic(path, "a=1\nb=\0\n", 8, 0644), 0);
    assert_int_equal(dg_config_load_file(c, DG_LAYER_SYSTEM, path, &err), DG_EINVAL);
    assert_non_null(strstr(err, ":2: NUL byte"));
    free(err);
    err = NULL;
    /* A missing file empties the layer. */
    unlink(path);
    assert_int_equal(dg_config_load_file(c, DG_LAYER_SYSTEM, path, &err), DG_OK);
    assert_int_equal(dg_config_get_int(c, "log.keep", 0), 3);
    assert_null(err);
    /* A directory is an I/O error. */
    assert_int_equal(dg_config_load_file(c, DG_LAYER_SYSTEM, f->dir, &err), DG_ERR);
    assert_non_null(err);
    free(err);
    free(path);
}

/* ---- typed values ---- */

static void test_parse_int(void **state)
{
    (void)state;
    int64_t v;
    struct {
        const char *text;
        int64_t want;
    } good[] = {{"0", 0},
                {"42", 42},
                {"+7", 7},
                {"-3", -3},
                {"007", 7},
                {"64k", 65536},
                {"2M", 2097152},
                {"1g", 1073741824},
                {"-1K", -1024},
                {"9223372036854775807", INT64_MAX},
                {"-9223372036854775808", INT64_MIN},
                {"8589934591g", INT64_C(8589934591) << 30}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(dg_config_parse_int(good[i].text, &v), 0);
        assert_true(v == good[i].want);
    }
    const char *bad[] = {"",
                         "-",
                         "+",
                         " 1",
                         "1 ",
                         "1.5",
                         "0x10",
                         "1kb",
                         "k",
                         "1t",
                         "9223372036854775808",
                         "-9223372036854775809",
                         "99999999999999999999999",
                         "8589934592g",
                         "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (dg_config_parse_int(bad[i], &v) == 0)
            fail_msg("'%s' parsed", bad[i]);
    assert_int_equal(dg_config_parse_int(NULL, &v), -1);
}

static void test_parse_bool(void **state)
{
    (void)state;
    int v = -1;
    const char *yes[] = {"true", "TRUE", "Yes", "on", "1"};
    const char *no[] = {"false", "No", "OFF", "0"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(dg_config_parse_bool(yes[i], &v), 0);
        assert_int_equal(v, 1);
    }
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(dg_config_parse_bool(no[i], &v), 0);
        assert_int_equal(v, 0);
    }
    const char *bad[] = {"", "y", "2", "truee", " true", "enabled"};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(dg_config_parse_bool(bad[i], &v), -1);
}

static void test_typed_getters(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    assert_int_equal(dg_config_get_int(c, "log.keep", 99), 3);
    assert_int_equal(dg_config_get_bool(c, "plugins.allow_user", 1), 0);
    assert_int_equal(dg_config_get_int(c, "missing", 99), 99);
    assert_int_equal(dg_config_get_bool(c, "missing", 1), 1);
    /* A file with a wrongly typed value: kept, warned, typed reads fall back. */
    load(c, DG_LAYER_SYSTEM, "log.keep = many\nplugins.allow_user = perhaps\n");
    assert_string_equal(dg_config_get(c, "log.keep"), "many");
    assert_int_equal(dg_config_get_int(c, "log.keep", 5), 5);
    assert_int_equal(dg_config_get_bool(c, "plugins.allow_user", 1), 1);
    assert_int_equal(log_count(f, "test:1: log.keep: expected an integer"), 1);
    assert_int_equal(log_count(f, "test:2: plugins.allow_user: expected a boolean"), 1);
    /* Layers that validate refuse it outright. */
    char *err = NULL;
    assert_int_equal(dg_config_set_layer(c, DG_LAYER_CMDLINE, "log.keep", "lots", &err), DG_EINVAL);
    assert_non_null(strstr(err, "log.keep: expected an integer"));
    free(err);
    assert_int_equal(dg_config_set_layer(c, DG_LAYER_POLICY, "plugins.allow_user", "x", NULL),
                     DG_EINVAL);
    assert_int_equal(dg_config_set_layer(c, DG_LAYER_USER, "plugins.allow_user", "Yes", NULL),
                     DG_OK);
    assert_int_equal(dg_config_get_bool(c, "plugins.allow_user", 0), 1);
    assert_int_equal(dg_config_set_layer(c, DG_LAYER_CMDLINE, "bad key", "1", NULL), DG_EINVAL);
}

static void test_declare(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    /* Embedded INI defaults beat declared defaults, whatever the order. */
    load(c, DG_LAYER_DEFAULT, "[log]\nkeep = 5\n");
    assert_int_equal(dg_config_get_int(c, "log.keep", 0), 5);
    assert_string_equal(dg_config_get(c, "log.level"), "info"); /* kept from the declaration */
    assert_int_equal(dg_config_declare(c, "files.max", DG_CONF_INT, "10m", 1, "files", "max"),
                     DG_OK);
    assert_int_equal(dg_config_get_int(c, "files.max", 0), 10 << 20);
    assert_int_equal(dg_config_declare(c, "files.max", DG_CONF_INT, "1m", 1, "other", "x"),
                     DG_EEXIST);
    assert_int_equal(dg_config_declare(c, "files.max", DG_CONF_INT, "2m", 1, "files", "x"), DG_OK);
    assert_int_equal(dg_config_get_int(c, "files.max", 0), 2 << 20);
    assert_int_equal(dg_config_declare(c, "log.keep", DG_CONF_INT, "9", 0, "core", "k"), DG_OK);
    assert_int_equal(dg_config_get_int(c, "log.keep", 0), 5);
    assert_int_equal(dg_config_declare(c, "bad", DG_CONF_INT, "ten", 1, "x", "x"), DG_EINVAL);
    assert_int_equal(dg_config_declare(c, "bad..key", DG_CONF_STRING, NULL, 1, "x", "x"),
                     DG_EINVAL);
    assert_int_equal(dg_config_declare(c, "ok", DG_CONF_STRING, NULL, 1, NULL, "x"), DG_EINVAL);
    dg_config_undeclare_owner(c, "files");
    assert_int_equal(dg_config_get_int(c, "files.max", 0), 2 << 20); /* values stay */
    assert_int_equal(dg_config_declare(c, "files.max", DG_CONF_INT, "1m", 1, "other", "x"), DG_OK);
}

/* ---- change notification ---- */

static void test_change_notification(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    load(c, DG_LAYER_SYSTEM, "a = 1\nb = 2\n");
    assert_string_equal(f->events, "a:->1;b:->2;");
    reset_events(f);
    const char *borrowed = dg_config_get(c, "a");
    load(c, DG_LAYER_SYSTEM, "b = 2\na = 1\n"); /* identical content */
    assert_int_equal(f->n_events, 0);
    assert_ptr_equal(dg_config_get(c, "a"), borrowed); /* still valid: "a" did not change */
    assert_int_equal(dg_config_set_layer(c, DG_LAYER_SYSTEM, "a", "1", NULL), DG_OK);
    assert_ptr_equal(dg_config_get(c, "a"), borrowed);
    load(c, DG_LAYER_SYSTEM, "a = 1\nb = 3\nc = 4\n");
    assert_string_equal(f->events, "b:2>3;c:->4;");
    reset_events(f);
    load(c, DG_LAYER_USER, "a = 1\n"); /* same effective value from a higher layer */
    assert_int_equal(f->n_events, 0);
    load(c, DG_LAYER_USER, "a = 9\n");
    assert_string_equal(f->events, "a:1>9;");
    reset_events(f);
    load(c, DG_LAYER_SYSTEM, "b = 3\n"); /* a still set by the user layer */
    assert_string_equal(f->events, "c:4>-;");
    reset_events(f);
    assert_int_equal(dg_config_set_layer(c, DG_LAYER_CMDLINE, "a", "9", NULL), DG_OK);
    assert_int_equal(f->n_events, 0);
    load(c, DG_LAYER_POLICY, "a = 5\n");
    assert_string_equal(f->events, "a:9>5;");
    reset_events(f);
    dg_config_clear_layer(c, DG_LAYER_POLICY);
    assert_string_equal(f->events, "a:5>9;");
    reset_events(f);
    assert_int_equal(dg_config_declare(c, "new.key", DG_CONF_STRING, "d", 1, "p", "x"), DG_OK);
    assert_string_equal(f->events, "new.key:->d;");
}

/* A callback that changes the config again must not break the notifier. */
static void reentrant_change(const char *key, const char *old_value, const char *new_value,
                             void *user)
{
    (void)old_value, (void)new_value;
    dg_config *c = user;
    if (strcmp(key, "trigger") == 0)
        dg_config_clear_layer(c, DG_LAYER_SYSTEM);
}

static void test_reentrant_callback(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    dg_config_on_change(c, reentrant_change, c);
    load(c, DG_LAYER_SYSTEM, "a = 1\ntrigger = 1\nz = 2\n");
    assert_null(dg_config_get(c, "a"));
    assert_null(dg_config_get(c, "trigger"));
    assert_int_equal(count(f->events, "trigger:->1;"), 1);
    assert_int_equal(count(f->events, "trigger:1>-;"), 1);
    /* z was removed before its "set" went out: listeners only hear the current state. */
    assert_int_equal(count(f->events, "z:->2;"), 0);
}

/* ---- config set ---- */

static void test_user_set_creates_file(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    char *err = NULL;
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.level", "debug", &err), DG_OK);
    assert_null(err);
    struct stat st;
    assert_int_equal(stat(f->user_file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *text = slurp(f->user_file);
    assert_non_null(strstr(text, "# dengon user configuration"));
    assert_non_null(strstr(text, "\nlog.level = debug\n"));
    free(text);
    assert_string_equal(dg_config_get(c, "log.level"), "debug");
    assert_int_equal(dg_config_source(c, "log.level"), DG_LAYER_USER);
    assert_string_equal(f->events, "log.level:info>debug;");
    /* Not live: accepted, needs a restart. */
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.keep", "64k", &err), DG_ERESTART);
    assert_int_equal(dg_config_get_int(c, "log.keep", 0), 65536);
}

static void test_user_set_in_place(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    make_config_dir(f);
    write_text(f->user_file, "; my settings\n"
                             "log.level = warn ; was info\n"
                             "\n"
                             "# proxy for the office\n"
                             "[http]\n"
                             "  proxyHost=old.example\r\n"
                             "; end\n");
    char *err = NULL;
    assert_int_equal(dg_config_load_file(c, DG_LAYER_USER, f->user_file, &err), DG_OK);
    assert_int_equal(dg_config_user_set(c, f->user_file, "http.proxyHost", "new.example", &err),
                     DG_OK);
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.level", "error", &err), DG_OK);
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.keep", "4", &err), DG_ERESTART);
    char *text = slurp(f->user_file);
    assert_string_equal(text, "; my settings\n"
                              "log.level = error ; was info\n"
                              "log.keep = 4\n"
                              "\n"
                              "# proxy for the office\n"
                              "[http]\n"
                              "  proxyHost=new.example\r\n"
                              "; end\n");
    free(text);
    assert_string_equal(dg_config_get(c, "http.proxyHost"), "new.example");
    struct stat st;
    assert_int_equal(stat(f->user_file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* Unset removes the line; unsetting again changes nothing. */
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.keep", NULL, &err), DG_ERESTART);
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.keep", NULL, &err), DG_ERESTART);
    text = slurp(f->user_file);
    assert_null(strstr(text, "log.keep"));
    free(text);
    assert_int_equal(dg_config_get_int(c, "log.keep", 0), 3);
    assert_null(err);
}

static void test_user_set_flat_area(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    char *err = NULL;
    make_config_dir(f);
    /* No flat keys: goes above the comment that belongs to the first section. */
    write_text(f->user_file, "# header\n\n# about http\n[http]\nproxyHost = p\n");
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.level", "warn", &err), DG_OK);
    char *text = slurp(f->user_file);
    assert_string_equal(text, "# header\n\nlog.level = warn\n\n# about http\n[http]\n"
                              "proxyHost = p\n");
    free(text);
    /* Empty value in place: "nickname =" gets one blank. */
    assert_int_equal(
        dg_config_declare(c, "identity.nickname", DG_CONF_STRING, NULL, 1, "core", "nick"), DG_OK);
    write_text(f->user_file, "[identity]\nnickname =\n");
    assert_int_equal(dg_config_user_set(c, f->user_file, "identity.nickname", "Bob", &err), DG_OK);
    text = slurp(f->user_file);
    assert_string_equal(text, "[identity]\nnickname = Bob\n");
    free(text);
    /* No newline at the end, no sections. */
    write_text(f->user_file, "a = 1");
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.level", "info", &err), DG_OK);
    text = slurp(f->user_file);
    assert_string_equal(text, "a = 1\nlog.level = info\n");
    free(text);
    assert_null(err);
}

static void test_user_set_refusals(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    char *err = NULL;
    assert_int_equal(dg_config_user_set(c, f->user_file, "no.such", "1", &err), DG_ENOENT);
    assert_string_equal(err, "unknown key no.such (no plugin or core declares it)");
    free(err);
    err = NULL;
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.keep", "x", &err), DG_EINVAL);
    assert_non_null(strstr(err, "expected an integer"));
    free(err);
    err = NULL;
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.level", " padded", &err), DG_EINVAL);
    assert_non_null(strstr(err, "cannot be stored"));
    free(err);
    err = NULL;
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.level", "a ; b", &err), DG_EINVAL);
    free(err);
    err = NULL;
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.level", "a\nb = c", &err), DG_EINVAL);
    free(err);
    err = NULL;
    dg_config_set_policy_label(c, "team policy 'sales'");
    load(c, DG_LAYER_POLICY, "log.level = error\n");
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.level", "debug", &err), DG_EDENIED);
    assert_string_equal(err, "log.level is locked by team policy 'sales'");
    free(err);
    err = NULL;
    assert_false(dg_file_exists(f->user_file)); /* nothing was written */
    /* A broken user file is not rewritten. */
    make_config_dir(f);
    write_text(f->user_file, "a = 1\nnonsense\n");
    assert_int_equal(dg_config_user_set(c, f->user_file, "log.keep", "2", &err), DG_EINVAL);
    assert_non_null(strstr(err, ":2: syntax error"));
    free(err);
    char *text = slurp(f->user_file);
    assert_string_equal(text, "a = 1\nnonsense\n");
    free(text);
}

/* ---- listing ---- */

static void test_list_and_describe(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    load(c, DG_LAYER_USER, "zz.unknown = 1\n");
    load(c, DG_LAYER_POLICY, "log.keep = 2\n");
    json_t *list = dg_config_list(c);
    assert_non_null(list);
    assert_int_equal(json_array_size(list), 5);
    const char *prev = "";
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *key = json_string_value(json_object_get(e, "key"));
        assert_true(strcmp(prev, key) < 0);
        prev = key;
    }
    json_decref(list);
    json_t *d = dg_config_describe(c, "log.keep");
    assert_string_equal(json_string_value(json_object_get(d, "value")), "2");
    assert_string_equal(json_string_value(json_object_get(d, "source")), "policy");
    assert_string_equal(json_string_value(json_object_get(d, "type")), "int");
    assert_string_equal(json_string_value(json_object_get(d, "owner")), "core");
    assert_true(json_is_true(json_object_get(d, "locked")));
    assert_true(json_is_false(json_object_get(d, "live")));
    assert_true(json_is_true(json_object_get(d, "declared")));
    json_decref(d);
    d = dg_config_describe(c, "zz.unknown");
    assert_true(json_is_false(json_object_get(d, "declared")));
    assert_true(json_is_null(json_object_get(d, "owner")));
    assert_string_equal(json_string_value(json_object_get(d, "source")), "user");
    json_decref(d);
    d = dg_config_describe(c, "http.proxyHost"); /* declared, unset */
    assert_true(json_is_null(json_object_get(d, "value")));
    assert_true(json_is_null(json_object_get(d, "source")));
    json_decref(d);
    assert_null(dg_config_describe(c, "not.there"));
    assert_true(dg_config_is_live(c, "log.level"));
    assert_false(dg_config_is_live(c, "log.keep"));
    assert_false(dg_config_is_live(c, "zz.unknown"));
}

static void test_warn_unknown_once(void **state)
{
    fixture *f = *state;
    dg_config *c = f->cfg;
    load(c, DG_LAYER_USER, "log.level = warn\nlog.levle = debug\n");
    dg_config_warn_unknown(c);
    dg_config_warn_unknown(c);
    load(c, DG_LAYER_SYSTEM, "log.levle = x\n");
    dg_config_warn_unknown(c);
    /* Once per process: a fresh config does not repeat it either. */
    dg_config *other = dg_config_new();
    load(other, DG_LAYER_USER, "log.levle = 1\n");
    dg_config_warn_unknown(other);
    dg_config_free(other);
    assert_int_equal(log_count(f, "unknown key log.levle"), 1);
    assert_int_equal(log_count(f, "unknown key log.level "), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layer_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_lock_beats_cmdline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_section_equals_flat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ini_dialect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_syntax_keeps_layer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test_setup_teardown(test_typed_getters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declare, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_notification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reentrant_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_set_creates_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_set_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_set_flat_area, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_set_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_and_describe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warn_unknown_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
