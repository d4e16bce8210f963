/* Unit tests for single_flight: one fetch per key at a time; those who come while it runs wait
 * for its end and are told to look again, not to fetch; other keys do not wait. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "vfs/single_flight.h"

static void keys_are_apart(void **state)
{
    (void)state;
    struct single_flight *sf = single_flight_new();
    assert_true(single_flight_begin(sf, "f:a"));
    assert_true(single_flight_begin(sf, "f:b")); /* another key: no wait */
    single_flight_end(sf, "f:a");
    assert_true(single_flight_begin(sf, "f:a")); /* ended: the next caller owns it again */
    single_flight_end(sf, "f:a");
    single_flight_end(sf, "f:b");
    assert_int_equal(single_flight_waits(sf), 0);
    single_flight_free(sf);
}

struct waiter {
    struct single_flight *sf;
    atomic_int *ended;    /* set by the owner just before it ends the fetch */
    atomic_int *finished; /* waiters that have returned */
    bool owned;
    int ended_seen;
};

static void *wait_for_it(void *arg)
{
    struct waiter *w = arg;
    w->owned = single_flight_begin(w->sf, "f:x");
    w->ended_seen = atomic_load(w->ended);
    if (w->owned)
        single_flight_end(w->sf, "f:x");
    atomic_fetch_add(w->finished, 1);
    return NULL;
}

/* Eight callers of a key whose fetch runs: each waits for its end and is told to look again. */
static void callers_wait_for_the_running_fetch(void **state)
{
    (void)state;
    struct single_flight *sf = single_flight_new();
    atomic_int ended = 0, finished = 0;
    enum { N = 8 };
    struct waiter w[N];
    pthread_t t[N];
    assert_true(single_flight_begin(sf, "f:x"));
    for (int i = 0; i < N; i++) {
        w[i] = (struct waiter){.sf = sf, .ended = &ended, .finished = &finished};
        assert_int_equal(pthread_create(&t[i], NULL, wait_for_it, &w[i]), 0);
    }
    /* Until every one of them waits (or, were they not made to, has returned). */
    while (single_flight_waits(sf) < N && atomic_load(&finished) < N)
        sched_yield();
    assert_true(single_flight_begin(sf, "f:y")); /* meanwhile other keys go on */
    single_flight_end(sf, "f:y");
    atomic_store(&ended, 1);
    single_flight_end(sf, "f:x");
    for (int i = 0; i < N; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_false(w[i].owned);
        assert_int_equal(w[i].ended_seen, 1);
    }
    assert_int_equal(single_flight_waits(sf), N);
    single_flight_free(sf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_are_apart),
        cmocka_unit_test(callers_wait_for_the_running_fetch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
