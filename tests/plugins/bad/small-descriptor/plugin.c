/* A descriptor whose struct_size is smaller than any the host can use. */
#include <dengon/plugin.h>

static int start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    return DG_OK;
}

static const dg_plugin_descriptor descriptor = {
    8, DG_ABI_MAJOR, DG_ABI_MINOR, "small-descriptor", start, NULL, {0},
};
DG_PLUGIN_DEFINE(descriptor)
