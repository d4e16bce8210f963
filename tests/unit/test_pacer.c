#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <time.h>

#include "remote/pacer.h"

#define T0 1000.0

static void assert_wait(double actual, double expected)
{
    if (fabs(actual - expected) > 1e-9)
        fail_msg("wait %.12f, expected %.12f", actual, expected);
}

/* Takes n tokens at time now, each expected to need no wait. */
static void take_free(struct pacer *p, double now, int n)
{
    for (int i = 0; i < n; i++)
        assert_wait(pacer_reserve(p, now), 0.0);
}

static void test_60_per_minute_allows_a_burst_of_ten(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 60);
    take_free(&p, T0, 10);
    assert_true(pacer_reserve(&p, T0) > 0);
    pacer_destroy(&p);
}

static void test_after_the_burst_each_request_waits_one_more_interval(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 60); /* 1/s */
    take_free(&p, T0, 10);
    assert_wait(pacer_reserve(&p, T0), 1.0);
    assert_wait(pacer_reserve(&p, T0), 2.0);
    assert_wait(pacer_reserve(&p, T0), 3.0);
    pacer_destroy(&p);
}

static void test_wait_is_one_over_rate(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 600); /* 10/s, burst 100 */
    take_free(&p, T0, 100);
    assert_wait(pacer_reserve(&p, T0), 0.1);
    assert_wait(pacer_reserve(&p, T0), 0.2);
    pacer_destroy(&p);

    pacer_init(&p, 120); /* 2/s, burst 20 */
    take_free(&p, T0, 20);
    assert_wait(pacer_reserve(&p, T0), 0.5);
    pacer_destroy(&p);
}

static void test_tokens_refill_over_time(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 60);
    take_free(&p, T0, 10);
    /* Three seconds later three tokens are back. */
    take_free(&p, T0 + 3, 3);
    assert_wait(pacer_reserve(&p, T0 + 3), 1.0);
    pacer_destroy(&p);
}

static void test_partial_refill_gives_a_partial_wait(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 60);
    take_free(&p, T0, 10);
    assert_wait(pacer_reserve(&p, T0 + 0.25), 0.75);
    pacer_destroy(&p);
}

static void test_spaced_requests_never_wait(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 60);
    for (int i = 0; i < 100; i++)
        assert_wait(pacer_reserve(&p, T0 + i), 0.0);
    pacer_destroy(&p);
}

static void test_queued_waiters_are_paid_back_by_time(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 60);
    take_free(&p, T0, 10);
    assert_wait(pacer_reserve(&p, T0), 1.0);
    assert_wait(pacer_reserve(&p, T0), 2.0); /* tokens now -2 */
    /* Two seconds pay the queue back to 0: the next one waits a full interval. */
    assert_wait(pacer_reserve(&p, T0 + 2), 1.0);
    pacer_destroy(&p);
}

static void test_burst_is_capped_after_a_long_idle(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 60);
    take_free(&p, T0, 1);
    /* An hour idle does not bank 3600 tokens: still ten. */
    take_free(&p, T0 + 3600, 10);
    assert_wait(pacer_reserve(&p, T0 + 3600), 1.0);
    pacer_destroy(&p);
}

static void test_burst_is_ten_seconds_worth(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 30); /* 0.5/s: burst 5 */
    take_free(&p, T0, 5);
    assert_wait(pacer_reserve(&p, T0), 2.0);
    pacer_destroy(&p);
}

static void test_slow_rate_has_a_burst_of_one(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 3); /* 0.05/s: ten seconds' worth is half a token, so 1 */
    take_free(&p, T0, 1);
    assert_wait(pacer_reserve(&p, T0), 20.0);
    pacer_destroy(&p);

    pacer_init(&p, 1); /* one a minute */
    take_free(&p, T0, 1);
    assert_wait(pacer_reserve(&p, T0), 60.0);
    pacer_destroy(&p);
}

static void test_rate_zero_is_unpaced(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 0);
    for (int i = 0; i < 10000; i++)
        assert_wait(pacer_reserve(&p, T0), 0.0);
    pacer_destroy(&p);
}

static void test_negative_rate_is_unpaced(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, -5);
    for (int i = 0; i < 1000; i++)
        assert_wait(pacer_reserve(&p, T0), 0.0);
    pacer_destroy(&p);
}

static void test_first_reservation_at_time_zero_is_free(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 60);
    take_free(&p, 0.0, 10);
    assert_wait(pacer_reserve(&p, 0.0), 1.0);
    pacer_destroy(&p);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What pacer_wait told: the sum of the deltas and how many times +1 came. */
static int waiting_now, waiting_began;

static void count_waiting(int delta)
{
    waiting_now += delta;
    waiting_began += delta > 0;
}

static void test_pacer_wait_within_the_burst_does_not_sleep(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 60);
    waiting_now = waiting_began = 0;
    double t = now_s();
    for (int i = 0; i < 10; i++)
        pacer_wait(&p, count_waiting);
    assert_true(now_s() - t < 0.5);
    assert_int_equal(waiting_began, 0); /* nobody waited: nothing to count */
    pacer_destroy(&p);
}

static void test_pacer_wait_sleeps_after_the_burst(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 600); /* 10/s, burst 100 */
    for (int i = 0; i < 100; i++)
        pacer_wait(&p, NULL);
    waiting_now = waiting_began = 0;
    double t = now_s();
    pacer_wait(&p, count_waiting);
    pacer_wait(&p, count_waiting);
    /* Two more tokens cost about 0.2 s (less what refilled during the burst). */
    double slept = now_s() - t;
    assert_true(slept > 0.1);
    assert_true(slept < 1.0);
    assert_true(waiting_began >= 1);  /* told of the sleep */
    assert_int_equal(waiting_now, 0); /* and of its end */
    pacer_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_60_per_minute_allows_a_burst_of_ten),
        cmocka_unit_test(test_after_the_burst_each_request_waits_one_more_interval),
        cmocka_unit_test(test_wait_is_one_over_rate),
        cmocka_unit_test(test_tokens_refill_over_time),
        cmocka_unit_test(test_partial_refill_gives_a_partial_wait),
        cmocka_unit_test(test_spaced_requests_never_wait),
        cmocka_unit_test(test_queued_waiters_are_paid_back_by_time),
        cmocka_unit_test(test_burst_is_capped_after_a_long_idle),
        cmocka_unit_test(test_burst_is_ten_seconds_worth),
        cmocka_unit_test(test_slow_rate_has_a_burst_of_one),
        cmocka_unit_test(test_rate_zero_is_unpaced),
        cmocka_unit_test(test_negative_rate_is_unpaced),
        cmocka_unit_test(test_first_reservation_at_time_zero_is_free),
        cmocka_unit_test(test_pacer_wait_within_the_burst_does_not_sleep),
        cmocka_unit_test(test_pacer_wait_sleeps_after_the_burst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
