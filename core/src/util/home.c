/* Home folder layout (see home.h). */
#include "util/home.h"

#include "util/fs.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "<what> <path>: <strerror>" as a new string. */
static char *path_error(const char *what, const char *path, int errnum)
{
    char buf[PATH_MAX + 128];
    snprintf(buf, sizeof buf, "%s %s: %s", what, path, strerror(errnum));
    return strdup(buf);
}

static char *make_absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    return dg_path_join(cwd, path);
}

static const char *user_home(void)
{
    const char *h = getenv("HOME");
    if (h && *h)
        return h;
    struct passwd *pw = getpwuid(geteuid());
    return pw ? pw->pw_dir : "/";
}

/* $VAR if set and absolute (as the XDG spec demands), else $HOME/fallback. */
static char *xdg_dir(const char *var, const char *fallback)
{
    const char *v = getenv(var);
    if (v && v[0] == '/')
        return strdup(v);
    return dg_path_join(user_home(), fallback);
}

static int fill_from_root(dg_home *home)
{
    home->config_dir = dg_path_join(home->root, "config");
    home->data_dir = dg_path_join(home->root, "data");
    home->logs_dir = dg_path_join(home->root, "logs");
    home->run_dir = dg_path_join(home->root, "run");
    home->plugins_dir = dg_path_join(home->root, "plugins");
    return 0;
}

static int fill_from_xdg(dg_home *home)
{
    char *config = xdg_dir("XDG_CONFIG_HOME", ".config");
    char *data = xdg_dir("XDG_DATA_HOME", ".local/share");
    char *state = xdg_dir("XDG_STATE_HOME", ".local/state");
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    if (config && data && state) {
        home->config_dir = dg_path_join(config, "dengon");
        home->data_dir = dg_path_join(data, "dengon");
        char *state_dengon = dg_path_join(state, "dengon");
        if (state_dengon) {
            home->logs_dir = dg_path_join(state_dengon, "logs");
            if (runtime && runtime[0] == '/')
                home->run_dir = dg_path_join(runtime, "dengon");
            else
                home->run_dir = dg_path_join(state_dengon, "run");
            free(state_dengon);
        }
        if (home->data_dir)
            home->plugins_dir = dg_path_join(home->data_dir, "plugins");
    }
    free(config);
    free(data);
    free(state);
    return 0;
}

int dg_home_resolve(dg_home *home, const char *explicit_home, char **err)
{
    memset(home, 0, sizeof *home);
    const char *root = explicit_home;
    if (!root || !*root)
        root = getenv("DENGON_HOME");
    if (root && *root) {
        home->root = make_absolute(root);
        if (!home->root) {
            *err = path_error("cannot resolve home folder", root, errno);
            return -1;
        }
        fill_from_root(home);
    } else {
        fill_from_xdg(home);
    }
    if (home->config_dir)
        home->user_config_file = dg_path_join(home->config_dir, "dengon.ini");
    if (home->run_dir)
        home->socket_path = dg_path_join(home->run_dir, "control.sock");
    if (home->logs_dir)
        home->log_file = dg_path_join(home->logs_dir, "dengond.log");
    if (!home->config_dir || !home->data_dir || !home->logs_dir || !home->run_dir ||
        !home->plugins_dir || !home->user_config_file || !home->socket_path ||
        !home->log_file) {
        dg_home_free(home);
        *err = strdup("out of memory resolving the home folder");
        return -1;
    }
    /* sun_path is 108 bytes: a longer socket path would fail later, obscurely. */
    if (strlen(home->socket_path) >= 108) {
        char buf[PATH_MAX + 64];
        snprintf(buf, sizeof buf, "control socket path too long (max 107 bytes): %s",
                 home->socket_path);
        *err = strdup(buf);
        dg_home_free(home);
        return -1;
    }
    return 0;
}

int dg_home_create(const dg_home *home, char **err)
{
    const char *dirs[] = {home->root,    home->config_dir, home->data_dir,
                          home->logs_dir, home->run_dir};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i])
            continue;
        int rc = dg_mkdir_p(dirs[i], 0700);
        if (rc != 0) {
            *err = path_error("cannot create", dirs[i], -rc);
            return -1;
        }
        /* They may predate us (made by hand, or copied from another PC): they hold keys
         * and history, so they must be ours and private. */
        struct stat st;
        if (stat(dirs[i], &st) != 0 || chmod(dirs[i], 0700) != 0) {
            *err = path_error("cannot make private", dirs[i], errno);
            return -1;
        }
        if (st.st_uid != geteuid()) {
            *err = path_error("refusing a folder owned by another user:", dirs[i], EPERM);
            return -1;
        }
    }
    return 0;
}

void dg_home_free(dg_home *home)
{
    free(home->root);
    free(home->config_dir);
    free(home->data_dir);
    free(home->logs_dir);
    free(home->run_dir);
    free(home->plugins_dir);
    free(home->user_config_file);
    free(home->socket_path);
    free(home->log_file);
    memset(home, 0, sizeof *home);
}
