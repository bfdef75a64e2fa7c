/* Process-wide logging: levels, stderr, and a size-rotated file in logs/. */
#ifndef DG_UTIL_LOG_H
#define DG_UTIL_LOG_H

#include <dengon/plugin.h>
#include <stdarg.h>
#include <stddef.h>

/* Sets the threshold; messages above it are discarded. Default: DG_LOG_INFO. */
void dg_log_set_level(dg_log_level level);
dg_log_level dg_log_get_level(void);
/* Parses "error", "warn", "info", "debug". Returns 0 or -1. */
int dg_log_level_parse(const char *text, dg_log_level *out);
const char *dg_log_level_name(dg_log_level level);

/* Also writes to path; rotates to path.1 .. path.<keep> when it exceeds max_bytes. */
int dg_log_open_file(const char *path, size_t max_bytes, int keep);
void dg_log_close_file(void);
/* Silences stderr output (tests, daemons with a file). */
void dg_log_set_stderr(int enabled);

/* component: "core", "bus", a plugin id, ... Thread-safe. */
void dg_log(dg_log_level level, const char *component, const char *fmt, ...) DG_PRINTF(3, 4);
void dg_logv(dg_log_level level, const char *component, const char *fmt, va_list ap)
    DG_PRINTF(3, 0);

#endif
