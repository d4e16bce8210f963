#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "remote/upload_plan.h"

#define MiB (1024ull * 1024)
#define TiB (1024ull * 1024 * MiB)

/* Parts are numbered 1..n, contiguous from 0, sum to size, and all but the last are at least
 * UPLOAD_PART_MIN and of equal length. */
static void assert_covers(const struct upload_part *p, int n, uint64_t size)
{
    uint64_t next = 0;

    assert_true(n >= 1);
    assert_true(n <= UPLOAD_PARTS_MAX);
    for (int i = 0; i < n; i++) {
        assert_int_equal(p[i].number, i + 1);
        assert_int_equal(p[i].offset, next);
        if (i + 1 < n) {
            assert_true(p[i].length >= UPLOAD_PART_MIN);
            assert_int_equal(p[i].length, p[0].length);
        }
        next += p[i].length;
    }
    assert_int_equal(next, size);
    assert_true(p[n - 1].length <= p[0].length);
}

static void test_empty_file_is_one_empty_part(void **state)
{
    (void)state;
    struct upload_part *p = NULL;

    assert_int_equal(upload_plan_parts(0, 5 * MiB, &p), 1);
    assert_int_equal(p[0].number, 1);
    assert_int_equal(p[0].offset, 0);
    assert_int_equal(p[0].length, 0);
    free(p);
}

static void test_one_byte_is_one_part(void **state)
{
    (void)state;
    struct upload_part *p = NULL;

    assert_int_equal(upload_plan_parts(1, 5 * MiB, &p), 1);
    assert_int_equal(p[0].number, 1);
    assert_int_equal(p[0].offset, 0);
    assert_int_equal(p[0].length, 1);
    free(p);
}

static void test_exactly_one_part_size(void **state)
{
    (void)state;
    struct upload_part *p = NULL;

    assert_int_equal(upload_plan_parts(5 * MiB, 5 * MiB, &p), 1);
    assert_int_equal(p[0].length, 5 * MiB);
    free(p);
}

static void test_one_byte_over_gives_a_one_byte_last_part(void **state)
{
    (void)state;
    struct upload_part *p = NULL;

    assert_int_equal(upload_plan_parts(5 * MiB + 1, 5 * MiB, &p), 2);
    assert_int_equal(p[0].offset, 0);
    assert_int_equal(p[0].length, 5 * MiB);
    assert_int_equal(p[1].number, 2);
    assert_int_equal(p[1].offset, 5 * MiB);
    assert_int_equal(p[1].length, 1);
    free(p);
}

static void test_64mib_in_5mib_parts(void **state)
{
    (void)state;
    struct upload_part *p = NULL;

    assert_int_equal(upload_plan_parts(64 * MiB, 5 * MiB, &p), 13);
    assert_covers(p, 13, 64 * MiB);
    assert_int_equal(p[12].offset, 60 * MiB);
    assert_int_equal(p[12].length, 4 * MiB);
    free(p);
}

static void test_64mib_in_16mib_parts_divides_evenly(void **state)
{
    (void)state;
    struct upload_part *p = NULL;

    assert_int_equal(upload_plan_parts(64 * MiB, 16 * MiB, &p), 4);
    assert_covers(p, 4, 64 * MiB);
    assert_int_equal(p[3].offset, 48 * MiB);
    assert_int_equal(p[3].length, 16 * MiB);
    free(p);
}

static void test_64mib_in_25mib_parts(void **state)
{
    (void)state;
    struct upload_part *p = NULL;

    assert_int_equal(upload_plan_parts(64 * MiB, 25 * MiB, &p), 3);
    assert_covers(p, 3, 64 * MiB);
    assert_int_equal(p[1].offset, 25 * MiB);
    assert_int_equal(p[2].offset, 50 * MiB);
    assert_int_equal(p[2].length, 14 * MiB);
    free(p);
}

static void test_part_size_larger_than_file(void **state)
{
    (void)state;
    struct upload_part *p = NULL;

    assert_int_equal(upload_plan_parts(64 * MiB, 100 * MiB, &p), 1);
    assert_int_equal(p[0].offset, 0);
    assert_int_equal(p[0].length, 64 * MiB);
    free(p);
}

static void test_part_size_under_minimum_is_raised(void **state)
{
    (void)state;
    struct upload_part *p = NULL;

    /* 1 MiB parts would be 64; the minimum gives 13 parts of 5 MiB. */
    assert_int_equal(upload_plan_parts(64 * MiB, 1 * MiB, &p), 13);
    assert_int_equal(p[0].length, UPLOAD_PART_MIN);
    assert_covers(p, 13, 64 * MiB);
    free(p);
}

static void test_one_byte_part_size_is_raised(void **state)
{
    (void)state;
    struct upload_part *p = NULL;

    assert_int_equal(upload_plan_parts(5 * MiB + 1, 1, &p), 2);
    assert_int_equal(p[0].length, UPLOAD_PART_MIN);
    assert_int_equal(p[1].length, 1);
    free(p);
}

static void test_1tib_raises_part_size_to_fit_max_parts(void **state)
{
    (void)state;
    struct upload_part *p = NULL;
    int n = upload_plan_parts(TiB, 5 * MiB, &p);

    assert_int_equal(n, UPLOAD_PARTS_MAX);
    /* ceil(2^40 / 1000) */
    assert_int_equal(p[0].length, 1099511628);
    assert_covers(p, n, TiB);
    free(p);
}

static void test_exactly_max_parts_at_minimum_keeps_part_size(void **state)
{
    (void)state;
    struct upload_part *p = NULL;
    uint64_t size = UPLOAD_PARTS_MAX * UPLOAD_PART_MIN;

    assert_int_equal(upload_plan_parts(size, UPLOAD_PART_MIN, &p), UPLOAD_PARTS_MAX);
    assert_int_equal(p[0].length, UPLOAD_PART_MIN);
    assert_covers(p, UPLOAD_PARTS_MAX, size);
    free(p);
}

static void test_one_byte_over_max_parts_raises_part_size(void **state)
{
    (void)state;
    struct upload_part *p = NULL;
    uint64_t size = UPLOAD_PARTS_MAX * UPLOAD_PART_MIN + 1;

    assert_int_equal(upload_plan_parts(size, UPLOAD_PART_MIN, &p), UPLOAD_PARTS_MAX);
    assert_int_equal(p[0].length, UPLOAD_PART_MIN + 1);
    assert_covers(p, UPLOAD_PARTS_MAX, size);
    free(p);
}

static void test_largest_size_does_not_overflow(void **state)
{
    (void)state;
    struct upload_part *p = NULL;
    int n = upload_plan_parts(UINT64_MAX, UINT64_MAX, &p);

    assert_int_equal(n, 1);
    assert_int_equal(p[0].length, UINT64_MAX);
    free(p);
    n = upload_plan_parts(UINT64_MAX, 5 * MiB, &p);
    assert_int_equal(n, UPLOAD_PARTS_MAX);
    assert_covers(p, n, UINT64_MAX);
    free(p);
}

static void test_zero_part_size_is_einval(void **state)
{
    (void)state;
    struct upload_part *p = NULL;

    assert_int_equal(upload_plan_parts(64 * MiB, 0, &p), -EINVAL);
    assert_null(p);
}

static void test_null_parts_is_einval(void **state)
{
    (void)state;
    assert_int_equal(upload_plan_parts(64 * MiB, 5 * MiB, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_file_is_one_empty_part),
        cmocka_unit_test(test_one_byte_is_one_part),
        cmocka_unit_test(test_exactly_one_part_size),
        cmocka_unit_test(test_one_byte_over_gives_a_one_byte_last_part),
        cmocka_unit_test(test_64mib_in_5mib_parts),
        cmocka_unit_test(test_64mib_in_16mib_parts_divides_evenly),
        cmocka_unit_test(test_64mib_in_25mib_parts),
        cmocka_unit_test(test_part_size_larger_than_file),
        cmocka_unit_test(test_part_size_under_minimum_is_raised),
        cmocka_unit_test(test_one_byte_part_size_is_raised),
        cmocka_unit_test(test_1tib_raises_part_size_to_fit_max_parts),
        cmocka_unit_test(test_exactly_max_parts_at_minimum_keeps_part_size),
        cmocka_unit_test(test_one_byte_over_max_parts_raises_part_size),
        cmocka_unit_test(test_largest_size_does_not_overflow),
        cmocka_unit_test(test_zero_part_size_is_einval),
        cmocka_unit_test(test_null_parts_is_einval),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
