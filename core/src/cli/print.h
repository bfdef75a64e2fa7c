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

/* The user directory commands (print_users.c). */
void cli_print_priority(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const json_t *result);
void cli_print_forget(const cli_command *cmd, int argc, char **argv, unsigned flags,
                      const json_t *result);

/* The absence commands (print_absence.c). */
void cli_print_absence(const cli_command *cmd, int argc, char **argv, unsigned flags,
                       const json_t *result);

/* The history commands (print_history.c). */
void cli_print_log(const cli_command *cmd, int argc, char **argv, unsigned flags,
                   const json_t *result);
void cli_print_log_export(const cli_command *cmd, int argc, char **argv, unsigned flags,
                          const json_t *result);
void cli_print_log_stats(const cli_command *cmd, int argc, char **argv, unsigned flags,
                         const json_t *result);
void cli_print_log_prune(const cli_command *cmd, int argc, char **argv, unsigned flags,
                         const json_t *result);

/* Licences and team policy (print_licence.c, print_policy.c). */
void cli_print_licence_show(const cli_command *cmd, int argc, char **argv, unsigned flags,
                            const json_t *result);
void cli_print_policy_show(const cli_command *cmd, int argc, char **argv, unsigned flags,
                           const json_t *result);
/* "licensed", "trial (87 s left)", "locked" for a plugin's "licence" object. */
void cli_licence_state_text(const json_t *licence, char *buf, size_t len);

/* Rooms (print_rooms.c). */
void cli_print_room(const cli_command *cmd, int argc, char **argv, unsigned flags,
                    const json_t *result);
void cli_print_room_invite(const cli_command *cmd, int argc, char **argv, unsigned flags,
                           const json_t *result);
void cli_print_rooms(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const json_t *result);
void cli_print_room_say(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const json_t *result);
void cli_print_room_log(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const json_t *result);

/* The offline queue (print_queue.c). */
void cli_print_queue(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const json_t *result);
void cli_print_queue_send(const cli_command *cmd, int argc, char **argv, unsigned flags,
                          const json_t *result);
void cli_print_queue_discard(const cli_command *cmd, int argc, char **argv, unsigned flags,
                             const json_t *result);

/* One event of `dengon watch` (print_watch.c): a line, or (json) the event as one JSON line. */
void cli_print_watch_event(const json_t *event, int json);

/* Helpers shared by the printers. */
/* The string member key of obj, or NULL when absent or empty. */
const char *cli_nonempty_field(const json_t *obj, const char *key);
/* Prints line (made terminal-safe) and a newline. */
void cli_put_safe(const char *line);
/* A Unix time as "HH:MM" today, else "YYYY-MM-DD HH:MM"; "-" when missing. Returns buf or "-". */
const char *cli_short_time(const json_t *v, char *buf, size_t len);

/* File transfer (print_files.c). */
void cli_print_files_sent(const cli_command *cmd, int argc, char **argv, unsigned flags,
                          const json_t *result);
void cli_print_files_id(const cli_command *cmd, int argc, char **argv, unsigned flags,
                        const json_t *result);
void cli_print_files(const cli_command *cmd, int argc, char **argv, unsigned flags,
                     const json_t *result);
/* accept --wait: a progress bar redrawn in place on a terminal, else a plain
 * line at most once a second; then the final state. */
typedef struct cli_progress_state {
    int tty;
    int drawn;          /* a bar is on the current line */
    long long last_sec; /* monotonic second of the last plain line */
} cli_progress_state;
void cli_print_files_progress(cli_progress_state *ps, const json_t *progress);
void cli_print_files_end(cli_progress_state *ps, const json_t *end);

/* The key commands (print_keys.c). */
void cli_print_keys(const cli_command *cmd, int argc, char **argv, unsigned flags,
                    const json_t *result);
void cli_print_keys_accept(const cli_command *cmd, int argc, char **argv, unsigned flags,
                           const json_t *result);

#endif
