/*
 * watch [PATTERN]: live events. A long poll on core.events: each call waits up
 * to WATCH_WAIT_MS for events after the last seq seen, prints them and asks
 * again with the "next" seq, until Ctrl+C (exit 0) or until the daemon goes
 * away (exit 3, like any command that finds no daemon).
 */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/print.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* How long the daemon may hold one call; each call allows this plus a margin. */
#define WATCH_WAIT_MS 25000
#define WATCH_MARGIN_S 10.0

static int build_watch(const cli_command *cmd, int argc, char **argv, unsigned flags,
                       const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    json_t *pattern = cli_string_arg(argc > 0 ? argv[0] : "**", err, err_len);
    /* No "after" at first: the daemon starts from its newest event, so only new ones show. */
    *params =
        pattern ? json_pack("{s:o, s:i}", "pattern", pattern, "wait_ms", WATCH_WAIT_MS) : NULL;
    if (pattern && !*params)
        snprintf(err, err_len, "out of memory");
    return *params ? 0 : -1;
}

/*
 * Ctrl+C: a blocked call is simply abandoned (the daemon forgets it when the
 * socket closes); while a batch is being printed the loop finishes the line
 * and flushes first, so the output never ends mid-line.
 */
static volatile sig_atomic_t interrupted;
static volatile sig_atomic_t printing;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
    if (!printing)
        _exit(CLI_EXIT_OK);
}

/* Prints a batch; -1 when stdout failed (a closed pipe, a full disk). */
static int print_batch(const json_t *events, int json)
{
    printing = 1;
    size_t i;
    json_t *event;
    json_array_foreach(events, i, event)
    {
        cli_print_watch_event(event, json);
    }
    int rc = fflush(stdout) == 0 ? 0 : -1;
    printing = 0;
    return rc;
}

static int loop_watch(const cli_command *cmd, const char *socket_path, const char *method,
                      const json_t *first, int json, json_t **error)
{
    (void)cmd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    json_t *params = json_deep_copy(first);
    if (!params) {
        *error = json_pack("{s:s}", "message", "out of memory");
        return CLI_EXIT_FAIL;
    }
    int status = CLI_EXIT_OK;
    int retried = 0;
    while (!interrupted) {
        json_t *result = NULL;
        int rc = cli_call(socket_path, method, params, WATCH_WAIT_MS / 1000.0 + WATCH_MARGIN_S,
                          &result, error);
        if (rc != CLI_EXIT_OK) {
            /*
             * A daemon stopping closes the connection of a waiting call; a new
             * call then tells "not running" (exit 3) from a real failure.
             */
            const char *kind = json_string_value(json_object_get(*error, "kind"));
            if (!retried && kind && strcmp(kind, "connection") == 0) {
                retried = 1;
                json_decref(*error);
                *error = NULL;
                continue;
            }
            status = rc;
            break;
        }
        retried = 0;
        json_t *events = json_object_get(result, "events");
        json_t *next = json_object_get(result, "next");
        if (!json_is_array(events) || !json_is_integer(next)) {
            json_decref(result);
            *error = json_pack("{s:s,s:s}", "message", "unexpected answer from core.events", "kind",
                               "protocol");
            status = CLI_EXIT_FAIL;
            break;
        }
        json_object_set(params, "after", next);
        int printed = print_batch(events, json);
        json_decref(result);
        if (printed != 0) {
            *error = json_pack("{s:s}", "message", "cannot write the output");
            status = CLI_EXIT_FAIL;
            break;
        }
    }
    json_decref(params);
    if (interrupted && status != CLI_EXIT_OK) {
        /* Ctrl+C during a failing call is still the user's stop. */
        json_decref(*error);
        *error = NULL;
        status = CLI_EXIT_OK;
    }
    return status;
}

const cli_command cli_commands_watch[] = {
    {"watch",
     "[PATTERN]",
     "show events live as they happen",
     "Prints the daemon's events as they are published, one line each: local\n"
     "time, topic and payload (a chat message as \"from USER: TEXT\"). PATTERN\n"
     "picks topics: \"chat.*\" (one more segment), \"chat.**\" (any deeper), default\n"
     "\"**\" (everything). With --json each line is the event object\n"
     "{\"seq\",\"topic\",\"time_ms\",\"payload\"}. Runs until Ctrl+C; --timeout does not\n"
     "apply. Exit status 3 when the daemon stops.",
     "core.events",
     {NULL},
     "{\"pattern\": PATTERN, \"after\": SEQ, \"wait_ms\": 25000} in a loop",
     {NULL},
     0,
     1,
     .build = build_watch,
     .loop = loop_watch},
    {0},
};
