/* Non-overwriting, race-free creation of received files (uniqname.h). */
#include "uniqname.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int valid_component(const char *name, size_t len)
{
    if (len == 0 || len > DG_SAFENAME_MAX || strchr(name, '/'))
        return 0;
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int dg_unique_candidate(const char *name, unsigned n, char out[DG_SAFENAME_MAX + 1])
{
    size_t len = name ? strlen(name) : 0;
    if (!valid_component(name, len))
        return -EINVAL;
    if (n == 0) {
        memcpy(out, name, len + 1);
        return 0;
    }
    /* Extension: from the last '.', unless that is the first character
     * (".bashrc" has none) or the extension is absurdly long. */
    const char *dot = strrchr(name, '.');
    size_t ext = (dot && dot != name && strlen(dot) <= 32) ? strlen(dot) : 0;
    char suffix[24];
    int sl = snprintf(suffix, sizeof(suffix), " (%u)", n);
    size_t room = DG_SAFENAME_MAX - ext - (size_t)sl;
    size_t stem = dg_utf8_cut(name, len - ext, room);
    memcpy(out, name, stem);
    memcpy(out + stem, suffix, (size_t)sl);
    memcpy(out + stem + (size_t)sl, name + len - ext, ext);
    out[stem + (size_t)sl + ext] = '\0';
    return 0;
}

int dg_unique_create(int dirfd, const char *name, int extra_flags, mode_t mode,
                     char out_name[DG_SAFENAME_MAX + 1], int *fd_out)
{
    *fd_out = -1;
    int flags = O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_WRONLY | extra_flags;
    for (unsigned n = 0; n < DG_UNIQUE_MAX_TRIES; n++) {
        int rc = dg_unique_candidate(name, n, out_name);
        if (rc)
            return rc;
        int fd = openat(dirfd, out_name, flags, mode);
        if (fd >= 0) {
            *fd_out = fd;
            return 0;
        }
        if (errno != EEXIST)
            return -errno;
    }
    out_name[0] = '\0';
    return -EEXIST;
}

int dg_unique_mkdir(int dirfd, const char *name, mode_t mode, char out_name[DG_SAFENAME_MAX + 1])
{
    for (unsigned n = 0; n < DG_UNIQUE_MAX_TRIES; n++) {
        int rc = dg_unique_candidate(name, n, out_name);
        if (rc)
            return rc;
        if (mkdirat(dirfd, out_name, mode) == 0)
            return 0;
        if (errno != EEXIST)
            return -errno;
    }
    out_name[0] = '\0';
    return -EEXIST;
}
