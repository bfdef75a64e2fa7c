/* Claiming and binding the control socket path (see sockpath.h). */
#include "control/sockpath.h"

#include <dengon/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG 128

static int fail(char **err, const char *fmt, ...) DG_PRINTF(2, 3);

static int fail(char **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(err, fmt, ap) < 0)
        *err = NULL;
    va_end(ap);
    return -1;
}

static void set_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, strlen(path) + 1); /* length checked by the caller */
}

/* 1: something accepts connections at path; 0: nobody listens; -errno otherwise. */
static int probe_live(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_un sa;
    set_addr(&sa, path);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
        return 1; /* EAGAIN: a listener whose backlog is full is still alive */
    if (e == ECONNREFUSED || e == ENOENT)
        return 0;
    return -e;
}

static int take_lock(const char *path, int *lock_fd, char **err)
{
    char *lock_path = NULL;
    if (asprintf(&lock_path, "%s.lock", path) < 0)
        return fail(err, "out of memory");
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int e = errno;
        fail(err, "cannot open %s: %s", lock_path, strerror(e));
        free(lock_path);
        return -1;
    }
    free(lock_path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return fail(err, "another dengond is running (socket %s)", path);
        return fail(err, "cannot lock %s.lock: %s", path, strerror(e));
    }
    *lock_fd = fd;
    return 0;
}

/* Removes a stale socket at path; refuses a live one or anything that is not a socket. */
static int clear_path(const char *path, char **err)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return fail(err, "cannot inspect %s: %s", path, strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode))
        return fail(err, "%s exists and is not a socket; remove it or choose another path", path);
    int live = probe_live(path);
    if (live > 0)
        return fail(err, "another dengond is running (socket %s)", path);
    if (live < 0)
        return fail(err, "cannot probe socket %s: %s", path, strerror(-live));
    if (unlink(path) != 0 && errno != ENOENT)
        return fail(err, "cannot remove stale socket %s: %s", path, strerror(errno));
    return 0;
}

int dg_control_bind(const char *path, int *lock_fd, char **err)
{
    *err = NULL;
    *lock_fd = -1;
    struct sockaddr_un sa;
    size_t len = path ? strlen(path) : 0;
    if (len == 0)
        return fail(err, "empty control socket path");
    /* Checked here because libuv 1.44 silently truncates long paths. */
    if (len >= sizeof sa.sun_path)
        return fail(err, "control socket path too long (%zu bytes, max %zu): %s", len,
                    sizeof sa.sun_path - 1, path);
    if (take_lock(path, lock_fd, err) != 0)
        return -1;
    if (clear_path(path, err) != 0)
        goto fail_locked;

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail(err, "cannot create a socket: %s", strerror(errno));
        goto fail_locked;
    }
    set_addr(&sa, path);
    mode_t old_mask = umask(077);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    umask(old_mask);
    if (rc != 0) {
        close(fd);
        fail(err, "cannot bind control socket %s: %s", path, strerror(e));
        goto fail_locked;
    }
    /* The umask covered the bind; chmod states the mode explicitly, whatever the platform did. */
    if (chmod(path, 0600) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        e = errno;
        close(fd);
        unlink(path);
        fail(err, "cannot set up control socket %s: %s", path, strerror(e));
        goto fail_locked;
    }
    return fd;

fail_locked:
    close(*lock_fd);
    *lock_fd = -1;
    return -1;
}
