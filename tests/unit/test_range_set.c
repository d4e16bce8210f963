/* Unit tests for range_set: adding merges what overlaps or touches and nothing else, holes are
 * found from any offset, and "complete" means every byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "vfs/range_set.h"

static void assert_ranges(const struct range_set *s, const uint64_t *want, size_t n)
{
    assert_int_equal(s->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s->r[i].start, want[2 * i]);
        assert_int_equal(s->r[i].end, want[2 * i + 1]);
    }
}

static void test_add_keeps_order_and_merges(void **state)
{
    (void)state;
    struct range_set s;
    range_set_init(&s);
    assert_int_equal(range_set_add(&s, 100, 200), 0);
    assert_int_equal(range_set_add(&s, 0, 10), 0);
    assert_int_equal(range_set_add(&s, 300, 400), 0);
    assert_ranges(&s, (uint64_t[]){0, 10, 100, 200, 300, 400}, 3);
    /* Touching ranges merge: [10, 100) fills the gap exactly. */
    assert_int_equal(range_set_add(&s, 10, 100), 0);
    assert_ranges(&s, (uint64_t[]){0, 200, 300, 400}, 2);
    /* One range spanning several swallows them. */
    assert_int_equal(range_set_add(&s, 150, 350), 0);
    assert_ranges(&s, (uint64_t[]){0, 400}, 1);
    /* Inside: nothing changes; empty: nothing changes. */
    assert_int_equal(range_set_add(&s, 5, 6), 0);
    assert_int_equal(range_set_add(&s, 500, 500), 0);
    assert_ranges(&s, (uint64_t[]){0, 400}, 1);
    assert_int_equal(range_set_bytes(&s), 400);
    range_set_free(&s);
}

static void test_many_ranges_grow_and_merge(void **state)
{
    (void)state;
    struct range_set s;
    range_set_init(&s);
    /* Every other 4 KiB page, in reverse, then the gaps: one range in the end. */
    for (int i = 99; i >= 0; i--)
        assert_int_equal(range_set_add(&s, (uint64_t)i * 8192, (uint64_t)i * 8192 + 4096), 0);
    assert_int_equal(s.n, 100);
    assert_int_equal(range_set_bytes(&s), 100 * 4096);
    assert_false(range_set_complete(&s, 100 * 8192));
    for (int i = 0; i < 100; i++)
        assert_int_equal(range_set_add(&s, (uint64_t)i * 8192 + 4096, (uint64_t)i * 8192 + 8192),
                         0);
    assert_ranges(&s, (uint64_t[]){0, 100 * 8192}, 1);
    assert_true(range_set_complete(&s, 100 * 8192));
    range_set_free(&s);
}

static void test_covers(void **state)
{
    (void)state;
    struct range_set s;
    range_set_init(&s);
    assert_true(range_set_covers(&s, 7, 7));
    assert_false(range_set_covers(&s, 0, 1));
    range_set_add(&s, 10, 20);
    range_set_add(&s, 30, 40);
    assert_true(range_set_covers(&s, 10, 20));
    assert_true(range_set_covers(&s, 12, 13));
    assert_true(range_set_covers(&s, 39, 40));
    assert_false(range_set_covers(&s, 9, 11));
    assert_false(range_set_covers(&s, 19, 21));
    assert_false(range_set_covers(&s, 15, 35)); /* across a hole */
    assert_false(range_set_covers(&s, 20, 21)); /* end is exclusive */
    assert_false(range_set_covers(&s, 40, 41));
    range_set_free(&s);
}

static void test_first_hole(void **state)
{
    (void)state;
    struct range_set s;
    range_set_init(&s);
    uint64_t a = 0, b = 0;
    assert_true(range_set_first_hole(&s, 5, 100, &a, &b));
    assert_int_equal(a, 5);
    assert_int_equal(b, 100);
    range_set_add(&s, 0, 10);
    range_set_add(&s, 20, 30);
    assert_true(range_set_first_hole(&s, 0, 100, &a, &b)); /* from inside a run: after it */
    assert_int_equal(a, 10);
    assert_int_equal(b, 20);
    assert_true(range_set_first_hole(&s, 15, 100, &a, &b)); /* from inside a hole */
    assert_int_equal(a, 15);
    assert_int_equal(b, 20);
    assert_true(range_set_first_hole(&s, 10, 18, &a, &b)); /* clipped to the limit */
    assert_int_equal(a, 10);
    assert_int_equal(b, 18);
    assert_true(range_set_first_hole(&s, 20, 100, &a, &b)); /* the tail */
    assert_int_equal(a, 30);
    assert_int_equal(b, 100);
    assert_false(range_set_first_hole(&s, 22, 30, &a, &b)); /* covered */
    assert_false(range_set_first_hole(&s, 0, 10, &a, &b));
    assert_false(range_set_first_hole(&s, 50, 50, &a, &b)); /* empty */
    assert_int_equal(range_set_run_end(&s, 3), 10);
    assert_int_equal(range_set_run_end(&s, 10), 10); /* not present */
    assert_int_equal(range_set_run_end(&s, 25), 30);
    range_set_free(&s);
}

static void test_complete(void **state)
{
    (void)state;
    struct range_set s;
    range_set_init(&s);
    assert_true(range_set_complete(&s, 0));
    assert_false(range_set_complete(&s, 1));
    range_set_add(&s, 1, 1000);
    assert_false(range_set_complete(&s, 1000)); /* byte 0 missing */
    range_set_add(&s, 0, 1);
    assert_true(range_set_complete(&s, 1000));
    assert_false(range_set_complete(&s, 1001));
    range_set_clear(&s);
    assert_false(range_set_complete(&s, 1000));
    assert_int_equal(range_set_bytes(&s), 0);
    range_set_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_keeps_order_and_merges),
        cmocka_unit_test(test_many_ranges_grow_and_merge),
        cmocka_unit_test(test_covers),
        cmocka_unit_test(test_first_hole),
        cmocka_unit_test(test_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
