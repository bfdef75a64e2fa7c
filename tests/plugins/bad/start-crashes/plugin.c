/*
 * Dies with SIGSEGV inside start() when the file "crash" exists in its data
 * folder (<home>/data/start-crashes/crash), else starts normally. A test
 * creates the file, runs the host (which dies), runs it again (the plugin must
 * be QUARANTINED), removes the file and enables it (it must become ACTIVE).
 */
#include <dengon/plugin.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static int start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    const char *dir = api->data_dir(ctx);
    char path[4096];
    if (dir && snprintf(path, sizeof(path), "%s/crash", dir) < (int)sizeof(path) &&
        access(path, F_OK) == 0) {
        api->log(ctx, DG_LOG_WARN, "crash file present: raising SIGSEGV");
        raise(SIGSEGV);
    }
    return DG_OK;
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "start-crashes", start, NULL, {0},
};
DG_PLUGIN_DEFINE(descriptor)
