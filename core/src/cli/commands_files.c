/*
 * File transfer commands (docs/protocol/files-plugin.md): send-file, files,
 * accept, reject. They call the files.* methods of the files plugin. Paths
 * are made absolute here: the daemon does not share the shell's folder.
 */
#include "cli/cli.h"
#include "cli/print.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* accept ID [--to DIR] */
static int build_accept(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const char **method, json_t **params, char *err, size_t err_len)
{
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
             "Needs the files plugin.",
     .method = "files.accept",
     .params_help = "{\"id\": ID, \"to\": absolute DIR with --to}",
     .flags = {"--to DIR"},
     .min_args = 1,
     .max_args = 1,
     .build = build_accept,
     .print = cli_print_files_id},
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
    {0},
};
