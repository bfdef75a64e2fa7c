/*
 * Claiming the control socket path before libuv sees it: plain POSIX, so that
 * every failure is reported synchronously with a precise message and nothing
 * has to be torn down through the loop.
 */
#ifndef DG_CONTROL_SOCKPATH_H
#define DG_CONTROL_SOCKPATH_H

/*
 * Takes an exclusive lock on "<path>.lock" (kept in *lock_fd for the daemon's
 * lifetime, so two daemons starting at once cannot both remove and rebind the
 * socket), then: a live socket at path (something accepts a connection) is
 * refused; a stale one is unlinked; a non-socket file is refused (never
 * deleted). Binds with umask 077 (no window where the socket is open to
 * others), chmods 0600 and listens. Returns the listening fd, or -1 with *err
 * (new string). umask is process-wide: call before starting threads that
 * create files.
 */
int dg_control_bind(const char *path, int *lock_fd, char **err);

#endif
