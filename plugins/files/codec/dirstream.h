/*
 * Incremental decoder of the GETDIRFILES answer (§5.3): a sequence of
 * records "header + size bytes of content" read from a TCP stream cut at
 * arbitrary places. The stream starts with the requested directory (or,
 * for Windows' encrypted single-file fetch, one REGULAR record), DIR
 * records open a level, RETPARENT records close one, and the stream ends
 * with the RETPARENT that leaves the top directory.
 *
 * Pull interface, no callbacks and no copy of file content:
 *
 *   while (len) {
 *       size_t used;
 *       int rc = dg_dirstream_next(d, buf, len, &used, &ev, &err);
 *       buf += used; len -= used;
 *       if (rc < 0) fail(err);
 *       if (rc == 0) break;      // all of buf consumed: read more
 *       handle(&ev);             // FILE_DATA points into buf
 *   }
 *   ... at EOF: dg_dirstream_finish(d, &err) says whether the stream was
 *   complete.
 *
 * Calls with len == 0 are allowed and deliver events that need no input
 * (FILE_END of an empty file, DONE). Only the current header is buffered
 * (at most max_header bytes); FILE_DATA events point into the caller's
 * buffer, so memory stays bounded whatever the sizes. The event sequence
 * does not depend on how the input is split, except that FILE_DATA pieces
 * follow the caller's chunks (their concatenation is the same).
 *
 * Checks (each a clear error, after which the decoder stays failed): a
 * malformed header, hdrsize outside [minimum, max_header], DIR or RETPARENT
 * with a non-zero size, RETPARENT with no open directory, a first record
 * that is RETPARENT, nesting deeper than max_depth, more than max_entries
 * records, more than max_total content bytes, an empty name (except
 * RETPARENT), bytes after the end. The decoder never emits more FILE_DATA
 * bytes for a record than its declared size.
 */
#ifndef DG_FILES_DIRSTREAM_H
#define DG_FILES_DIRSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dirhdr.h"
#include "ipmsg_error.h"

#define DG_DIRSTREAM_DEFAULT_MAX_DEPTH 64
#define DG_DIRSTREAM_DEFAULT_MAX_ENTRIES 1000000u

typedef struct dg_dirstream_limits {
    uint32_t max_header;  /* 0 = DG_DIRHDR_MAX (the most 4 digits can say) */
    uint32_t max_depth;   /* 0 = DG_DIRSTREAM_DEFAULT_MAX_DEPTH */
    uint64_t max_entries; /* records; 0 = DG_DIRSTREAM_DEFAULT_MAX_ENTRIES */
    uint64_t max_total;   /* content bytes; 0 = unlimited */
} dg_dirstream_limits;

typedef enum dg_ds_kind {
    DG_DS_NONE = 0,
    DG_DS_ENTER_DIR,  /* hdr: the directory; children follow at depth + 1 */
    DG_DS_FILE_BEGIN, /* hdr: any non-DIR record (check the type); size bytes follow */
    DG_DS_FILE_DATA,  /* data/len: the next content bytes of the current record */
    DG_DS_FILE_END,   /* hdr: the same record, all size bytes delivered */
    DG_DS_LEAVE_DIR,  /* hdr: the RETPARENT record (attributes and mtime of the
                         directory being left, §5.3): set its mtime now */
    DG_DS_DONE,       /* the top record is complete; nothing may follow */
} dg_ds_kind;

typedef struct dg_ds_event {
    dg_ds_kind kind;
    uint32_t depth;       /* 0 for the top record and its LEAVE_DIR */
    const dg_dirhdr *hdr; /* valid until the next header is read; NULL for DATA/DONE */
    bool has_mtime;       /* hdr carries MTIME (0x14) */
    uint64_t mtime;
    const uint8_t *data; /* FILE_DATA */
    size_t len;
} dg_ds_event;

typedef struct dg_dirstream dg_dirstream;

/* lim may be NULL for the defaults. NULL when out of memory. */
dg_dirstream *dg_dirstream_new(const dg_dirstream_limits *lim);
void dg_dirstream_free(dg_dirstream *d);

/*
 * Consumes some of buf[0..len) (*used bytes) and returns 1 with one event,
 * 0 when it needs more input (then *used == len), or a negative status
 * (then err says why, and so do all later calls).
 */
int dg_dirstream_next(dg_dirstream *d, const void *buf, size_t len, size_t *used, dg_ds_event *ev,
                      ipmsg_error *err);

/* At end of input: IPMSG_OK when DONE was reached, otherwise an error
 * saying where the stream was cut (truncated transfers are detected here). */
int dg_dirstream_finish(const dg_dirstream *d, ipmsg_error *err);

/* Content bytes delivered so far (for progress and resume bookkeeping). */
uint64_t dg_dirstream_total(const dg_dirstream *d);

#endif
