/*
 * Crash sentinel files. Each change is fsync'ed together with its directory:
 * a sentinel lost in a power cut would let a crashing plugin crash the next
 * start too, and a removal lost would quarantine a healthy plugin.
 */
#include "plugin/sentinel.h"

#include "util/fs.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_SUBDIR "state/plugins"

static char *state_dir(const char *data_dir)
{
    return dg_path_join(data_dir, STATE_SUBDIR);
}

static char *file_path(const char *data_dir, const char *id, const char *suffix)
{
    size_t n = strlen(data_dir) + strlen(STATE_SUBDIR) + strlen(id) + strlen(suffix) + 4;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s/%s%s", data_dir, STATE_SUBDIR, id, suffix);
    return p;
}

static int sync_dir(const char *data_dir)
{
    char *dir = state_dir(data_dir);
    if (!dir)
        return -ENOMEM;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

static void format_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    if (!localtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
        snprintf(buf, len, "@%lld", (long long)t);
}

static int write_sync(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text);
    int rc = write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

int dg_sentinel_begin(const char *data_dir, const char *id)
{
    char *dir = state_dir(data_dir);
    int rc = dir ? dg_mkdir_p(dir, 0700) : -ENOMEM;
    free(dir);
    if (rc != 0)
        return rc;
    char *path = file_path(data_dir, id, ".starting");
    if (!path)
        return -ENOMEM;
    /* First line: when; read back into the quarantine reason. */
    char when[64], text[160];
    format_time(time(NULL), when, sizeof(when));
    snprintf(text, sizeof(text), "%s\npid %ld\n", when, (long)getpid());
    rc = write_sync(path, text);
    free(path);
    return rc == 0 ? sync_dir(data_dir) : rc;
}

static int unlink_file(const char *data_dir, const char *id, const char *suffix, int *removed)
{
    char *path = file_path(data_dir, id, suffix);
    if (!path)
        return -ENOMEM;
    int rc = 0;
    if (unlink(path) == 0)
        *removed = 1;
    else if (errno != ENOENT)
        rc = -errno;
    free(path);
    return rc;
}

int dg_sentinel_end(const char *data_dir, const char *id)
{
    int removed = 0;
    int rc = unlink_file(data_dir, id, ".starting", &removed);
    if (rc == 0 && removed)
        rc = sync_dir(data_dir);
    return rc;
}

int dg_sentinel_clear(const char *data_dir, const char *id)
{
    int removed = 0;
    int rc = unlink_file(data_dir, id, ".starting", &removed);
    int rc2 = unlink_file(data_dir, id, ".quarantined", &removed);
    if (rc == 0)
        rc = rc2;
    if (rc == 0 && removed)
        rc = sync_dir(data_dir);
    return rc;
}

/* The time written by dg_sentinel_begin, or the file's mtime if it is unreadable. */
static char *read_when(const char *path)
{
    char buf[128] = "";
    FILE *f = fopen(path, "re");
    if (f) {
        if (!fgets(buf, sizeof(buf), f))
            buf[0] = '\0';
        fclose(f);
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        struct stat st;
        if (stat(path, &st) == 0)
            format_time(st.st_mtime, buf, sizeof(buf));
        else
            snprintf(buf, sizeof(buf), "an earlier run");
    }
    return strdup(buf);
}

int dg_sentinel_check(const char *data_dir, const char *id, char **when)
{
    *when = NULL;
    char *starting = file_path(data_dir, id, ".starting");
    char *quarantined = file_path(data_dir, id, ".quarantined");
    int result = 0;
    if (!starting || !quarantined)
        goto out;
    if (dg_file_exists(starting)) {
        /* The previous process died inside start(): keep the evidence as .quarantined. */
        if (rename(starting, quarantined) != 0) {
            dg_log(DG_LOG_WARN, "plugin", "cannot rename %s: %s", starting, strerror(errno));
            *when = read_when(starting);
            result = 1;
            goto out;
        }
        sync_dir(data_dir);
    }
    if (dg_file_exists(quarantined)) {
        *when = read_when(quarantined);
        result = 1;
    }
out:
    free(starting);
    free(quarantined);
    return result;
}
