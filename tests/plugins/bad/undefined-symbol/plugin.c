/*
 * Calls a function nobody defines. Linked with -z now but without
 * --no-undefined, so the build succeeds and only the loader can refuse it;
 * the reason must be the real dlerror() text naming the symbol.
 */
#include <dengon/plugin.h>

void dg_test_function_nobody_defines(void);

static int start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    dg_test_function_nobody_defines();
    return DG_OK;
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "undefined-symbol", start, NULL, {0},
};
DG_PLUGIN_DEFINE(descriptor)
