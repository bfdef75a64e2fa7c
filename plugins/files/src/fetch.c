/*
 * The download worker: one thread per accepted offer, blocking I/O with
 * socket timeouts, one fixed buffer. Regular files: GETFILEDATA from the
 * size of the ".part" file made at accept time, renamed to a free name when
 * complete. Folders: GETDIRFILES decoded incrementally (dirstream.h); every
 * name is sanitized (safename.h) and created with O_EXCL under a directory
 * descriptor the worker made itself (uniqname.h), so nothing is overwritten
 * and no path or symlink from the network is ever followed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirstream.h"
#include "ipmsg_proto.h"
#include "jobs.h"
#include "packet.h"
#include "request.h"
#include "safename.h"
#include "sockio.h"
#include "store.h"
#include "uniqname.h"

#define PROGRESS_MS 250 /* at most 4 progress events a second */
#define MAX_DEPTH 64

static void progress(fl_job *j, bool force)
{
    uint64_t now = fl_mono_ms();
    if (!force && now - j->last_ms < PROGRESS_MS)
        return;
    j->last_ms = now;
    uint64_t el = now > j->start_ms ? now - j->start_ms : 1;
    j->st->api->publish(j->st->ctx, "files.progress",
                        json_pack("{s:I, s:I, s:I, s:I}", "id", (json_int_t)j->offer, "bytes",
                                  (json_int_t)atomic_load(&j->bytes), "total", (json_int_t)j->total,
                                  "rate", (json_int_t)(j->session * 1000u / el)));
}

/* Records the first failure reason (a literal format with a name and an errno). */
#define fail(j, fmt, a, e)                                                                         \
    ((j)->reason[0] ? -1 : (snprintf((j)->reason, sizeof(j)->reason, fmt, a, strerror(e)), -1))

/* Writes received bytes; disk full and other errors keep what arrived. */
static int put(fl_job *j, int fd, const char *name, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return fail(j,
                        errno == ENOSPC || errno == EDQUOT
                            ? "%s: disk full (%s); what arrived is kept, accept again to resume"
                            : "%s: cannot write (%s); what arrived is kept",
                        name, errno);
        c += w;
        n -= (size_t)w;
        atomic_fetch_add(&j->bytes, (uint64_t)w);
        j->session += (uint64_t)w;
    }
    progress(j, false);
    return 0;
}

static int request(fl_job *j, uint32_t mode, uint32_t file_id, uint64_t offset)
{
    fl_state *st = j->st;
    int fd = fl_connect(j->ip, j->port, st->local_ip, st->cfg.timeout_s);
    if (fd < 0)
        return fail(j, "cannot connect to the sender %s (%s)", "", -fd);
    pthread_mutex_lock(&st->lock);
    atomic_store(&j->sock, fd);
    /* jobs_cancel and jobs_stop_encrypted shut down j->sock under the lock:
     * one that came before there was a socket is seen here. Without the
     * nocrypto check, an encrypted download that started connecting while
     * its provider was being removed ran to the end, and the removal (on the
     * loop thread) waited for it. */
    if (atomic_load(&j->cancel) || atomic_load(&j->nocrypto))
        shutdown(fd, SHUT_RDWR);
    pthread_mutex_unlock(&st->lock);
    dg_file_req req = {
        .share_pkt = j->packet_no, .file_id = file_id, .has_offset = true, .offset = offset};
    char buf[4096];
    size_t len;
    ipmsg_error err = {0};
    int rc;
    if (j->sealed_ok) {
        /* §6.6: ENCRYPTOPT|ENCFILEOPT with the provider's sealed request
         * (offset inside it) as extra, under the user name the provider signs for. */
        ipmsg_build_in in = {
            .packet_no = j->req_pkt,
            .command = mode | IPMSG_UTF8OPT | (j->sealed.opts & 0xffffff00u),
            .user = ipmsg_text(j->sealed.user[0] ? j->sealed.user : st->user),
            .host = ipmsg_text(st->host),
            .extra = ipmsg_raw(j->sealed.extra, strlen(j->sealed.extra)),
        };
        rc = ipmsg_build(&in, NULL, buf, sizeof buf, &len, &err);
    } else {
        rc = dg_file_request_build(j->req_pkt, mode, IPMSG_UTF8OPT, st->user, st->host, &req, NULL,
                                   buf, sizeof buf, &len, &err);
    }
    if (rc != IPMSG_OK || fl_write_all(fd, buf, len) != 0)
        return fail(j, "cannot send the request%s (%s)", "", errno ? errno : EIO);
    return fd;
}

/* recv into j->buf, decrypted when the request was sealed (§6.6: the whole
 * answer, headers included, is AES-256-CTR). */
static ssize_t recv_some(fl_job *j, int s, size_t want)
{
    ssize_t n = recv(s, j->buf, want, 0);
    if (n > 0 && fcrypto_apply(&j->cipher, j->buf, (size_t)n) != 0) {
        errno = EIO;
        return -1;
    }
    return n;
}

/* Under st->lock, like jobs_cancel's shutdown: it never hits a reused descriptor. */
static void close_sock(fl_job *j)
{
    pthread_mutex_lock(&j->st->lock);
    int fd = atomic_exchange(&j->sock, -1);
    if (fd >= 0)
        close(fd);
    pthread_mutex_unlock(&j->st->lock);
}

/* The request of one entry: its packet number, sealed by the files.crypto
 * provider when the sender qualifies (§6.6). 0, or -1 with the reason. */
static int seal(fl_job *j, const dg_attach_entry *e, bool has_offset, uint64_t offset)
{
    j->req_pkt = atomic_fetch_add(&j->st->req_no, 1);
    /* Flagged while the provider decides: one going away meanwhile stops
     * this download. Afterwards the flag says what the download is. */
    bool earlier = atomic_exchange(&j->encrypted, true);
    char err[256] = "";
    int rc = fcrypto_seal(j->st, j->peer, j->req_pkt, j->packet_no, e->file_id, has_offset, offset,
                          &j->sealed, &j->cipher, err, sizeof err);
    j->sealed_ok = rc == 1;
    atomic_store(&j->encrypted, earlier || rc == 1);
    if (rc == 1 && atomic_load(&j->nocrypto)) {
        snprintf(j->reason, sizeof j->reason, "%s: file encryption stopped", e->name);
        return -1;
    }
    if (rc < 0) {
        snprintf(j->reason, sizeof j->reason, "%s: cannot encrypt the request: %s", e->name, err);
        return -1;
    }
    return 0;
}

/* Ends the entry's request; the download stays "encrypted" once one was. */
static void unseal(fl_job *j, bool earlier)
{
    bool was = j->sealed_ok;
    fcrypto_end(j->st, &j->cipher);
    free(j->sealed.extra);
    memset(&j->sealed, 0, sizeof j->sealed);
    j->sealed_ok = false;
    atomic_store(&j->encrypted, earlier || was);
}

/* Renames part to a free candidate of final (never replacing anything). */
static int finalize(fl_job *j, int dirfd, const char *part, const char *final, char *used)
{
    for (unsigned n = 0; n < DG_UNIQUE_MAX_TRIES; n++) {
        if (dg_unique_candidate(final, n, used) != 0)
            break;
        if (renameat2(dirfd, part, dirfd, used, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno != EEXIST)
            return fail(j, "%s: cannot rename the finished file (%s)", part, errno);
    }
    return fail(j, "%s: no free name (%s)", final, EEXIST);
}

/*
 * A regular file over a sealed GETDIRFILES (§6.6): it comes as one REGULAR
 * record, checked against the offer. Only for a download from the start:
 * GETDIRFILES has no offset, a resume asks GETFILEDATA.
 */
static int fetch_file_sealed(fl_job *j, const dg_attach_entry *e, int fd, const char *part)
{
    dg_dirstream_limits lim = {.max_depth = 1, .max_entries = 1};
    dg_dirstream *d = dg_dirstream_new(&lim);
    if (!d)
        return fail(j, "%s: out of memory (%s)", e->name, ENOMEM);
    int s = request(j, IPMSG_GETDIRFILES, e->file_id, 0);
    int rc = s < 0 ? -1 : 0;
    bool done = false;
    while (rc == 0 && !done) {
        ssize_t n = recv_some(j, s, FL_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = fail(j, "%s: connection lost (%s); what arrived is kept, it resumes", e->name,
                      n == 0 ? ECONNRESET : errno);
            break;
        }
        /* Until the decoder needs more input: FILE_END and DONE need none, and
         * the sender waits for us to close once everything is sent. */
        size_t off = 0;
        while (rc == 0 && !done) {
            size_t used = 0;
            dg_ds_event ev;
            ipmsg_error err = {0};
            int r = dg_dirstream_next(d, j->buf + off, (size_t)n - off, &used, &ev, &err);
            off += used;
            if (r < 0) {
                snprintf(j->reason, sizeof j->reason,
                         "%s: bad encrypted stream from the sender: %s", e->name,
                         err.reason ? err.reason : "?");
                rc = -1;
            } else if (r == 0) {
                break;
            } else if (ev.kind == DG_DS_DONE) {
                done = true;
            } else if (ev.kind == DG_DS_FILE_BEGIN &&
                       (dg_dirhdr_type(ev.hdr) != IPMSG_FILE_REGULAR || ev.hdr->size != e->size)) {
                snprintf(j->reason, sizeof j->reason,
                         "%s: the sender answered with another file (%llu bytes)", e->name,
                         (unsigned long long)ev.hdr->size);
                rc = -1;
            } else if (ev.kind == DG_DS_ENTER_DIR) {
                snprintf(j->reason, sizeof j->reason, "%s: the sender answered with a folder",
                         e->name);
                rc = -1;
            } else if (ev.kind == DG_DS_FILE_DATA) {
                rc = put(j, fd, part, ev.data, ev.len);
            }
        }
    }
    close_sock(j);
    dg_dirstream_free(d);
    return rc;
}

static int fetch_file(fl_job *j, const dg_attach_entry *e, const char *part, const char *final)
{
    int fd = openat(j->dirfd, part, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int err = fd < 0 ? errno : EINVAL;
        if (fd >= 0)
            close(fd);
        return fail(j, "%s: the partial file is gone or not a file (%s)", part, err);
    }
    uint64_t have = (uint64_t)sb.st_size;
    int rc = 0;
    atomic_fetch_add(&j->bytes, have < e->size ? have : e->size);
    if (have > e->size) {
        rc = fail(j, "%s: the partial file is larger than the offer (%s)", part, EINVAL);
    } else if (have < e->size && (rc = seal(j, e, have > 0, have)) != 0) {
        ; /* the provider failed: reason set */
    } else if (have == 0 && j->sealed_ok) {
        /* Encrypted from the start: GETDIRFILES, as IP Messenger v4 asks (§6.6). */
        rc = fetch_file_sealed(j, e, fd, part);
    } else if (have < e->size) {
        /* Plain, or an encrypted resume: GETFILEDATA from the offset reached
         * (the offset travels inside the sealed request). */
        lseek(fd, 0, SEEK_END);
        int s = request(j, IPMSG_GETFILEDATA, e->file_id, have);
        uint64_t want = e->size - have;
        while (rc == 0 && s >= 0 && want > 0) {
            ssize_t n = recv_some(j, s, want < FL_BUF ? (size_t)want : FL_BUF);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                rc = fail(j, "%s: connection lost (%s); what arrived is kept, it resumes", e->name,
                          n == 0 ? ECONNRESET : errno);
                break;
            }
            rc = put(j, fd, part, j->buf, (size_t)n);
            want -= (uint64_t)n;
        }
        if (s < 0)
            rc = -1;
        close_sock(j);
    }
    if (rc == 0) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = (time_t)e->mtime}};
        futimens(fd, ts);
    }
    close(fd);
    char used[DG_SAFENAME_MAX + 1];
    if (rc == 0 && (rc = finalize(j, j->dirfd, part, final, used)) == 0)
        store_item_set(j->st, j->offer, e->file_id, part, used, true);
    return rc;
}

/* Part name of a file: "<name cut>.part", still one component of at most 255 bytes. */
void fetch_part_name(const char *name, char *out)
{
    size_t keep = dg_utf8_cut(name, strlen(name), DG_SAFENAME_MAX - 5);
    snprintf(out, DG_SAFENAME_MAX + 1, "%.*s.part", (int)keep, name);
}

typedef struct dirctx {
    const dg_attach_entry *entry;
    int fds[MAX_DEPTH + 2];
    /* mtime of each open directory from its DIR record: iptux's RETPARENT
     * carries the times of the last entry it sent, not of the directory
     * (SendFileData.cpp), so the DIR record's time wins when it has one. */
    uint64_t dir_mtime[MAX_DEPTH + 2];
    bool dir_has_mtime[MAX_DEPTH + 2];
    int depth;      /* open directories in fds */
    int skip_depth; /* > 0: inside a refused directory */
    int file;       /* file being written, or -1 */
    char part[DG_SAFENAME_MAX + 1], final[DG_SAFENAME_MAX + 1];
    uint64_t mtime;
    bool has_mtime;
    /* Resuming into the folder of an earlier attempt: GETDIRFILES has no
     * offset, the whole stream comes again; what is already on disk is
     * recognised and its bytes are read past instead of written again. */
    bool resume;
    uint64_t discard; /* bytes of the current file already in its .part */
    char top[DG_SAFENAME_MAX + 1];
} dirctx;

/* A directory of the earlier attempt (resume), never through a symlink; -1 when none. */
static int open_existing_dir(int parent, const char *name)
{
    return openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/*
 * Resume: a file of the earlier attempt. Complete (final name, same size and
 * mtime): its content is read past (returns 1). Partial ("<name>.part" not
 * larger than announced): opened for appending, the bytes it has are read
 * past (returns 0 with c->file set). Otherwise -1: a new file is made.
 */
static int resume_file(dirctx *c, const dg_ds_event *ev, const char *safe)
{
    int dir = c->fds[c->depth];
    struct stat sb;
    if (fstatat(dir, safe, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
        (uint64_t)sb.st_size == ev->hdr->size &&
        (!ev->has_mtime || (uint64_t)sb.st_mtime == ev->mtime)) {
        c->file = -1;
        return 1;
    }
    char part[DG_SAFENAME_MAX + 1];
    fetch_part_name(safe, part);
    if (fstatat(dir, part, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode) ||
        (uint64_t)sb.st_size > ev->hdr->size)
        return -1;
    int fd = openat(dir, part, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    c->file = fd;
    c->discard = (uint64_t)sb.st_size;
    snprintf(c->part, sizeof c->part, "%s", part);
    return 0;
}

static int on_event(fl_job *j, dirctx *c, const dg_ds_event *ev)
{
    char safe[DG_SAFENAME_MAX + 1];
    ipmsg_error err = {0};
    switch (ev->kind) {
    case DG_DS_ENTER_DIR: {
        if (c->skip_depth || dg_safename(ev->hdr->name, ev->hdr->name_len, safe, NULL, &err)) {
            c->skip_depth++;
            j->skipped += c->skip_depth == 1;
            return 0;
        }
        char used[DG_SAFENAME_MAX + 1];
        int parent = c->fds[c->depth];
        /* Resuming: the top folder is the one recorded, whatever the stream calls it. */
        int fd = !c->resume      ? -1
                 : c->depth == 0 ? open_existing_dir(parent, c->top)
                                 : open_existing_dir(parent, safe);
        if (fd < 0 && c->depth == 0)
            c->resume = false; /* the earlier folder is gone: start afresh */
        if (fd < 0) {
            int rc = dg_unique_mkdir(parent, safe, 0755, used);
            if (rc < 0)
                return fail(j, "%s: cannot create the folder (%s)", safe, -rc);
            fd = openat(parent, used, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0)
                return fail(j, "%s: cannot open the folder (%s)", used, errno);
            if (c->depth == 0) {
                /* Recorded at once: a cut download resumes into this folder. */
                snprintf(c->top, sizeof c->top, "%s", used);
                store_item_set(j->st, j->offer, c->entry->file_id, NULL, c->top, false);
            }
        }
        c->fds[++c->depth] = fd;
        c->dir_has_mtime[c->depth] = ev->has_mtime;
        c->dir_mtime[c->depth] = ev->mtime;
        return 0;
    }
    case DG_DS_LEAVE_DIR:
        if (c->skip_depth) {
            c->skip_depth--;
            return 0;
        }
        if (c->dir_has_mtime[c->depth] || ev->has_mtime) {
            uint64_t t = c->dir_has_mtime[c->depth] ? c->dir_mtime[c->depth] : ev->mtime;
            struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = (time_t)t}};
            futimens(c->fds[c->depth], ts);
        }
        close(c->fds[c->depth--]);
        return 0;
    case DG_DS_FILE_BEGIN: {
        c->file = -1;
        if (c->skip_depth || dg_dirhdr_type(ev->hdr) != IPMSG_FILE_REGULAR ||
            dg_safename(ev->hdr->name, ev->hdr->name_len, safe, NULL, &err)) {
            j->skipped += !c->skip_depth;
            return 0; /* symlinks, devices, refused names: content discarded */
        }
        c->discard = 0;
        int have = c->resume ? resume_file(c, ev, safe) : -1;
        if (have == 1)
            return 0; /* complete from the earlier attempt */
        if (have < 0) {
            char part[DG_SAFENAME_MAX + 1];
            fetch_part_name(safe, part);
            int rc = dg_unique_create(c->fds[c->depth], part, 0, 0644, c->part, &c->file);
            if (rc < 0)
                return fail(j, "%s: cannot create (%s)", safe, -rc);
        }
        snprintf(c->final, sizeof c->final, "%s", safe);
        c->has_mtime = ev->has_mtime;
        c->mtime = ev->mtime;
        return 0;
    }
    case DG_DS_FILE_DATA: {
        /* Content of a skipped or complete file, and what a .part already has. */
        size_t past = c->file < 0 ? ev->len : c->discard < ev->len ? (size_t)c->discard : ev->len;
        c->discard -= c->file < 0 ? 0 : past;
        atomic_fetch_add(&j->bytes, (uint64_t)past);
        return past == ev->len
                   ? 0
                   : put(j, c->file, c->part, (const char *)ev->data + past, ev->len - past);
    }
    case DG_DS_FILE_END: {
        if (c->file < 0)
            return 0;
        if (c->has_mtime) {
            struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = (time_t)c->mtime}};
            futimens(c->file, ts);
        }
        close(c->file);
        c->file = -1;
        char used[DG_SAFENAME_MAX + 1];
        return finalize(j, c->fds[c->depth], c->part, c->final, used);
    }
    default:
        return 0;
    }
}

/* top: the folder of an earlier attempt (resume), or NULL. */
static int fetch_dir(fl_job *j, const dg_attach_entry *e, const char *top)
{
    dg_dirstream_limits lim = {.max_total = j->st->cfg.max_size};
    dg_dirstream *d = dg_dirstream_new(&lim);
    dirctx c = {.entry = e, .file = -1, .resume = top != NULL};
    if (top)
        snprintf(c.top, sizeof c.top, "%s", top);
    c.fds[0] = j->dirfd;
    if (!d)
        return fail(j, "%s: out of memory (%s)", e->name, ENOMEM);
    int rc = seal(j, e, false, 0);
    int s = rc == 0 ? request(j, IPMSG_GETDIRFILES, e->file_id, 0) : -1;
    rc = s < 0 ? -1 : 0;
    bool done = false;
    while (rc == 0 && !done) {
        ssize_t n = recv_some(j, s, FL_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ipmsg_error err = {0};
            if (dg_dirstream_finish(d, &err) != IPMSG_OK)
                rc = fail(j, "%s: the folder stream was cut (%s); what arrived is kept", e->name,
                          n == 0 ? ECONNRESET : errno);
            break;
        }
        size_t off = 0;
        while (rc == 0 && !done && off < (size_t)n) {
            size_t used = 0;
            dg_ds_event ev;
            ipmsg_error err = {0};
            int r = dg_dirstream_next(d, j->buf + off, (size_t)n - off, &used, &ev, &err);
            off += used;
            if (r < 0) {
                snprintf(j->reason, sizeof j->reason, "%s: bad folder stream from the sender: %s",
                         e->name, err.reason ? err.reason : "?");
                rc = -1;
            } else if (r == 1 && ev.kind == DG_DS_DONE) {
                done = true;
            } else if (r == 1) {
                rc = on_event(j, &c, &ev);
            } else {
                break;
            }
        }
    }
    close_sock(j);
    if (c.file >= 0)
        close(c.file);
    while (c.depth > 0)
        close(c.fds[c.depth--]);
    dg_dirstream_free(d);
    if (rc == 0)
        store_item_set(j->st, j->offer, e->file_id, NULL, c.top, true);
    return rc;
}

void *fetch_main(void *arg)
{
    fl_job *j = arg;
    j->start_ms = j->last_ms = fl_mono_ms();
    int rc = 0;
    bool any_sealed = false;
    for (size_t i = 0; rc == 0 && i < j->list.count && !atomic_load(&j->cancel); i++) {
        const dg_attach_entry *e = &j->list.entries[i];
        char *part, *final;
        bool done;
        store_item_get(j->st, j->offer, e->file_id, &part, &final, &done);
        if (!done && dg_attach_type(e) == IPMSG_FILE_REGULAR && part && final)
            rc = fetch_file(j, e, part, final);
        else if (!done && dg_attach_type(e) == IPMSG_FILE_DIR)
            rc = fetch_dir(j, e, final);
        else if (!done)
            j->skipped++;
        unseal(j, any_sealed);
        any_sealed = atomic_load(&j->encrypted);
        free(part);
        free(final);
    }
    if (rc != 0 && atomic_load(&j->nocrypto))
        snprintf(j->reason, sizeof j->reason,
                 "file encryption stopped during the transfer; what arrived is kept");
    if (rc == 0 && atomic_load(&j->cancel))
        snprintf(j->reason, sizeof j->reason, "cancelled");
    progress(j, true);
    atomic_store(&j->finished, true);
    fl_thread_finished(j->st);
    return NULL;
}
