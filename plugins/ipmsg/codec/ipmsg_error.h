/*
 * Shared vocabulary of the IPMsg codec: byte slices that point into a packet
 * (no copies), status codes, and the error report every parser fills in.
 *
 * Error reasons are static strings, so a failed parse never allocates and the
 * caller never frees anything (important on the hot receive path and in the
 * fuzzers).
 */
#ifndef DG_IPMSG_ERROR_H
#define DG_IPMSG_ERROR_H

#include <stdbool.h>
#include <stddef.h>

/* A view of bytes inside a caller-owned buffer. ptr == NULL means "absent";
 * ptr != NULL with len == 0 means "present but empty". Not NUL-terminated. */
typedef struct ipmsg_slice {
    const char *ptr;
    size_t len;
} ipmsg_slice;

static inline bool ipmsg_slice_present(ipmsg_slice s)
{
    return s.ptr != NULL;
}

/* Compares a slice with a C string (byte for byte). Absent equals nothing. */
bool ipmsg_slice_eq(ipmsg_slice s, const char *str);

typedef enum ipmsg_status {
    IPMSG_OK = 0,
    IPMSG_E_INVAL = -1,   /* bad argument from the caller */
    IPMSG_E_TOOBIG = -2,  /* input larger than the configured maximum */
    IPMSG_E_SYNTAX = -3,  /* malformed input (missing/empty/bad field) */
    IPMSG_E_VERSION = -4, /* version field is not "1..." */
    IPMSG_E_RANGE = -5,   /* number out of range */
    IPMSG_E_NOSPACE = -6, /* output does not fit the given buffer/limit */
    IPMSG_E_CHARSET = -7, /* unknown code page or conversion impossible */
    IPMSG_E_NOMEM = -8,
} ipmsg_status;

/* What went wrong, for logs: code, a static English reason and the byte
 * offset in the input where it was detected (0 when not meaningful). */
typedef struct ipmsg_error {
    ipmsg_status code;
    const char *reason;
    size_t offset;
} ipmsg_error;

/* Short name of a status ("syntax error", ...). Never NULL. */
const char *ipmsg_status_str(int status);

/* Fills err (which may be NULL) and returns code: `return ipmsg_fail(...)`. */
int ipmsg_fail(ipmsg_error *err, ipmsg_status code, const char *reason, size_t offset);

#endif
