/*
 * Human output of command results. Every printer tolerates missing fields and
 * unexpected shapes (it then prints what it can, or the JSON), since the
 * daemon's results grow over time.
 */
#ifndef DG_CLI_PRINT_H
#define DG_CLI_PRINT_H

#include "cli/cli.h"

void cli_print_json(const cli_command *cmd, int argc, char **argv, unsigned flags,
                    const json_t *result);
void cli_print_status(const cli_command *cmd, int argc, char **argv, unsigned flags,
                      const json_t *result);
void cli_print_whoami(const cli_command *cmd, int argc, char **argv, unsigned flags,
                      const json_t *result);
void cli_print_plugins(const cli_command *cmd, int argc, char **argv, unsigned flags,
                       const json_t *result);
void cli_print_plugin_action(const cli_command *cmd, int argc, char **argv, unsigned flags,
                             const json_t *result);
void cli_print_config_get(const cli_command *cmd, int argc, char **argv, unsigned flags,
                          const json_t *result);
void cli_print_config_set(const cli_command *cmd, int argc, char **argv, unsigned flags,
                          const json_t *result);
void cli_print_config_list(const cli_command *cmd, int argc, char **argv, unsigned flags,
                           const json_t *result);

/* The ipmsg plugin's chat commands (print_chat.c). */
void cli_print_users(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const json_t *result);
void cli_print_send(const cli_command *cmd, int argc, char **argv, unsigned flags,
                    const json_t *result);
/* send: 1 (failed) when every recipient failed, else 0. */
int cli_status_send(const json_t *result);
void cli_print_inbox(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const json_t *result);
void cli_print_read(const cli_command *cmd, int argc, char **argv, unsigned flags,
                    const json_t *result);

#endif
