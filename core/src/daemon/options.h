/* dengond's command line. */
#ifndef DG_DAEMON_OPTIONS_H
#define DG_DAEMON_OPTIONS_H

#include <stddef.h>

typedef struct dg_options {
    const char *home;          /* --home */
    const char *profile;       /* --profile (client|server) */
    const char *system_config; /* --system-config (default /etc/dengon/dengon.ini) */
    const char *policy_dir;    /* --policy-dir (default /etc/dengon/policy.d) */
    const char *keys_dir;      /* --keys-dir (default /etc/dengon/keys) */
    const char *log_level;     /* --log-level, NULL = config */
    const char **plugin_dirs;  /* --plugin-dir, repeatable */
    size_t n_plugin_dirs;
    const char **overrides;    /* -o key=value, repeatable */
    size_t n_overrides;
    int safe_mode;             /* --safe-mode: start no plugins */
    int no_system_plugins;     /* --no-system-plugins: only --plugin-dir ones */
    int keep_mapped;           /* --no-dlclose: keep plugin libraries mapped */
} dg_options;

/*
 * Parses argv. Returns 0 to run, 1 when --help/--version printed something
 * (exit 0), 2 on a usage error (message already printed).
 */
int dg_options_parse(dg_options *opts, int argc, char **argv);
void dg_options_free(dg_options *opts);

#endif
