/*
 * Where dengond keeps its files. With --home DIR (or DENGON_HOME) everything is
 * in one folder: DIR/config, DIR/data, DIR/logs, DIR/run, DIR/plugins, so that
 * copying the folder moves identity and history. Without it, XDG base
 * directories: $XDG_CONFIG_HOME/dengon, $XDG_DATA_HOME/dengon (plugins/ in
 * it), $XDG_STATE_HOME/dengon/logs, and $XDG_RUNTIME_DIR/dengon (else
 * $XDG_STATE_HOME/dengon/run) for the control socket.
 */
#ifndef DG_UTIL_HOME_H
#define DG_UTIL_HOME_H

typedef struct dg_home {
    char *root; /* the --home folder, or NULL for XDG */
    char *config_dir;
    char *data_dir;
    char *logs_dir;
    char *run_dir;
    char *plugins_dir;
    char *user_config_file; /* config_dir/dengon.ini */
    char *socket_path;      /* run_dir/control.sock */
    char *log_file;         /* logs_dir/dengond.log */
} dg_home;

/* explicit_home may be NULL (then DENGON_HOME, then XDG). 0 or -1 with *err. */
int dg_home_resolve(dg_home *home, const char *explicit_home, char **err);
/* Creates the folders with mode 0700 (and tightens an existing home root). */
int dg_home_create(const dg_home *home, char **err);
void dg_home_free(dg_home *home);

#endif
