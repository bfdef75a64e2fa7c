#include "server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirhdr.h"
#include "fcrypto.h"
#include "ipmsg_proto.h"
#include "request.h"
#include "share.h"
#include "sockio.h"

/* A request is one small packet (a few dozen bytes; user and host names at most). */
#define REQ_MAX 8192
/* Deepest folder served: the receivers' decoders stop at 64 too. */
#define SERVE_MAX_DEPTH 64
/* sendfile(2) chunk: the stop flag is checked between chunks. */
#define SEND_CHUNK (8u << 20)
/* Buffer of an encrypted answer (read, encrypt, write): memory stays bounded. */
#define CRYPT_BUF (256u * 1024u)

typedef struct fl_conn {
    struct fl_conn *next;
    fl_state *st;
    int fd;
    uint32_t ip;
    uint32_t share_pkt; /* the offer asked for, set under st->lock before the claim */
    uint32_t file_id;
    bool has_pkt;
    /* An encrypted answer (§6.6): every byte goes through the cipher, no sendfile. */
    fl_cipher cipher;
    atomic_bool encrypted;
    uint8_t *cbuf; /* CRYPT_BUF bytes while encrypted */
    pthread_t th;
    atomic_bool finished;
    atomic_int stop; /* STOP_*: checked between chunks */
} fl_conn;

/* Why a transfer was stopped from outside its thread. */
enum { STOP_NONE = 0, STOP_CANCELLED = 1, STOP_REPLACED = 2, STOP_NOCRYPTO = 3 };

/* How long a request waits for an older transfer of the same file to the
 * same recipient to stop (see replace_older). */
#define REPLACE_WAIT_MS 5000

/* Reads until the request's NUL (or EOF / full buffer). Length or -1. */
static ssize_t read_request(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len < cap) {
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return len > 0 && n == 0 ? (ssize_t)len : -1;
        if (memchr(buf + len, '\0', (size_t)n))
            return (ssize_t)(len + (size_t)n);
        len += (size_t)n;
    }
    return (ssize_t)len;
}

/* Writes len bytes of p to the connection, through the cipher when encrypted. */
static int conn_write(fl_conn *c, const void *p, size_t len)
{
    if (!fcrypto_active(&c->cipher))
        return fl_write_all(c->fd, p, len);
    const uint8_t *in = p;
    while (len > 0) {
        size_t n = len < CRYPT_BUF ? len : CRYPT_BUF;
        memcpy(c->cbuf, in, n);
        if (fcrypto_apply(&c->cipher, c->cbuf, n) != 0)
            return -EIO;
        int rc = fl_write_all(c->fd, c->cbuf, n);
        if (rc != 0)
            return rc;
        in += n;
        len -= n;
    }
    return 0;
}

/* The encrypted form of send_file_bytes: read, encrypt in place, write. */
static int send_file_encrypted(fl_conn *c, int in, uint64_t len)
{
    while (len > 0) {
        if (atomic_load(&c->stop))
            return -ECANCELED;
        size_t want = len > CRYPT_BUF ? CRYPT_BUF : (size_t)len;
        ssize_t n = read(in, c->cbuf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO; /* the file shrank while being sent */
        if (fcrypto_apply(&c->cipher, c->cbuf, (size_t)n) != 0)
            return -EIO;
        int rc = fl_write_all(c->fd, c->cbuf, (size_t)n);
        if (rc != 0)
            return rc;
        len -= (uint64_t)n;
    }
    return 0;
}

/* Sends exactly len bytes of in from its current offset; 0 or -errno. */
static int send_file_bytes(fl_conn *c, int in, uint64_t len)
{
    if (fcrypto_active(&c->cipher))
        return send_file_encrypted(c, in, len);
    int out = c->fd;
    while (len > 0) {
        if (atomic_load(&c->stop))
            return -ECANCELED;
        size_t chunk = len > SEND_CHUNK ? SEND_CHUNK : (size_t)len;
        ssize_t n = sendfile(out, in, NULL, chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO; /* the file shrank while being sent */
        len -= (uint64_t)n;
    }
    return 0;
}

static int put_header(fl_conn *c, const char *name, uint64_t size, uint32_t attr, int64_t mtime)
{
    dg_dirhdr h = {.name = name, .name_len = strlen(name), .size = size, .attr = attr};
    /* "14=mtime:16=createtime" like Windows and iptux. Linux has no portable
     * creation time, so the mtime goes in both: iptux reads the second field
     * as the modification time it sets (and leaves it undefined without one). */
    dg_dirhdr_set_ext(&h, IPMSG_FILE_MTIME, (uint64_t)mtime);
    dg_dirhdr_set_ext(&h, IPMSG_FILE_CREATETIME, (uint64_t)mtime);
    char buf[1024];
    size_t len;
    ipmsg_error err;
    if (dg_dirhdr_format(&h, buf, sizeof buf, &len, &err) != IPMSG_OK)
        return -EINVAL;
    return conn_write(c, buf, len);
}

/* One folder: DIR header, its entries, RETPARENT with its mtime (§5.3). dirfd is consumed. */
static int serve_dir(fl_conn *c, int dirfd, const char *name, int depth, uint64_t *sent)
{
    struct stat sb;
    if (depth > SERVE_MAX_DEPTH || fstat(dirfd, &sb) != 0) {
        close(dirfd);
        return -ELOOP;
    }
    int rc = put_header(c, name, 0, IPMSG_FILE_DIR, (int64_t)sb.st_mtime);
    DIR *d = rc == 0 ? fdopendir(dirfd) : NULL;
    if (!d) {
        close(dirfd);
        return rc ? rc : -errno;
    }
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat es;
        if (fstatat(dirfd, e->d_name, &es, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISDIR(es.st_mode)) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                rc = serve_dir(c, sub, e->d_name, depth + 1, sent);
        } else if (S_ISREG(es.st_mode)) {
            /* Symlinks, devices, sockets: skipped, never followed. */
            int f = openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            struct stat fs;
            if (f < 0)
                continue;
            if (fstat(f, &fs) == 0 && S_ISREG(fs.st_mode)) {
                rc = put_header(c, e->d_name, (uint64_t)fs.st_size, IPMSG_FILE_REGULAR,
                                (int64_t)fs.st_mtime);
                if (rc == 0)
                    rc = send_file_bytes(c, f, (uint64_t)fs.st_size);
                *sent += (uint64_t)fs.st_size;
            }
            close(f);
        }
    }
    closedir(d);
    return rc ? rc : put_header(c, ".", 0, IPMSG_FILE_RETPARENT, (int64_t)sb.st_mtime);
}

/* record: a regular file asked with GETDIRFILES (§6.6): one REGULAR header, then its bytes. */
static int serve_file(fl_conn *c, const char *path, const char *name, bool record, uint64_t offset,
                      uint64_t *sent)
{
    int f = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (f < 0)
        return -errno;
    int rc = 0;
    if (fstat(f, &sb) != 0 || !S_ISREG(sb.st_mode))
        rc = -EINVAL;
    else if (offset > (uint64_t)sb.st_size)
        rc = -ERANGE;
    else if (lseek(f, (off_t)offset, SEEK_SET) < 0)
        rc = -errno;
    else if (record && (rc = put_header(c, name, (uint64_t)sb.st_size, IPMSG_FILE_REGULAR,
                                        (int64_t)sb.st_mtime)) != 0)
        ;
    else
        rc = send_file_bytes(c, f, (uint64_t)sb.st_size - offset);
    if (rc == 0)
        *sent = (uint64_t)sb.st_size - offset;
    close(f);
    return rc;
}

/*
 * A recipient asks again for a file we are still sending it: its side of the
 * older connection is gone (it cancelled, crashed or lost the link and
 * resumes) while ours has not noticed yet. The older transfer is stopped like
 * a cancel; returns how many were.
 */
static int replace_older(fl_conn *c)
{
    int n = 0;
    pthread_mutex_lock(&c->st->lock);
    for (fl_conn *o = c->st->conns; o; o = o->next)
        if (o != c && o->has_pkt && o->ip == c->ip && o->share_pkt == c->share_pkt &&
            o->file_id == c->file_id && !atomic_load(&o->finished)) {
            atomic_store(&o->stop, STOP_REPLACED);
            shutdown(o->fd, SHUT_RDWR);
            n++;
        }
    pthread_mutex_unlock(&c->st->lock);
    return n;
}

/*
 * Reads and parses the request. An ENCRYPTOPT request goes to the files.crypto
 * provider (§6.6); a verified one names its requester (key), who is then
 * served from any address. 0, or -1 (logged: the connection closes unanswered).
 */
static int take_request(fl_conn *c, const char *a, dg_file_request *req, char *key, size_t keycap,
                        bool *sealed, bool *encrypted)
{
    fl_state *st = c->st;
    char buf[REQ_MAX];
    ssize_t len = read_request(c->fd, buf, sizeof buf);
    ipmsg_error ierr = {0};
    *sealed = *encrypted = false;
    key[0] = '\0';
    if (len <= 0) {
        st->api->log(st->ctx, DG_LOG_INFO, "bad file request from %s: nothing read", a);
        return -1;
    }
    ipmsg_slice pn;
    if (dg_file_request_parse_sealed(buf, (size_t)len, req, &pn, &ierr) == IPMSG_OK) {
        char err[256];
        bool verified;
        /* Flagged first: a provider going away meanwhile stops this transfer. */
        atomic_store(&c->encrypted, true);
        if (fcrypto_open(st, req, pn, a, &verified, key, keycap, &c->cipher, err, sizeof err) !=
            0) {
            st->api->log(st->ctx, DG_LOG_INFO, "encrypted file request from %s refused: %s", a,
                         err);
            return -1;
        }
        if (fcrypto_active(&c->cipher)) {
            c->cbuf = malloc(CRYPT_BUF);
            if (!c->cbuf) {
                fcrypto_end(st, &c->cipher);
                return -1;
            }
        } else {
            atomic_store(&c->encrypted, false);
        }
        *sealed = true;
        *encrypted = fcrypto_active(&c->cipher);
        return 0;
    }
    if (dg_file_request_parse(buf, (size_t)len, req, &ierr) != IPMSG_OK) {
        st->api->log(st->ctx, DG_LOG_INFO, "bad file request from %s: %s", a, ierr.reason);
        return -1;
    }
    return 0;
}

static void serve(fl_conn *c)
{
    fl_state *st = c->st;
    char a[INET_ADDRSTRLEN];
    struct in_addr ia = {.s_addr = htonl(c->ip)};
    inet_ntop(AF_INET, &ia, a, sizeof a);
    dg_file_request req;
    char key[300];
    bool sealed, encrypted;
    if (take_request(c, a, &req, key, sizeof key, &sealed, &encrypted) != 0)
        return;
    const char *by_key = key[0] ? key : NULL;
    /* Marked before the claim: a files.cancel {share} either drops the offer
     * first (the claim fails) or finds this connection to stop. */
    pthread_mutex_lock(&st->lock);
    c->share_pkt = req.req.share_pkt;
    c->file_id = req.req.file_id;
    c->has_pkt = true;
    pthread_mutex_unlock(&st->lock);
    /* §6.6: a receiver that seals its requests asks GETDIRFILES for regular
     * files too, whether the body is encrypted (AES) or not (NOENC_FILEBODY,
     * signed only). */
    int kind = req.pkt.mode != IPMSG_GETDIRFILES ? FL_KIND_FILE
               : sealed                          ? FL_KIND_ANY
                                                 : FL_KIND_DIR;
    bool dir = false;
    char *path = NULL, *name = NULL, err[256];
    int claimed = share_claim(st, req.req.share_pkt, req.req.file_id, c->ip, by_key, kind, &path,
                              &name, &dir, err, sizeof err);
    uint64_t t0 = fl_mono_ms();
    while (claimed == FL_CLAIM_BUSY && fl_mono_ms() - t0 < REPLACE_WAIT_MS) {
        /* The older thread releases its claim once its send fails, then ends:
         * one more try after it is gone. */
        bool older = replace_older(c) > 0;
        if (older)
            usleep(20000);
        claimed = share_claim(st, req.req.share_pkt, req.req.file_id, c->ip, by_key, kind, &path,
                              &name, &dir, err, sizeof err);
        if (!older)
            break;
    }
    if (claimed != 0) {
        st->api->log(st->ctx, DG_LOG_INFO, "file request from %s refused: %s", a, err);
        return;
    }
    uint64_t sent = 0;
    int rc;
    if (dir) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        rc = fd < 0 ? -errno : serve_dir(c, fd, name, 0, &sent);
    } else {
        bool record = req.pkt.mode == IPMSG_GETDIRFILES;
        rc = serve_file(c, path, name, record, record ? 0 : req.req.offset, &sent);
    }
    int stop = atomic_load(&c->stop);
    if (stop)
        rc = -ECANCELED; /* a send cut by shutdown() reports EPIPE otherwise */
    /* A clean end: wait for the receiver to close, so "sent" means "received". */
    if (rc == 0) {
        shutdown(c->fd, SHUT_WR);
        char tmp[64];
        while (recv(c->fd, tmp, sizeof tmp, 0) > 0)
            ;
    }
    share_release_claim(st, req.req.share_pkt, req.req.file_id, c->ip, by_key, rc == 0);
    const char *why = rc == 0                  ? ""
                      : stop == STOP_CANCELLED ? "cancelled by the sender (files.cancel)"
                      : stop == STOP_REPLACED  ? "replaced by a new request of the recipient"
                      : stop == STOP_NOCRYPTO  ? "file encryption stopped"
                                               : strerror(-rc);
    st->api->log(st->ctx, DG_LOG_INFO, "%s %s to %s%s: %s (%llu bytes)", dir ? "folder" : "file",
                 name, a, encrypted ? " (encrypted)" : "", rc == 0 ? "sent" : why,
                 (unsigned long long)sent);
    st->api->publish_ordered(
        st->ctx, rc == 0 ? "files.sent" : "files.send_failed",
        json_pack("{s:I, s:I, s:s, s:s, s:I, s:s, s:b}", "id", (json_int_t)req.req.share_pkt,
                  "file_id", (json_int_t)req.req.file_id, "name", name, "address", a, "bytes",
                  (json_int_t)sent, "reason", why, "encrypted", encrypted));
    free(path);
    free(name);
}

static void *conn_main(void *arg)
{
    fl_conn *c = arg;
    serve(c);
    pthread_mutex_lock(&c->st->lock);
    shutdown(c->fd, SHUT_RDWR);
    pthread_mutex_unlock(&c->st->lock);
    /* The provider may go once no stream of it is alive. */
    fcrypto_end(c->st, &c->cipher);
    atomic_store(&c->encrypted, false);
    free(c->cbuf);
    c->cbuf = NULL;
    atomic_store(&c->finished, true);
    fl_thread_finished(c->st);
    return NULL;
}

static void conn_free_joined(fl_conn *c)
{
    pthread_join(c->th, NULL);
    close(c->fd);
    free(c);
}

void server_reap(fl_state *st)
{
    fl_conn *done = NULL;
    pthread_mutex_lock(&st->lock);
    for (fl_conn **pp = &st->conns; *pp;) {
        fl_conn *c = *pp;
        if (atomic_load(&c->finished)) {
            *pp = c->next;
            c->next = done;
            done = c;
            st->n_conns--;
        } else {
            pp = &c->next;
        }
    }
    pthread_mutex_unlock(&st->lock);
    while (done) {
        fl_conn *c = done;
        done = c->next;
        conn_free_joined(c);
    }
}

static void on_accept(dg_ctx *ctx, dg_io *io, int fd, int events, int status, void *user)
{
    fl_state *st = user;
    server_reap(st);
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int c = accept4(fd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
        if (c < 0)
            return; /* EAGAIN: the listener is non-blocking */
        if (atomic_load(&st->stopping) || st->n_conns >= FL_MAX_CONNS) {
            close(c);
            continue;
        }
        fl_sock_timeouts(c, st->cfg.timeout_s);
        fl_conn *conn = calloc(1, sizeof(*conn));
        if (!conn) {
            close(c);
            continue;
        }
        conn->st = st;
        conn->fd = c;
        conn->ip = ntohl(sa.sin_addr.s_addr);
        pthread_mutex_lock(&st->lock);
        if (pthread_create(&conn->th, NULL, conn_main, conn) != 0) {
            pthread_mutex_unlock(&st->lock);
            close(c);
            free(conn);
            continue;
        }
        conn->next = st->conns;
        st->conns = conn;
        st->n_conns++;
        pthread_mutex_unlock(&st->lock);
    }
}

int server_start(fl_state *st)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(st->port)};
    if (inet_pton(AF_INET, st->bind_addr, &sa.sin_addr) != 1 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) {
        st->api->log(st->ctx, DG_LOG_ERROR,
                     "cannot listen on TCP %s:%u (%s): files can be received but not offered",
                     st->bind_addr, (unsigned)st->port, strerror(errno));
        close(fd);
        return -1;
    }
    st->listen_io = st->api->io_watch(st->ctx, fd, DG_IO_READ, on_accept, st, NULL);
    if (!st->listen_io)
        return -1;
    st->listening = true;
    return 0;
}

int server_cancel_share(fl_state *st, uint32_t packet_no)
{
    int n = 0;
    pthread_mutex_lock(&st->lock);
    for (fl_conn *c = st->conns; c; c = c->next)
        if (c->has_pkt && c->share_pkt == packet_no && !atomic_load(&c->finished)) {
            atomic_store(&c->stop, STOP_CANCELLED);
            shutdown(c->fd, SHUT_RDWR); /* wakes a blocked sendfile at once */
            n++;
        }
    pthread_mutex_unlock(&st->lock);
    return n;
}

void server_stop_encrypted(fl_state *st)
{
    pthread_mutex_lock(&st->lock);
    for (fl_conn *c = st->conns; c; c = c->next)
        if (atomic_load(&c->encrypted) && !atomic_load(&c->finished)) {
            atomic_store(&c->stop, STOP_NOCRYPTO);
            shutdown(c->fd, SHUT_RDWR);
        }
    pthread_mutex_unlock(&st->lock);
}

void server_stop(fl_state *st)
{
    pthread_mutex_lock(&st->lock);
    for (fl_conn *c = st->conns; c; c = c->next)
        shutdown(c->fd, SHUT_RDWR);
    fl_conn *all = st->conns;
    st->conns = NULL;
    st->n_conns = 0;
    pthread_mutex_unlock(&st->lock);
    while (all) {
        fl_conn *c = all;
        all = c->next;
        conn_free_joined(c);
    }
}
