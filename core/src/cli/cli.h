/* Shared by the parts of the `dengon` CLI: exit codes and the command table entry. */
#ifndef DG_CLI_H
#define DG_CLI_H

#include <jansson.h>
#include <stddef.h>

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,       /* the daemon answered with an error, or I/O failed */
    CLI_EXIT_USAGE = 2,      /* bad command line */
    CLI_EXIT_NOT_RUNNING = 3 /* no daemon listening on the socket */
};

typedef struct cli_command cli_command;

/*
 * Builds the request from the command's positional arguments: *method
 * (borrowed; usually cmd->method) and *params (new, or NULL for none).
 * flags: bit i set when the command option cmd->flags[i] was given.
 * Returns 0, or -1 with a one-line usage message in err.
 */
typedef int (*cli_build_fn)(const cli_command *cmd, int argc, char **argv, unsigned flags,
                            const char **method, json_t **params, char *err, size_t err_len);
/*
 * Prints a successful result for humans. argv: the command's positional
 * arguments; flags: as for cli_build_fn.
 */
typedef void (*cli_print_fn)(const cli_command *cmd, int argc, char **argv, unsigned flags,
                             const json_t *result);
/*
 * Exit status of a successful call, in both output modes, when success of
 * the call is not success of the command (send: every recipient failed).
 */
typedef int (*cli_status_fn)(const json_t *result);
/*
 * A streaming command (watch): run() calls it instead of making the one call,
 * with the request the builder made (params borrowed). It calls cli_call()
 * itself as often as it needs, bounding each call by its own deadline (not
 * --timeout), prints as it goes, and returns the exit status; on failure it
 * sets *error (new: {"message",...}) and run() reports it like a failed call.
 */
typedef int (*cli_loop_fn)(const cli_command *cmd, const char *socket_path, const char *method,
                           const json_t *params, int json, json_t **error);

struct cli_command {
    const char *name;    /* command words, space-separated: "plugin enable" */
    const char *args;    /* argument synopsis: "ID", "KEY VALUE", "" */
    const char *summary; /* one line for `dengon --help` */
    const char *help;    /* paragraph for `dengon <command> --help` */
    const char *method;  /* RPC method, or NULL when build picks it */
    /* Positional arguments sent as string params, in order (default builder). */
    const char *params[4];
    /* Params of a custom builder for the help's "Calls METHOD with ..." line, or NULL. */
    const char *params_help;
    /*
     * The command's own options: long flags ("--seal"), which may appear
     * anywhere before "--", like the global options. A flag written with a
     * value name ("--with USER") takes a value, as "--with bob" or
     * "--with=bob"; the builder and printer read it with cli_flag_value().
     */
    const char *flags[4];
    int min_args, max_args;
    cli_build_fn build;   /* NULL: the default builder (params above) */
    cli_print_fn print;   /* NULL: the result as indented JSON */
    cli_status_fn status; /* NULL: exit 0 whenever the call succeeded */
    cli_loop_fn loop;     /* NULL: one call; else a streaming command */
};

/* The default builder: positional arguments become string params named by cmd->params. */
int cli_build_strings(const cli_command *cmd, int argc, char **argv, unsigned flags,
                      const char **method, json_t **params, char *err, size_t err_len);

/* The command table (commands.c), terminated by an entry with name NULL. */
const cli_command *cli_commands(void);

/*
 * The value given to the running command's option cmd->flags[i] when that
 * option takes one ("--with USER"); NULL when it was not given.
 */
const char *cli_flag_value(int i);

/*
 * Builder for "COMMAND ID": {"id": ID}, sent as a JSON integer when ID is
 * decimal, else as the string given (the daemon judges it).
 */
int cli_build_id(const cli_command *cmd, int argc, char **argv, unsigned flags, const char **method,
                 json_t **params, char *err, size_t err_len);

/* A new JSON string of arg, or NULL with a usage message in err when it is not UTF-8. */
json_t *cli_string_arg(const char *arg, char *err, size_t err_len);

/* Command groups (commands_<feature>.c), each terminated by an entry with name NULL. */
extern const cli_command cli_commands_chat[];
extern const cli_command cli_commands_licence[];
extern const cli_command cli_commands_policy[];
extern const cli_command cli_commands_absence[];
extern const cli_command cli_commands_users[];
extern const cli_command cli_commands_history[];
extern const cli_command cli_commands_rooms[];
extern const cli_command cli_commands_queue[];
extern const cli_command cli_commands_watch[];
extern const cli_command cli_commands_files[];
extern const cli_command cli_commands_keys[];

#endif
