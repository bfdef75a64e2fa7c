#include "allocator.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef DENGON_WITH_MIMALLOC
#include <mimalloc.h>

/*
 * Linking mimalloc is not proof that it serves malloc(): that depends on the
 * symbol order at load time. Asking it whether a block from plain malloc()
 * lies in its heap checks what actually happened.
 */
static bool mimalloc_serves_malloc(void)
{
    void *p = malloc(32);
    bool ours = p && mi_is_in_heap_region(p);
    free(p);
    return ours;
}
#endif

const char *dg_allocator_name(void)
{
#ifdef DENGON_WITH_MIMALLOC
    static char name[32];
    if (!name[0]) {
        int v = mi_version(); /* e.g. 209 for 2.0.9 */
        if (mimalloc_serves_malloc())
            snprintf(name, sizeof name, "mimalloc %d.%d.%d", v / 100, v / 10 % 10, v % 10);
        else
            snprintf(name, sizeof name, "libc");
    }
    return name;
#else
    return "libc";
#endif
}
