/*
 * Licence commands: licence show | install FILE | remove. They call the
 * core's licence.* methods (docs/licence.md).
 */
#include "cli/cli.h"
#include "cli/print.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The CLI reads a little more than a licence may hold, so the daemon names the reason. */
#define LICENCE_READ_MAX (256 * 1024)

/* licence install FILE: the file's text goes to the daemon, which verifies it. */
static int build_install(const cli_command *cmd, int argc, char **argv, unsigned flags,
                         const char **method, json_t **params, char *err, size_t err_len)
{
    *method = cmd->method;
    *params = NULL;
    FILE *f = fopen(argv[0], "rb");
    if (!f) {
        snprintf(err, err_len, "%.200s: %s", argv[0], strerror(errno));
        return -1;
    }
    char *text = malloc(LICENCE_READ_MAX + 1);
    size_t n = text ? fread(text, 1, LICENCE_READ_MAX + 1, f) : 0;
    int failed = !text || ferror(f);
    fclose(f);
    if (failed || n > LICENCE_READ_MAX) {
        snprintf(err, err_len, "%.200s: %s", argv[0],
                 failed ? "cannot read it" : "too large to be a licence file");
        free(text);
        return -1;
    }
    json_t *s = json_stringn(text, n);
    free(text);
    if (!s) {
        snprintf(err, err_len, "%.200s: not a licence file (not UTF-8 text)", argv[0]);
        return -1;
    }
    *params = json_pack("{s:o}", "text", s);
    if (!*params) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    return 0;
}

const cli_command cli_commands_licence[] = {
    {.name = "licence show",
     .args = "",
     .summary = "show the licence, premium plugins and their trial",
     .help = "Shows the installed licence (licensee, plan, seats, validity, entitlements,\n"
             "the key that signed it) and whether it is valid now, the keys trusted to\n"
             "sign licences, and every premium plugin: licensed, trial (seconds left) or\n"
             "locked. Without a licence a premium plugin runs as a trial for a few\n"
             "minutes per daemon start.",
     .method = "licence.show",
     .print = cli_print_licence_show},
    {.name = "licence install",
     .args = "FILE",
     .summary = "verify a licence file and install it (applied live)",
     .help = "Verifies the licence in FILE (signature, format, validity) and installs it.\n"
             "Premium plugins it unlocks start at once, without a restart. A tampered,\n"
             "truncated, wrongly signed, expired, not yet valid or malformed licence is\n"
             "refused with the reason, and the installed licence stays as it was.",
     .method = "licence.install",
     .params_help = "{\"text\": the content of FILE}",
     .min_args = 1,
     .max_args = 1,
     .build = build_install,
     .print = cli_print_plugin_action},
    {.name = "licence remove",
     .args = "",
     .summary = "remove the installed licence",
     .help = "Removes the installed licence. Premium plugins it unlocked are stopped and\n"
             "locked (their trial was for this daemon start only).",
     .method = "licence.remove",
     .print = cli_print_plugin_action},
    {0},
};
