/* Unit tests for meta_cache: LRU order, cap, TTLs with an injected clock, negative entries,
 * replacement, reference counts, prefix removal, counters, and a multi-threaded smoke test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vfs/meta_cache.h"

/* --- a counting test value --------------------------------------------------------------- */

struct tval {
    atomic_int refs;
    int id;
};

static atomic_long live_values; /* tvals not yet freed, across all tests */

static void *tval_ref(void *v)
{
    atomic_fetch_add(&((struct tval *)v)->refs, 1);
    return v;
}

static void tval_unref(void *v)
{
    struct tval *t = v;
    if (atomic_fetch_sub(&t->refs, 1) == 1) {
        atomic_fetch_sub(&live_values, 1);
        free(t);
    }
}

static const struct cache_value_ops tval_ops = {tval_ref, tval_unref};

/* A new value with one reference for the caller. */
static struct tval *tval_new(int id)
{
    struct tval *t = malloc(sizeof(*t));
    assert_non_null(t);
    atomic_init(&t->refs, 1);
    t->id = id;
    atomic_fetch_add(&live_values, 1);
    return t;
}

/* Inserts a new value and keeps one extra reference so the test can watch its count. */
static struct tval *insert_watched(struct meta_cache *c, const char *key, int id)
{
    struct tval *t = tval_new(id);
    tval_ref(t);
    cache_insert(c, key, t, &tval_ops);
    return t;
}

static int refs(struct tval *t)
{
    return atomic_load(&t->refs);
}

/* --- the injected clock ------------------------------------------------------------------ */

static double fake_time;

static double fake_now(void)
{
    return fake_time;
}

static struct meta_cache *new_cache(size_t max, double ttl, double neg_ttl)
{
    struct meta_cache *c = cache_new(max, ttl, neg_ttl);
    assert_non_null(c);
    fake_time = 1000.0;
    cache_set_clock(c, fake_now);
    return c;
}

static enum cache_result lookup_id(struct meta_cache *c, const char *key, int *id)
{
    void *v = NULL;
    enum cache_result r = cache_lookup(c, key, &v);
    if (r == CACHE_HIT) {
        *id = ((struct tval *)v)->id;
        tval_unref(v);
    }
    return r;
}

static void assert_hit(struct meta_cache *c, const char *key, int want_id)
{
    int id = -1;
    assert_int_equal(lookup_id(c, key, &id), CACHE_HIT);
    assert_int_equal(id, want_id);
}

static void assert_miss(struct meta_cache *c, const char *key)
{
    int id;
    assert_int_equal(lookup_id(c, key, &id), CACHE_MISS);
}

static size_t entries(struct meta_cache *c)
{
    struct cache_counters k;
    cache_get_counters(c, &k);
    return k.entries;
}

static int teardown_check_leaks(void **state)
{
    (void)state;
    /* Reset, so that one failing test does not fail every test after it. */
    long leaked = atomic_exchange(&live_values, 0);
    assert_int_equal(leaked, 0);
    return 0;
}

/* --- tests ------------------------------------------------------------------------------- */

static void test_lookup_in_empty_cache_misses(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 60, 5);
    assert_miss(c, "a");
    cache_free(c);
}

static void test_hit_returns_a_new_reference(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 60, 5);
    struct tval *t = insert_watched(c, "a", 7);
    assert_int_equal(refs(t), 2);
    void *v = NULL;
    assert_int_equal(cache_lookup(c, "a", &v), CACHE_HIT);
    assert_ptr_equal(v, t);
    assert_int_equal(refs(t), 3);
    tval_unref(v);
    assert_int_equal(refs(t), 2);
    cache_free(c);
    assert_int_equal(refs(t), 1);
    tval_unref(t);
}

static void test_evicts_least_recently_used(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(3, 60, 5);
    cache_insert(c, "a", tval_new(1), &tval_ops);
    struct tval *b = insert_watched(c, "b", 2);
    cache_insert(c, "c", tval_new(3), &tval_ops);
    assert_hit(c, "a", 1); /* a is now the most recent; b the least */
    cache_insert(c, "d", tval_new(4), &tval_ops);
    assert_int_equal(refs(b), 1); /* the cache dropped its reference */
    assert_miss(c, "b");
    assert_hit(c, "a", 1);
    assert_hit(c, "c", 3);
    assert_hit(c, "d", 4);
    tval_unref(b);
    cache_free(c);
}

static void test_negative_hit_also_refreshes_lru_position(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(2, 60, 30);
    cache_insert_negative(c, "neg");
    cache_insert(c, "a", tval_new(1), &tval_ops);
    assert_int_equal(cache_lookup(c, "neg", NULL), CACHE_NEGATIVE);
    cache_insert(c, "b", tval_new(2), &tval_ops);
    assert_miss(c, "a");
    assert_int_equal(cache_lookup(c, "neg", NULL), CACHE_NEGATIVE);
    cache_free(c);
}

static void test_cap_is_never_exceeded(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(5, 60, 5);
    char key[32];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "/files/file_%d", i);
        cache_insert(c, key, tval_new(i), &tval_ops);
        assert_true(entries(c) <= 5);
    }
    struct cache_counters k;
    cache_get_counters(c, &k);
    assert_int_equal(k.entries, 5);
    assert_int_equal(k.evictions, 95);
    assert_int_equal(atomic_load(&live_values), 5);
    for (int i = 95; i < 100; i++) {
        snprintf(key, sizeof(key), "/files/file_%d", i);
        assert_hit(c, key, i);
    }
    assert_miss(c, "/files/file_94");
    cache_free(c);
}

static void test_cap_of_one(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(1, 60, 5);
    cache_insert(c, "a", tval_new(1), &tval_ops);
    cache_insert(c, "b", tval_new(2), &tval_ops);
    assert_miss(c, "a");
    assert_hit(c, "b", 2);
    assert_int_equal(entries(c), 1);
    cache_free(c);
}

static void test_entry_expires_after_ttl(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 10, 2);
    struct tval *t = insert_watched(c, "a", 1);
    fake_time += 9.75; /* binary fractions: exact sums */
    assert_hit(c, "a", 1);
    fake_time += 0.25;
    assert_miss(c, "a");
    assert_int_equal(entries(c), 0); /* the stale entry was removed... */
    assert_int_equal(refs(t), 1);    /* ...and its value released */
    tval_unref(t);
    cache_free(c);
}

/* A value kept from an earlier mount is fresh for what is left of the ttl, or not stored. */
static void test_aged_insert_is_fresh_for_what_is_left(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 10, 2);
    cache_insert_aged(c, "a", tval_new(1), &tval_ops, 7.5);
    struct tval *t = tval_new(2);
    tval_ref(t);
    cache_insert_aged(c, "b", t, &tval_ops, 10);
    assert_int_equal(refs(t), 1); /* nothing left of its ttl: its reference dropped */
    assert_miss(c, "b");
    fake_time += 2.25;
    assert_hit(c, "a", 1);
    fake_time += 0.25;
    assert_miss(c, "a");
    tval_unref(t);
    cache_free(c);
}

struct seen {
    char keys[4][8];
    double ages[4];
    int n;
};

static void note_entry(void *arg, const char *key, void *value, double age)
{
    (void)value;
    struct seen *s = arg;
    assert_true(s->n < 4);
    snprintf(s->keys[s->n], sizeof s->keys[0], "%s", key);
    s->ages[s->n++] = age;
}

/* cache_each gives the fresh positive entries under a prefix, most recent first, with their age. */
static void test_each_gives_fresh_entries_with_their_age(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(8, 10, 2);
    cache_insert(c, "f:a", tval_new(1), &tval_ops);
    fake_time += 1.5;
    cache_insert_aged(c, "f:b", tval_new(2), &tval_ops, 4);
    cache_insert(c, "l:x", tval_new(3), &tval_ops);
    cache_insert_negative(c, "f:gone");
    fake_time += 0.5;
    cache_insert(c, "f:c", tval_new(4), &tval_ops);
    struct seen s = {0};
    cache_each(c, "f:", note_entry, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.keys[0], "f:c");
    assert_true(s.ages[0] == 0);
    assert_string_equal(s.keys[1], "f:b");
    assert_true(s.ages[1] == 4.5);
    assert_string_equal(s.keys[2], "f:a");
    assert_true(s.ages[2] == 2);
    s.n = 0;
    fake_time += 6.25; /* f:b is stale now */
    cache_each(c, "f:", note_entry, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.keys[0], "f:c");
    assert_true(s.ages[0] == 6.25);
    assert_string_equal(s.keys[1], "f:a");
    assert_true(s.ages[1] == 8.25);
    cache_free(c);
}

static void test_hit_does_not_extend_ttl(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 10, 2);
    cache_insert(c, "a", tval_new(1), &tval_ops);
    fake_time += 6;
    assert_hit(c, "a", 1);
    fake_time += 6;
    assert_miss(c, "a");
    cache_free(c);
}

/* cache_watch: the earliest expiry of the values handed out between begin and end. */
static void test_watch_notes_the_earliest_expiry_handed_out(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 10, 2);
    cache_insert(c, "old", tval_new(1), &tval_ops); /* fresh until 1010 */
    fake_time += 4;
    cache_insert(c, "new", tval_new(2), &tval_ops); /* until 1014 */
    cache_insert_negative(c, "gone");
    cache_watch_begin();
    assert_true(isinf(cache_watch_end())); /* nothing handed out */
    cache_watch_begin();
    assert_hit(c, "new", 2);
    assert_int_equal(cache_lookup(c, "gone", NULL), CACHE_NEGATIVE); /* no value: not noted */
    assert_miss(c, "absent");
    assert_true(cache_watch_end() == 1014.0);
    cache_watch_begin();
    assert_hit(c, "new", 2);
    assert_hit(c, "old", 1);
    assert_true(cache_watch_end() == 1010.0);
    assert_hit(c, "old", 1); /* after end nothing is noted */
    cache_watch_begin();
    assert_true(isinf(cache_watch_end()));
    cache_watch_note(1001.0); /* not watching: nothing noted */
    cache_watch_begin();
    assert_hit(c, "old", 1);
    cache_watch_note(1003.0); /* a caller's own, shorter freshness */
    cache_watch_note(1005.0);
    assert_true(cache_watch_end() == 1003.0);
    cache_free(c);
}

static void test_zero_ttl_is_never_fresh(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 0, 0);
    struct tval *t = insert_watched(c, "a", 1);
    assert_int_equal(refs(t), 1);
    assert_miss(c, "a");
    cache_insert_negative(c, "n");
    assert_miss(c, "n");
    assert_int_equal(entries(c), 0);
    tval_unref(t);
    cache_free(c);
}

static void test_negative_entry_hits(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 60, 5);
    cache_insert_negative(c, "/files/nope");
    void *v = (void *)0x1;
    assert_int_equal(cache_lookup(c, "/files/nope", &v), CACHE_NEGATIVE);
    assert_ptr_equal(v, (void *)0x1); /* untouched */
    assert_int_equal(entries(c), 1);
    cache_free(c);
}

static void test_negative_entry_has_shorter_ttl(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 60, 5);
    cache_insert_negative(c, "neg");
    cache_insert(c, "pos", tval_new(1), &tval_ops);
    fake_time += 4.75;
    assert_int_equal(cache_lookup(c, "neg", NULL), CACHE_NEGATIVE);
    fake_time += 0.25;
    assert_int_equal(cache_lookup(c, "neg", NULL), CACHE_MISS);
    assert_hit(c, "pos", 1);
    fake_time += 54.75;
    assert_hit(c, "pos", 1);
    cache_free(c);
}

static void test_positive_replaces_negative(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 60, 5);
    cache_insert_negative(c, "k");
    cache_insert(c, "k", tval_new(1), &tval_ops);
    assert_hit(c, "k", 1);
    assert_int_equal(entries(c), 1);
    fake_time += 30; /* past neg_ttl: the positive TTL applies */
    assert_hit(c, "k", 1);
    cache_free(c);
}

static void test_negative_replaces_positive_and_releases_it(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 60, 5);
    struct tval *t = insert_watched(c, "k", 1);
    cache_insert_negative(c, "k");
    assert_int_equal(refs(t), 1);
    assert_int_equal(cache_lookup(c, "k", NULL), CACHE_NEGATIVE);
    assert_int_equal(entries(c), 1);
    tval_unref(t);
    cache_free(c);
}

static void test_positive_replaces_positive_and_releases_old(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 60, 5);
    struct tval *old = insert_watched(c, "k", 1);
    fake_time += 50;
    cache_insert(c, "k", tval_new(2), &tval_ops);
    assert_int_equal(refs(old), 1);
    assert_hit(c, "k", 2);
    fake_time += 50; /* the new entry's TTL counts from its own insertion */
    assert_hit(c, "k", 2);
    assert_int_equal(entries(c), 1);
    tval_unref(old);
    cache_free(c);
}

static void test_replace_does_not_evict_another_entry(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(2, 60, 5);
    cache_insert(c, "a", tval_new(1), &tval_ops);
    cache_insert(c, "b", tval_new(2), &tval_ops);
    cache_insert(c, "a", tval_new(3), &tval_ops);
    assert_hit(c, "a", 3);
    assert_hit(c, "b", 2);
    struct cache_counters k;
    cache_get_counters(c, &k);
    assert_int_equal(k.evictions, 0);
    cache_free(c);
}

static void test_looked_up_value_survives_eviction(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(1, 60, 5);
    cache_insert(c, "a", tval_new(42), &tval_ops);
    void *v = NULL;
    assert_int_equal(cache_lookup(c, "a", &v), CACHE_HIT);
    cache_insert(c, "b", tval_new(2), &tval_ops); /* evicts a */
    assert_miss(c, "a");
    struct tval *t = v;
    assert_int_equal(refs(t), 1);
    assert_int_equal(t->id, 42);
    assert_int_equal(atomic_load(&live_values), 2);
    tval_unref(v);
    assert_int_equal(atomic_load(&live_values), 1);
    cache_free(c);
}

static void test_remove(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(4, 60, 5);
    struct tval *t = insert_watched(c, "a", 1);
    cache_insert(c, "b", tval_new(2), &tval_ops);
    cache_remove(c, "a");
    cache_remove(c, "absent");
    assert_int_equal(refs(t), 1);
    assert_miss(c, "a");
    assert_hit(c, "b", 2);
    assert_int_equal(entries(c), 1);
    tval_unref(t);
    cache_free(c);
}

static void test_remove_prefix(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(16, 60, 5);
    cache_insert(c, "/files/file_a", tval_new(1), &tval_ops);
    cache_insert(c, "/files/file_a/1", tval_new(2), &tval_ops);
    cache_insert_negative(c, "/files/file_a/9");
    cache_insert(c, "/files/file_ab", tval_new(3), &tval_ops);
    cache_insert(c, "/files/file_b", tval_new(4), &tval_ops);
    cache_insert(c, "/instances/x", tval_new(5), &tval_ops);
    cache_remove_prefix(c, "/files/file_a/");
    assert_int_equal(entries(c), 4);
    assert_miss(c, "/files/file_a/1");
    assert_miss(c, "/files/file_a/9");
    assert_hit(c, "/files/file_a", 1);
    cache_remove_prefix(c, "/files/");
    assert_int_equal(entries(c), 1);
    assert_miss(c, "/files/file_ab");
    assert_miss(c, "/files/file_b");
    assert_hit(c, "/instances/x", 5);
    assert_int_equal(atomic_load(&live_values), 1);
    cache_free(c);
}

static void test_remove_empty_prefix_removes_all(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(16, 60, 5);
    cache_insert(c, "a", tval_new(1), &tval_ops);
    cache_insert(c, "b", tval_new(2), &tval_ops);
    cache_insert_negative(c, "c");
    cache_remove_prefix(c, "");
    assert_int_equal(entries(c), 0);
    assert_int_equal(atomic_load(&live_values), 0);
    cache_insert(c, "a", tval_new(3), &tval_ops); /* still usable afterwards */
    assert_hit(c, "a", 3);
    cache_free(c);
}

static void test_counters(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(2, 10, 5);
    cache_insert(c, "a", tval_new(1), &tval_ops);
    cache_insert_negative(c, "n");
    assert_int_equal(cache_lookup(c, "n", NULL), CACHE_NEGATIVE);
    assert_hit(c, "a", 1);
    assert_hit(c, "a", 1);
    assert_miss(c, "x");
    cache_insert(c, "b", tval_new(2), &tval_ops); /* evicts n, the least recently used */
    fake_time += 10;
    assert_miss(c, "a"); /* stale: a miss, not an eviction */
    struct cache_counters k;
    cache_get_counters(c, &k);
    assert_int_equal(k.hits, 2);
    assert_int_equal(k.negative_hits, 1);
    assert_int_equal(k.misses, 2);
    assert_int_equal(k.evictions, 1);
    assert_int_equal(k.entries, 1);
    cache_free(c);
}

static void test_free_releases_every_value(void **state)
{
    (void)state;
    struct meta_cache *c = new_cache(8, 60, 5);
    for (int i = 0; i < 8; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        cache_insert(c, key, tval_new(i), &tval_ops);
    }
    assert_int_equal(atomic_load(&live_values), 8);
    cache_free(c);
    assert_int_equal(atomic_load(&live_values), 0);
    cache_free(NULL);
}

/* An unref that calls back into the cache would deadlock if it ran under the cache's lock. */
static struct meta_cache *reentrant_cache;
static atomic_int reentrant_calls;

static void reentrant_unref(void *v)
{
    struct cache_counters k;
    cache_get_counters(reentrant_cache, &k);
    atomic_fetch_add(&reentrant_calls, 1);
    tval_unref(v);
}

static const struct cache_value_ops reentrant_ops = {tval_ref, reentrant_unref};

static void test_values_are_released_outside_the_lock(void **state)
{
    (void)state;
    alarm(10); /* a deadlock fails the test instead of hanging it */
    struct meta_cache *c = new_cache(1, 10, 5);
    reentrant_cache = c;
    atomic_store(&reentrant_calls, 0);
    cache_insert(c, "a", tval_new(1), &reentrant_ops);
    cache_insert(c, "b", tval_new(2), &reentrant_ops); /* eviction */
    cache_insert(c, "b", tval_new(3), &reentrant_ops); /* replacement */
    cache_remove(c, "b");
    cache_insert(c, "c", tval_new(4), &reentrant_ops);
    cache_remove_prefix(c, "c");
    cache_insert(c, "d", tval_new(5), &reentrant_ops);
    fake_time += 10;
    assert_miss(c, "d"); /* stale removal */
    assert_int_equal(atomic_load(&reentrant_calls), 5);
    cache_free(c);
    alarm(0);
}

/* --- threads ----------------------------------------------------------------------------- */

#define THREADS 4
#define OPS_PER_THREAD 10000
#define THREAD_KEYS 64

static atomic_long thread_hits;

static void one_op(struct meta_cache *c, unsigned *seed)
{
    char key[16];
    snprintf(key, sizeof(key), "k%u", (unsigned)rand_r(seed) % THREAD_KEYS);
    void *v = NULL;
    switch (rand_r(seed) % 6) {
    case 0:
    case 1:
        cache_insert(c, key, tval_new(0), &tval_ops);
        break;
    case 2:
        cache_insert_negative(c, key);
        break;
    case 3:
        cache_remove(c, key);
        break;
    case 4:
        if (rand_r(seed) % 50 == 0)
            cache_remove_prefix(c, "k1");
        break;
    default:
        if (cache_lookup(c, key, &v) == CACHE_HIT) {
            atomic_fetch_add(&thread_hits, 1);
            tval_unref(v);
        }
    }
}

static void *thread_main(void *arg)
{
    struct meta_cache *c = arg;
    unsigned seed = (unsigned)(uintptr_t)pthread_self();
    for (int i = 0; i < OPS_PER_THREAD; i++)
        one_op(c, &seed);
    return NULL;
}

static void test_threads_keep_refcounts_balanced(void **state)
{
    (void)state;
    struct meta_cache *c = cache_new(16, 60, 60); /* the real clock: set_clock is per cache */
    assert_non_null(c);
    atomic_store(&thread_hits, 0);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, c), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    struct cache_counters k;
    cache_get_counters(c, &k);
    assert_true(k.entries <= 16);
    assert_true(atomic_load(&thread_hits) > 0);
    assert_int_equal(k.hits, (uint64_t)atomic_load(&thread_hits));
    /* Every value still alive is held by the cache itself, exactly once. */
    assert_true(atomic_load(&live_values) <= (long)k.entries);
    cache_free(c);
    assert_int_equal(atomic_load(&live_values), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_lookup_in_empty_cache_misses, teardown_check_leaks),
        cmocka_unit_test_teardown(test_hit_returns_a_new_reference, teardown_check_leaks),
        cmocka_unit_test_teardown(test_evicts_least_recently_used, teardown_check_leaks),
        cmocka_unit_test_teardown(test_negative_hit_also_refreshes_lru_position,
                                  teardown_check_leaks),
        cmocka_unit_test_teardown(test_cap_is_never_exceeded, teardown_check_leaks),
        cmocka_unit_test_teardown(test_cap_of_one, teardown_check_leaks),
        cmocka_unit_test_teardown(test_entry_expires_after_ttl, teardown_check_leaks),
        cmocka_unit_test_teardown(test_hit_does_not_extend_ttl, teardown_check_leaks),
        cmocka_unit_test_teardown(test_aged_insert_is_fresh_for_what_is_left, teardown_check_leaks),
        cmocka_unit_test_teardown(test_each_gives_fresh_entries_with_their_age,
                                  teardown_check_leaks),
        cmocka_unit_test_teardown(test_zero_ttl_is_never_fresh, teardown_check_leaks),
        cmocka_unit_test_teardown(test_negative_entry_hits, teardown_check_leaks),
        cmocka_unit_test_teardown(test_negative_entry_has_shorter_ttl, teardown_check_leaks),
        cmocka_unit_test_teardown(test_positive_replaces_negative, teardown_check_leaks),
        cmocka_unit_test_teardown(test_negative_replaces_positive_and_releases_it,
                                  teardown_check_leaks),
        cmocka_unit_test_teardown(test_positive_replaces_positive_and_releases_old,
                                  teardown_check_leaks),
        cmocka_unit_test_teardown(test_replace_does_not_evict_another_entry, teardown_check_leaks),
        cmocka_unit_test_teardown(test_looked_up_value_survives_eviction, teardown_check_leaks),
        cmocka_unit_test_teardown(test_remove, teardown_check_leaks),
        cmocka_unit_test_teardown(test_remove_prefix, teardown_check_leaks),
        cmocka_unit_test_teardown(test_remove_empty_prefix_removes_all, teardown_check_leaks),
        cmocka_unit_test_teardown(test_counters, teardown_check_leaks),
        cmocka_unit_test_teardown(test_watch_notes_the_earliest_expiry_handed_out,
                                  teardown_check_leaks),
        cmocka_unit_test_teardown(test_free_releases_every_value, teardown_check_leaks),
        cmocka_unit_test_teardown(test_values_are_released_outside_the_lock, teardown_check_leaks),
        cmocka_unit_test_teardown(test_threads_keep_refcounts_balanced, teardown_check_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
