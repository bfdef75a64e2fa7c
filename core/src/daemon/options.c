/* dengond's command line (getopt_long). */
#include "daemon/options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DENGON_VERSION
#define DENGON_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
    fputs("usage: dengond [options]\n"
          "The dengon host daemon: runs in the foreground until SIGINT/SIGTERM;\n"
          "SIGHUP reloads the configuration files.\n\n"
          "  --home DIR           keep config/, data/, logs/, run/ in DIR (or $DENGON_HOME;\n"
          "                       default: XDG base directories)\n"
          "  --profile NAME       client (default) or server\n"
          "  -o, --option K=V     set config key K to V for this run (highest layer)\n"
          "  --log-level LEVEL    error, warn, info or debug\n"
          "  --plugin-dir DIR     also load plugins from DIR/<id>/plugin.json (repeatable)\n"
          "  --no-system-plugins  do not load the installed plugins\n"
          "  --system-config FILE system config file (default /etc/dengon/dengon.ini)\n"
          "  --policy-dir DIR     team policy files (default /etc/dengon/policy.d)\n"
          "  --keys-dir DIR       admin and extra licence keys (default /etc/dengon/keys)\n"
          "  --safe-mode          start no plugins\n"
          "  --no-dlclose         keep plugin libraries mapped (valgrind, sanitizers)\n"
          "  -h, --help           this help\n"
          "  -V, --version        print the version\n",
          out);
}

static int push(const char ***list, size_t *n, const char *value)
{
    const char **grown = realloc(*list, (*n + 1) * sizeof **list);
    if (!grown)
        return -1;
    grown[(*n)++] = value;
    *list = grown;
    return 0;
}

int dg_options_parse(dg_options *opts, int argc, char **argv)
{
    enum {
        O_HOME = 256,
        O_PROFILE,
        O_LOG,
        O_PLUGIN_DIR,
        O_SYSCONF,
        O_SAFE,
        O_NOSYS,
        O_NODLCLOSE,
        O_POLICY_DIR,
        O_KEYS_DIR
    };
    static const struct option longopts[] = {
        {"home", required_argument, NULL, O_HOME},
        {"profile", required_argument, NULL, O_PROFILE},
        {"option", required_argument, NULL, 'o'},
        {"log-level", required_argument, NULL, O_LOG},
        {"plugin-dir", required_argument, NULL, O_PLUGIN_DIR},
        {"system-config", required_argument, NULL, O_SYSCONF},
        {"policy-dir", required_argument, NULL, O_POLICY_DIR},
        {"keys-dir", required_argument, NULL, O_KEYS_DIR},
        {"safe-mode", no_argument, NULL, O_SAFE},
        {"no-system-plugins", no_argument, NULL, O_NOSYS},
        {"no-dlclose", no_argument, NULL, O_NODLCLOSE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(opts, 0, sizeof *opts);
    opts->profile = "client";
    opts->system_config = "/etc/dengon/dengon.ini";
    opts->policy_dir = "/etc/dengon/policy.d";
    opts->keys_dir = "/etc/dengon/keys";
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:hV", longopts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case O_HOME: opts->home = optarg; break;
        case O_PROFILE: opts->profile = optarg; break;
        case 'o':
            if (!strchr(optarg, '=')) {
                fprintf(stderr, "dengond: -o needs key=value, got '%s'\n", optarg);
                return 2;
            }
            rc = push(&opts->overrides, &opts->n_overrides, optarg);
            break;
        case O_LOG: opts->log_level = optarg; break;
        case O_PLUGIN_DIR: rc = push(&opts->plugin_dirs, &opts->n_plugin_dirs, optarg); break;
        case O_SYSCONF: opts->system_config = optarg; break;
        case O_POLICY_DIR: opts->policy_dir = optarg; break;
        case O_KEYS_DIR: opts->keys_dir = optarg; break;
        case O_SAFE: opts->safe_mode = 1; break;
        case O_NOSYS: opts->no_system_plugins = 1; break;
        case O_NODLCLOSE: opts->keep_mapped = 1; break;
        case 'h': usage(stdout); return 1;
        case 'V': printf("dengond %s\n", DENGON_VERSION); return 1;
        case ':':
            fprintf(stderr, "dengond: %s needs a value (see --help)\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "dengond: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return 2;
        }
        if (rc != 0) {
            fprintf(stderr, "dengond: out of memory\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "dengond: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (strcmp(opts->profile, "client") != 0 && strcmp(opts->profile, "server") != 0) {
        fprintf(stderr, "dengond: unknown profile '%s' (client or server)\n", opts->profile);
        return 2;
    }
    return 0;
}

void dg_options_free(dg_options *opts)
{
    free(opts->plugin_dirs);
    free(opts->overrides);
    memset(opts, 0, sizeof *opts);
}
