/* Unit tests for file_listing: the merge that makes /files of the untagged and tag listings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs/file_listing.h"

static struct file_listing *listing_of(const char *const *ids)
{
    struct file_listing *l = file_listing_new();
    assert_non_null(l);
    for (; *ids; ids++)
        assert_int_equal(file_listing_append(l, *ids), 0);
    return l;
}

static void assert_ids(const struct file_listing *l, const char *const *want)
{
    size_t n = 0;
    for (; want[n]; n++) {
        assert_true(n < l->count);
        assert_string_equal(l->ids[n], want[n]);
    }
    assert_int_equal(l->count, n);
}

static void merge_keeps_first_seen_order_and_each_id_once(void **state)
{
    (void)state;
    struct file_listing *parts[4] = {
        listing_of((const char *[]){"file_a", "file_b", "file_c", NULL}),
        listing_of((const char *[]){"file_d", "file_b", NULL}), /* a File with two tags */
        NULL,                                                   /* a tag not asked for */
        listing_of((const char *[]){"file_d", "file_e", "file_a", NULL}),
    };
    struct file_listing *m = file_listing_merge(parts, 4);
    assert_non_null(m);
    assert_ids(m, (const char *[]){"file_a", "file_b", "file_c", "file_d", "file_e", NULL});
    file_listing_unref(m);
    for (int i = 0; i < 4; i++)
        file_listing_unref(parts[i]);
}

static void merge_of_nothing_is_empty(void **state)
{
    (void)state;
    struct file_listing *empty = file_listing_new();
    struct file_listing *m = file_listing_merge(&empty, 1);
    assert_non_null(m);
    assert_int_equal(m->count, 0);
    file_listing_unref(m);
    m = file_listing_merge(NULL, 0);
    assert_non_null(m);
    assert_int_equal(m->count, 0);
    file_listing_unref(m);
    file_listing_unref(empty);
}

/* Many ids, many duplicates: the set grows with the input and keeps every distinct id. */
static void merge_of_large_listings(void **state)
{
    (void)state;
    struct file_listing *parts[3];
    for (int p = 0; p < 3; p++) {
        parts[p] = file_listing_new();
        for (int i = 0; i < 5000; i++) {
            char id[32];
            snprintf(id, sizeof id, "file_%d", p * 2500 + i); /* overlaps the next part by half */
            assert_int_equal(file_listing_append(parts[p], id), 0);
        }
    }
    struct file_listing *m = file_listing_merge(parts, 3);
    assert_non_null(m);
    assert_int_equal(m->count, 10000);
    for (size_t i = 0; i < m->count; i++) {
        char id[32];
        snprintf(id, sizeof id, "file_%zu", i);
        assert_string_equal(m->ids[i], id);
    }
    file_listing_unref(m);
    for (int p = 0; p < 3; p++)
        file_listing_unref(parts[p]);
}

static void references_keep_the_listing(void **state)
{
    (void)state;
    struct file_listing *l = listing_of((const char *[]){"file_x", NULL});
    struct file_listing *again = file_listing_ref(l);
    file_listing_unref(l);
    assert_string_equal(again->ids[0], "file_x");
    file_listing_unref(again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_keeps_first_seen_order_and_each_id_once),
        cmocka_unit_test(merge_of_nothing_is_empty),
        cmocka_unit_test(merge_of_large_listings),
        cmocka_unit_test(references_keep_the_listing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
