#include "allocator.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef DENGON_WITH_MIMALLOC
#include <dlfcn.h>
#include <mimalloc.h>

/*
 * Linking mimalloc is not proof that it serves malloc(): that depends on the
 * symbol order at load time. Two checks of what actually happened, either
 * one enough: "malloc" in the global scope is mimalloc's (its override is an
 * alias of mi_malloc), or a block from plain malloc() lies in mimalloc's
 * heap (its segment map covers the addresses it normally gets).
 */
static bool mimalloc_serves_malloc(void)
{
    void *global = dlsym(RTLD_DEFAULT, "malloc");
    if (global && global == dlsym(RTLD_DEFAULT, "mi_malloc"))
        return true;
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
