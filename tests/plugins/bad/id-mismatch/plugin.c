/* The descriptor claims another id than the manifest (a swapped library). */
#include <dengon/plugin.h>

static int start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    return DG_OK;
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "someone-else", start, NULL, {0},
};
DG_PLUGIN_DEFINE(descriptor)
