/* Unit tests for content_cache on a temporary directory: data filled in any order is verified
 * once whole, a mismatch drops it and ends the generation, what a later mount takes up is only
 * what the sidecar recorded (bytes written but not recorded, a data file cut short and a broken
 * sidecar are not served), a verified entry comes back verified, and the least recently used
 * entries that nobody holds are evicted to stay within the budget shared with the staging. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfs/content_cache.h"

#define KiB 1024u
#define MiB (1024u * 1024)
#define SIZE (3u * MiB + 777)

static char dir[64];
static unsigned char *data;
static char md5[32];
static struct buf_pool *pool;
static int dropped_calls;

static void on_dropped(void *arg, const char *path)
{
    (void)arg;
    (void)path;
    dropped_calls++;
}

static int setup(void **state)
{
    (void)state;
    /* tmpfs when there is one: the cache fsyncs, and a disk would make that slow. */
    snprintf(dir, sizeof dir, "%s/vrcfs-cc-test.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    assert_non_null(mkdtemp(dir));
    data = malloc(SIZE);
    for (size_t i = 0; i < SIZE; i++)
        data[i] = (unsigned char)(i * 7 + i / 4093);
    unsigned char raw[16];
    unsigned int len = 0;
    EVP_Digest(data, SIZE, raw, &len, EVP_md5(), NULL);
    EVP_EncodeBlock((unsigned char *)md5, raw, 16);
    pool = buf_pool_new(8 * MiB, 1 * MiB);
    dropped_calls = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(data);
    buf_pool_free(pool);
    return 0;
}

static struct content_cache *open_cache(uint64_t limit)
{
    struct content_cache *cc = content_cache_open(dir, limit, pool, on_dropped, NULL);
    assert_non_null(cc);
    return cc;
}

/* Fills [start, stop) of e from src as a fetch would: claim, then fill what was claimed. */
static void fill_from(struct cc_entry *e, uint64_t gen, const unsigned char *src, uint64_t start,
                      uint64_t stop)
{
    for (;;) {
        uint64_t a, b;
        int rc = content_cache_claim(e, gen, start, stop, 1 * MiB, &a, &b);
        assert_true(rc >= 0);
        if (rc == 0)
            return;
        assert_int_equal(content_cache_fill(e, gen, a, b, src + a, (size_t)(b - a), 0), 0);
    }
}

/* Fills the whole of e from src with one claim: once the last byte is in, the md5 thread may end
 * the generation at any time, so a fill of bad data must not claim again after it. */
static void fill_whole(struct cc_entry *e, uint64_t gen, const unsigned char *src)
{
    uint64_t a, b;
    assert_int_equal(content_cache_claim(e, gen, 0, SIZE, SIZE, &a, &b), 1);
    assert_int_equal(a, 0);
    assert_int_equal(b, SIZE);
    assert_int_equal(content_cache_fill(e, gen, a, b, src, SIZE, 0), 0);
}

static json_t *stat_of(struct content_cache *cc, const char *key)
{
    json_t *s = content_cache_stats(cc);
    json_t *v = json_incref(json_object_get(s, key));
    json_decref(s);
    return v;
}

static json_int_t stat_int(struct content_cache *cc, const char *key)
{
    json_t *v = stat_of(cc, key);
    json_int_t n = json_integer_value(v);
    json_decref(v);
    return n;
}

static void test_any_order_is_verified_and_kept(void **state)
{
    (void)state;
    struct content_cache *cc = open_cache(64 * MiB);
    struct cc_entry *e;
    uint64_t gen;
    assert_int_equal(
        content_cache_get(cc, "file_a.1.file", SIZE, md5, "/files/file_a/1/file", &e, &gen), 0);
    assert_false(content_cache_verified(e, gen));
    /* The tail, the middle, then the start: every byte, in no order. */
    fill_from(e, gen, data, 2 * MiB, SIZE);
    fill_from(e, gen, data, 1 * MiB + 5, 2 * MiB);
    assert_false(content_cache_complete(e, gen));
    fill_from(e, gen, data, 0, 1 * MiB + 5);
    assert_true(content_cache_complete(e, gen));
    assert_int_equal(content_cache_verdict(e, gen), 0);
    assert_true(content_cache_verified(e, gen));
    unsigned char *back = malloc(SIZE);
    assert_int_equal(content_cache_pread(e, back, SIZE, 0), 0);
    assert_memory_equal(back, data, SIZE);
    content_cache_put(e);
    content_cache_close(cc);

    /* A later mount takes it up verified: nothing to claim. */
    cc = open_cache(64 * MiB);
    assert_int_equal(content_cache_get(cc, "file_a.1.file", SIZE, md5, "/x", &e, &gen), 0);
    assert_true(content_cache_verified(e, gen));
    uint64_t a, b;
    assert_int_equal(content_cache_claim(e, gen, 0, SIZE, MiB, &a, &b), 0);
    memset(back, 0, SIZE);
    assert_int_equal(content_cache_pread(e, back, SIZE, 0), 0);
    assert_memory_equal(back, data, SIZE);
    content_cache_put(e);
    content_cache_close(cc);
    free(back);
}

static void test_mismatch_drops_and_ends_the_generation(void **state)
{
    (void)state;
    struct content_cache *cc = open_cache(64 * MiB);
    unsigned char *bad = malloc(SIZE);
    memcpy(bad, data, SIZE);
    bad[SIZE / 2] ^= 0x40;
    struct cc_entry *e;
    uint64_t gen;
    assert_int_equal(
        content_cache_get(cc, "file_b.1.file", SIZE, md5, "/files/file_b/1/file", &e, &gen), 0);
    fill_whole(e, gen, bad);
    assert_int_equal(content_cache_verdict(e, gen), -EIO);
    assert_true(content_cache_failed(e, gen));
    assert_false(content_cache_verified(e, gen));
    assert_int_equal(dropped_calls, 1); /* the kernel is told to drop its pages */
    uint64_t a, b;
    assert_int_equal(content_cache_claim(e, gen, 0, SIZE, MiB, &a, &b), -EIO);
    /* A new open starts a new generation: a good download verifies. */
    struct cc_entry *e2;
    uint64_t gen2;
    assert_int_equal(
        content_cache_get(cc, "file_b.1.file", SIZE, md5, "/files/file_b/1/file", &e2, &gen2), 0);
    assert_ptr_equal(e, e2);
    assert_int_not_equal(gen, gen2);
    assert_false(content_cache_complete(e2, gen2)); /* the bad bytes are gone */
    fill_from(e2, gen2, data, 0, SIZE);
    assert_int_equal(content_cache_verdict(e2, gen2), 0);
    assert_true(content_cache_failed(e, gen)); /* the old handle stays failed */
    assert_int_equal(stat_int(cc, "mismatches"), 1);
    content_cache_put(e);
    content_cache_put(e2);
    content_cache_close(cc);
    free(bad);
}

/* A streamer claims its next range without waiting: nothing when another caller fetches it. */
static void test_claim_next_does_not_wait(void **state)
{
    (void)state;
    struct content_cache *cc = open_cache(64 * MiB);
    struct cc_entry *e;
    uint64_t gen, a, b, na, nb;
    assert_int_equal(content_cache_get(cc, "file_d.1.file", SIZE, md5, "/x", &e, &gen), 0);
    assert_int_equal(content_cache_claim(e, gen, 0, SIZE, 1 * MiB, &a, &b), 1);
    assert_int_equal(content_cache_claim_next(e, gen, 0, SIZE, 1 * MiB, &na, &nb), 0);
    assert_int_equal(content_cache_claim_next(e, gen, b, SIZE, 1 * MiB, &na, &nb), 1);
    assert_int_equal(na, 1 * MiB);
    assert_int_equal(nb, 2 * MiB);
    content_cache_fill(e, gen, a, b, NULL, 0, -EIO);
    content_cache_fill(e, gen, na, nb, NULL, 0, -EIO);
    content_cache_put(e);
    content_cache_close(cc);
}

struct waiting_read {
    struct cc_entry *e;
    uint64_t gen;
    int rc;
    atomic_bool done;
};

static void *read_first_mib(void *arg)
{
    struct waiting_read *w = arg;
    uint64_t a, b;
    w->rc = content_cache_claim(w->e, w->gen, 0, 1 * MiB, 1 * MiB, &a, &b);
    atomic_store(&w->done, true);
    return NULL;
}

/* A read waiting for the bytes of another's claim sleeps once: it is woken when its whole
 * range is there, not for each piece stored on the way (16 here), each of which cost a switch. */
static void test_a_waiting_read_is_woken_once_for_its_range(void **state)
{
    (void)state;
    struct content_cache *cc = open_cache(64 * MiB);
    struct waiting_read w = {0};
    uint64_t a, b;
    assert_int_equal(content_cache_get(cc, "file_w.1.file", SIZE, md5, "/x", &w.e, &w.gen), 0);
    assert_int_equal(content_cache_claim(w.e, w.gen, 0, SIZE, SIZE, &a, &b), 1);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_first_mib, &w), 0);
    while (stat_int(cc, "claim_waits") == 0)
        usleep(1000);
    for (uint64_t off = 0; off < 1 * MiB; off += 64 * KiB) {
        assert_false(atomic_load(&w.done));
        assert_int_equal(content_cache_store(w.e, w.gen, off, data + off, 64 * KiB), 0);
    }
    pthread_join(t, NULL);
    assert_int_equal(w.rc, 0); /* all there: nothing left to claim */
    assert_int_equal(stat_int(cc, "claim_waits"), 1);
    content_cache_fill(w.e, w.gen, a, b, NULL, 0, -ECANCELED);
    content_cache_put(w.e);
    content_cache_close(cc);
}

/* A READ reply may be spliced from the data file while it is held: a drop leaves the file
 * whole (its bytes are no longer recorded) and cuts it only once no handle holds the entry. */
static void test_dropped_data_is_cut_only_when_nobody_holds_it(void **state)
{
    (void)state;
    struct content_cache *cc = open_cache(64 * MiB);
    unsigned char *bad = malloc(SIZE);
    memcpy(bad, data, SIZE);
    bad[7] ^= 0x01;
    struct cc_entry *e;
    uint64_t gen;
    assert_int_equal(content_cache_get(cc, "file_c.1.file", SIZE, md5, "/x", &e, &gen), 0);
    fill_whole(e, gen, bad);
    assert_int_equal(content_cache_verdict(e, gen), -EIO);
    char path[160];
    snprintf(path, sizeof path, "%s/content/file_c.1.file", dir);
    struct stat st;
    assert_int_equal(fstat(content_cache_fd(e), &st), 0);
    assert_int_equal(st.st_size, SIZE);
    content_cache_put(e);
    content_cache_close(cc); /* once the md5 thread, which holds it too, has ended */
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);
    /* Opened again, nothing of the dropped bytes counts. */
    cc = open_cache(64 * MiB);
    assert_int_equal(content_cache_get(cc, "file_c.1.file", SIZE, md5, "/x", &e, &gen), 0);
    uint64_t a, b;
    assert_int_equal(content_cache_claim(e, gen, 0, SIZE, SIZE, &a, &b), 1);
    assert_int_equal(a, 0);
    assert_int_equal(b, SIZE);
    content_cache_fill(e, gen, a, b, NULL, 0, -EIO);
    content_cache_put(e);
    content_cache_close(cc);
    free(bad);
}

static void test_only_recorded_bytes_come_back(void **state)
{
    (void)state;
    struct content_cache *cc = open_cache(64 * MiB);
    struct cc_entry *e;
    uint64_t gen;
    assert_int_equal(content_cache_get(cc, "file_c.1.file", SIZE, md5, "/c", &e, &gen), 0);
    fill_from(e, gen, data, 0, 1 * MiB);
    content_cache_put(e); /* records [0, 1 MiB) */
    content_cache_close(cc);

    /* What a killed mount leaves: bytes written after the record was made (here garbage). */
    char path[128];
    snprintf(path, sizeof path, "%s/content/file_c.1.file", dir);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    char junk[4096];
    memset(junk, 0xEE, sizeof junk);
    for (uint64_t off = 1 * MiB; off < 2 * MiB; off += sizeof junk)
        assert_int_equal(pwrite(fd, junk, sizeof junk, (off_t)off), (ssize_t)sizeof junk);
    close(fd);

    cc = open_cache(64 * MiB);
    assert_int_equal(content_cache_get(cc, "file_c.1.file", SIZE, md5, "/c", &e, &gen), 0);
    uint64_t a, b;
    /* [0, 1 MiB) is there; the unrecorded bytes after it are a hole to fetch. */
    assert_int_equal(content_cache_claim(e, gen, 0, SIZE, 8 * MiB, &a, &b), 1);
    assert_int_equal(a, 1 * MiB);
    assert_int_equal(content_cache_fill(e, gen, a, b, data + a, (size_t)(b - a), 0), 0);
    fill_from(e, gen, data, 0, SIZE);
    assert_int_equal(content_cache_verdict(e, gen), 0);
    content_cache_put(e);
    content_cache_close(cc);

    /* A data file shorter than its record is not trusted at all. */
    assert_int_equal(truncate(path, 1000), 0);
    cc = open_cache(64 * MiB);
    assert_int_equal(content_cache_get(cc, "file_c.1.file", SIZE, md5, "/c", &e, &gen), 0);
    assert_false(content_cache_verified(e, gen));
    assert_int_equal(content_cache_claim(e, gen, 0, SIZE, 8 * MiB, &a, &b), 1);
    assert_int_equal(a, 0);
    content_cache_fill(e, gen, a, b, NULL, 0, -EIO); /* a failed fetch stores nothing */
    assert_int_equal(content_cache_claim(e, gen, 0, SIZE, 8 * MiB, &a, &b), 1);
    assert_int_equal(a, 0);
    content_cache_fill(e, gen, a, b, NULL, 0, -EIO);
    content_cache_put(e);
    content_cache_close(cc);

    /* Nor is a sidecar that is not one; both files go. */
    snprintf(path, sizeof path, "%s/content/file_c.1.file.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"format\":1,\"key\":\"file_c.1.file\",\"size\":5,\"ranges\":[[0,9]]", f);
    fclose(f);
    cc = open_cache(64 * MiB);
    assert_int_equal(stat_int(cc, "entries"), 0);
    assert_int_not_equal(access(path, F_OK), 0);
    content_cache_close(cc);
}

static void test_lru_eviction_within_the_shared_budget(void **state)
{
    (void)state;
    struct content_cache *cc = open_cache(7 * MiB); /* two versions fit, not three */
    const char *keys[] = {"file_d.1.file", "file_e.1.file", "file_f.1.file"};
    for (int i = 0; i < 3; i++) {
        struct cc_entry *e;
        uint64_t gen;
        assert_int_equal(content_cache_get(cc, keys[i], SIZE, md5, "/p", &e, &gen), 0);
        fill_from(e, gen, data, 0, SIZE);
        assert_int_equal(content_cache_verdict(e, gen), 0);
        content_cache_put(e);
        if (i == 1) { /* use the first again: the second is now the least recently used */
            assert_int_equal(content_cache_get(cc, keys[0], SIZE, md5, "/p", &e, &gen), 0);
            content_cache_put(e);
        }
    }
    assert_int_equal(stat_int(cc, "evictions"), 1);
    assert_true(stat_int(cc, "bytes_used") <= 7 * MiB);
    char path[128];
    snprintf(path, sizeof path, "%s/content/%s", dir, keys[1]);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/content/%s", dir, keys[0]);
    assert_int_equal(access(path, F_OK), 0);

    /* Staged uploads take their share: content makes way, oldest first; one held stays. */
    struct cc_entry *held;
    uint64_t gen;
    assert_int_equal(content_cache_get(cc, keys[2], SIZE, md5, "/p", &held, &gen), 0);
    content_cache_set_reserved(cc, 6 * MiB);
    assert_int_equal(stat_int(cc, "evictions"), 2);
    assert_int_equal(stat_int(cc, "entries"), 1);
    assert_true(content_cache_verified(held, gen));
    content_cache_put(held); /* no longer held: over the budget, it goes now */
    assert_int_equal(stat_int(cc, "entries"), 0);
    assert_int_equal(stat_int(cc, "bytes_used"), 0);
    content_cache_close(cc);
}

/* cache_dir need not exist (its default is under $XDG_CACHE_HOME): it is made, parents too. */
static void test_cache_dir_is_made(void **state)
{
    (void)state;
    char nested[128];
    snprintf(nested, sizeof nested, "%s/not/yet", dir);
    struct content_cache *cc = content_cache_open(nested, 64 * MiB, pool, NULL, NULL);
    assert_non_null(cc);
    content_cache_close(cc);
    char content[160];
    snprintf(content, sizeof content, "%s/content", nested);
    struct stat st;
    assert_int_equal(stat(content, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_any_order_is_verified_and_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mismatch_drops_and_ends_the_generation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_claim_next_does_not_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_waiting_read_is_woken_once_for_its_range, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dropped_data_is_cut_only_when_nobody_holds_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_only_recorded_bytes_come_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lru_eviction_within_the_shared_budget, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cache_dir_is_made, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
