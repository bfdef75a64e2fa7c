/*
 * One control connection: read JSON lines, invoke each request, write each
 * answer as its call completes (so answers may come out of order; the client
 * matches them by id).
 *
 * Answers are not written one by one: they gather in the client's output
 * buffer and go out in one write per loop iteration, from a prepare handle.
 * libuv runs prepare handles just before every poll for I/O, so whatever a
 * callback answered (I/O, timer, async, close or write callback) is written
 * before the loop waits again. A client keeping a hundred calls in flight
 * then costs one write system call, and one wake-up on its side, per burst
 * of answers instead of one per answer.
 *
 * Lifetimes. A ctl_request lives while its call is in flight. A call may be
 * answered synchronously inside dg_rpc_invoke, and the client may start
 * closing while a handler runs, so a request being invoked is only marked
 * (answered / orphaned) and handle_line frees it after invoke returns. The
 * client struct is freed only from the close callbacks of its three handles,
 * which libuv runs after every pending write callback.
 */
#include "control/internal.h"

#include "control/linebuf.h"
#include "control/request.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct ctl_request ctl_request;

struct ctl_request {
    ctl_client *client;
    json_t *id;
    dg_rpc_call *call; /* set once dg_rpc_invoke returns with the call still pending */
    int linked;        /* in client->requests */
    int invoking;      /* inside dg_rpc_invoke: handle_line frees it */
    int answered;      /* done ran while invoking */
    int orphaned;      /* client closed while invoking: detach once the handle is known */
    ctl_request *prev, *next;
};

struct ctl_client {
    dg_control *ctl;
    uv_pipe_t pipe;
    uv_timer_t resume;   /* runs buffered lines after a pause, from a clean stack */
    uv_prepare_t flush;  /* writes the gathered answers before the loop waits */
    char *out;           /* answers gathered since the last write */
    size_t out_len, out_cap;
    int open_handles;
    dg_linebuf in;
    ctl_request *requests;
    size_t n_requests;
    size_t writes; /* uv_write requests not yet called back */
    int counted;   /* included in ctl->n_clients */
    int reading, eof, closing, processing, paused, handles_closed, close_when_flushed;
    ctl_client *prev, *next;
};

typedef struct ctl_write {
    uv_write_t req;
    ctl_client *client;
    char *data;
} ctl_write;

static void begin_close(ctl_client *c, int flush);
static void process(ctl_client *c, int ignore_limits);

ctl_client *dg_control_client_next(ctl_client *c)
{
    return c->next;
}

/* ---- requests ---- */

static void link_request(ctl_client *c, ctl_request *req)
{
    req->next = c->requests;
    if (c->requests)
        c->requests->prev = req;
    c->requests = req;
    req->linked = 1;
    c->n_requests++;
    c->ctl->pending++;
}

static void unlink_request(ctl_client *c, ctl_request *req)
{
    if (!req->linked)
        return;
    if (req->prev)
        req->prev->next = req->next;
    else
        c->requests = req->next;
    if (req->next)
        req->next->prev = req->prev;
    req->prev = req->next = NULL;
    req->linked = 0;
    c->n_requests--;
    c->ctl->pending--;
}

static void free_request(ctl_request *req)
{
    json_decref(req->id);
    free(req);
}

/* ---- output ---- */

static int saturated(const ctl_client *c)
{
    return c->n_requests >= DG_CONTROL_MAX_INFLIGHT ||
           c->out_len + uv_stream_get_write_queue_size((const uv_stream_t *)&c->pipe) >=
               DG_CONTROL_MAX_QUEUED;
}

static void on_resume(uv_timer_t *timer)
{
    ctl_client *c = timer->data;
    c->paused = 0;
    process(c, 0);
}

/* After a pause, continue from a fresh loop iteration, not from inside someone's answer. */
static void schedule_resume(ctl_client *c)
{
    if (c->paused && !c->closing && !saturated(c))
        uv_timer_start(&c->resume, on_resume, 0, 0);
}

static void close_handles(ctl_client *c);

static void on_write(uv_write_t *req, int status)
{
    ctl_write *w = (ctl_write *)req;
    ctl_client *c = w->client;
    free(w->data);
    free(w);
    c->writes--;
    if (status < 0 && status != UV_ECANCELED) {
        dg_log(DG_LOG_DEBUG, "control", "write to client failed: %s", uv_strerror(status));
        begin_close(c, 0);
    } else if (!c->closing) {
        schedule_resume(c);
    }
    if (c->close_when_flushed && c->writes == 0)
        close_handles(c);
}

/* Writes the gathered answers now (also while closing with flush). */
static void flush_output(ctl_client *c)
{
    uv_prepare_stop(&c->flush);
    if (c->out_len == 0 || c->handles_closed)
        return;
    ctl_write *w = calloc(1, sizeof *w);
    if (!w) {
        dg_log(DG_LOG_ERROR, "control", "out of memory answering a client; closing it");
        begin_close(c, 0); /* it would miss answers: close without them */
        return;
    }
    w->data = c->out;
    w->client = c;
    uv_buf_t buf = uv_buf_init(w->data, (unsigned int)c->out_len);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    int rc = uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, on_write);
    if (rc != 0) {
        dg_log(DG_LOG_DEBUG, "control", "write to client failed: %s", uv_strerror(rc));
        free(w->data);
        free(w);
        begin_close(c, 0);
        return;
    }
    c->writes++;
}

static void on_flush(uv_prepare_t *prepare)
{
    flush_output(prepare->data);
}

/* One write hands libuv at most this much (its buffers are unsigned int long). */
#define OUT_FLUSH_AT ((size_t)16 * 1024 * 1024)

/* Adds an encoded line (malloc'd, taken) to the answers written at the end of this iteration. */
static void send_line(ctl_client *c, char *data, size_t len)
{
    if (c->closing) {
        free(data);
        return;
    }
    if (c->out && c->out_len + len > OUT_FLUSH_AT)
        flush_output(c); /* large answers: no huge buffer, no length past unsigned int */
    if (c->closing) {
        free(data);
        return;
    }
    if (!c->out) {
        c->out = data; /* the usual case: the line becomes the buffer, no copy */
        c->out_len = c->out_cap = len;
    } else {
        if (c->out_len + len > c->out_cap) {
            size_t cap = c->out_cap * 2 > c->out_len + len ? c->out_cap * 2 : c->out_len + len;
            char *grown = realloc(c->out, cap);
            if (!grown) {
                free(data);
                dg_log(DG_LOG_ERROR, "control", "out of memory answering a client; closing it");
                begin_close(c, 1); /* the answers gathered so far still go out */
                return;
            }
            c->out = grown;
            c->out_cap = cap;
        }
        memcpy(c->out + c->out_len, data, len);
        c->out_len += len;
        free(data);
    }
    uv_prepare_start(&c->flush, on_flush); /* no-op when already started */
}

/* Queues one response line. response is borrowed. */
static void send_response(ctl_client *c, const json_t *response)
{
    if (c->closing)
        return;
    size_t len = 0;
    char *data = response ? dg_control_encode_response(response, &len) : NULL;
    if (!data) {
        /* A client that would silently miss an answer must learn it: close it. */
        dg_log(DG_LOG_ERROR, "control", "out of memory answering a client; closing it");
        begin_close(c, 1);
        return;
    }
    send_line(c, data, len);
}

static void send_error(ctl_client *c, const json_t *id, int code, const char *message)
{
    json_t *error = dg_rpc_error_new(code, "%s", message);
    json_t *response = error ? dg_control_error_response(id, error) : NULL;
    c->ctl->errors++;
    send_response(c, response);
    json_decref(response);
    json_decref(error);
}

/* ---- calls ---- */

static void request_answered(ctl_request *req);

static void on_done(void *user, const json_t *result, const json_t *error)
{
    ctl_request *req = user;
    ctl_client *c = req->client;
    /* Out of the list first: a close while the answer is queued (out of
     * memory, a write error) must not free req under us. */
    unlink_request(c, req);
    json_t *response = error ? dg_control_error_response(req->id, error)
                             : dg_control_result_response(req->id, result);
    if (error)
        c->ctl->errors++;
    if (!c->closing)
        send_response(c, response); /* NULL response (OOM) closes the client */
    json_decref(response);
    request_answered(req);
}

/* After the answer to req was queued: forget req, maybe close or resume the client. */
static void request_answered(ctl_request *req)
{
    ctl_client *c = req->client;
    unlink_request(c, req);
    int synchronous = req->invoking; /* handle_line frees it and handles the close */
    if (synchronous)
        req->answered = 1;
    else
        free_request(req);
    /* A half-closed client waited for this last answer: now it may go. */
    if (c->eof && c->n_requests == 0 && !c->closing && !synchronous)
        begin_close(c, 1);
    else
        schedule_resume(c);
}

/* An answer given as text (dg_rpc_reply_json): framed like dump_line would frame it. */
static void on_done_json(void *user, const char *json, size_t len)
{
    ctl_request *req = user;
    unlink_request(req->client, req); /* as in on_done */
    json_t *id = req->id ? req->id : json_null();
    char *id_text = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY);
    char *line = NULL;
    size_t line_len = 0;
    if (id_text && dg_control_frame_result(id_text, json, len, &line, &line_len) == 0)
        send_line(req->client, line, line_len); /* takes line */
    else if (!req->client->closing)
        begin_close(req->client, 1); /* out of memory: the client must not miss an answer */
    free(id_text);
    request_answered(req);
}

static void handle_line(ctl_client *c, const char *line, size_t len)
{
    dg_control *ctl = c->ctl;
    dg_control_request parsed;
    json_t *error_response = NULL;
    int rc = dg_control_parse_request(line, len, &parsed, &error_response);
    if (rc == DG_CONTROL_REQUEST_BLANK)
        return;
    ctl->requests++;
    if (rc != DG_CONTROL_REQUEST_OK) {
        ctl->errors++;
        send_response(c, error_response);
        json_decref(error_response);
        return;
    }

    ctl_request *req = calloc(1, sizeof *req);
    if (!req) {
        send_error(c, parsed.id, DG_RPC_INTERNAL_ERROR, "out of memory");
        dg_control_request_clear(&parsed);
        return;
    }
    req->client = c;
    req->id = parsed.id; /* moved */
    parsed.id = NULL;
    link_request(c, req);

    req->invoking = 1;
    dg_rpc_call *call =
        dg_rpc_invoke_ex(ctl->rpc, parsed.method, parsed.params, on_done, on_done_json, req);
    req->invoking = 0;
    dg_control_request_clear(&parsed);

    if (req->answered) {
        free_request(req);
    } else if (req->orphaned || !call) {
        /* The client closed during the handler (or invoke broke its contract). */
        if (call)
            dg_rpc_detach(call);
        unlink_request(c, req);
        free_request(req);
    } else {
        req->call = call;
    }
}

/* ---- input ---- */

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    ctl_client *c = handle->data;
    size_t avail = 0;
    char *p = dg_linebuf_reserve(&c->in, suggested, &avail);
    /*
     * The buffer never exceeds about DG_CONTROL_MAX_LINE + suggested, so avail
     * fits an unsigned int. On failure libuv reports UV_ENOBUFS to on_read,
     * which closes the client.
     */
    *buf = uv_buf_init(p, p ? (unsigned int)avail : 0);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void update_reading(ctl_client *c)
{
    int want = !c->closing && !c->eof && !c->paused;
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) == 0)
            c->reading = 1;
        else
            begin_close(c, 0);
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->reading = 0;
    }
}

/*
 * Handles complete buffered lines until the client saturates (then pauses
 * reading). ignore_limits: at end of input everything buffered is handled;
 * the buffer bounds the work.
 */
static void process(ctl_client *c, int ignore_limits)
{
    if (c->processing || c->closing)
        return;
    c->processing = 1;
    while (!c->closing) {
        if (!ignore_limits && saturated(c)) {
            c->paused = 1;
            break;
        }
        const char *line;
        size_t len;
        int rc = dg_linebuf_next(&c->in, &line, &len);
        if (rc == DG_LINEBUF_NONE)
            break;
        if (rc == DG_LINEBUF_TOO_LONG) {
            char msg[96];
            snprintf(msg, sizeof msg, "invalid request: line longer than %zu bytes; closing",
                     DG_CONTROL_MAX_LINE);
            c->ctl->requests++;
            send_error(c, NULL, DG_RPC_INVALID_REQUEST, msg);
            begin_close(c, 1);
            break;
        }
        handle_line(c, line, len);
    }
    c->processing = 0;
    if (!c->closing)
        update_reading(c);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    ctl_client *c = stream->data;
    if (nread > 0) {
        dg_linebuf_commit(&c->in, (size_t)nread);
        process(c, 0);
    } else if (nread == UV_EOF) {
        /*
         * The client closed its writing end (`printf ... | socat`, `nc -N`):
         * answer what it sent, an unterminated last line too. Calls still in
         * flight keep the connection open until they answer; a client that
         * vanished entirely shows up as a write or read error instead.
         */
        c->eof = 1;
        update_reading(c);
        process(c, 1);
        const char *line;
        size_t len;
        if (!c->closing && dg_linebuf_rest(&c->in, &line, &len))
            handle_line(c, line, len);
        if (!c->closing && c->n_requests == 0)
            begin_close(c, 1);
    } else if (nread < 0) {
        dg_log(DG_LOG_DEBUG, "control", "client read failed: %s", uv_strerror((int)nread));
        begin_close(c, 0);
    }
}

/* ---- lifetime ---- */

static void on_handle_closed(uv_handle_t *handle)
{
    ctl_client *c = handle->data;
    if (--c->open_handles > 0)
        return;
    dg_control *ctl = c->ctl;
    if (c->prev)
        c->prev->next = c->next;
    else
        ctl->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    dg_linebuf_free(&c->in);
    free(c->out);
    free(c);
    dg_control_unit_closed(ctl);
}

static void close_handles(ctl_client *c)
{
    if (c->handles_closed)
        return;
    c->handles_closed = 1;
    uv_close((uv_handle_t *)&c->pipe, on_handle_closed);
    uv_close((uv_handle_t *)&c->resume, on_handle_closed);
    uv_close((uv_handle_t *)&c->flush, on_handle_closed);
}

/* flush: let queued responses go out first (an error that explains the close). */
static void begin_close(ctl_client *c, int flush)
{
    if (!c->closing) {
        c->closing = 1;
        if (c->reading) {
            uv_read_stop((uv_stream_t *)&c->pipe);
            c->reading = 0;
        }
        uv_timer_stop(&c->resume);
        if (c->counted) {
            c->ctl->n_clients--;
            c->counted = 0;
        }
        while (c->requests) {
            ctl_request *req = c->requests;
            unlink_request(c, req);
            if (req->invoking) {
                req->orphaned = 1; /* handle_line detaches and frees it */
            } else {
                dg_rpc_detach(req->call);
                free_request(req);
            }
        }
    }
    if (flush)
        flush_output(c);
    if (flush && c->writes > 0)
        c->close_when_flushed = 1;
    else
        close_handles(c);
}

void dg_control_client_close(ctl_client *c)
{
    /* Answers already given (calls answered at shutdown) go out if the socket takes them now. */
    flush_output(c);
    begin_close(c, 0);
}

/* Same user (or root) only: the 0600 mode should already ensure it; this checks it. */
static int peer_allowed(ctl_client *c)
{
#ifdef SO_PEERCRED
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return 0;
    if (cred.uid != geteuid() && cred.uid != 0) {
        dg_log(DG_LOG_WARN, "control", "refused connection from uid %u (pid %d)",
               (unsigned)cred.uid, (int)cred.pid);
        return 0;
    }
#endif
    return 1;
}

void dg_control_client_accept(dg_control *ctl)
{
    ctl_client *c = calloc(1, sizeof *c);
    if (!c) {
        /* libuv holds the accepted fd and pauses the listener until the next accept. */
        dg_log(DG_LOG_ERROR, "control", "out of memory accepting a client");
        return;
    }
    c->ctl = ctl;
    dg_linebuf_init(&c->in, DG_CONTROL_MAX_LINE);
    uv_pipe_init(ctl->loop, &c->pipe, 0);
    uv_timer_init(ctl->loop, &c->resume);
    uv_prepare_init(ctl->loop, &c->flush);
    c->pipe.data = c;
    c->resume.data = c;
    c->flush.data = c;
    c->open_handles = 3;
    c->next = ctl->clients;
    if (ctl->clients)
        ctl->clients->prev = c;
    ctl->clients = c;
    ctl->open_units++;

    int rc = uv_accept((uv_stream_t *)&ctl->listener, (uv_stream_t *)&c->pipe);
    if (rc != 0) {
        dg_log(DG_LOG_WARN, "control", "accept failed: %s", uv_strerror(rc));
        begin_close(c, 0);
        return;
    }
    if (!peer_allowed(c)) {
        begin_close(c, 0);
        return;
    }
    if (ctl->n_clients >= DG_CONTROL_MAX_CLIENTS) {
        send_error(c, NULL, DG_RPC_FAILED, "too many control connections; try again later");
        begin_close(c, 1);
        return;
    }
    c->counted = 1;
    ctl->n_clients++;
    update_reading(c);
}
