/*
 * The injected library: same file name as the ltdl-inject case's library,
 * but in a directory only LTDL_LIBRARY_PATH points to. The host must never
 * open it; its constructor and start() leave markers if it ever runs.
 */
#include "marker.h"

#include <dengon/plugin.h>

TEST_MARKER_CONSTRUCTOR("ltdl-inject")

static int start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    test_marker("ltdl-inject", "started");
    return DG_OK;
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, "ltdl-inject", start, NULL, {0},
};
DG_PLUGIN_DEFINE(descriptor)
