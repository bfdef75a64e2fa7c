/* Received-name sanitizer and non-overwriting creation (safename.h,
 * uniqname.h), including the hostile names of issue 4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safename.h"
#include "uniqname.h"

static void ok(const char *in, size_t len, const char *want, unsigned want_changes)
{
    char out[DG_SAFENAME_MAX + 1];
    unsigned ch = 99;
    ipmsg_error e = {0};
    int rc = dg_safename(in, len, out, &ch, &e);
    if (rc != IPMSG_OK)
        fail_msg("'%s' refused: %s", in, e.reason);
    assert_string_equal(out, want);
    assert_int_equal(ch, want_changes);
    assert_true(strlen(out) <= DG_SAFENAME_MAX);
}

#define OK(lit, want, ch) ok(lit, sizeof(lit) - 1, want, ch)

static void refused(const char *in, size_t len, const char *reason)
{
    char out[DG_SAFENAME_MAX + 1];
    memset(out, 'z', sizeof(out));
    ipmsg_error e = {0};
    assert_int_equal(dg_safename(in, len, out, NULL, &e), IPMSG_E_SYNTAX);
    assert_string_equal(e.reason, reason);
    assert_string_equal(out, "");
}

#define REFUSED(lit, reason) refused(lit, sizeof(lit) - 1, reason)

static void test_plain_names(void **state)
{
    (void)state;
    OK("report.pdf", "report.pdf", 0);
    OK(".bashrc", ".bashrc", 0);
    OK("..hidden", "..hidden", 0);
    OK("a..b", "a..b", 0);
    OK(" lead", " lead", 0);
    OK("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt", 0);
    OK("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", 0);
    OK("CONSOLE.txt", "CONSOLE.txt", 0);
    OK("COM0", "COM0", 0);
    OK("LPT10", "LPT10", 0);
}

static void test_hostile_paths(void **state)
{
    (void)state;
    REFUSED("../x", "parent directory reference (..) in file name");
    REFUSED("..", "parent directory reference (..) in file name");
    REFUSED("a/../../x", "parent directory reference (..) in file name");
    REFUSED("a\\..\\x", "parent directory reference (..) in file name");
    REFUSED("x/..", "parent directory reference (..) in file name");
    REFUSED("/etc/x", "absolute path as file name");
    REFUSED("/", "absolute path as file name");
    REFUSED("\\\\server\\share", "absolute path as file name");
    REFUSED("C:\\Windows\\x", "absolute path as file name");
    REFUSED("c:/x", "absolute path as file name");
    REFUSED("a/b", "path separator inside a file name");
    REFUSED("a\\b", "path separator inside a file name");
    REFUSED("dir/", "path separator inside a file name");
    REFUSED(".", "'.' as file name");
    REFUSED("", "empty file name");
    REFUSED("...", "file name made only of dots and spaces");
    REFUSED(" . ", "file name made only of dots and spaces");
    REFUSED("a\0b", "NUL byte in file name");
    /* invalid UTF-8: stray continuation, overlong '/', surrogate, > U+10FFFF,
     * truncated sequence, Latin-1 byte */
    REFUSED("\x80", "file name is not valid UTF-8");
    REFUSED("\xc0\xaf", "file name is not valid UTF-8");
    REFUSED("\xed\xa0\x80", "file name is not valid UTF-8");
    REFUSED("\xf4\x90\x80\x80", "file name is not valid UTF-8");
    REFUSED("abc\xe6\x97", "file name is not valid UTF-8");
    REFUSED("caf\xe9", "file name is not valid UTF-8");
    char out[DG_SAFENAME_MAX + 1];
    assert_int_equal(dg_safename(NULL, 0, out, NULL, NULL), IPMSG_E_SYNTAX);
}

static void test_cleaned(void **state)
{
    (void)state;
    OK("a\x01"
       "b\x1f"
       "c\x7f",
       "a_b_c_", DG_SAFENAME_REPLACED);
    OK("line\nbreak\t.txt", "line_break_.txt", DG_SAFENAME_REPLACED);
    OK("\x1b[31mred", "_[31mred", DG_SAFENAME_REPLACED);
    OK("what?.txt", "what_.txt", DG_SAFENAME_REPLACED);
    OK("a<b>c:d\"e|f*g", "a_b_c_d_e_f_g", DG_SAFENAME_REPLACED);
    /* C1 control U+0085 and RIGHT-TO-LEFT OVERRIDE (fake "gpj.exe") */
    OK("x\xc2\x85y", "x_y", DG_SAFENAME_REPLACED);
    OK("photo\xe2\x80\xaegpj.exe", "photo_gpj.exe", DG_SAFENAME_REPLACED);
    OK("a.txt.", "a.txt", DG_SAFENAME_TRIMMED);
    OK("a.txt . .", "a.txt", DG_SAFENAME_TRIMMED);
    OK("CON", "_CON", DG_SAFENAME_RESERVED);
    OK("con.txt", "_con.txt", DG_SAFENAME_RESERVED);
    OK("nul", "_nul", DG_SAFENAME_RESERVED);
    OK("Com1.log", "_Com1.log", DG_SAFENAME_RESERVED);
    OK("lpt9", "_lpt9", DG_SAFENAME_RESERVED);
    OK("AUX .tar.gz", "_AUX .tar.gz", DG_SAFENAME_RESERVED);
    OK("PRN.", "_PRN", DG_SAFENAME_RESERVED | DG_SAFENAME_TRIMMED);
    OK("NUL\x01", "NUL_", DG_SAFENAME_REPLACED);
}

static void test_long_names(void **state)
{
    (void)state;
    char in[5000], out[DG_SAFENAME_MAX + 1];
    unsigned ch;
    /* 4 KB ASCII with an extension: cut to 255, extension kept */
    memset(in, 'a', 4096);
    memcpy(in + 4096, ".txt", 4);
    assert_int_equal(dg_safename(in, 4100, out, &ch, NULL), IPMSG_OK);
    assert_int_equal(strlen(out), 255);
    assert_string_equal(out + 251, ".txt");
    assert_int_equal(ch, DG_SAFENAME_CUT);
    /* 4 KB of 3-byte characters: cut on a character boundary */
    for (size_t i = 0; i < 1365; i++)
        memcpy(in + 3 * i, "\xe6\x97\xa5", 3);
    assert_int_equal(dg_safename(in, 4095, out, &ch, NULL), IPMSG_OK);
    assert_int_equal(strlen(out), 255); /* 85 characters */
    assert_true(dg_utf8_valid(out, strlen(out)));
    /* 4-byte characters and an extension: 255 - 4 = 251 -> 248 bytes + ext */
    for (size_t i = 0; i < 1000; i++)
        memcpy(in + 4 * i, "\xf0\x9f\x98\x80", 4);
    memcpy(in + 4000, ".png", 4);
    assert_int_equal(dg_safename(in, 4004, out, &ch, NULL), IPMSG_OK);
    assert_int_equal(strlen(out), 252);
    assert_true(dg_utf8_valid(out, strlen(out)));
    assert_string_equal(out + 248, ".png");
    /* an absurd "extension" is not kept */
    memset(in, 'b', 300);
    in[10] = '.';
    assert_int_equal(dg_safename(in, 300, out, &ch, NULL), IPMSG_OK);
    assert_int_equal(strlen(out), 255);
    /* exactly 255 is left alone, 256 is cut */
    memset(in, 'c', 256);
    assert_int_equal(dg_safename(in, 255, out, &ch, NULL), IPMSG_OK);
    assert_int_equal(ch, 0);
    assert_int_equal(dg_safename(in, 256, out, &ch, NULL), IPMSG_OK);
    assert_int_equal(strlen(out), 255);
    /* a cut that ends in spaces is trimmed; one that leaves a device name
     * is prefixed */
    memset(in, ' ', 400);
    memcpy(in, "CON", 3);
    in[399] = 'x';
    assert_int_equal(dg_safename(in, 400, out, &ch, NULL), IPMSG_OK);
    assert_string_equal(out, "_CON");
    assert_int_equal(ch, DG_SAFENAME_CUT | DG_SAFENAME_RESERVED);
    memset(in, ' ', 400);
    in[399] = 'x';
    refused(in, 400, "file name made only of dots and spaces");
    /* a reserved name pushed over the limit by its prefix */
    memset(in, 'd', 255);
    memcpy(in, "con.", 4);
    assert_int_equal(dg_safename(in, 255, out, &ch, NULL), IPMSG_OK);
    assert_int_equal(strlen(out), 255);
    assert_memory_equal(out, "_con.", 5);
    assert_int_equal(ch, DG_SAFENAME_RESERVED | DG_SAFENAME_CUT);
}

static void test_utf8_cut(void **state)
{
    (void)state;
    const char *s = "a\xe6\x97\xa5"
                    "b";
    assert_int_equal(dg_utf8_cut(s, 5, 10), 5);
    assert_int_equal(dg_utf8_cut(s, 5, 4), 4);
    assert_int_equal(dg_utf8_cut(s, 5, 3), 1);
    assert_int_equal(dg_utf8_cut(s, 5, 2), 1);
    assert_int_equal(dg_utf8_cut(s, 5, 1), 1);
    assert_int_equal(dg_utf8_cut(s, 5, 0), 0);
}

/* ---- unique creation ---- */

static char tmpdir[64];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/dg-uniq-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *de;
        int fd = dirfd(d);
        while ((de = readdir(d)))
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                if (unlinkat(fd, de->d_name, 0) != 0)
                    (void)unlinkat(fd, de->d_name, AT_REMOVEDIR);
        closedir(d);
    }
    return rmdir(tmpdir);
}

static void test_candidates(void **state)
{
    (void)state;
    char out[DG_SAFENAME_MAX + 1];
    assert_int_equal(dg_unique_candidate("a.txt", 0, out), 0);
    assert_string_equal(out, "a.txt");
    assert_int_equal(dg_unique_candidate("a.txt", 1, out), 0);
    assert_string_equal(out, "a (1).txt");
    assert_int_equal(dg_unique_candidate("archive.tar.gz", 12, out), 0);
    assert_string_equal(out, "archive.tar (12).gz");
    assert_int_equal(dg_unique_candidate(".bashrc", 2, out), 0);
    assert_string_equal(out, ".bashrc (2)");
    assert_int_equal(dg_unique_candidate("noext", 3, out), 0);
    assert_string_equal(out, "noext (3)");
    /* a 255-byte UTF-8 name stays <= 255 and valid */
    char name[256];
    for (size_t i = 0; i < 83; i++)
        memcpy(name + 3 * i, "\xe6\x97\xa5", 3);
    memcpy(name + 249, ".jpeg", 6); /* 254 bytes + NUL */
    assert_int_equal(dg_unique_candidate(name, 9999, out), 0);
    assert_true(strlen(out) <= DG_SAFENAME_MAX);
    assert_true(dg_utf8_valid(out, strlen(out)));
    assert_string_equal(out + strlen(out) - 12, " (9999).jpeg");
    assert_int_equal(dg_unique_candidate("a/b", 1, out), -EINVAL);
    assert_int_equal(dg_unique_candidate("..", 1, out), -EINVAL);
    assert_int_equal(dg_unique_candidate("", 0, out), -EINVAL);
}

static void test_create_never_overwrites(void **state)
{
    (void)state;
    int dfd = open(tmpdir, O_DIRECTORY | O_RDONLY);
    assert_true(dfd >= 0);
    char used[DG_SAFENAME_MAX + 1];
    int fd;
    assert_int_equal(dg_unique_create(dfd, "f.txt", 0, 0600, used, &fd), 0);
    assert_string_equal(used, "f.txt");
    assert_int_equal(write(fd, "orig", 4), 4);
    close(fd);
    assert_int_equal(dg_unique_create(dfd, "f.txt", 0, 0600, used, &fd), 0);
    assert_string_equal(used, "f (1).txt");
    close(fd);
    assert_int_equal(dg_unique_create(dfd, "f.txt", 0, 0600, used, &fd), 0);
    assert_string_equal(used, "f (2).txt");
    close(fd);
    /* the original is untouched */
    char b[8] = {0};
    fd = openat(dfd, "f.txt", O_RDONLY);
    assert_int_equal(read(fd, b, sizeof(b)), 4);
    assert_string_equal(b, "orig");
    close(fd);

    /* a planted symlink is never followed: the target stays absent */
    char target[128];
    snprintf(target, sizeof(target), "%s/target-outside", tmpdir);
    assert_int_equal(symlinkat(target, dfd, "evil.txt"), 0);
    assert_int_equal(dg_unique_create(dfd, "evil.txt", 0, 0600, used, &fd), 0);
    assert_string_equal(used, "evil (1).txt");
    close(fd);
    struct stat st;
    assert_int_equal(fstatat(dfd, "target-outside", &st, AT_SYMLINK_NOFOLLOW), -1);

    /* directories */
    assert_int_equal(dg_unique_mkdir(dfd, "d", 0700, used), 0);
    assert_string_equal(used, "d");
    assert_int_equal(dg_unique_mkdir(dfd, "d", 0700, used), 0);
    assert_string_equal(used, "d (1)");
    /* a file and a directory share one namespace */
    assert_int_equal(dg_unique_mkdir(dfd, "f.txt", 0700, used), 0);
    assert_string_equal(used, "f (3).txt");

    /* errors other than EEXIST come back at once */
    assert_int_equal(dg_unique_create(-1, "x", 0, 0600, used, &fd), -EBADF);
    assert_int_equal(fd, -1);
    assert_int_equal(dg_unique_create(dfd, "a/b", 0, 0600, used, &fd), -EINVAL);
    assert_int_equal(dg_unique_mkdir(dfd, "..", 0700, used), -EINVAL);
    close(dfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_names),
        cmocka_unit_test(test_hostile_paths),
        cmocka_unit_test(test_cleaned),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_utf8_cut),
        cmocka_unit_test(test_candidates),
        cmocka_unit_test_setup_teardown(test_create_never_overwrites, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
