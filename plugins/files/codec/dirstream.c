/* Incremental GETDIRFILES stream decoder (dirstream.h, §5.3). */
#include "dirstream.h"

#include <stdlib.h>
#include <string.h>

#include "ipmsg_proto.h"

typedef enum state {
    ST_HDR_LEN,  /* collecting "<hex>:" */
    ST_HDR_REST, /* collecting the rest of the header */
    ST_BODY,     /* remaining content bytes of the current record */
    ST_DONE,
    ST_FAILED,
} state;

struct dg_dirstream {
    dg_dirstream_limits lim;
    state st;
    bool started;
    bool pending_end;  /* FILE_END due (body complete) */
    bool pending_done; /* DONE due */
    uint32_t depth;
    uint32_t hdr_size; /* from the prefix */
    size_t hdr_have;
    uint64_t remaining;
    uint64_t entries;
    uint64_t total;
    size_t offset; /* stream bytes consumed, for error offsets */
    ipmsg_error failure;
    dg_dirhdr hdr;
    char *hbuf; /* max_header bytes */
    char *name; /* max_header bytes */
};

dg_dirstream *dg_dirstream_new(const dg_dirstream_limits *lim)
{
    dg_dirstream *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    if (lim)
        d->lim = *lim;
    if (d->lim.max_header == 0 || d->lim.max_header > DG_DIRHDR_MAX)
        d->lim.max_header = DG_DIRHDR_MAX;
    if (d->lim.max_depth == 0)
        d->lim.max_depth = DG_DIRSTREAM_DEFAULT_MAX_DEPTH;
    if (d->lim.max_entries == 0)
        d->lim.max_entries = DG_DIRSTREAM_DEFAULT_MAX_ENTRIES;
    if (d->lim.max_total == 0)
        d->lim.max_total = UINT64_MAX;
    d->hbuf = malloc(d->lim.max_header);
    d->name = malloc(d->lim.max_header);
    if (!d->hbuf || !d->name) {
        dg_dirstream_free(d);
        return NULL;
    }
    return d;
}

void dg_dirstream_free(dg_dirstream *d)
{
    if (!d)
        return;
    free(d->hbuf);
    free(d->name);
    free(d);
}

uint64_t dg_dirstream_total(const dg_dirstream *d)
{
    return d->total;
}

static int fail(dg_dirstream *d, ipmsg_error *err, ipmsg_status code, const char *reason)
{
    d->st = ST_FAILED;
    d->failure = (ipmsg_error){code, reason, d->offset};
    if (err)
        *err = d->failure;
    return code;
}

static void emit_hdr(dg_dirstream *d, dg_ds_event *ev, dg_ds_kind kind, uint32_t depth)
{
    ev->kind = kind;
    ev->depth = depth;
    ev->hdr = &d->hdr;
    ev->has_mtime = dg_dirhdr_mtime(&d->hdr, &ev->mtime);
}

/* A complete header is in hbuf: check it against the stream so far. */
static int record(dg_dirstream *d, dg_ds_event *ev, ipmsg_error *err)
{
    ipmsg_error e = {0};
    if (dg_dirhdr_parse(d->hbuf, d->hdr_size, &d->hdr, d->name, &e) != IPMSG_OK)
        return fail(d, err, e.code, e.reason);
    if (++d->entries > d->lim.max_entries)
        return fail(d, err, IPMSG_E_TOOBIG, "too many records in directory stream");
    uint32_t type = dg_dirhdr_type(&d->hdr);
    bool first = !d->started;
    d->started = true;
    d->st = ST_HDR_LEN;
    d->hdr_have = 0;
    if (type == IPMSG_FILE_DIR) {
        if (d->hdr.size != 0)
            return fail(d, err, IPMSG_E_SYNTAX, "directory record with a non-zero size");
        if (d->depth >= d->lim.max_depth)
            return fail(d, err, IPMSG_E_TOOBIG, "directories nested too deeply");
        emit_hdr(d, ev, DG_DS_ENTER_DIR, d->depth);
        d->depth++;
        return 1;
    }
    if (type == IPMSG_FILE_RETPARENT) {
        if (first || d->depth == 0)
            return fail(d, err, IPMSG_E_SYNTAX, "RETPARENT record without an open directory");
        if (d->hdr.size != 0)
            return fail(d, err, IPMSG_E_SYNTAX, "RETPARENT record with a non-zero size");
        d->depth--;
        emit_hdr(d, ev, DG_DS_LEAVE_DIR, d->depth);
        if (d->depth == 0) {
            d->st = ST_DONE;
            d->pending_done = true;
        }
        return 1;
    }
    if (d->hdr.size > d->lim.max_total - d->total)
        return fail(d, err, IPMSG_E_TOOBIG, "directory stream larger than the allowed total");
    d->remaining = d->hdr.size;
    d->st = ST_BODY;
    /* An empty body is complete at once (also at EOF right after it). */
    d->pending_end = d->remaining == 0;
    emit_hdr(d, ev, DG_DS_FILE_BEGIN, d->depth);
    return 1;
}

/* Ends the current record's body. */
static int file_end(dg_dirstream *d, dg_ds_event *ev)
{
    d->pending_end = false;
    d->st = ST_HDR_LEN;
    emit_hdr(d, ev, DG_DS_FILE_END, d->depth);
    if (d->depth == 0) {
        d->st = ST_DONE;
        d->pending_done = true;
    }
    return 1;
}

int dg_dirstream_next(dg_dirstream *d, const void *buf, size_t len, size_t *used, dg_ds_event *ev,
                      ipmsg_error *err)
{
    const uint8_t *p = buf;
    *used = 0;
    memset(ev, 0, sizeof(*ev));
    if (d->st == ST_FAILED) {
        if (err)
            *err = d->failure;
        return d->failure.code;
    }
    if (d->pending_end)
        return file_end(d, ev);
    if (d->pending_done) {
        d->pending_done = false;
        ev->kind = DG_DS_DONE;
        return 1;
    }
    size_t i = 0;
    int rc = 0;
    while (i < len && rc == 0) {
        switch (d->st) {
        case ST_DONE:
            rc = fail(d, err, IPMSG_E_SYNTAX, "data after the end of the directory stream");
            break;
        case ST_BODY: {
            uint64_t n = d->remaining;
            if (n > len - i)
                n = len - i;
            ev->kind = DG_DS_FILE_DATA;
            ev->depth = d->depth;
            ev->data = p + i;
            ev->len = (size_t)n;
            i += (size_t)n;
            d->offset += (size_t)n;
            d->remaining -= n;
            d->total += n;
            d->pending_end = d->remaining == 0;
            rc = 1;
            break;
        }
        case ST_HDR_LEN: {
            /* Bytes up to the ':' are few (<= 9), copy them one by one. */
            if (d->hdr_have >= DG_DIRHDR_LEN_DIGITS + 1 || d->hdr_have >= d->lim.max_header) {
                rc = fail(d, err, IPMSG_E_SYNTAX, "directory record length has too many digits");
                break;
            }
            d->hbuf[d->hdr_have++] = (char)p[i++];
            d->offset++;
            uint32_t hs;
            size_t pre;
            ipmsg_error e = {0};
            int r = dg_dirhdr_len_prefix(d->hbuf, d->hdr_have, &hs, &pre, &e);
            if (r < 0) {
                rc = fail(d, err, e.code, e.reason);
            } else if (r == 1) {
                /* Shortest header: "<len>:" + name + ":0:1:" */
                if (hs < pre + 5) {
                    rc = fail(d, err, IPMSG_E_SYNTAX, "directory record length too small");
                } else if (hs > d->lim.max_header) {
                    rc = fail(d, err, IPMSG_E_TOOBIG, "directory record header too long");
                } else {
                    d->hdr_size = hs;
                    d->st = ST_HDR_REST;
                }
            }
            break;
        }
        case ST_HDR_REST: {
            size_t n = d->hdr_size - d->hdr_have;
            if (n > len - i)
                n = len - i;
            memcpy(d->hbuf + d->hdr_have, p + i, n);
            d->hdr_have += n;
            i += n;
            d->offset += n;
            if (d->hdr_have == d->hdr_size)
                rc = record(d, ev, err);
            break;
        }
        case ST_FAILED:
            rc = d->failure.code;
            break;
        }
    }
    *used = i;
    return rc;
}

int dg_dirstream_finish(const dg_dirstream *d, ipmsg_error *err)
{
    switch (d->st) {
    case ST_DONE:
        return IPMSG_OK;
    case ST_FAILED:
        if (err)
            *err = d->failure;
        return d->failure.code;
    case ST_BODY:
        if (d->remaining)
            return ipmsg_fail(err, IPMSG_E_SYNTAX, "directory stream cut inside a file", d->offset);
        /* Body complete, FILE_END not pulled yet: a top-level file is done. */
        if (d->depth == 0)
            return IPMSG_OK;
        return ipmsg_fail(err, IPMSG_E_SYNTAX,
                          "directory stream cut before the end of the directory", d->offset);
    case ST_HDR_LEN:
    case ST_HDR_REST:
        if (d->hdr_have)
            return ipmsg_fail(err, IPMSG_E_SYNTAX, "directory stream cut inside a header",
                              d->offset);
        return ipmsg_fail(err, IPMSG_E_SYNTAX,
                          d->started ? "directory stream cut before the end of the directory"
                                     : "empty directory stream",
                          d->offset);
    }
    return ipmsg_fail(err, IPMSG_E_INVAL, "bad decoder state", d->offset);
}
