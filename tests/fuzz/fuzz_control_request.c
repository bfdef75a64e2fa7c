/*
 * Fuzzes the control socket's input path without I/O: the bytes go through
 * the line framer (in chunks whose sizes come from the input, with a small
 * line limit so the oversize path is reached), every line through the
 * request parser, and every outcome through the response encoder, which must
 * always produce one line of valid JSON echoing the request id.
 */
#include "control/linebuf.h"
#include "control/request.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

/* The encoded response must be exactly one line of JSON with the same id. */
static void check_encoded(const json_t *response)
{
    size_t len = 0;
    char *line = dg_control_encode_response(response, &len);
    CHECK(line != NULL);
    CHECK(len > 0 && line[len - 1] == '\n');
    CHECK(memchr(line, '\n', len - 1) == NULL);
    json_t *back = json_loadb(line, len - 1, 0, NULL);
    CHECK(back != NULL);
    CHECK(json_is_object(back));
    CHECK(json_object_get(back, "result") || json_object_get(back, "error"));
    if (json_object_get(back, "result"))
        CHECK(json_equal(json_object_get(back, "id"), json_object_get(response, "id")));
    json_decref(back);
    free(line);
}

static void handle_line(const char *line, size_t len)
{
    dg_control_request req;
    json_t *error_response = NULL;
    int rc = dg_control_parse_request(line, len, &req, &error_response);
    if (rc == DG_CONTROL_REQUEST_OK) {
        CHECK(error_response == NULL);
        CHECK(req.id != NULL && req.method != NULL);
        CHECK(req.params == NULL || json_is_object(req.params) || json_is_array(req.params));
        /* Echo the params back as a handler would. */
        json_t *response = dg_control_result_response(req.id, req.params);
        CHECK(response != NULL);
        check_encoded(response);
        json_decref(response);
        dg_control_request_clear(&req);
    } else if (rc == DG_CONTROL_REQUEST_ERROR) {
        CHECK(error_response != NULL);
        CHECK(json_is_object(json_object_get(error_response, "error")));
        check_encoded(error_response);
        json_decref(error_response);
    } else {
        CHECK(rc == DG_CONTROL_REQUEST_BLANK);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The whole input as one line (the common case: one request per read). */
    handle_line((const char *)data, size);

    /* Then as a stream: chunk sizes from the first byte, a 512-byte line limit. */
    if (size == 0)
        return 0;
    size_t chunk = (size_t)(data[0] % 64) + 1;
    dg_linebuf lb;
    dg_linebuf_init(&lb, 512);
    size_t off = 1;
    int closed = 0;
    while (off < size && !closed) {
        size_t n = size - off < chunk ? size - off : chunk;
        size_t avail = 0;
        char *p = dg_linebuf_reserve(&lb, n, &avail);
        CHECK(p != NULL && avail >= n);
        memcpy(p, data + off, n);
        dg_linebuf_commit(&lb, n);
        off += n;
        for (;;) {
            const char *line;
            size_t len;
            int rc = dg_linebuf_next(&lb, &line, &len);
            if (rc == DG_LINEBUF_NONE)
                break;
            if (rc == DG_LINEBUF_TOO_LONG) {
                closed = 1;
                break;
            }
            CHECK(len <= 512);
            CHECK(memchr(line, '\n', len) == NULL);
            handle_line(line, len);
        }
        CHECK(closed || dg_linebuf_pending(&lb) <= 512);
    }
    const char *rest;
    size_t rest_len;
    if (!closed && dg_linebuf_rest(&lb, &rest, &rest_len))
        handle_line(rest, rest_len);
    dg_linebuf_free(&lb);
    return 0;
}
