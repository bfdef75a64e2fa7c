/* Packet numbers: max(now, last + 1), below 2^32, never 0 (§1.2, §9.9). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "pktno.h"

static void test_time_based(void **state)
{
    (void)state;
    ipmsg_pktno g;
    ipmsg_pktno_init(&g, 0);
    assert_int_equal(ipmsg_pktno_next(&g, 1700000000), 1700000000u);
    /* several packets in the same second keep counting */
    assert_int_equal(ipmsg_pktno_next(&g, 1700000000), 1700000001u);
    assert_int_equal(ipmsg_pktno_next(&g, 1700000000), 1700000002u);
    /* the clock catches up: jump to it */
    assert_int_equal(ipmsg_pktno_next(&g, 1700000100), 1700000100u);
    /* the clock steps back: still rising */
    assert_int_equal(ipmsg_pktno_next(&g, 1600000000), 1700000101u);
}

static void test_restart_is_unique(void **state)
{
    (void)state;
    /* A burst before a restart got ahead of the clock; the persisted last
     * number keeps the new run above it (iptux restarts at 1 and collides). */
    ipmsg_pktno g;
    ipmsg_pktno_init(&g, 1700000500);
    assert_int_equal(ipmsg_pktno_next(&g, 1700000010), 1700000501u);
}

static void test_bounds(void **state)
{
    (void)state;
    ipmsg_pktno g;
    ipmsg_pktno_init(&g, 0);
    assert_int_equal(ipmsg_pktno_next(&g, 0), 1u);  /* never 0 */
    assert_int_equal(ipmsg_pktno_next(&g, -5), 2u); /* broken clock */
    ipmsg_pktno_init(&g, UINT32_MAX - 1);
    assert_int_equal(ipmsg_pktno_next(&g, 5), UINT32_MAX);
    /* wrap: restart from the clock, still never 0 */
    assert_int_equal(ipmsg_pktno_next(&g, 1700000000), 1700000000u);
    ipmsg_pktno_init(&g, UINT32_MAX);
    assert_int_equal(ipmsg_pktno_next(&g, 0), 1u);
    /* after 2106 the seconds are taken modulo 2^32 */
    ipmsg_pktno_init(&g, 0);
    assert_int_equal(ipmsg_pktno_next(&g, (int64_t)UINT32_MAX + 11), 10u);
}

static void test_now(void **state)
{
    (void)state;
    ipmsg_pktno g;
    ipmsg_pktno_init(&g, 0);
    time_t before = time(NULL);
    uint32_t a = ipmsg_pktno_next_now(&g);
    uint32_t b = ipmsg_pktno_next_now(&g);
    assert_true(a >= (uint32_t)before);
    assert_true(b > a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_based),
        cmocka_unit_test(test_restart_is_unique),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
