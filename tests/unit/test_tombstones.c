/* Unit tests for tombstones: what a deleted subtree answers, name by name, until it expires. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "vfs/tombstones.h"

#define ROOT "/files/file_a"

static struct stat mode(mode_t m)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_mode = m;
    return st;
}

/* A File as rm -r sees it after unlinking file.json: its directory, alias, latest, one version. */
static struct tombstones *file_tomb(double until)
{
    struct tomb_entry e[] = {
        {ROOT, mode(S_IFDIR | 0755), NULL},
        {ROOT "/a.png", mode(S_IFREG | 0644), NULL},
        {ROOT "/latest", mode(S_IFLNK | 0777), "2"},
        {ROOT "/2", mode(S_IFDIR | 0755), NULL},
        {ROOT "/2/file", mode(S_IFREG | 0444), NULL},
        {ROOT "/2/signature", mode(S_IFREG | 0444), NULL},
        {"/files/file_b/x", mode(S_IFREG), NULL}, /* not below root: ignored */
    };
    struct tombstones *t = tombstones_new();
    assert_non_null(t);
    assert_int_equal(tombstones_add(t, ROOT, e, sizeof e / sizeof e[0], until), 0);
    return t;
}

static void count_one(void *arg, const char *name, const struct stat *st)
{
    (void)name;
    (void)st;
    (*(int *)arg)++;
}

static void test_names_answer_until_removed(void **state)
{
    (void)state;
    struct tombstones *t = file_tomb(100);
    struct stat st;
    assert_int_equal(tombstones_stat(t, ROOT "/2", 1, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(tombstones_stat(t, ROOT "/file.json", 1, &st), -ENOENT);
    assert_int_equal(tombstones_stat(t, "/files/file_b/x", 1, &st), -ENOENT);
    assert_int_equal(tombstones_stat(t, "/files/file_ab", 1, &st), -ENOENT); /* a prefix only */
    char buf[8];
    assert_int_equal(tombstones_readlink(t, ROOT "/latest", 1, buf, sizeof buf), 0);
    assert_string_equal(buf, "2");
    assert_int_equal(tombstones_readlink(t, ROOT "/a.png", 1, buf, sizeof buf), -ENOENT);
    int n = 0;
    assert_int_equal(tombstones_list(t, ROOT, 1, count_one, &n), 0);
    assert_int_equal(n, 3); /* a.png, latest, 2 */
    n = 0;
    assert_int_equal(tombstones_list(t, ROOT "/2", 1, count_one, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(tombstones_list(t, ROOT "/a.png", 1, count_one, &n), -ENOTDIR);
    assert_int_equal(tombstones_remove(t, ROOT "/2/file", 1), 0);
    assert_int_equal(tombstones_remove(t, ROOT "/2/file", 1), -ENOENT); /* once */
    n = 0;
    tombstones_list(t, ROOT "/2", 1, count_one, &n);
    assert_int_equal(n, 1);
    tombstones_free(t);
}

static void test_removing_a_directory_removes_below(void **state)
{
    (void)state;
    struct tombstones *t = file_tomb(100);
    struct stat st;
    /* rmdir of a deleted directory succeeds even with names left: the server has none. */
    assert_int_equal(tombstones_remove(t, ROOT "/2", 1), 0);
    assert_int_equal(tombstones_stat(t, ROOT "/2/signature", 1, &st), -ENOENT);
    assert_int_equal(tombstones_stat(t, ROOT "/a.png", 1, &st), 0);
    assert_int_equal(tombstones_remove(t, ROOT, 1), 0);
    assert_int_equal(tombstones_stat(t, ROOT "/a.png", 1, &st), -ENOENT);
    assert_int_equal(tombstones_stat(t, ROOT, 1, &st), -ENOENT);
    tombstones_free(t);
}

static void test_expires(void **state)
{
    (void)state;
    struct tombstones *t = file_tomb(10);
    struct stat st;
    assert_int_equal(tombstones_stat(t, ROOT, 9.9, &st), 0);
    assert_int_equal(tombstones_stat(t, ROOT, 10, &st), -ENOENT);
    assert_int_equal(tombstones_remove(t, ROOT "/a.png", 11), -ENOENT);
    tombstones_free(t);
}

static void test_same_root_replaces(void **state)
{
    (void)state;
    struct tombstones *t = file_tomb(100);
    struct tomb_entry e[] = {{ROOT, mode(S_IFDIR | 0755), NULL}};
    assert_int_equal(tombstones_add(t, ROOT, e, 1, 50), 0);
    struct stat st;
    assert_int_equal(tombstones_stat(t, ROOT, 1, &st), 0);
    assert_int_equal(tombstones_stat(t, ROOT "/a.png", 1, &st), -ENOENT);
    tombstones_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_answer_until_removed),
        cmocka_unit_test(test_removing_a_directory_removes_below),
        cmocka_unit_test(test_expires),
        cmocka_unit_test(test_same_root_replaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
