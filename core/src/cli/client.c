/* One request/response over the control socket (see client.h). */
#include "cli/client.h"

#include "cli/cli.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The request id; the daemon answers only our one request, but check anyway. */
#define REQUEST_ID 1
/* A response larger than this is refused rather than exhausting memory. */
#define MAX_RESPONSE ((size_t)256 * 1024 * 1024)

typedef struct deadline {
    int infinite;
    struct timespec at;
} deadline;

static deadline deadline_in(double seconds)
{
    deadline d = {.infinite = seconds <= 0};
    clock_gettime(CLOCK_MONOTONIC, &d.at);
    if (!d.infinite) {
        long long ns = (long long)(seconds * 1e9);
        d.at.tv_sec += (time_t)(ns / 1000000000LL);
        d.at.tv_nsec += (long)(ns % 1000000000LL);
        if (d.at.tv_nsec >= 1000000000L) {
            d.at.tv_sec++;
            d.at.tv_nsec -= 1000000000L;
        }
    }
    return d;
}

/* Milliseconds left for poll(): -1 = forever, 0 = expired. */
static int remaining_ms(const deadline *d)
{
    if (d->infinite)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms =
        (long long)(d->at.tv_sec - now.tv_sec) * 1000 + (d->at.tv_nsec - now.tv_nsec) / 1000000;
    if (ms <= 0)
        return 0;
    return ms > 1000000000 ? 1000000000 : (int)ms;
}

static json_t *local_error(const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static json_t *local_error(const char *kind, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_pack("{s:s,s:s}", "message", msg, "kind", kind);
}

/* Waits for events on fd until the deadline. 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, const deadline *d)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int ms = remaining_ms(d);
        if (ms == 0)
            return 0;
        int rc = poll(&p, 1, ms);
        if (rc > 0)
            return 1;
        if (rc == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

static int connect_socket(const char *path, const deadline *d, int *out, json_t **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        *error = local_error("connection", "socket path too long (max %zu bytes): %s",
                             sizeof sa.sun_path - 1, path);
        return CLI_EXIT_FAIL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        *error = local_error("connection", "cannot create a socket: %s", strerror(errno));
        return CLI_EXIT_FAIL;
    }
    for (;;) {
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            *out = fd;
            return CLI_EXIT_OK;
        }
        int e = errno;
        if (e == EINTR)
            continue;
        /* EAGAIN: the daemon's accept backlog is full (busy, not dead): retry until the deadline.
         */
        if (e == EAGAIN && remaining_ms(d) != 0) {
            poll(NULL, 0, 10);
            continue;
        }
        close(fd);
        if (e == ENOENT || e == ENOTDIR) {
            *error = local_error(
                "not_running", "daemon not running (no socket at %s); start it with dengond", path);
            return CLI_EXIT_NOT_RUNNING;
        }
        if (e == ECONNREFUSED) {
            *error = local_error(
                "not_running", "daemon not running (nothing listens on %s); start it with dengond",
                path);
            return CLI_EXIT_NOT_RUNNING;
        }
        if (e == EAGAIN) {
            *error = local_error("timeout", "timed out connecting to %s (daemon busy)", path);
            return CLI_EXIT_FAIL;
        }
        *error = local_error("connection", "cannot connect to %s: %s", path, strerror(e));
        return CLI_EXIT_FAIL;
    }
}

static int send_all(int fd, const char *data, size_t len, const deadline *d, json_t **error)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            int w = wait_fd(fd, POLLOUT, d);
            if (w > 0)
                continue;
            *error = w == 0 ? local_error("timeout", "timed out sending the request")
                            : local_error("connection", "poll failed: %s", strerror(errno));
            return CLI_EXIT_FAIL;
        }
        *error = local_error("connection", "cannot send the request: %s", strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* Interprets one response line: ours (1, *status set) or not (0). */
static int take_response(const char *line, size_t len, json_t **result, json_t **error, int *status)
{
    json_error_t jerr;
    json_t *resp = json_loadb(line, len, 0, &jerr);
    if (!json_is_object(resp)) {
        json_decref(resp);
        *error = local_error("protocol", "unreadable answer from dengond: %s",
                             resp ? "not an object" : jerr.text);
        *status = CLI_EXIT_FAIL;
        return 1;
    }
    json_t *id = json_object_get(resp, "id");
    /* Errors about the line itself come with id null: they are about ours too. */
    if (!json_is_null(id) && json_integer_value(id) != REQUEST_ID) {
        json_decref(resp);
        return 0;
    }
    json_t *res = json_object_get(resp, "result");
    json_t *err = json_object_get(resp, "error");
    if (err) {
        *error = json_is_object(err) ? json_incref(err)
                                     : local_error("protocol", "malformed error from dengond");
        *status = CLI_EXIT_FAIL;
    } else if (res) {
        *result = json_incref(res);
        *status = CLI_EXIT_OK;
    } else {
        *error = local_error("protocol", "answer from dengond has neither result nor error");
        *status = CLI_EXIT_FAIL;
    }
    json_decref(resp);
    return 1;
}

/* How the daemon frames a result for our request (core/src/control/request.c, JSON_COMPACT). */
#define RESULT_PREFIX "{\"id\":1,\"result\":"

/*
 * The result's text when the line has the daemon's usual framing; taking it
 * as it is saves parsing and re-serialising a large answer (a users.list of
 * 10,000 people is 3 MB). Any other line goes through take_response.
 */
static int take_result_text(const char *line, size_t len, char **text)
{
    const size_t prefix = sizeof RESULT_PREFIX - 1;
    if (len < prefix + 2 || memcmp(line, RESULT_PREFIX, prefix) != 0 || line[len - 1] != '}')
        return 0;
    *text = strndup(line + prefix, len - prefix - 1);
    return *text != NULL;
}

/* One answer: *result, or with text != NULL *text (the result serialised). */
static int receive(int fd, const deadline *d, json_t **result, char **text, json_t **error)
{
    char *buf = NULL;
    size_t len = 0, cap = 0, scanned = 0;
    int status = CLI_EXIT_FAIL;
    for (;;) {
        char *nl = len > scanned ? memchr(buf + scanned, '\n', len - scanned) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - buf);
            if (text && take_result_text(buf, n, text)) {
                status = CLI_EXIT_OK;
                break;
            }
            if (take_response(buf, n, result, error, &status))
                break;
            memmove(buf, nl + 1, len - n - 1);
            len -= n + 1;
            scanned = 0;
            continue;
        }
        scanned = len;
        if (cap - len < 65536) {
            if (cap >= MAX_RESPONSE) {
                *error = local_error("protocol", "answer from dengond exceeds %zu MiB",
                                     MAX_RESPONSE >> 20);
                break;
            }
            size_t ncap = cap ? cap * 2 : 65536 * 2;
            char *grown = realloc(buf, ncap);
            if (!grown) {
                *error = local_error("protocol", "out of memory reading the answer");
                break;
            }
            buf = grown;
            cap = ncap;
        }
        ssize_t got = recv(fd, buf + len, cap - len, 0);
        if (got > 0) {
            len += (size_t)got;
            continue;
        }
        if (got == 0) {
            *error = local_error("connection", "dengond closed the connection without answering");
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            int w = wait_fd(fd, POLLIN, d);
            if (w > 0)
                continue;
            *error = w == 0 ? local_error("timeout", "timed out waiting for dengond to answer")
                            : local_error("connection", "poll failed: %s", strerror(errno));
            break;
        }
        *error = local_error("connection", "cannot read the answer: %s", strerror(errno));
        break;
    }
    free(buf);
    if (status == CLI_EXIT_OK && text && !*text) { /* answered, but not in the usual framing */
        *text = json_dumps(*result, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(*result);
        *result = NULL;
        if (!*text) {
            *error = local_error("protocol", "out of memory");
            status = CLI_EXIT_FAIL;
        }
    }
    return status;
}

static int call(const char *socket_path, const char *method, const json_t *params, double timeout_s,
                json_t **result, char **text, json_t **error)
{
    *result = NULL;
    *error = NULL;
    if (text)
        *text = NULL;
    deadline d = deadline_in(timeout_s);
    json_t *req = json_pack("{s:i,s:s}", "id", REQUEST_ID, "method", method);
    if (req && params)
        json_object_set(req, "params", (json_t *)params);
    char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!line) {
        *error = local_error("protocol", "cannot encode the request");
        return CLI_EXIT_FAIL;
    }
    size_t len = strlen(line);
    char *framed = realloc(line, len + 2);
    if (!framed) {
        free(line);
        *error = local_error("protocol", "out of memory");
        return CLI_EXIT_FAIL;
    }
    framed[len] = '\n';
    framed[len + 1] = '\0';

    int fd = -1;
    int status = connect_socket(socket_path, &d, &fd, error);
    if (status == CLI_EXIT_OK)
        status = send_all(fd, framed, len + 1, &d, error);
    if (status == CLI_EXIT_OK)
        status = receive(fd, &d, result, text, error);
    if (fd >= 0)
        close(fd);
    free(framed);
    return status;
}

int cli_call(const char *socket_path, const char *method, const json_t *params, double timeout_s,
             json_t **result, json_t **error)
{
    return call(socket_path, method, params, timeout_s, result, NULL, error);
}

int cli_call_text(const char *socket_path, const char *method, const json_t *params,
                  double timeout_s, char **text, json_t **error)
{
    json_t *unused = NULL;
    int status = call(socket_path, method, params, timeout_s, &unused, text, error);
    json_decref(unused);
    return status;
}
