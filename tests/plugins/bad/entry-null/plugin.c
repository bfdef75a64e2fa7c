/* The entry symbol exists but returns no descriptor. */
#include <dengon/plugin.h>

DG_EXPORT const dg_plugin_descriptor *dg_plugin_entry(void);
DG_EXPORT const dg_plugin_descriptor *dg_plugin_entry(void)
{
    return NULL;
}
