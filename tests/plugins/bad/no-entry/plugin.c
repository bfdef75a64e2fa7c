/* Exports a function, but not the manifest's entry symbol "dg_plugin_entry". */
#include <dengon/plugin.h>

DG_EXPORT int not_the_entry(void);
DG_EXPORT int not_the_entry(void)
{
    return 42;
}
