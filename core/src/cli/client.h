/*
 * The CLI's side of the control socket: one blocking request/response over a
 * plain Unix socket, bounded by a deadline. No libuv: the CLI waits for
 * exactly one answer.
 */
#ifndef DG_CLI_CLIENT_H
#define DG_CLI_CLIENT_H

#include <jansson.h>

/*
 * Calls method with params (borrowed, may be NULL) on the daemon at
 * socket_path, waiting at most timeout_s seconds (0 = no limit).
 * Returns CLI_EXIT_OK with *result (new), or CLI_EXIT_FAIL /
 * CLI_EXIT_NOT_RUNNING with *error (new): the daemon's {"code","message"},
 * or {"message","kind"} for a local failure (kind: "not_running", "timeout",
 * "connection", "protocol").
 */
int cli_call(const char *socket_path, const char *method, const json_t *params, double timeout_s,
             json_t **result, json_t **error);

/*
 * Like cli_call, for printing the result as JSON: *text (new) is the result
 * serialised compactly, taken as the daemon sent it without parsing when the
 * answer has the daemon's usual framing.
 */
int cli_call_text(const char *socket_path, const char *method, const json_t *params,
                  double timeout_s, char **text, json_t **error);

#endif
