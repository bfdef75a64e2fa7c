/*
 * Loading plugin libraries with libltdl, with the pitfalls of
 * docs/plugin-architecture.md §6.3 handled:
 *   - only absolute paths, and the file must exist before libltdl sees it, so
 *     libltdl never searches (LTDL_LIBRARY_PATH would let anyone inject a
 *     same-named library; §6.3-3);
 *   - when lt_dlopen fails on an existing file, its "file not found" is
 *     useless, so dlopen(RTLD_NOW) is tried once only to get the real dlerror()
 *     text (§6.3-2);
 *   - the exact entry symbol from the manifest is looked up (§6.3-5).
 */
#include "plugin/loader.h"

#include "util/log.h"

#include <dlfcn.h>
#include <errno.h>
#include <ltdl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

/*
 * The only process-wide mutable state of the plugin host: libltdl's
 * initialisation. Once a module was opened resident, libltdl stays
 * initialised until the process exits: lt_dlexit() would drop its bookkeeping
 * of resident modules (leaking it, as LeakSanitizer shows) while they stay
 * mapped, which is the point of resident.
 */
static pthread_mutex_t ltdl_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned ltdl_users;
static int ltdl_ready;
static int ltdl_pinned;

int dg_loader_init(void)
{
    int rc = 0;
    pthread_mutex_lock(&ltdl_lock);
    if (!ltdl_ready && lt_dlinit() != 0) {
        const char *e = lt_dlerror();
        dg_log(DG_LOG_ERROR, "plugin", "lt_dlinit failed: %s", e ? e : "unknown error");
        rc = -1;
    } else {
        ltdl_ready = 1;
        ltdl_users++;
    }
    pthread_mutex_unlock(&ltdl_lock);
    return rc;
}

void dg_loader_exit(void)
{
    pthread_mutex_lock(&ltdl_lock);
    if (ltdl_users > 0 && --ltdl_users == 0 && ltdl_ready && !ltdl_pinned) {
        lt_dlexit();
        ltdl_ready = 0;
    }
    pthread_mutex_unlock(&ltdl_lock);
}

/*
 * lt_dlopen failed on a file that exists. Ask the system loader, binding every
 * symbol now, for the actual reason (undefined symbol, wrong ELF class, ...).
 * Called with ltdl_lock held: dlopen/dlerror are kept under the same lock.
 */
static void explain_open_failure(const char *path, const char *lt_err, char *reason, size_t len)
{
    (void)dlerror(); /* clear any stale message */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(reason, len, "cannot load library: %s", e ? e : (lt_err ? lt_err : "unknown"));
        return;
    }
    /* The system loader accepts it, so libltdl refused for its own reason. */
    dlclose(h);
    snprintf(reason, len, "cannot load library %s: %s", path, lt_err ? lt_err : "unknown");
}

static void *open_locked(const char *path, int resident, char *reason, size_t len)
{
    lt_dladvise advise;
    if (lt_dladvise_init(&advise) != 0) {
        snprintf(reason, len, "cannot load library: lt_dladvise_init failed");
        return NULL;
    }
    /* No lt_dladvise_ext: the manifest names the file exactly, nothing is appended. */
    lt_dladvise_local(&advise);
    if (resident)
        lt_dladvise_resident(&advise);
    /*
     * libltdl binds lazily (plugin-architecture.md §6.3-1): a plugin linked
     * without -z now and with an undefined symbol would load and then kill the
     * daemon at its first call. Binding everything with the system loader first
     * refuses such a file now, with the real reason; libltdl then finds the
     * library already mapped and fully bound.
     */
    (void)dlerror();
    void *strict = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!strict) {
        const char *e = dlerror();
        snprintf(reason, len, "cannot load library: %s", e ? e : "unknown dlopen error");
        lt_dladvise_destroy(&advise);
        return NULL;
    }
    (void)lt_dlerror();
    lt_dlhandle h = lt_dlopenadvise(path, advise);
    lt_dladvise_destroy(&advise);
    if (!h)
        explain_open_failure(path, lt_dlerror(), reason, len);
    else if (resident)
        ltdl_pinned = 1;
    dlclose(strict); /* libltdl holds its own reference now */
    return h;
}

static int check_file(const char *path, char *reason, size_t len)
{
    if (!path || path[0] != '/') {
        snprintf(reason, len, "library path '%s' is not absolute", path ? path : "(none)");
        return -1;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            snprintf(reason, len, "library not found: %s", path);
        else
            snprintf(reason, len, "cannot access library %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(reason, len, "library %s is not a regular file", path);
        return -1;
    }
    /* Code we are about to run must not be replaceable by anyone but us or root. */
    if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        snprintf(reason, len,
                 "library %s is writable by others or owned by another user (uid %u, mode %03o)",
                 path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    return 0;
}

static int check_descriptor(const dg_plugin_descriptor *d, const char *expected_id, char *reason,
                            size_t len)
{
    if (!d) {
        snprintf(reason, len, "entry returned NULL");
        return -1;
    }
    if (d->struct_size < DG_DESCRIPTOR_MIN_SIZE) {
        snprintf(reason, len, "descriptor too small (struct_size %u, need at least %zu)",
                 (unsigned)d->struct_size, (size_t)DG_DESCRIPTOR_MIN_SIZE);
        return -1;
    }
    if (d->abi_major != DG_ABI_MAJOR) {
        snprintf(reason, len, "descriptor ABI major %u, host speaks %d", (unsigned)d->abi_major,
                 DG_ABI_MAJOR);
        return -1;
    }
    if (!d->id || strcmp(d->id, expected_id) != 0) {
        snprintf(reason, len, "descriptor id '%s' does not match manifest id '%s'",
                 d->id ? d->id : "(null)", expected_id);
        return -1;
    }
    if (!d->start) {
        snprintf(reason, len, "descriptor has no start function");
        return -1;
    }
    return 0;
}

static void close_handle(void *handle, int resident)
{
    if (!handle || resident)
        return;
    pthread_mutex_lock(&ltdl_lock);
    lt_dlclose((lt_dlhandle)handle);
    pthread_mutex_unlock(&ltdl_lock);
}

int dg_loader_open(const char *path, const char *entry, const char *expected_id, int resident,
                   dg_loaded *out, char *reason, size_t reason_len)
{
    memset(out, 0, sizeof(*out));
    if (!entry || !*entry || !expected_id) {
        snprintf(reason, reason_len, "manifest names no entry symbol");
        return -1;
    }
    if (check_file(path, reason, reason_len) != 0)
        return -1;

    pthread_mutex_lock(&ltdl_lock);
    void *h = open_locked(path, resident, reason, reason_len);
    void *sym = NULL;
    if (h) {
        (void)lt_dlerror();
        sym = lt_dlsym((lt_dlhandle)h, entry);
    }
    pthread_mutex_unlock(&ltdl_lock);
    if (!h)
        return -1;
    if (!sym) {
        snprintf(reason, reason_len, "entry symbol '%s' not found in %s", entry, path);
        close_handle(h, resident);
        return -1;
    }

    /* Object pointer to function pointer: memcpy is the portable spelling of dlsym's cast. */
    dg_plugin_entry_fn fn;
    _Static_assert(sizeof(fn) == sizeof(sym), "function and object pointers differ in size");
    memcpy(&fn, &sym, sizeof(fn));
    /* Plugin code runs here for the first time (after its constructors), outside our lock. */
    const dg_plugin_descriptor *d = fn();
    if (check_descriptor(d, expected_id, reason, reason_len) != 0) {
        close_handle(h, resident);
        return -1;
    }
    out->handle = h;
    out->desc = d;
    out->resident = resident;
    return 0;
}

void dg_loader_close(dg_loaded *l)
{
    if (!l)
        return;
    close_handle(l->handle, l->resident);
    memset(l, 0, sizeof(*l));
}
