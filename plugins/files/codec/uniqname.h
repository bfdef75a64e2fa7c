/*
 * Creating a received file or directory under a name nobody uses yet, so an
 * existing file is never overwritten: "report.pdf", then "report (1).pdf",
 * "report (2).pdf", ... up to DG_UNIQUE_MAX_TRIES.
 *
 * Race-free: there is no "does it exist?" check before creating. Each
 * candidate is created with openat(O_CREAT | O_EXCL) or mkdirat(), which
 * the kernel performs atomically: when another process (or another transfer
 * of this daemon) creates the same name in between, the call fails with
 * EEXIST and the next candidate is tried. O_EXCL also fails on a dangling
 * or valid symlink at that name instead of following it, and O_NOFOLLOW is
 * added for good measure, so a planted symlink can never redirect a
 * download. Names are relative to dirfd (an O_DIRECTORY descriptor of the
 * download folder or of a directory the transfer created itself), so no
 * path is ever resolved from a string received from the network.
 *
 * name must be a single component (no '/', not "." or ".."), normally the
 * output of dg_safename. Numbered candidates stay within DG_SAFENAME_MAX
 * bytes by cutting the stem at a UTF-8 boundary; the extension (after the
 * last '.', not a leading one) is kept.
 */
#ifndef DG_FILES_UNIQNAME_H
#define DG_FILES_UNIQNAME_H

#include <stddef.h>
#include <sys/types.h>

#include "safename.h"

#define DG_UNIQUE_MAX_TRIES 10000

/*
 * Candidate number n for name: n == 0 is name itself, else
 * "<stem> (<n>)<ext>". out needs DG_SAFENAME_MAX + 1 bytes. Returns 0, or
 * -EINVAL when name is not a usable component.
 */
int dg_unique_candidate(const char *name, unsigned n, char out[DG_SAFENAME_MAX + 1]);

/*
 * Creates and opens a new regular file: openat(dirfd, candidate,
 * O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_WRONLY | extra_flags, mode).
 * On success returns 0, *fd_out is the descriptor and out_name the name
 * used. Otherwise a negative errno: -EEXIST after DG_UNIQUE_MAX_TRIES
 * taken names, or the first other failure (-ENOSPC, -EACCES, ...).
 */
int dg_unique_create(int dirfd, const char *name, int extra_flags, mode_t mode,
                     char out_name[DG_SAFENAME_MAX + 1], int *fd_out);

/* Same for a directory (mkdirat). The caller then opens it with
 * O_DIRECTORY | O_NOFOLLOW to descend. */
int dg_unique_mkdir(int dirfd, const char *name, mode_t mode, char out_name[DG_SAFENAME_MAX + 1]);

#endif
