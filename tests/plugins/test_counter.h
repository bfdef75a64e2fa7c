/* The "test.counter" service (version 1) that testgood provides and testdep uses. */
#ifndef DG_TEST_COUNTER_H
#define DG_TEST_COUNTER_H

#include <stdint.h>

#define TEST_COUNTER_SERVICE "test.counter"
#define TEST_COUNTER_VERSION 1

typedef struct test_counter_v1 {
    /* Events testgood has received on "test.*" so far. */
    int64_t (*count)(const struct test_counter_v1 *self);
} test_counter_v1;

#endif
