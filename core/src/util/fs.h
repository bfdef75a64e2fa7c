/* Small filesystem helpers with the permissions the home folder needs. */
#ifndef DG_UTIL_FS_H
#define DG_UTIL_FS_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p; every created component gets mode. Existing dirs are left alone. 0 or -errno. */
int dg_mkdir_p(const char *path, mode_t mode);
/* Writes via a temporary file + fsync + rename, so readers never see half a file. 0 or -errno. */
int dg_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* fsyncs the directory holding path, so a rename/link/unlink in it survives a crash. */
int dg_fsync_parent(const char *path);
/* Reads a whole regular file (never blocks on a FIFO: -EINVAL) (at most max_len bytes, else -EFBIG). *out is NUL-terminated, new. */
int dg_read_file(const char *path, size_t max_len, char **out, size_t *len);
/* Joins a and b with one '/'. New string or NULL. */
char *dg_path_join(const char *a, const char *b);
int dg_file_exists(const char *path);

#endif
