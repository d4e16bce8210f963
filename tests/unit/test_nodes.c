/* Unit tests for nodes, the inode table: the root, lookup counts and ids that are never reused,
 * paths with and without a name, find and resolve, forget (counts, parents kept alive by their
 * children, the root that never goes), unlink, rename, listing marks with their time and path
 * filters, and a multi-threaded smoke test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs/nodes.h"

/* --- helpers ----------------------------------------------------------------------------- */

static struct nodes *new_table(void)
{
    struct nodes *t = nodes_new();
    assert_non_null(t);
    assert_int_equal(nodes_count(t), 1);
    return t;
}

/* Looks name up under parent and checks that it got a real id. */
static uint64_t lookup(struct nodes *t, uint64_t parent, const char *name)
{
    uint64_t id = nodes_lookup(t, parent, name);
    assert_true(id != 0);
    assert_true(id != NODES_ROOT_ID);
    return id;
}

/* Whether nodes_path(t, id, name) is want (NULL: no path); says what it got when it is not. The
 * checks are macros so that a failure names the test's line. */
static bool path_is(struct nodes *t, uint64_t id, const char *name, const char *want)
{
    char *p = nodes_path(t, id, name);
    bool ok = (p == NULL || want == NULL) ? p == want : strcmp(p, want) == 0;
    if (!ok)
        print_error("nodes_path(%" PRIu64 ", %s) is %s, not %s\n", id, name ? name : "NULL",
                    p ? p : "NULL", want ? want : "NULL");
    free(p);
    return ok;
}
#define assert_path(t, id, name, want) assert_true(path_is(t, id, name, want))

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether taking the listing marks brings back exactly the n ids in want (any order), with
 * *ids NULL when n is 0; says what came back when it is not. */
static bool taken_is(struct nodes *t, double before, const char *under, const uint64_t *want,
                     size_t n)
{
    uint64_t sentinel;
    uint64_t *ids = &sentinel; /* must be overwritten */
    size_t got = nodes_take_listed(t, before, under, &ids);
    bool ok = got == n && (n == 0 ? ids == NULL : ids != NULL && ids != &sentinel);
    if (ok && n > 0) {
        uint64_t sorted_want[16];
        assert_true(n <= sizeof(sorted_want) / sizeof(sorted_want[0]));
        memcpy(sorted_want, want, n * sizeof(*want));
        qsort(sorted_want, n, sizeof(*sorted_want), cmp_u64);
        qsort(ids, n, sizeof(*ids), cmp_u64);
        ok = memcmp(ids, sorted_want, n * sizeof(*ids)) == 0;
    }
    if (!ok) {
        print_error("nodes_take_listed(%g, %s) took %zu id(s), not %zu:", before,
                    under ? under : "NULL", got, n);
        for (size_t i = 0; i < got && ids != NULL && ids != &sentinel; i++)
            print_error(" %" PRIu64, ids[i]);
        print_error("\n");
    }
    if (ids != &sentinel)
        free(ids);
    return ok;
}
/* Variadic, for the commas in a compound literal: assert_taken(t, before, under, want, n). */
#define assert_taken(t, before, under, ...) assert_true(taken_is(t, before, under, __VA_ARGS__))

/* --- the root ---------------------------------------------------------------------------- */

static void test_new_table_holds_only_the_root(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    assert_path(t, NODES_ROOT_ID, NULL, "/");
    assert_path(t, NODES_ROOT_ID, "x", "/x");
    assert_int_equal(nodes_resolve(t, "/"), NODES_ROOT_ID);
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "x"), 0);
    assert_int_equal(nodes_resolve(t, "/x"), 0);
    nodes_free(t);
}

static void test_forgetting_the_root_does_nothing(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    nodes_forget(t, NODES_ROOT_ID, 1);
    nodes_forget(t, NODES_ROOT_ID, 1000);
    assert_int_equal(nodes_count(t), 1);
    assert_path(t, NODES_ROOT_ID, NULL, "/");
    uint64_t a = lookup(t, NODES_ROOT_ID, "a"); /* the root still takes children */
    assert_path(t, a, NULL, "/a");
    nodes_forget(t, a, 1);
    nodes_forget(t, NODES_ROOT_ID, 1);
    assert_int_equal(nodes_count(t), 1);
    assert_path(t, NODES_ROOT_ID, NULL, "/");
    nodes_free(t);
}

/* --- lookup ------------------------------------------------------------------------------ */

static void test_lookup_makes_a_node_once(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t a = lookup(t, NODES_ROOT_ID, "a");
    assert_int_equal(nodes_count(t), 2);
    assert_int_equal(nodes_lookup(t, NODES_ROOT_ID, "a"), a);
    assert_int_equal(nodes_count(t), 2);
    uint64_t b = lookup(t, NODES_ROOT_ID, "b");
    assert_true(b != a);
    assert_int_equal(nodes_count(t), 3);
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "a"), a);
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "b"), b);
    nodes_free(t);
}

static void test_same_name_under_different_parents_is_different_nodes(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t d1 = lookup(t, NODES_ROOT_ID, "d1");
    uint64_t d2 = lookup(t, NODES_ROOT_ID, "d2");
    uint64_t x1 = lookup(t, d1, "x");
    uint64_t x2 = lookup(t, d2, "x");
    uint64_t x0 = lookup(t, NODES_ROOT_ID, "x");
    assert_true(x1 != x2 && x1 != x0 && x2 != x0);
    assert_int_equal(nodes_count(t), 6);
    assert_path(t, x1, NULL, "/d1/x");
    assert_path(t, x2, NULL, "/d2/x");
    assert_path(t, x0, NULL, "/x");
    nodes_free(t);
}

static void test_lookup_under_an_unknown_parent_fails(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    assert_int_equal(nodes_lookup(t, 12345, "x"), 0);
    assert_int_equal(nodes_lookup(t, 0, "x"), 0);
    uint64_t d = lookup(t, NODES_ROOT_ID, "d");
    nodes_forget(t, d, 1); /* freed: d is unknown now */
    assert_int_equal(nodes_lookup(t, d, "x"), 0);
    assert_int_equal(nodes_find(t, d, "x"), 0);
    assert_int_equal(nodes_count(t), 1);
    nodes_free(t);
}

static void test_ids_are_never_reused(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    enum { ROUNDS = 200 };
    uint64_t seen[2 * ROUNDS];
    size_t nseen = 0;
    for (int i = 0; i < ROUNDS; i++) {
        /* The same name again and again, and a fresh name each time. */
        char name[16];
        snprintf(name, sizeof(name), "n%d", i);
        uint64_t a = lookup(t, NODES_ROOT_ID, "same");
        uint64_t b = lookup(t, NODES_ROOT_ID, name);
        for (size_t j = 0; j < nseen; j++) {
            assert_true(seen[j] != a);
            assert_true(seen[j] != b);
        }
        assert_true(a != b);
        seen[nseen++] = a;
        seen[nseen++] = b;
        nodes_forget(t, a, 1);
        nodes_forget(t, b, 1);
        assert_int_equal(nodes_count(t), 1);
        assert_path(t, a, NULL, NULL);
        assert_path(t, b, NULL, NULL);
    }
    nodes_free(t);
}

/* --- paths, find and resolve ------------------------------------------------------------- */

static void test_paths(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t files = lookup(t, NODES_ROOT_ID, "files");
    uint64_t x = lookup(t, files, "x");
    uint64_t y = lookup(t, x, "y z"); /* names are taken as they are */
    assert_path(t, files, NULL, "/files");
    assert_path(t, x, NULL, "/files/x");
    assert_path(t, y, NULL, "/files/x/y z");
    assert_path(t, files, "new", "/files/new");
    assert_path(t, y, "deeper", "/files/x/y z/deeper");
    assert_path(t, 9999, NULL, NULL);
    assert_path(t, 9999, "x", NULL);
    assert_path(t, 0, NULL, NULL);
    nodes_free(t);
}

static void test_find_counts_nothing(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t a = lookup(t, NODES_ROOT_ID, "a");
    for (int i = 0; i < 3; i++)
        assert_int_equal(nodes_find(t, NODES_ROOT_ID, "a"), a);
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "b"), 0);
    assert_int_equal(nodes_find(t, 9999, "a"), 0);
    assert_int_equal(nodes_count(t), 2); /* find makes nothing */
    nodes_forget(t, a, 1);
    assert_int_equal(nodes_count(t), 1);
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "a"), 0);
    assert_path(t, a, NULL, NULL);
    nodes_free(t);
}

static void test_resolve(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t files = lookup(t, NODES_ROOT_ID, "files");
    uint64_t x = lookup(t, files, "x");
    uint64_t y = lookup(t, x, "y");
    uint64_t filesx = lookup(t, NODES_ROOT_ID, "filesx");
    assert_int_equal(nodes_resolve(t, "/"), NODES_ROOT_ID);
    assert_int_equal(nodes_resolve(t, "/files"), files);
    assert_int_equal(nodes_resolve(t, "/files/x"), x);
    assert_int_equal(nodes_resolve(t, "/files/x/y"), y);
    assert_int_equal(nodes_resolve(t, "/filesx"), filesx);
    assert_int_equal(nodes_resolve(t, "/files/nope"), 0);
    assert_int_equal(nodes_resolve(t, "/nope"), 0);
    assert_int_equal(nodes_resolve(t, "/nope/x"), 0);
    assert_int_equal(nodes_resolve(t, "/files/x/y/z"), 0);
    assert_int_equal(nodes_resolve(t, "/x"), 0); /* x lives under files only */
    assert_int_equal(nodes_count(t), 5);
    nodes_free(t);
}

/* --- forget ------------------------------------------------------------------------------ */

static void test_forget_counts_add_up(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t a = lookup(t, NODES_ROOT_ID, "a");
    assert_int_equal(lookup(t, NODES_ROOT_ID, "a"), a);
    nodes_forget(t, a, 1);
    assert_int_equal(nodes_count(t), 2);
    assert_path(t, a, NULL, "/a");
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "a"), a);
    nodes_forget(t, a, 1);
    assert_int_equal(nodes_count(t), 1);
    assert_path(t, a, NULL, NULL);
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "a"), 0);
    assert_int_equal(nodes_resolve(t, "/a"), 0);

    /* n at once */
    uint64_t b = lookup(t, NODES_ROOT_ID, "b");
    lookup(t, NODES_ROOT_ID, "b");
    lookup(t, NODES_ROOT_ID, "b");
    nodes_forget(t, b, 2);
    assert_path(t, b, NULL, "/b");
    nodes_forget(t, b, 1);
    assert_path(t, b, NULL, NULL);
    assert_int_equal(nodes_count(t), 1);
    nodes_free(t);
}

static void test_forget_of_unknown_ids_is_ignored(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t a = lookup(t, NODES_ROOT_ID, "a");
    nodes_forget(t, 9999, 1);
    nodes_forget(t, 0, 1);
    assert_int_equal(nodes_count(t), 2);
    nodes_forget(t, a, 1);
    nodes_forget(t, a, 1); /* freed already: unknown now */
    assert_int_equal(nodes_count(t), 1);
    uint64_t b = lookup(t, NODES_ROOT_ID, "b");
    nodes_forget(t, a, 1); /* must not touch b */
    assert_path(t, b, NULL, "/b");
    assert_int_equal(nodes_count(t), 2);
    nodes_free(t);
}

static void test_a_child_keeps_its_parent(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t d = lookup(t, NODES_ROOT_ID, "d");
    uint64_t e = lookup(t, d, "e");
    uint64_t x = lookup(t, e, "x");
    nodes_forget(t, d, 1);
    nodes_forget(t, e, 1);
    /* d and e have count 0 but a live descendant: they stay, and x's path works. */
    assert_int_equal(nodes_count(t), 4);
    assert_path(t, x, NULL, "/d/e/x");
    assert_path(t, d, NULL, "/d");
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "d"), d);
    assert_int_equal(nodes_resolve(t, "/d/e/x"), x);
    nodes_forget(t, x, 1);
    /* x is gone, then e (count 0, no children), then d. */
    assert_int_equal(nodes_count(t), 1);
    assert_path(t, x, NULL, NULL);
    assert_path(t, e, NULL, NULL);
    assert_path(t, d, NULL, NULL);
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "d"), 0);
    nodes_free(t);
}

static void test_a_parent_with_its_own_count_outlives_its_child(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t d = lookup(t, NODES_ROOT_ID, "d");
    uint64_t x = lookup(t, d, "x");
    uint64_t y = lookup(t, d, "y");
    nodes_forget(t, d, 1);
    /* Looking d up again while only its children held it: the same node, counted again. */
    assert_int_equal(lookup(t, NODES_ROOT_ID, "d"), d);
    nodes_forget(t, x, 1);
    nodes_forget(t, y, 1);
    assert_int_equal(nodes_count(t), 2);
    assert_path(t, d, NULL, "/d");
    nodes_forget(t, d, 1);
    assert_int_equal(nodes_count(t), 1);

    /* Two children: the parent stays until the last one goes. */
    d = lookup(t, NODES_ROOT_ID, "d");
    x = lookup(t, d, "x");
    y = lookup(t, d, "y");
    nodes_forget(t, d, 1);
    nodes_forget(t, x, 1);
    assert_int_equal(nodes_count(t), 3);
    assert_path(t, y, NULL, "/d/y");
    nodes_forget(t, y, 1);
    assert_int_equal(nodes_count(t), 1);
    nodes_free(t);
}

/* --- unlink ------------------------------------------------------------------------------ */

static void test_unlink(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t a = lookup(t, NODES_ROOT_ID, "a");
    uint64_t b = lookup(t, NODES_ROOT_ID, "b");
    nodes_unlink(t, NODES_ROOT_ID, "a");
    assert_path(t, a, NULL, NULL);
    assert_path(t, a, "x", NULL);
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "a"), 0);
    assert_int_equal(nodes_resolve(t, "/a"), 0);
    assert_int_equal(nodes_count(t), 3); /* a keeps its id until it is forgotten */
    assert_path(t, b, NULL, "/b");

    /* The name is free for a new node, with a new id. */
    uint64_t a2 = lookup(t, NODES_ROOT_ID, "a");
    assert_true(a2 != a);
    assert_true(a2 != b);
    assert_path(t, a2, NULL, "/a");
    assert_int_equal(nodes_resolve(t, "/a"), a2);
    assert_int_equal(nodes_count(t), 4);

    /* The old id can still be forgotten, and that does not touch the new node. */
    nodes_forget(t, a, 1);
    assert_int_equal(nodes_count(t), 3);
    assert_path(t, a2, NULL, "/a");
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "a"), a2);
    nodes_forget(t, a2, 1);
    nodes_forget(t, b, 1);
    assert_int_equal(nodes_count(t), 1);
    nodes_free(t);
}

static void test_unlink_of_an_unknown_name_does_nothing(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t a = lookup(t, NODES_ROOT_ID, "a");
    nodes_unlink(t, NODES_ROOT_ID, "nope");
    nodes_unlink(t, 9999, "a");
    nodes_unlink(t, a, "a");
    assert_path(t, a, NULL, "/a");
    assert_int_equal(nodes_count(t), 2);
    nodes_unlink(t, NODES_ROOT_ID, "a");
    nodes_unlink(t, NODES_ROOT_ID, "a"); /* twice: the name is gone already */
    assert_int_equal(nodes_count(t), 2);
    nodes_forget(t, a, 1);
    assert_int_equal(nodes_count(t), 1);
    nodes_free(t);
}

static void test_children_of_an_unlinked_dir_have_no_path(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t d = lookup(t, NODES_ROOT_ID, "d");
    uint64_t x = lookup(t, d, "x");
    uint64_t y = lookup(t, x, "y");
    nodes_unlink(t, NODES_ROOT_ID, "d");
    assert_path(t, d, NULL, NULL);
    assert_path(t, x, NULL, NULL);
    assert_path(t, y, NULL, NULL);
    assert_path(t, y, "z", NULL);
    assert_int_equal(nodes_resolve(t, "/d/x/y"), 0);
    assert_int_equal(nodes_lookup(t, d, "new"), 0); /* a parent with no path takes no child */
    assert_int_equal(nodes_lookup(t, x, "new"), 0);
    assert_int_equal(nodes_count(t), 4);

    /* A new d is a different directory. */
    uint64_t d2 = lookup(t, NODES_ROOT_ID, "d");
    assert_true(d2 != d);
    assert_int_equal(nodes_find(t, d2, "x"), 0);
    assert_int_equal(nodes_resolve(t, "/d/x"), 0);

    /* The unlinked tree still goes away by forgets, children keeping parents as before. */
    nodes_forget(t, d, 1);
    nodes_forget(t, x, 1);
    assert_int_equal(nodes_count(t), 5);
    nodes_forget(t, y, 1);
    assert_int_equal(nodes_count(t), 2);
    assert_path(t, d2, NULL, "/d");
    nodes_forget(t, d2, 1);
    assert_int_equal(nodes_count(t), 1);
    nodes_free(t);
}

/* --- rename ------------------------------------------------------------------------------ */

static void test_rename_in_place(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t a = lookup(t, NODES_ROOT_ID, "a");
    assert_int_equal(nodes_rename(t, NODES_ROOT_ID, "a", NODES_ROOT_ID, "b"), 0);
    assert_path(t, a, NULL, "/b");
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "a"), 0);
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "b"), a);
    assert_int_equal(nodes_resolve(t, "/a"), 0);
    assert_int_equal(nodes_resolve(t, "/b"), a);
    assert_int_equal(nodes_lookup(t, NODES_ROOT_ID, "b"), a); /* same node under its new name */
    assert_int_equal(nodes_count(t), 2);
    nodes_forget(t, a, 2);
    assert_int_equal(nodes_count(t), 1);
    nodes_free(t);
}

static void test_rename_across_parents(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t d1 = lookup(t, NODES_ROOT_ID, "d1");
    uint64_t d2 = lookup(t, NODES_ROOT_ID, "d2");
    uint64_t x = lookup(t, d1, "x");
    assert_int_equal(nodes_rename(t, d1, "x", d2, "y"), 0);
    assert_path(t, x, NULL, "/d2/y");
    assert_int_equal(nodes_find(t, d1, "x"), 0);
    assert_int_equal(nodes_find(t, d2, "y"), x);
    assert_int_equal(nodes_resolve(t, "/d2/y"), x);
    assert_int_equal(nodes_resolve(t, "/d1/x"), 0);

    /* x now keeps d2 alive, no longer d1. */
    nodes_forget(t, d1, 1);
    nodes_forget(t, d2, 1);
    assert_int_equal(nodes_count(t), 3);
    assert_path(t, d1, NULL, NULL);
    assert_path(t, x, NULL, "/d2/y");
    nodes_forget(t, x, 1);
    assert_int_equal(nodes_count(t), 1);
    nodes_free(t);
}

static void test_rename_over_an_existing_name_unlinks_it(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t a = lookup(t, NODES_ROOT_ID, "a");
    uint64_t b = lookup(t, NODES_ROOT_ID, "b");
    uint64_t bx = lookup(t, b, "x");
    assert_int_equal(nodes_rename(t, NODES_ROOT_ID, "a", NODES_ROOT_ID, "b"), 0);
    assert_path(t, a, NULL, "/b");
    assert_path(t, b, NULL, NULL);
    assert_path(t, bx, NULL, NULL); /* below the unlinked b */
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "b"), a);
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "a"), 0);
    assert_int_equal(nodes_resolve(t, "/b"), a);
    assert_int_equal(nodes_resolve(t, "/b/x"), 0);
    assert_int_equal(nodes_count(t), 4); /* b and its child keep their ids until forgotten */
    nodes_forget(t, b, 1);
    nodes_forget(t, bx, 1);
    assert_int_equal(nodes_count(t), 2);
    assert_path(t, a, NULL, "/b");
    nodes_forget(t, a, 1);
    assert_int_equal(nodes_count(t), 1);
    nodes_free(t);
}

static void test_rename_of_an_unknown_name_does_nothing(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t b = lookup(t, NODES_ROOT_ID, "b");
    uint64_t d = lookup(t, NODES_ROOT_ID, "d");
    assert_int_equal(nodes_rename(t, NODES_ROOT_ID, "nope", NODES_ROOT_ID, "b"), 0);
    assert_int_equal(nodes_rename(t, d, "b", NODES_ROOT_ID, "b"), 0);
    assert_path(t, b, NULL, "/b"); /* the target was not unlinked either */
    assert_path(t, d, NULL, "/d");
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "b"), b);
    assert_int_equal(nodes_find(t, NODES_ROOT_ID, "nope"), 0);
    assert_int_equal(nodes_count(t), 3);
    nodes_free(t);
}

static void test_children_follow_their_renamed_parent(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t d = lookup(t, NODES_ROOT_ID, "d");
    uint64_t x = lookup(t, d, "x");
    uint64_t y = lookup(t, x, "y");
    uint64_t o = lookup(t, NODES_ROOT_ID, "other");
    assert_int_equal(nodes_rename(t, NODES_ROOT_ID, "d", o, "e"), 0);
    assert_path(t, d, NULL, "/other/e");
    assert_path(t, x, NULL, "/other/e/x");
    assert_path(t, y, NULL, "/other/e/x/y");
    assert_path(t, y, "z", "/other/e/x/y/z");
    assert_int_equal(nodes_resolve(t, "/other/e/x/y"), y);
    assert_int_equal(nodes_resolve(t, "/d/x/y"), 0);
    assert_int_equal(nodes_find(t, x, "y"), y);
    assert_int_equal(nodes_count(t), 5);
    nodes_forget(t, d, 1);
    nodes_forget(t, x, 1);
    nodes_forget(t, o, 1);
    nodes_forget(t, y, 1);
    assert_int_equal(nodes_count(t), 1);
    nodes_free(t);
}

/* --- listing marks ----------------------------------------------------------------------- */

static void test_take_listed_takes_marks_at_or_before(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t d1 = lookup(t, NODES_ROOT_ID, "d1");
    uint64_t d2 = lookup(t, NODES_ROOT_ID, "d2");
    lookup(t, NODES_ROOT_ID, "d3"); /* never listed */
    assert_taken(t, 100, NULL, NULL, 0);
    nodes_set_listed(t, d1, 10);
    nodes_set_listed(t, d2, 20);
    nodes_set_listed(t, NODES_ROOT_ID, 30);
    assert_taken(t, 5, NULL, NULL, 0);
    assert_taken(t, 15, NULL, (uint64_t[]){d1}, 1);
    assert_taken(t, 15, NULL, NULL, 0);             /* cleared */
    assert_taken(t, 20, NULL, (uint64_t[]){d2}, 1); /* "at or before": 20 itself counts */
    assert_taken(t, 1000, NULL, (uint64_t[]){NODES_ROOT_ID}, 1);
    assert_taken(t, 1000, NULL, NULL, 0);

    /* Marked again after a take: taken again. */
    nodes_set_listed(t, d1, 40);
    nodes_set_listed(t, d2, 40);
    assert_taken(t, 40, NULL, (uint64_t[]){d1, d2}, 2);
    assert_int_equal(nodes_count(t), 4); /* taking marks frees nothing */
    nodes_free(t);
}

/* `when` is seconds on any clock the caller keeps to: 0 and negative times are times too. */
static void test_any_time_is_a_mark(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t a = lookup(t, NODES_ROOT_ID, "a");
    uint64_t b = lookup(t, NODES_ROOT_ID, "b");
    nodes_set_listed(t, a, 0);
    nodes_set_listed(t, b, -5);
    assert_taken(t, -10, NULL, NULL, 0);
    assert_taken(t, -5, NULL, (uint64_t[]){b}, 1);
    assert_taken(t, 0, NULL, (uint64_t[]){a}, 1);
    nodes_free(t);
}

static void test_an_unlinked_dirs_mark_is_taken_with_no_path_filter(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t d = lookup(t, NODES_ROOT_ID, "d");
    uint64_t x = lookup(t, d, "x");
    nodes_set_listed(t, d, 1);
    nodes_set_listed(t, x, 1);
    nodes_unlink(t, NODES_ROOT_ID, "d");
    assert_taken(t, 5, "/d", NULL, 0);               /* no path: below nothing */
    assert_taken(t, 5, NULL, (uint64_t[]){d, x}, 2); /* "all of them when under is NULL" */
    nodes_free(t);
}

static void test_take_listed_under_a_path(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t files = lookup(t, NODES_ROOT_ID, "files");
    uint64_t fx = lookup(t, files, "x");
    uint64_t fxy = lookup(t, fx, "y");
    uint64_t filesx = lookup(t, NODES_ROOT_ID, "filesx");
    uint64_t fil = lookup(t, NODES_ROOT_ID, "fil");
    uint64_t other = lookup(t, NODES_ROOT_ID, "other");
    uint64_t all[] = {NODES_ROOT_ID, files, fx, fxy, filesx, fil, other};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        nodes_set_listed(t, all[i], 1);

    assert_taken(t, 5, "/files/x/y/z", NULL, 0);
    assert_taken(t, 5, "/files/x", (uint64_t[]){fx, fxy}, 2);
    assert_taken(t, 5, "/files", (uint64_t[]){files}, 1); /* the rest went already */
    assert_taken(t, 5, "/nope", NULL, 0);
    assert_taken(t, 5, NULL, (uint64_t[]){NODES_ROOT_ID, filesx, fil, other}, 4);

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        nodes_set_listed(t, all[i], 1);
    /* "/files" is a path, not a string prefix: "/filesx" is not below it, nor "/fil" above. */
    assert_taken(t, 5, "/files", (uint64_t[]){files, fx, fxy}, 3);
    assert_taken(t, 0.5, "/", NULL, 0); /* the time still applies under a path */
    /* Every node is at or below the root. */
    assert_taken(t, 5, "/", (uint64_t[]){NODES_ROOT_ID, filesx, fil, other}, 4);
    assert_taken(t, 5, NULL, NULL, 0);
    nodes_free(t);
}

static void test_a_freed_node_loses_its_mark(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t a = lookup(t, NODES_ROOT_ID, "a");
    uint64_t b = lookup(t, NODES_ROOT_ID, "b");
    nodes_set_listed(t, a, 1);
    nodes_set_listed(t, b, 1);
    nodes_forget(t, a, 1);
    assert_int_equal(nodes_count(t), 2);
    /* A new node of the same name is not marked either. */
    uint64_t a2 = lookup(t, NODES_ROOT_ID, "a");
    assert_true(a2 != a);
    assert_taken(t, 100, NULL, (uint64_t[]){b}, 1);
    nodes_forget(t, a2, 1);
    nodes_forget(t, b, 1);
    assert_int_equal(nodes_count(t), 1);
    nodes_free(t);
}

static void test_free_with_live_nodes_and_marks(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    uint64_t d = lookup(t, NODES_ROOT_ID, "d");
    uint64_t x = lookup(t, d, "x");
    lookup(t, x, "y");
    nodes_set_listed(t, d, 1);
    nodes_unlink(t, NODES_ROOT_ID, "d");
    lookup(t, NODES_ROOT_ID, "d");
    nodes_free(t); /* frees everything (run under valgrind or ASan to see) */
}

/* --- threads ----------------------------------------------------------------------------- */

#define THREADS 4
#define OPS_PER_THREAD 5000
#define THREAD_NAMES 8

struct thread_arg {
    struct nodes *t;
    unsigned seed;
    int failures; /* cmocka's asserts are not for other threads: count and check after join */
};

static void *thread_main(void *p)
{
    struct thread_arg *arg = p;
    struct nodes *t = arg->t;
    for (int i = 0; i < OPS_PER_THREAD; i++) {
        char dname[16], want[48];
        unsigned k = (unsigned)rand_r(&arg->seed) % THREAD_NAMES;
        snprintf(dname, sizeof(dname), "d%u", k);
        uint64_t d = nodes_lookup(t, NODES_ROOT_ID, dname);
        if (d == 0) {
            arg->failures++;
            continue;
        }
        const char *leaf = rand_r(&arg->seed) % 2 ? "x" : "y";
        uint64_t x = nodes_lookup(t, d, leaf);
        snprintf(want, sizeof(want), "/d%u/%s", k, leaf);
        char *path = nodes_path(t, x, NULL);
        if (x == 0 || path == NULL || strcmp(path, want) != 0)
            arg->failures++;
        free(path);
        if (nodes_find(t, d, leaf) != x || nodes_resolve(t, want) != x)
            arg->failures++;
        if (rand_r(&arg->seed) % 16 == 0) {
            nodes_set_listed(t, d, i + 1);
            uint64_t *ids = NULL;
            if (nodes_take_listed(t, i + 1, dname[1] == '0' ? "/d0" : NULL, &ids) > 0 &&
                ids == NULL)
                arg->failures++;
            free(ids);
        }
        /* Half the time forget the parent first: the child must keep it. */
        if (rand_r(&arg->seed) % 2) {
            nodes_forget(t, d, 1);
            nodes_forget(t, x, 1);
        } else {
            nodes_forget(t, x, 1);
            nodes_forget(t, d, 1);
        }
    }
    return NULL;
}

static void test_type_is_remembered_per_node(void **state)
{
    (void)state;
    struct nodes *t = nodes_new();
    uint64_t a = nodes_lookup(t, NODES_ROOT_ID, "a");
    assert_int_equal(nodes_type(t, a), 0); /* never told */
    assert_int_equal(nodes_lookup_as(t, NODES_ROOT_ID, "a", 0100000), a);
    assert_int_equal(nodes_type(t, a), 0100000);
    assert_int_equal(nodes_lookup_as(t, NODES_ROOT_ID, "a", 0), a); /* 0 keeps it */
    assert_int_equal(nodes_type(t, a), 0100000);
    assert_int_equal(nodes_type(t, 999), 0);
    nodes_forget(t, a, 3);
    assert_int_equal(nodes_type(t, a), 0); /* gone with its node */
    uint64_t again = nodes_lookup(t, NODES_ROOT_ID, "a");
    assert_int_equal(nodes_type(t, again), 0);
    nodes_free(t);
}

static void test_lookup_as_a_new_type_makes_a_new_node(void **state)
{
    (void)state;
    struct nodes *t = nodes_new();
    uint64_t dir = nodes_lookup_as(t, NODES_ROOT_ID, "files", 0040000);
    uint64_t reg = nodes_lookup_as(t, dir, "photo.png", 0100000);
    assert_int_equal(nodes_type(t, reg), 0100000);
    assert_int_equal(nodes_lookup_as(t, dir, "photo.png", 0100000), reg); /* same type: same */
    uint64_t lnk = nodes_lookup_as(t, dir, "photo.png", 0120000);
    assert_true(lnk != 0 && lnk != reg);
    assert_int_equal(nodes_type(t, lnk), 0120000);
    char *p = nodes_path(t, lnk, NULL);
    assert_string_equal(p, "/files/photo.png");
    free(p);
    p = nodes_path(t, reg, NULL); /* the old node keeps its path for the kernel's requests... */
    assert_string_equal(p, "/files/photo.png");
    free(p);
    assert_int_equal(nodes_resolve(t, "/files/photo.png"),
                     lnk); /* ...but the name is the new one's */
    nodes_unlink(t, dir, "photo.png");
    assert_null(nodes_path(t, lnk, NULL));
    p = nodes_path(t, reg, NULL);
    assert_string_equal(p, "/files/photo.png");
    free(p);
    lnk = nodes_lookup_as(t, dir, "photo.png", 0120000);
    assert_int_equal(nodes_find(t, dir, "photo.png"), lnk);
    /* root, files, reg, the unlinked link and the new one: the old ones live until forgotten */
    assert_int_equal(nodes_count(t), 5);
    nodes_forget(t, reg, 2);
    assert_int_equal(nodes_count(t), 4);
    /* type 0, and a node never told a type, keep the node */
    assert_int_equal(nodes_lookup_as(t, dir, "photo.png", 0), lnk);
    uint64_t plain = nodes_lookup(t, dir, "x");
    assert_int_equal(nodes_lookup_as(t, dir, "x", 0100000), plain);
    nodes_free(t);
}

static void test_swapping_the_only_child_keeps_an_unlooked_parent(void **state)
{
    (void)state;
    struct nodes *t = nodes_new();
    uint64_t dir = nodes_lookup(t, NODES_ROOT_ID, "d");
    uint64_t a = nodes_lookup_as(t, dir, "a", 0100000);
    nodes_forget(t, dir, 1); /* the parent stays only for its child */
    uint64_t b = nodes_lookup_as(t, dir, "a", 0120000);
    assert_true(b != 0 && b != a);
    char *p = nodes_path(t, b, NULL);
    assert_string_equal(p, "/d/a");
    free(p);
    nodes_forget(t, a, 1);
    nodes_forget(t, b, 1);
    assert_int_equal(nodes_count(t), 1);
    nodes_free(t);
}

static void test_threads(void **state)
{
    (void)state;
    struct nodes *t = new_table();
    pthread_t th[THREADS];
    struct thread_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (struct thread_arg){t, (unsigned)i * 7919u + 1u, 0};
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
    assert_int_equal(nodes_count(t), 1);
    assert_path(t, NODES_ROOT_ID, NULL, "/");
    assert_taken(t, 1e9, NULL, NULL, 0); /* marks of freed nodes are gone; root never marked */
    nodes_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_table_holds_only_the_root),
        cmocka_unit_test(test_forgetting_the_root_does_nothing),
        cmocka_unit_test(test_lookup_makes_a_node_once),
        cmocka_unit_test(test_same_name_under_different_parents_is_different_nodes),
        cmocka_unit_test(test_lookup_under_an_unknown_parent_fails),
        cmocka_unit_test(test_ids_are_never_reused),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_find_counts_nothing),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_forget_counts_add_up),
        cmocka_unit_test(test_forget_of_unknown_ids_is_ignored),
        cmocka_unit_test(test_a_child_keeps_its_parent),
        cmocka_unit_test(test_a_parent_with_its_own_count_outlives_its_child),
        cmocka_unit_test(test_unlink),
        cmocka_unit_test(test_unlink_of_an_unknown_name_does_nothing),
        cmocka_unit_test(test_children_of_an_unlinked_dir_have_no_path),
        cmocka_unit_test(test_rename_in_place),
        cmocka_unit_test(test_rename_across_parents),
        cmocka_unit_test(test_rename_over_an_existing_name_unlinks_it),
        cmocka_unit_test(test_rename_of_an_unknown_name_does_nothing),
        cmocka_unit_test(test_children_follow_their_renamed_parent),
        cmocka_unit_test(test_take_listed_takes_marks_at_or_before),
        cmocka_unit_test(test_any_time_is_a_mark),
        cmocka_unit_test(test_an_unlinked_dirs_mark_is_taken_with_no_path_filter),
        cmocka_unit_test(test_take_listed_under_a_path),
        cmocka_unit_test(test_a_freed_node_loses_its_mark),
        cmocka_unit_test(test_free_with_live_nodes_and_marks),
        cmocka_unit_test(test_type_is_remembered_per_node),
        cmocka_unit_test(test_lookup_as_a_new_type_makes_a_new_node),
        cmocka_unit_test(test_swapping_the_only_child_keeps_an_unlooked_parent),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
