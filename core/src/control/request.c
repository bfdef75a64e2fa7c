/* Request-line parsing and response encoding (see request.h). */
#include "control/request.h"

#include "rpc/rpc.h"

#include <stdlib.h>
#include <string.h>

static int is_blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return 0;
    return 1;
}

static json_t *invalid(const json_t *id, const char *message)
{
    json_t *error = dg_rpc_error_new(DG_RPC_INVALID_REQUEST, "invalid request: %s", message);
    json_t *response = error ? dg_control_error_response(id, error) : NULL;
    json_decref(error);
    return response;
}

int dg_control_parse_request(const char *line, size_t len, dg_control_request *req,
                             json_t **error_response)
{
    memset(req, 0, sizeof *req);
    *error_response = NULL;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (is_blank(line, len))
        return DG_CONTROL_REQUEST_BLANK;

    /*
     * DECODE_ANY so that `42` or `"x"` is reported as "not an object" rather
     * than as a parse error; duplicate keys are rejected because two "method"
     * or "id" members would make the request ambiguous.
     */
    json_error_t jerr;
    json_t *root = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        json_t *error = dg_rpc_error_new(DG_RPC_PARSE_ERROR, "parse error at column %d: %s",
                                         jerr.column, jerr.text);
        *error_response = error ? dg_control_error_response(NULL, error) : NULL;
        json_decref(error);
        return DG_CONTROL_REQUEST_ERROR;
    }
    if (!json_is_object(root)) {
        *error_response =
            invalid(NULL, json_is_array(root) ? "expected a JSON object (batches are not supported)"
                                              : "expected a JSON object");
        json_decref(root);
        return DG_CONTROL_REQUEST_ERROR;
    }

    json_t *id = json_object_get(root, "id");
    json_t *method = json_object_get(root, "method");
    json_t *params = json_object_get(root, "params");
    const char *problem = NULL;
    if (!method)
        problem = "missing \"method\"";
    else if (!json_is_string(method))
        problem = "\"method\" must be a string";
    else if (params && !json_is_object(params) && !json_is_array(params) && !json_is_null(params))
        problem = "\"params\" must be an object or an array";
    if (problem) {
        *error_response = invalid(id, problem);
        json_decref(root);
        return DG_CONTROL_REQUEST_ERROR;
    }

    req->id = id ? json_incref(id) : json_null();
    req->method = strndup(json_string_value(method), json_string_length(method));
    req->params = (params && !json_is_null(params)) ? json_incref(params) : NULL;
    json_decref(root);
    if (!req->method) {
        dg_control_request_clear(req);
        json_t *error = dg_rpc_error_new(DG_RPC_INTERNAL_ERROR, "out of memory");
        *error_response = error ? dg_control_error_response(NULL, error) : NULL;
        json_decref(error);
        return DG_CONTROL_REQUEST_ERROR;
    }
    return DG_CONTROL_REQUEST_OK;
}

void dg_control_request_clear(dg_control_request *req)
{
    json_decref(req->id);
    free(req->method);
    json_decref(req->params);
    memset(req, 0, sizeof *req);
}

static json_t *response(const json_t *id, const char *key, const json_t *value)
{
    /* json_pack "O" increfs; the casts drop const only for that reference count. */
    return json_pack("{s:O,s:O}", "id", id ? (json_t *)id : json_null(), key, (json_t *)value);
}

json_t *dg_control_result_response(const json_t *id, const json_t *result)
{
    return response(id, "result", result ? result : json_null());
}

json_t *dg_control_error_response(const json_t *id, const json_t *error)
{
    return response(id, "error", error);
}

/* A growing output buffer for json_dump_callback. */
typedef struct line_buf {
    char *data;
    size_t len, cap;
} line_buf;

static int append_chunk(const char *chunk, size_t size, void *user)
{
    line_buf *b = user;
    if (size + 1 > b->cap - b->len) {
        size_t cap = b->cap;
        while (size + 1 > cap - b->len)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, chunk, size);
    b->len += size;
    return 0;
}

/*
 * One serialisation pass into a buffer that doubles as needed (json_dumpb
 * would need two for an answer of unknown size: a users.list of 10,000
 * people is 3 MB).
 */
static char *dump_line(const json_t *value, size_t *len)
{
    /* Small first: most answers are a few hundred bytes, and a 4 KiB request per
     * answer sent glibc into malloc_consolidate every time (the doubling covers
     * big ones). */
    line_buf b = {malloc(512), 0, 512};
    if (!b.data || json_dump_callback(value, append_chunk, &b, JSON_COMPACT) != 0 || b.len == 0) {
        free(b.data);
        return NULL;
    }
    b.data[b.len] = '\n'; /* append_chunk always leaves room for one more byte */
    *len = b.len + 1;
    return b.data;
}

char *dg_control_encode_response(const json_t *resp, size_t *len)
{
    char *line = dump_line(resp, len);
    if (line)
        return line;
    json_t *id = json_object_get(resp, "id");
    json_t *error =
        dg_rpc_error_new(DG_RPC_INTERNAL_ERROR, "the result could not be encoded as JSON");
    json_t *fallback = error ? dg_control_error_response(id, error) : NULL;
    line = fallback ? dump_line(fallback, len) : NULL;
    json_decref(fallback);
    if (!line && error) {
        /* Not even the id serializes: answer with id null rather than not at all. */
        fallback = dg_control_error_response(NULL, error);
        line = fallback ? dump_line(fallback, len) : NULL;
        json_decref(fallback);
    }
    json_decref(error);
    return line;
}

int dg_control_frame_result(const char *id_text, const char *json, size_t len, char **line,
                            size_t *line_len)
{
    static const char head[] = "{\"id\":", mid[] = ",\"result\":", tail[] = "}\n";
    size_t id_len = strlen(id_text);
    size_t total = sizeof head - 1 + id_len + sizeof mid - 1 + len + sizeof tail - 1;
    char *out = malloc(total);
    if (!out)
        return -1;
    char *p = out;
    memcpy(p, head, sizeof head - 1);
    p += sizeof head - 1;
    memcpy(p, id_text, id_len);
    p += id_len;
    memcpy(p, mid, sizeof mid - 1);
    p += sizeof mid - 1;
    memcpy(p, json, len);
    p += len;
    memcpy(p, tail, sizeof tail - 1);
    *line = out;
    *line_len = total;
    return 0;
}
