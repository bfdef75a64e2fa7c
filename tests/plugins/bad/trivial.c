/*
 * A correct plugin that does nothing, built under several ids (PLUGIN_ID) for
 * the cases whose defect is in the manifest alone: they must be refused
 * before the library is ever opened, which the "loaded" marker proves.
 */
#include "marker.h"

#include <dengon/plugin.h>

TEST_MARKER_CONSTRUCTOR(PLUGIN_ID)

static int trivial_start(dg_ctx *ctx, const dg_host_api *api, void **state)
{
    test_marker(PLUGIN_ID, "started");
    return DG_OK;
}

static const dg_plugin_descriptor descriptor = {
    DG_PLUGIN_DESCRIPTOR_HEAD, PLUGIN_ID, trivial_start, NULL, {0},
};
DG_PLUGIN_DEFINE(descriptor)
