/*
 * Logging. One process-wide sink: stderr and, once opened, a file that is
 * rotated by size (file -> file.1 -> ... -> file.<keep>). A mutex makes it
 * usable from worker threads; messages are short, so holding it while
 * writing is cheaper than queueing.
 */
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* Atomic: worker threads read it while SIGHUP may change it on the loop thread. */
static _Atomic dg_log_level log_threshold = DG_LOG_INFO;
static int log_to_stderr = 1;
static FILE *log_file;
static char *log_path;
static size_t log_max_bytes;
static int log_keep;
static size_t log_file_size;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void dg_log_set_level(dg_log_level level)
{
    log_threshold = level;
}

dg_log_level dg_log_get_level(void)
{
    return log_threshold;
}

const char *dg_log_level_name(dg_log_level level)
{
    if ((int)level < 0 || level > DG_LOG_DEBUG)
        return "?";
    return level_names[level];
}

int dg_log_level_parse(const char *text, dg_log_level *out)
{
    for (int i = 0; i <= DG_LOG_DEBUG; i++) {
        if (text && strcasecmp(text, level_names[i]) == 0) {
            *out = (dg_log_level)i;
            return 0;
        }
    }
    if (text && strcasecmp(text, "warning") == 0) {
        *out = DG_LOG_WARN;
        return 0;
    }
    return -1;
}

void dg_log_set_stderr(int enabled)
{
    log_to_stderr = enabled;
}

/* Caller holds log_lock. Shifts file.N-1 -> file.N ... file -> file.1. */
static void rotate_locked(void)
{
    if (!log_file || log_keep <= 0)
        return;
    fclose(log_file);
    log_file = NULL;
    size_t n = strlen(log_path) + 16;
    char *from = malloc(n), *to = malloc(n);
    if (from && to) {
        for (int i = log_keep; i >= 1; i--) {
            if (i == 1)
                snprintf(from, n, "%s", log_path);
            else
                snprintf(from, n, "%s.%d", log_path, i - 1);
            snprintf(to, n, "%s.%d", log_path, i);
            rename(from, to); /* a missing older file is fine */
        }
    }
    free(from);
    free(to);
    log_file = fopen(log_path, "ae");
    if (log_file)
        chmod(log_path, 0600);
    else if (log_to_stderr) /* say once that file logging stopped, rather than go silent */
        fprintf(stderr, "dengon: cannot reopen %s after rotation; logging to stderr only\n",
                log_path);
    log_file_size = 0;
}

int dg_log_open_file(const char *path, size_t max_bytes, int keep)
{
    FILE *f = fopen(path, "ae");
    if (!f)
        return -errno;
    chmod(path, 0600);
    struct stat st;
    size_t size = (fstat(fileno(f), &st) == 0) ? (size_t)st.st_size : 0;
    char *copy = strdup(path);
    if (!copy) {
        fclose(f);
        return -ENOMEM;
    }
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    free(log_path);
    log_file = f;
    log_path = copy;
    log_max_bytes = max_bytes;
    log_keep = keep;
    log_file_size = size;
    pthread_mutex_unlock(&log_lock);
    return 0;
}

void dg_log_close_file(void)
{
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    free(log_path);
    log_path = NULL;
    pthread_mutex_unlock(&log_lock);
}

void dg_logv(dg_log_level level, const char *component, const char *fmt, va_list ap)
{
    if (level > log_threshold)
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    pthread_mutex_lock(&log_lock);
    if (log_to_stderr)
        fprintf(stderr, "%s.%03ld %-5s %s: %s\n", stamp, ts.tv_nsec / 1000000L,
                dg_log_level_name(level), component ? component : "core", msg);
    if (log_file) {
        int n = fprintf(log_file, "%s.%03ld %-5s %s: %s\n", stamp, ts.tv_nsec / 1000000L,
                        dg_log_level_name(level), component ? component : "core", msg);
        fflush(log_file);
        if (n > 0)
            log_file_size += (size_t)n;
        if (log_max_bytes > 0 && log_file_size >= log_max_bytes)
            rotate_locked();
    }
    pthread_mutex_unlock(&log_lock);
}

void dg_log(dg_log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dg_logv(level, component, fmt, ap);
    va_end(ap);
}
