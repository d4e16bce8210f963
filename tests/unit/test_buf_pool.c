/* Unit tests for buf_pool: the budget holds whatever the number of takers, transfers get what
 * is free between their min and max, takers wait for buffers to come back (and get them), and
 * replies never take the reserve that transfers need. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfs/buf_pool.h"

#define KiB 1024u
#define MiB (1024u * 1024)

static uint64_t charged(struct buf_pool *p)
{
    struct buf_pool_stats st;
    buf_pool_stats(p, &st);
    return st.charged;
}

static void test_transfers_get_what_is_free(void **state)
{
    (void)state;
    struct buf_pool *p = buf_pool_new(8 * MiB, 1 * MiB);
    size_t a = 0, b = 0, c = 0;
    void *x = buf_pool_get(p, 256 * KiB, 6 * MiB, &a);
    assert_non_null(x);
    assert_int_equal(a, 6 * MiB);
    memset(x, 1, a); /* the whole of it is usable */
    void *y = buf_pool_get(p, 256 * KiB, 6 * MiB, &b);
    assert_non_null(y);
    assert_int_equal(b, 2 * MiB); /* what was left */
    assert_int_equal(charged(p), 8 * MiB);
    buf_pool_put(p, y);
    buf_pool_put(p, x);
    /* A returned buffer is reused for a taker it fits. */
    void *z = buf_pool_get(p, 1 * MiB, 2 * MiB, &c);
    assert_ptr_equal(z, y);
    assert_int_equal(c, 2 * MiB);
    buf_pool_put(p, z);
    assert_true(charged(p) <= 8 * MiB);
    buf_pool_free(p);
}

struct taker {
    struct buf_pool *p;
    atomic_int *out;
    atomic_int *max_out;
    int rounds;
    bool reply;
};

static void *take_many(void *arg)
{
    struct taker *t = arg;
    for (int i = 0; i < t->rounds; i++) {
        size_t got = 512 * KiB;
        void *b = t->reply ? buf_pool_get_reply(t->p, 300 * KiB)
                           : buf_pool_get(t->p, 256 * KiB, 2 * MiB, &got);
        assert_non_null(b);
        int now = atomic_fetch_add(t->out, (int)got) + (int)got;
        int seen = atomic_load(t->max_out);
        while (now > seen && !atomic_compare_exchange_weak(t->max_out, &seen, now))
            ;
        memset(b, i, got);
        usleep(100);
        atomic_fetch_sub(t->out, (int)got);
        buf_pool_put(t->p, b);
    }
    return NULL;
}

static void test_many_takers_stay_within_budget(void **state)
{
    (void)state;
    struct buf_pool *p = buf_pool_new(4 * MiB, 1 * MiB);
    atomic_int out = 0, max_out = 0;
    pthread_t th[16];
    struct taker t[16];
    for (int i = 0; i < 16; i++) {
        t[i] = (struct taker){p, &out, &max_out, 200, i % 2 == 0};
        assert_int_equal(pthread_create(&th[i], NULL, take_many, &t[i]), 0);
    }
    for (int i = 0; i < 16; i++)
        pthread_join(th[i], NULL);
    struct buf_pool_stats st;
    buf_pool_stats(p, &st);
    assert_true(st.peak <= 4 * MiB);
    assert_true((uint64_t)max_out <= 4 * MiB);
    assert_true(st.waits > 0); /* 16 takers of up to 2 MiB cannot all fit at once */
    buf_pool_free(p);
}

static void *hold_reply(void *arg)
{
    struct buf_pool *p = arg;
    void *b = buf_pool_get_reply(p, 1 * MiB);
    assert_non_null(b);
    buf_pool_put(p, b);
    return NULL;
}

static void test_replies_leave_the_reserve(void **state)
{
    (void)state;
    struct buf_pool *p = buf_pool_new(4 * MiB, 1 * MiB);
    /* Replies take up to budget - reserve... */
    void *r[3];
    for (int i = 0; i < 3; i++)
        assert_non_null(r[i] = buf_pool_get_reply(p, 1 * MiB));
    /* ...a fourth would eat the reserve: it waits (until a reply comes back)... */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, hold_reply, p), 0);
    /* ...while a transfer still gets the reserve. */
    size_t got = 0;
    void *x = buf_pool_get(p, 256 * KiB, 8 * MiB, &got);
    assert_non_null(x);
    assert_int_equal(got, 1 * MiB);
    buf_pool_put(p, x);
    buf_pool_put(p, r[0]);
    pthread_join(th, NULL);
    buf_pool_put(p, r[1]);
    buf_pool_put(p, r[2]);
    /* A reply bigger than budget - reserve can never be had: refused, not a hang. */
    assert_null(buf_pool_get_reply(p, 4 * MiB));
    buf_pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transfers_get_what_is_free),
        cmocka_unit_test(test_many_takers_stay_within_budget),
        cmocka_unit_test(test_replies_leave_the_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
