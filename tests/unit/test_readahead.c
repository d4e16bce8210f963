/* Unit tests for readahead: window growth, resets on seeks, clipping at the end of the file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vfs/readahead.h"

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)
#define BIG ((uint64_t)1 << 40) /* a file size that never clips */

static void test_init_sets_window_to_min(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, 64 * KiB, 1 * MiB);
    assert_int_equal(ra.window, 64 * KiB);
    assert_int_equal(ra.min, 64 * KiB);
    assert_int_equal(ra.max, 1 * MiB);
    assert_int_equal(ra.next_offset, 0);
}

static void test_init_clamps_zero_min_and_small_max(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, 0, 0);
    assert_int_equal(ra.min, 1);
    assert_int_equal(ra.max, 1);
    readahead_init(&ra, 8 * KiB, 4 * KiB);
    assert_int_equal(ra.min, 8 * KiB);
    assert_int_equal(ra.max, 8 * KiB);
}

static void test_first_read_at_zero_is_sequential_and_grows(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, 64 * KiB, 1 * MiB);
    assert_int_equal(readahead_fetch_size(&ra, 0, 4 * KiB, BIG), 64 * KiB);
    assert_int_equal(ra.window, 128 * KiB);
    assert_int_equal(ra.next_offset, 4 * KiB);
}

static void test_sequential_reads_double_up_to_max(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, 64 * KiB, 1 * MiB);
    const size_t want[] = {64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB, 1 * MiB, 1 * MiB, 1 * MiB};
    uint64_t off = 0;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++, off += 4 * KiB)
        assert_int_equal(readahead_fetch_size(&ra, off, 4 * KiB, BIG), want[i]);
    assert_int_equal(ra.window, 1 * MiB);
}

static void test_first_read_elsewhere_is_a_seek(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, 64 * KiB, 1 * MiB);
    assert_int_equal(readahead_fetch_size(&ra, 10 * MiB, 4 * KiB, BIG), 64 * KiB);
    assert_int_equal(ra.window, 64 * KiB);
    assert_int_equal(readahead_fetch_size(&ra, 10 * MiB + 4 * KiB, 4 * KiB, BIG), 64 * KiB);
    assert_int_equal(readahead_fetch_size(&ra, 10 * MiB + 8 * KiB, 4 * KiB, BIG), 128 * KiB);
}

static void grow_to_max(struct readahead *ra, uint64_t *off)
{
    for (int i = 0; i < 6; i++, *off += 4 * KiB)
        readahead_fetch_size(ra, *off, 4 * KiB, BIG);
    assert_int_equal(ra->window, 1 * MiB);
}

static void test_forward_seek_resets_window(void **state)
{
    (void)state;
    struct readahead ra;
    uint64_t off = 0;
    readahead_init(&ra, 64 * KiB, 1 * MiB);
    grow_to_max(&ra, &off);
    assert_int_equal(readahead_fetch_size(&ra, off + 4 * KiB, 4 * KiB, BIG), 64 * KiB);
    assert_int_equal(ra.window, 64 * KiB);
    assert_int_equal(ra.next_offset, off + 8 * KiB);
}

static void test_backward_seek_resets_window(void **state)
{
    (void)state;
    struct readahead ra;
    uint64_t off = 0;
    readahead_init(&ra, 64 * KiB, 1 * MiB);
    grow_to_max(&ra, &off);
    assert_int_equal(readahead_fetch_size(&ra, 0, 4 * KiB, BIG), 64 * KiB);
    assert_int_equal(ra.window, 64 * KiB);
    assert_int_equal(ra.next_offset, 4 * KiB);
}

static void test_rereading_same_offset_is_a_seek(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, 64 * KiB, 1 * MiB);
    readahead_fetch_size(&ra, 0, 4 * KiB, BIG);
    readahead_fetch_size(&ra, 4 * KiB, 4 * KiB, BIG);
    assert_int_equal(ra.window, 256 * KiB);
    assert_int_equal(readahead_fetch_size(&ra, 4 * KiB, 4 * KiB, BIG), 64 * KiB);
}

static void test_read_larger_than_window_fetches_len(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, 64 * KiB, 1 * MiB);
    assert_int_equal(readahead_fetch_size(&ra, 0, 4 * MiB, BIG), 4 * MiB);
    assert_int_equal(ra.window, 128 * KiB);
    assert_int_equal(ra.next_offset, 4 * MiB);
    assert_int_equal(readahead_fetch_size(&ra, 4 * MiB, 2 * MiB, BIG), 2 * MiB);
    assert_int_equal(readahead_fetch_size(&ra, 50 * MiB, 3 * MiB, BIG), 3 * MiB);
}

static void test_fetch_clipped_at_eof(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, 64 * KiB, 1 * MiB);
    const uint64_t size = 100 * KiB;
    assert_int_equal(readahead_fetch_size(&ra, 0, 4 * KiB, size), 64 * KiB);
    assert_int_equal(readahead_fetch_size(&ra, 4 * KiB, 4 * KiB, size), 96 * KiB);
}

static void test_read_crossing_eof_clips_len_and_next_offset(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, 64 * KiB, 1 * MiB);
    const uint64_t size = 100 * KiB;
    assert_int_equal(readahead_fetch_size(&ra, 98 * KiB, 8 * KiB, size), 2 * KiB);
    assert_int_equal(ra.next_offset, size);
    assert_int_equal(readahead_fetch_size(&ra, 0, 1 * MiB, size), 100 * KiB);
}

static void test_read_at_or_past_eof_fetches_nothing(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, 64 * KiB, 1 * MiB);
    readahead_fetch_size(&ra, 0, 4 * KiB, 100 * KiB);
    assert_int_equal(readahead_fetch_size(&ra, 100 * KiB, 4 * KiB, 100 * KiB), 0);
    assert_int_equal(readahead_fetch_size(&ra, 200 * KiB, 4 * KiB, 100 * KiB), 0);
    assert_int_equal(readahead_fetch_size(&ra, 0, 4 * KiB, 0), 0);
    /* ...and leaves the sequential run alone. */
    assert_int_equal(ra.window, 128 * KiB);
    assert_int_equal(ra.next_offset, 4 * KiB);
}

static void test_zero_length_read_fetches_nothing(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, 64 * KiB, 1 * MiB);
    assert_int_equal(readahead_fetch_size(&ra, 0, 0, BIG), 0);
    assert_int_equal(ra.window, 64 * KiB);
}

static void test_growth_does_not_overflow(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, SIZE_MAX / 2 + 1, SIZE_MAX);
    readahead_fetch_size(&ra, 0, 1, BIG);
    assert_true(ra.window == SIZE_MAX);
    readahead_fetch_size(&ra, 1, 1, BIG);
    assert_true(ra.window == SIZE_MAX);
}

static void test_non_power_of_two_max_is_reached_exactly(void **state)
{
    (void)state;
    struct readahead ra;
    readahead_init(&ra, 100, 300);
    assert_int_equal(readahead_fetch_size(&ra, 0, 10, BIG), 100);
    assert_int_equal(readahead_fetch_size(&ra, 10, 10, BIG), 200);
    assert_int_equal(readahead_fetch_size(&ra, 20, 10, BIG), 300);
    assert_int_equal(readahead_fetch_size(&ra, 30, 10, BIG), 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_sets_window_to_min),
        cmocka_unit_test(test_init_clamps_zero_min_and_small_max),
        cmocka_unit_test(test_first_read_at_zero_is_sequential_and_grows),
        cmocka_unit_test(test_sequential_reads_double_up_to_max),
        cmocka_unit_test(test_first_read_elsewhere_is_a_seek),
        cmocka_unit_test(test_forward_seek_resets_window),
        cmocka_unit_test(test_backward_seek_resets_window),
        cmocka_unit_test(test_rereading_same_offset_is_a_seek),
        cmocka_unit_test(test_read_larger_than_window_fetches_len),
        cmocka_unit_test(test_fetch_clipped_at_eof),
        cmocka_unit_test(test_read_crossing_eof_clips_len_and_next_offset),
        cmocka_unit_test(test_read_at_or_past_eof_fetches_nothing),
        cmocka_unit_test(test_zero_length_read_fetches_nothing),
        cmocka_unit_test(test_growth_does_not_overflow),
        cmocka_unit_test(test_non_power_of_two_max_is_reached_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
