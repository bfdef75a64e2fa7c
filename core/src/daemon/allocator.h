/*
 * Which malloc the daemon runs on (ADR 0020): mimalloc when the build links
 * it and it did take over malloc, otherwise the C library's.
 */
#ifndef DG_DAEMON_ALLOCATOR_H
#define DG_DAEMON_ALLOCATOR_H

/* "mimalloc 2.0.9", or "libc" (a sanitizer build, or a build without mimalloc). */
const char *dg_allocator_name(void);

#endif
