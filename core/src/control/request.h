/*
 * Control-socket requests and responses as pure functions (no I/O), so that
 * the parser of outside input can be fuzzed and unit-tested on its own.
 */
#ifndef DG_CONTROL_REQUEST_H
#define DG_CONTROL_REQUEST_H

#include <jansson.h>
#include <stddef.h>

typedef struct dg_control_request {
    json_t *id;     /* new ref: the request's "id" (any JSON), JSON null when absent */
    char *method;   /* new string */
    json_t *params; /* new ref: an object or array, or NULL when absent or null */
} dg_control_request;

enum {
    DG_CONTROL_REQUEST_OK = 0,    /* *req filled */
    DG_CONTROL_REQUEST_BLANK = 1, /* empty or whitespace-only line: nothing to answer */
    DG_CONTROL_REQUEST_ERROR = -1 /* *error_response filled */
};

/*
 * Parses one line (without its '\n'; a trailing '\r' is tolerated). The line
 * must be a JSON object with a string "method", an optional "id" (echoed) and
 * optional "params" (object, array or null); other members are ignored.
 * On DG_CONTROL_REQUEST_ERROR, *error_response is a complete response
 * (new ref): -32700 with id null for malformed JSON, -32600 (id echoed when
 * readable) for a well-formed line that is not a valid request. It is NULL
 * only when out of memory.
 */
int dg_control_parse_request(const char *line, size_t len, dg_control_request *req,
                             json_t **error_response);
void dg_control_request_clear(dg_control_request *req);

/* {"id":id,"result":result}; id NULL means JSON null. New ref. */
json_t *dg_control_result_response(const json_t *id, const json_t *result);
/* {"id":id,"error":error}; error is {"code","message"}. New ref. */
json_t *dg_control_error_response(const json_t *id, const json_t *error);

/*
 * Serializes a response as one compact line ending in '\n'. If the response
 * cannot be serialized (e.g. a handler returned a string jansson refuses),
 * an internal-error response with the same id is produced instead. New
 * buffer (*len bytes, not NUL-terminated), NULL only when out of memory.
 */
char *dg_control_encode_response(const json_t *response, size_t *len);
/*
 * The response line for a result already serialised (dg_rpc_reply_json):
 * {"id":<id_text>,"result":<json>}\n, as dg_control_encode_response frames a
 * tree. *line is malloc'd. 0, or -1 when out of memory.
 */
int dg_control_frame_result(const char *id_text, const char *json, size_t len, char **line,
                            size_t *line_len);

#endif
