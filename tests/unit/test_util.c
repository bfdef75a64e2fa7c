/* util: log levels and rotation, atomic writes, mkdir -p, home layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/fs.h"
#include "util/home.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

static int make_tmp(void **state)
{
    strcpy(tmpdir, "/tmp/dg-util-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int remove_tmp(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_level_parse(void **state)
{
    dg_log_level l;
    assert_int_equal(dg_log_level_parse("debug", &l), 0);
    assert_int_equal(l, DG_LOG_DEBUG);
    assert_int_equal(dg_log_level_parse("WARNING", &l), 0);
    assert_int_equal(l, DG_LOG_WARN);
    assert_int_equal(dg_log_level_parse("loud", &l), -1);
    assert_int_equal(dg_log_level_parse(NULL, &l), -1);
    assert_string_equal(dg_log_level_name(DG_LOG_ERROR), "error");
}

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static void test_log_rotates_by_size_and_filters_levels(void **state)
{
    char path[128], rotated[140], oldest[140];
    snprintf(path, sizeof path, "%s/d.log", tmpdir);
    snprintf(rotated, sizeof rotated, "%s.1", path);
    snprintf(oldest, sizeof oldest, "%s.3", path);
    dg_log_set_stderr(0);
    dg_log_set_level(DG_LOG_INFO);
    assert_int_equal(dg_log_open_file(path, 1000, 2), 0);
    dg_log(DG_LOG_DEBUG, "t", "hidden debug line");
    assert_int_equal(file_size(path), 0);
    for (int i = 0; i < 100; i++)
        dg_log(DG_LOG_INFO, "t", "line %d with some padding to grow the file", i);
    dg_log_close_file();
    assert_true(file_size(path) < 1000 + 200);
    assert_true(file_size(rotated) >= 1000);
    assert_false(dg_file_exists(oldest)); /* keep = 2 */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    dg_log_set_stderr(1);
}

static void test_atomic_write_and_read(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/f.txt", tmpdir);
    assert_int_equal(dg_write_file_atomic(path, "hello", 5, 0600), 0);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(dg_read_file(path, 100, &text, &len), 0);
    assert_int_equal(len, 5);
    assert_string_equal(text, "hello");
    free(text);
    assert_int_equal(dg_read_file(path, 4, &text, &len), -EFBIG);
    assert_null(text);
    assert_int_equal(dg_read_file(tmpdir, 100, &text, &len), -EISDIR);
    assert_int_equal(dg_write_file_atomic(path, "x", 1, 0644), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    /* No temporary file is left behind. */
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL)
        files += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(files, 1);
}

static void test_mkdir_p_and_join(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/a/b/c", tmpdir);
    assert_int_equal(dg_mkdir_p(path, 0700), 0);
    assert_int_equal(dg_mkdir_p(path, 0700), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char file[140];
    snprintf(file, sizeof file, "%s/file", path);
    assert_int_equal(dg_write_file_atomic(file, "", 0, 0600), 0);
    assert_int_equal(dg_mkdir_p(file, 0700), -ENOTDIR);
    char *j = dg_path_join("/x//", "/y");
    assert_string_equal(j, "/x/y");
    free(j);
}

static void test_home_layout(void **state)
{
    dg_home h;
    char *err = NULL;
    char root[128];
    snprintf(root, sizeof root, "%s/home", tmpdir);
    assert_int_equal(dg_home_resolve(&h, root, &err), 0);
    char expect[200];
    snprintf(expect, sizeof expect, "%s/run/control.sock", root);
    assert_string_equal(h.socket_path, expect);
    snprintf(expect, sizeof expect, "%s/config/dengon.ini", root);
    assert_string_equal(h.user_config_file, expect);
    assert_int_equal(dg_home_create(&h, &err), 0);
    struct stat st;
    assert_int_equal(stat(h.data_dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    dg_home_free(&h);

    /* XDG without a home: the runtime dir holds the socket. */
    unsetenv("DENGON_HOME");
    setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
    setenv("XDG_DATA_HOME", "relative/ignored", 1);
    setenv("HOME", "/home/ann", 1);
    assert_int_equal(dg_home_resolve(&h, NULL, &err), 0);
    assert_null(h.root);
    assert_string_equal(h.socket_path, "/run/user/4242/dengon/control.sock");
    assert_string_equal(h.data_dir, "/home/ann/.local/share/dengon");
    dg_home_free(&h);

    char longroot[200];
    memset(longroot, 'a', sizeof longroot - 1);
    longroot[0] = '/';
    longroot[sizeof longroot - 1] = '\0';
    assert_int_equal(dg_home_resolve(&h, longroot, &err), -1);
    assert_non_null(strstr(err, "too long"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test_setup_teardown(test_log_rotates_by_size_and_filters_levels, make_tmp,
                                        remove_tmp),
        cmocka_unit_test_setup_teardown(test_atomic_write_and_read, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_mkdir_p_and_join, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_home_layout, make_tmp, remove_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
