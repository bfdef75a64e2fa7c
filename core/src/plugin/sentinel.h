/*
 * Crash sentinel (docs/plugin-architecture.md §9.7). A plugin's start() runs
 * in-process, so a segfault in it cannot be recovered. Instead the host writes
 * <data_dir>/state/plugins/<id>.starting (fsync'ed) before calling start and
 * removes it afterwards. A file still there at the next discovery means that
 * process died inside start: it is renamed to <id>.quarantined and the plugin
 * stays QUARANTINED until the user enables it again.
 */
#ifndef DG_PLUGIN_SENTINEL_H
#define DG_PLUGIN_SENTINEL_H

/* Writes <id>.starting with the current time. 0 or -errno. */
int dg_sentinel_begin(const char *data_dir, const char *id);
/* Removes <id>.starting. 0 or -errno (a missing file is fine). */
int dg_sentinel_end(const char *data_dir, const char *id);
/*
 * 1 if the plugin is quarantined (a leftover <id>.starting is renamed to
 * <id>.quarantined first) and *when (new string) says when it crashed;
 * 0 if not.
 */
int dg_sentinel_check(const char *data_dir, const char *id, char **when);
/* Removes both files (enable). 0 or -errno. */
int dg_sentinel_clear(const char *data_dir, const char *id);

#endif
