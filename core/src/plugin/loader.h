/*
 * The libltdl wrapper: opens a plugin library by absolute path only, resolves
 * the manifest's exact entry symbol, calls it and checks the descriptor.
 *
 * Threading: libltdl is not thread-safe (libtool manual, "Thread Safety in
 * libltdl"). The host calls these only from the loop thread, and every libltdl
 * call is additionally made under one process-wide mutex, so two hosts (tests)
 * or a stray call from another thread cannot corrupt libltdl's state.
 */
#ifndef DG_PLUGIN_LOADER_H
#define DG_PLUGIN_LOADER_H

#include <dengon/plugin.h>
#include <stddef.h>

typedef struct dg_loaded {
    void *handle; /* lt_dlhandle */
    const dg_plugin_descriptor *desc;
    int resident; /* opened resident: never lt_dlclose'd */
} dg_loaded;

/* Reference-counted lt_dlinit()/lt_dlexit(). 0, or -1 with a log line. */
int dg_loader_init(void);
void dg_loader_exit(void);

/*
 * Opens path (must be absolute) with lt_dlopenadvise (local; resident when
 * asked), looks up exactly entry, calls it and validates the descriptor against
 * expected_id. On failure returns -1, writes a one-line reason (the real
 * dlerror() text when the file exists but cannot be loaded) and leaves nothing
 * open.
 */
int dg_loader_open(const char *path, const char *entry, const char *expected_id, int resident,
                   dg_loaded *out, char *reason, size_t reason_len);
/* lt_dlclose unless resident; clears *l. */
void dg_loader_close(dg_loaded *l);

/* The smallest descriptor the host can use: everything up to and including stop. */
#define DG_DESCRIPTOR_MIN_SIZE                                                                     \
    (offsetof(dg_plugin_descriptor, stop) + sizeof(((dg_plugin_descriptor *)0)->stop))

#endif
