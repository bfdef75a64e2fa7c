/*
 * File transfer commands (docs/protocol/files-plugin.md): send-file, files,
 * accept, reject, cancel. They call the files.* methods of the files plugin.
 * Paths are made absolute here: the daemon does not share the shell's
 * folder. `accept --wait` follows the download through core.events (the
 * long poll `dengon watch` uses) until it ends.
 */
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/print.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long one core.events call may wait; the offer's state is checked in between. */
#define WAIT_POLL_MS 1000
#define WAIT_MARGIN_S 10.0
/* The files.accept call itself (the loop does not get --timeout). */
#define ACCEPT_TIMEOUT_S 10.0

/* An absolute path for arg (realpath: the file must exist), as a JSON string. */
static json_t *abs_path(const char *arg, char *err, size_t err_len)
{
    char *abs = realpath(arg, NULL);
    if (!abs) {
        snprintf(err, err_len, "%s: no such file or folder", arg);
        return NULL;
    }
    json_t *s = cli_string_arg(abs, err, err_len);
    free(abs);
    return s;
}

/* send-file TO PATH... [--text T] */
static int build_send_file(const cli_command *cmd, int argc, char **argv, unsigned flags,
                           const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    json_t *to = cli_string_arg(argv[0], err, err_len);
    json_t *paths = json_array();
    if (!to || !paths)
        goto fail;
    for (int i = 1; i < argc; i++) {
        json_t *p = abs_path(argv[i], err, err_len);
        if (!p || json_array_append_new(paths, p) != 0)
            goto fail;
    }
    const char *text = cli_flag_value(0);
    json_t *t = text ? cli_string_arg(text, err, err_len) : NULL;
    if (text && !t)
        goto fail;
    *params = json_pack("{s:o, s:o}", "to", to, "paths", paths);
    if (*params && t)
        json_object_set_new(*params, "text", t);
    else
        json_decref(t);
    if (!*params)
        snprintf(err, err_len, "out of memory");
    return *params ? 0 : -1;
fail:
    json_decref(to);
    json_decref(paths);
    return -1;
}

/* --wait of accept: the builder sees the flags, the loop does not. */
static int accept_wait;

/* accept ID [--to DIR] [--wait] */
static int build_accept(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const char **method, json_t **params, char *err, size_t err_len)
{
    accept_wait = (flags & 2u) != 0;
    if (cli_build_id(cmd, argc, argv, flags, method, params, err, err_len) != 0)
        return -1;
    const char *dir = cli_flag_value(0);
    if (dir) {
        json_t *d = abs_path(dir, err, err_len);
        if (!d) {
            json_decref(*params);
            *params = NULL;
            return -1;
        }
        json_object_set_new(*params, "to", d);
    }
    return 0;
}

/* The seq of the newest event, so that nothing published after it is missed. */
static int events_now(const char *socket_path, json_t **next, json_t **error)
{
    json_t *p = json_pack("{s:s, s:i, s:i}", "pattern", "files.*", "wait_ms", 0, "limit", 1);
    json_t *r = NULL;
    int rc = cli_call(socket_path, "core.events", p, WAIT_MARGIN_S, &r, error);
    json_decref(p);
    if (rc == CLI_EXIT_OK) {
        *next = json_incref(json_object_get(r, "next"));
        if (!json_is_integer(*next)) {
            json_decref(*next);
            *error = json_pack("{s:s, s:s}", "message", "unexpected answer from core.events",
                               "kind", "protocol");
            rc = CLI_EXIT_FAIL;
        }
    }
    json_decref(r);
    return rc;
}

/* The offer's end as an event-like object ({"id","state",...}) when it is no
 * longer downloading (an event missed: the ring is bounded), else NULL. */
static json_t *offer_end(const char *socket_path, json_int_t id, json_t **error, int *rc)
{
    json_t *r = NULL;
    *rc = cli_call(socket_path, "files.list", NULL, WAIT_MARGIN_S, &r, error);
    if (*rc != CLI_EXIT_OK)
        return NULL;
    json_t *end = NULL, *o;
    size_t i;
    json_array_foreach(json_object_get(r, "downloads"), i, o)
    {
        if (json_integer_value(json_object_get(o, "id")) == id) {
            json_decref(r);
            return NULL;
        }
    }
    json_array_foreach(json_object_get(r, "offers"), i, o)
    {
        const char *state = json_string_value(json_object_get(o, "state"));
        if (json_integer_value(json_object_get(o, "id")) != id || !state ||
            !strcmp(state, "downloading") || !strcmp(state, "offered"))
            continue;
        const char *why = json_string_value(json_object_get(o, "error"));
        end = json_pack("{s:I, s:s, s:s}", "id", id, "state", state, "reason", why ? why : "");
    }
    json_decref(r);
    return end;
}

/* files.done / failed / cancelled of offer id as the final state, else NULL. */
static json_t *event_end(const json_t *event, json_int_t id, json_t *bar)
{
    const char *topic = json_string_value(json_object_get(event, "topic"));
    const json_t *p = json_object_get(event, "payload");
    if (!topic || json_integer_value(json_object_get(p, "id")) != id)
        return NULL;
    if (!strcmp(topic, "files.progress")) {
        json_object_update(bar, (json_t *)p);
        return NULL;
    }
    const char *state = !strcmp(topic, "files.done")        ? "done"
                        : !strcmp(topic, "files.failed")    ? "failed"
                        : !strcmp(topic, "files.cancelled") ? "cancelled"
                                                            : NULL;
    json_t *end = state ? json_deep_copy(p) : NULL;
    if (end)
        json_object_set_new(end, "state", json_string(state));
    return end;
}

/* accept [--wait]: the call, then (with --wait) the download's events until it ends. */
static int loop_accept(const cli_command *cmd, const char *socket_path, const char *method,
                       const json_t *params, int json, json_t **error)
{
    json_t *next = NULL, *result = NULL;
    int rc = accept_wait ? events_now(socket_path, &next, error) : CLI_EXIT_OK;
    if (rc == CLI_EXIT_OK)
        rc = cli_call(socket_path, method, params, ACCEPT_TIMEOUT_S, &result, error);
    if (rc != CLI_EXIT_OK || !accept_wait) {
        if (rc == CLI_EXIT_OK && json) {
            char *text = json_dumps(result, JSON_COMPACT);
            puts(text ? text : "null");
            free(text);
        } else if (rc == CLI_EXIT_OK) {
            cli_print_files_id(cmd, 0, NULL, 0, result);
        }
        json_decref(result);
        json_decref(next);
        return rc;
    }
    json_int_t id = json_integer_value(json_object_get(result, "id"));
    json_decref(result);
    int tty = !json && isatty(STDOUT_FILENO);
    json_t *bar = json_object(), *end = NULL;
    json_t *p =
        json_pack("{s:s, s:o, s:i}", "pattern", "files.*", "after", next, "wait_ms", WAIT_POLL_MS);
    cli_progress_state ps = {.tty = tty};
    while (rc == CLI_EXIT_OK && !end && p && bar) {
        json_t *r = NULL;
        rc = cli_call(socket_path, "core.events", p, WAIT_POLL_MS / 1000.0 + WAIT_MARGIN_S, &r,
                      error);
        if (rc != CLI_EXIT_OK)
            break;
        json_t *events = json_object_get(r, "events"), *ev;
        size_t i;
        json_array_foreach(events, i, ev)
        {
            if (!end)
                end = event_end(ev, id, bar);
        }
        json_object_set(p, "after", json_object_get(r, "next"));
        int quiet =
            json_array_size(events) == 0 || json_integer_value(json_object_get(r, "dropped")) > 0;
        json_decref(r);
        if (!end && !json && json_object_size(bar))
            cli_print_files_progress(&ps, bar);
        if (!end && quiet)
            end = offer_end(socket_path, id, error, &rc);
    }
    json_decref(p);
    json_decref(bar);
    if (!end) {
        if (rc == CLI_EXIT_OK) {
            *error = json_pack("{s:s}", "message", "out of memory");
            rc = CLI_EXIT_FAIL;
        }
        return rc;
    }
    const char *state = json_string_value(json_object_get(end, "state"));
    if (!json)
        cli_print_files_end(&ps, end);
    if (strcmp(state, "done") != 0) {
        *error = json_pack("{s:s, s:O}", "message",
                           json_string_value(json_object_get(end, "reason"))
                               ? json_string_value(json_object_get(end, "reason"))
                               : state,
                           "download", end);
        rc = CLI_EXIT_FAIL;
    } else if (json) {
        char *text = json_dumps(end, JSON_COMPACT);
        puts(text ? text : "null");
        free(text);
    }
    json_decref(end);
    return rc;
}

/* cancel ID [--share] */
static int build_cancel(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const char **method, json_t **params, char *err, size_t err_len)
{
    if (cli_build_id(cmd, argc, argv, flags, method, params, err, err_len) != 0)
        return -1;
    if (flags & 1u) {
        json_t *id = json_incref(json_object_get(*params, "id"));
        json_object_del(*params, "id");
        json_object_set_new(*params, "share", id);
    }
    return 0;
}

const cli_command cli_commands_files[] = {
    {.name = "send-file",
     .args = "TO PATH...",
     .summary = "offer files and folders to a user",
     .help = "Offers every PATH (a regular file or a folder, sent with everything in it;\n"
             "symbolic links inside are not followed) to TO (a nickname, user@host, logon\n"
             "name or address). The recipient accepts or rejects the offer; it stays\n"
             "fetchable for files.share_expire_hours. --text adds a message. Limits come\n"
             "from files.max_size and files.blocked_extensions / allowed_extensions. Prints\n"
             "the offer id. Needs the files plugin.",
     .method = "files.send",
     .params_help = "{\"to\": TO, \"paths\": [absolute PATH...], \"text\": --text}",
     .flags = {"--text T"},
     .min_args = 2,
     .max_args = INT_MAX,
     .build = build_send_file,
     .print = cli_print_files_sent},
    {.name = "files",
     .args = "",
     .summary = "list file offers and transfers",
     .help = "Lists the offers received (id, sender, state: offered, downloading, done,\n"
             "failed, rejected, cancelled; files; the error of a failed one), the running\n"
             "downloads with their progress, and the offers sent that peers may still\n"
             "fetch. Needs the files plugin.",
     .method = "files.list",
     .print = cli_print_files},
    {.name = "accept",
     .args = "ID",
     .summary = "download a received offer",
     .help = "Downloads offer ID (see 'dengon files') into files.download_dir, or into DIR\n"
             "with --to. Names are made safe, existing files are never overwritten (a\n"
             "new name like 'name (1).ext' is used), and an interrupted download resumes\n"
             "where it stopped, also after a restart (accept a failed offer again to\n"
             "retry it). Progress comes as files.progress events ('dengon watch').\n"
             "With --wait the command follows the download until it ends: a progress\n"
             "bar (bytes, rate, ETA) on a terminal, a plain line a second otherwise;\n"
             "with --json only the final state is printed. Exit status 1 when the\n"
             "download fails or is cancelled; Ctrl+C stops waiting, not the download\n"
             "('dengon cancel ID' stops it). Needs the files plugin.",
     .method = "files.accept",
     .params_help = "{\"id\": ID, \"to\": absolute DIR with --to}, then with --wait "
                    "core.events {\"pattern\": \"files.*\", \"after\": SEQ} in a loop",
     .flags = {"--to DIR", "--wait"},
     .min_args = 1,
     .max_args = 1,
     .build = build_accept,
     .print = cli_print_files_id,
     .loop = loop_accept},
    {.name = "reject",
     .args = "ID",
     .summary = "decline a received offer",
     .help = "Declines offer ID: the sender is told (RELEASEFILES) and stops offering it.\n"
             "Needs the files plugin.",
     .method = "files.reject",
     .params = {"id"},
     .min_args = 1,
     .max_args = 1,
     .build = cli_build_id,
     .print = cli_print_files_id},
    {.name = "cancel",
     .args = "ID",
     .summary = "stop a download, or withdraw an offer sent",
     .help = "Stops the download of offer ID (see 'dengon files'); what arrived is kept\n"
             "and 'dengon accept ID' resumes it. With --share, ID is an offer we sent\n"
             "(the id 'send-file' printed): it is withdrawn and the transfers of it\n"
             "that are running are stopped. Needs the files plugin.",
     .method = "files.cancel",
     .params_help = "{\"id\": ID}, or {\"share\": ID} with --share",
     .flags = {"--share"},
     .min_args = 1,
     .max_args = 1,
     .build = build_cancel,
     .print = cli_print_files_id},
    {0},
};
