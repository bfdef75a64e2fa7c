/* Helpers shared by the codec tests (cmocka must be included first). */
#ifndef DG_IPMSG_TESTUTIL_H
#define DG_IPMSG_TESTUTIL_H

#include <string.h>

#include "ipmsg_error.h"

/* Literal with embedded NULs -> (ptr, len). */
#define LIT(s) (s), (sizeof(s) - 1)

/* Asserts that a slice holds exactly the given literal bytes. */
#define assert_slice(sl, lit)                                                                      \
    do {                                                                                           \
        ipmsg_slice s_ = (sl);                                                                     \
        assert_non_null(s_.ptr);                                                                   \
        assert_int_equal(s_.len, sizeof(lit) - 1);                                                 \
        assert_memory_equal(s_.ptr, (lit), sizeof(lit) - 1);                                       \
    } while (0)

/* Asserts a byte buffer equals a literal. */
#define assert_bytes(buf, len, lit)                                                                \
    do {                                                                                           \
        assert_int_equal((len), sizeof(lit) - 1);                                                  \
        assert_memory_equal((buf), (lit), sizeof(lit) - 1);                                        \
    } while (0)

static inline ipmsg_slice slice_of(const char *s)
{
    ipmsg_slice r = {s, s ? strlen(s) : 0};
    return r;
}

#endif
