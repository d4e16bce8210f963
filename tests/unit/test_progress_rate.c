#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "vfs/progress_rate.h"

#define MIB (1024.0 * 1024)
#define T0 1000.0

static void assert_near(double got, double want)
{
    assert_true(fabs(got - want) < 1e-6 * (fabs(want) + 1));
}

static void test_no_rate_before_the_start(void **state)
{
    (void)state;
    struct progress_rate r;
    progress_rate_init(&r);
    double started = -1;
    progress_rate_add(&r, T0, 100); /* before any start: ignored */
    assert_near(progress_rate_get(&r, T0 + 1, 100, &started), 0);
    assert_near(started, 0);
    progress_rate_destroy(&r);
}

static void test_rate_from_the_start_while_young(void **state)
{
    (void)state;
    struct progress_rate r;
    progress_rate_init(&r);
    progress_rate_start(&r, T0);
    double started = 0;
    assert_near(progress_rate_get(&r, T0, 0, &started), 0); /* no time has passed */
    assert_near(started, T0);
    progress_rate_add(&r, T0 + 4, 64 * MIB); /* four parts of 16 MiB at once */
    assert_near(progress_rate_get(&r, T0 + 4, 64 * MIB, NULL), 16 * MIB);
    /* Nothing more for 4 s: the rate falls, the bytes are over 8 s now. */
    assert_near(progress_rate_get(&r, T0 + 8, 64 * MIB, NULL), 8 * MIB);
    progress_rate_destroy(&r);
}

static void test_rate_over_the_last_seconds(void **state)
{
    (void)state;
    struct progress_rate r;
    progress_rate_init(&r);
    progress_rate_start(&r, T0);
    /* 1 MiB/s for 100 s, then 10 MiB/s for 30 s. */
    for (int s = 10; s <= 100; s += 10)
        progress_rate_add(&r, T0 + s, (uint64_t)(s * MIB));
    for (int s = 105; s <= 130; s += 5)
        progress_rate_add(&r, T0 + s, (uint64_t)(100 * MIB + (s - 100) * 10 * MIB));
    /* The newest sample at least 20 s old is at 110 s: (400 - 200) MiB over 20 s. */
    assert_near(progress_rate_get(&r, T0 + 130, (uint64_t)(400 * MIB), NULL), 10 * MIB);
    progress_rate_destroy(&r);
}

static void test_a_new_start_forgets_the_last_upload(void **state)
{
    (void)state;
    struct progress_rate r;
    progress_rate_init(&r);
    progress_rate_start(&r, T0);
    progress_rate_add(&r, T0 + 1, (uint64_t)(100 * MIB));
    progress_rate_start(&r, T0 + 50);
    double started = 0;
    assert_near(progress_rate_get(&r, T0 + 52, (uint64_t)(2 * MIB), &started), MIB);
    assert_near(started, T0 + 50);
    progress_rate_destroy(&r);
}

static void test_samples_held_reach_past_the_window(void **state)
{
    (void)state;
    struct progress_rate r;
    progress_rate_init(&r);
    progress_rate_start(&r, T0);
    /* Progress every 10 ms, as the bytes go out: 10 MiB/s for 10 s, then 1 MiB/s for 10 s. */
    for (int i = 1; i <= 2000; i++) {
        double t = i * 0.01;
        double mib = t <= 10 ? 10 * t : 100 + (t - 10);
        progress_rate_add(&r, T0 + t, (uint64_t)(mib * MIB));
    }
    /* Over all 20 s, from the start (5.5 MiB/s): had every step been kept, the 16 samples held
     * would span the last 0.16 s and give the last rate alone. */
    assert_near(progress_rate_get(&r, T0 + 20, (uint64_t)(110 * MIB), NULL), 5.5 * MIB);
    /* A long upload: the samples held still reach 20 s back. */
    for (int i = 2001; i <= 10000; i++)
        progress_rate_add(&r, T0 + i * 0.01, (uint64_t)((110 + (i - 2000) * 0.01) * MIB));
    assert_near(progress_rate_get(&r, T0 + 100, (uint64_t)(190 * MIB), NULL), MIB);
    progress_rate_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_rate_before_the_start),
        cmocka_unit_test(test_rate_from_the_start_while_young),
        cmocka_unit_test(test_rate_over_the_last_seconds),
        cmocka_unit_test(test_a_new_start_forgets_the_last_upload),
        cmocka_unit_test(test_samples_held_reach_past_the_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
