/*
 * Crashes in an ELF constructor, i.e. while the host opens the library, before
 * any entry or start() runs, when DENGON_TEST_CTOR_CRASH is set. The host must
 * still quarantine it on the next launch.
 */
#include <dengon/plugin.h>

#include <signal.h>
#include <stdlib.h>

__attribute__((constructor)) static void crash_on_load(void)
{
    if (getenv("DENGON_TEST_CTOR_CRASH"))
        raise(SIGSEGV);
}

static int ctor_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    return DG_OK;
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "ctor-crashes", ctor_start, NULL, {0},
};
DG_PLUGIN_DEFINE(descriptor)
