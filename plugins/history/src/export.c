#include "export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "format.h"

int hist_format_parse(const char *name, hist_format *fmt)
{
    if (name && strcmp(name, "json") == 0)
        *fmt = HIST_FMT_JSON;
    else if (name && strcmp(name, "text") == 0)
        *fmt = HIST_FMT_TEXT;
    else
        return -1;
    return 0;
}

static const char *format_name(hist_format fmt)
{
    return fmt == HIST_FMT_JSON ? "json" : "text";
}

/* Does path have a ".." component? */
static bool has_dotdot(const char *path)
{
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p += n;
        while (*p == '/')
            p++;
    }
    return false;
}

int hist_export_path(const char *data_dir, const char *path, char *out, size_t outlen, char *err,
                     size_t errlen)
{
    if (!path || !*path) {
        snprintf(err, errlen, "'path' must not be empty");
        return -1;
    }
    if (has_dotdot(path)) {
        snprintf(err, errlen, "'path' must not contain '..'");
        return -1;
    }
    int n;
    if (!strchr(path, '/')) {
        if (strcmp(path, ".") == 0) {
            snprintf(err, errlen, "'path' must name a file");
            return -1;
        }
        if (!data_dir) {
            snprintf(err, errlen, "the plugin has no data folder: give an absolute 'path'");
            return -1;
        }
        char dir[4096];
        if (snprintf(dir, sizeof dir, "%s/exports", data_dir) >= (int)sizeof dir) {
            snprintf(err, errlen, "'path' is too long");
            return -1;
        }
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
        n = snprintf(out, outlen, "%s/%s", dir, path);
    } else if (path[0] != '/') {
        snprintf(err, errlen,
                 "'path' must be absolute, or a plain file name (written to the history "
                 "plugin's exports folder)");
        return -1;
    } else if (path[strlen(path) - 1] == '/') {
        snprintf(err, errlen, "'path' names a folder, not a file");
        return -1;
    } else {
        n = snprintf(out, outlen, "%s", path);
    }
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(err, errlen, "'path' is too long");
        return -1;
    }
    return 0;
}

/* ---- to a file ---- */

typedef struct file_sink {
    FILE *f;
    hist_format fmt;
    hist_buf line;
    int64_t n;
    int write_errno; /* set when writing failed (ENOMEM when a line could not be built) */
} file_sink;

static int write_row(const json_t *msg, void *user)
{
    file_sink *fs = user;
    if (fs->fmt == HIST_FMT_JSON) {
        if (fputs(fs->n++ ? ",\n" : "\n", fs->f) < 0 || json_dumpf(msg, fs->f, JSON_COMPACT) != 0)
            goto fail;
        return 0;
    }
    fs->line.len = 0;
    hist_text_line(&fs->line, msg);
    if (fs->line.failed) {
        errno = ENOMEM;
        goto fail;
    }
    if (fwrite(fs->line.data, 1, fs->line.len, fs->f) != fs->line.len)
        goto fail;
    fs->n++;
    return 0;
fail:
    fs->write_errno = errno ? errno : EIO;
    return -1;
}

json_t *hist_export_file(hist_db *h, const hist_query *q, hist_format fmt, const char *target,
                         bool overwrite, char *err, size_t errlen)
{
    struct stat st;
    if (stat(target, &st) == 0 && (!overwrite || S_ISDIR(st.st_mode))) {
        snprintf(err, errlen, S_ISDIR(st.st_mode) ? "%s is a folder" : "%s already exists", target);
        return NULL;
    }
    size_t tlen = strlen(target) + 16;
    char *tmp = malloc(tlen);
    if (!tmp) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(tmp, tlen, "%s.tmp-XXXXXX", target);
    int fd = mkstemp(tmp); /* 0600 */
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a file next to %s: %s", target, strerror(errno));
        free(tmp);
        return NULL;
    }
    file_sink fs = {.f = fdopen(fd, "w"), .fmt = fmt};
    json_t *result = NULL;
    if (!fs.f) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        goto out;
    }
    if (fmt == HIST_FMT_JSON && fputs("[", fs.f) < 0)
        goto write_error;
    int64_t count = hist_query_each(h, q, write_row, &fs);
    if (count < 0) {
        if (fs.write_errno) {
            errno = fs.write_errno;
            goto write_error;
        }
        snprintf(err, errlen, "cannot read the history: %s", hist_db_error(h));
        goto out;
    }
    if (fmt == HIST_FMT_JSON && fputs(count ? "\n]\n" : "]\n", fs.f) < 0)
        goto write_error;
    long bytes = ftell(fs.f);
    if (fflush(fs.f) != 0 || fsync(fileno(fs.f)) != 0)
        goto write_error;
    int rc = fclose(fs.f);
    fs.f = NULL;
    if (rc != 0)
        goto write_error;
    /* link() refuses to replace a file that appeared meanwhile; rename() replaces on purpose. */
    if ((overwrite ? rename(tmp, target) : link(tmp, target)) != 0) {
        snprintf(err, errlen, errno == EEXIST ? "%s already exists" : "cannot create %s: %s",
                 target, strerror(errno));
        goto out;
    }
    result = json_pack("{s:s, s:I, s:s, s:I}", "format", format_name(fmt), "count",
                       (json_int_t)count, "path", target, "bytes", (json_int_t)bytes);
    goto out;
write_error:
    snprintf(err, errlen, "cannot write %s: %s", target, strerror(errno ? errno : EIO));
out:
    if (fs.f)
        fclose(fs.f);
    unlink(tmp); /* after link() or on failure; after rename() it is gone already */
    free(tmp);
    hist_buf_free(&fs.line);
    return result;
}

/* ---- in the result ---- */

typedef struct result_sink {
    hist_format fmt;
    json_t *list;
    hist_buf text;
    size_t bytes, max_bytes;
} result_sink;

static int add_row(const json_t *msg, void *user)
{
    result_sink *rs = user;
    if (rs->fmt == HIST_FMT_TEXT) {
        hist_text_line(&rs->text, msg);
        rs->bytes = rs->text.len;
        return rs->text.failed || rs->bytes > rs->max_bytes ? -1 : 0;
    }
    /* The size the message takes in the answer: its text plus about 300 bytes of fields. */
    const char *text = json_string_value(json_object_get(msg, "text"));
    rs->bytes += (text ? strlen(text) : 0) + 300;
    if (rs->bytes > rs->max_bytes)
        return -1;
    return json_array_append(rs->list, (json_t *)msg);
}

json_t *hist_export_result(hist_db *h, const hist_query *q, hist_format fmt, size_t max_bytes,
                           char *err, size_t errlen)
{
    result_sink rs = {.fmt = fmt, .max_bytes = max_bytes};
    if (fmt == HIST_FMT_JSON && !(rs.list = json_array())) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int64_t count = hist_query_each(h, q, add_row, &rs);
    json_t *result = NULL;
    if (rs.bytes > max_bytes)
        snprintf(err, errlen,
                 "the export is larger than %zu MB: give a 'path' to write it to a file",
                 max_bytes >> 20);
    else if (count < 0 && rs.text.failed)
        snprintf(err, errlen, "out of memory");
    else if (count < 0)
        snprintf(err, errlen, "cannot read the history: %s", hist_db_error(h));
    else if (fmt == HIST_FMT_JSON)
        result = json_pack("{s:s, s:I, s:O}", "format", "json", "count", (json_int_t)count,
                           "messages", rs.list);
    else
        result = json_pack("{s:s, s:I, s:s}", "format", "text", "count", (json_int_t)count, "text",
                           rs.text.data ? rs.text.data : "");
    json_decref(rs.list);
    hist_buf_free(&rs.text);
    return result;
}
