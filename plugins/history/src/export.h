/*
 * history.export: every message matching a query, oldest first, as a JSON
 * array or as text lines (format.h), written to a file or returned in the
 * RPC result.
 *
 * Files: an absolute path, or a plain file name that goes to
 * <data_dir>/exports/. Relative paths and ".." components are refused: the
 * daemon's working directory means nothing to the caller, and ".." would make
 * "under the data folder" a lie. The file is written to a temporary name in
 * the same folder, synced and then linked into place (mode 0600: it holds
 * private messages); an existing file is only replaced with overwrite.
 */
#ifndef DG_HIST_EXPORT_H
#define DG_HIST_EXPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query.h"

/* The largest export returned in an RPC result; bigger ones go to a file. */
#define HIST_EXPORT_MAX_RESULT ((size_t)32 * 1024 * 1024)

typedef enum hist_format { HIST_FMT_JSON, HIST_FMT_TEXT } hist_format;

/* "json" or "text" into *fmt; -1 for anything else. */
int hist_format_parse(const char *name, hist_format *fmt);

/*
 * The file an export of path goes to, in out. A plain name is put in
 * <data_dir>/exports (created 0700). -1 with a reason in err when path is
 * refused.
 */
int hist_export_path(const char *data_dir, const char *path, char *out, size_t outlen, char *err,
                     size_t errlen);

/*
 * Writes the export to target. Returns {"format","count","path","bytes"}
 * (new), or NULL with a reason in err; on failure nothing is left behind.
 */
json_t *hist_export_file(hist_db *h, const hist_query *q, hist_format fmt, const char *target,
                         bool overwrite, char *err, size_t errlen);

/*
 * The export in a result: {"format":"json","count","messages":[...]} or
 * {"format":"text","count","text"}. NULL with a reason in err, also when it
 * would exceed max_bytes.
 */
json_t *hist_export_result(hist_db *h, const hist_query *q, hist_format fmt, size_t max_bytes,
                           char *err, size_t errlen);

#endif
