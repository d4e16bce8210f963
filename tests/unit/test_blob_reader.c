/* Unit tests for blob_reader against an in-memory blob and a content cache in a temporary
 * directory: files_read_range and files_resolve_download are replaced at link time
 * (-Wl,--wrap). They check that a whole read is verified against the md5 however the kernel
 * orders its reads (some sent ahead of others at the start, one sent late while streaming,
 * several threads at once), that the bytes are right, that random reads fetch little, that a
 * body cut short is an error and never a short read, that a body sent again from its start (a
 * retry) is stored where it belongs, that an expired URL is resolved once, that
 * a verified version is read again with no request, and that a small version is checked before
 * any byte of it is served. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "remote/files_api.h"
#include "vfs/blob_reader.h"
#include "vfs/buf_pool.h"
#include "vfs/content_cache.h"

#define KiB 1024u
#define MiB (1024u * 1024)
#define BLOB_SIZE (40u * MiB + 12345) /* streams through several windows; an odd tail */
#define CHUNK (128u * KiB)            /* the kernel's read size */

/* --- the fake blob host --------------------------------------------------------------------- */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned char *clean;  /* the blob as uploaded; its md5 is the version's */
    unsigned char *served; /* what the host serves: clean, or with one byte flipped */
    uint64_t bytes_served; /* over all range requests */
    uint64_t furthest;     /* the end of the furthest range requested */
    int resolves;          /* files_resolve_download calls */
    int refused;           /* range requests refused as expired */
    char expired_url[160]; /* a URL the host refuses with -EACCES */
    uint64_t cut_at;       /* bodies end here, as if the connection closed (0: they do not) */
    bool restart;          /* each body stops halfway and comes again from its start (a retry) */
} host = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

int __wrap_files_read_range_to(struct http_client *c, const char *url, uint64_t offset, size_t len,
                               int (*sink)(void *arg, uint64_t at, const void *data, size_t len),
                               void *arg, size_t *got);
int __wrap_files_resolve_download(struct http_client *c, const char *file_id, int version,
                                  enum vrc_data_kind kind, char **url);

int __wrap_files_read_range_to(struct http_client *c, const char *url, uint64_t offset, size_t len,
                               int (*sink)(void *arg, uint64_t at, const void *data, size_t len),
                               void *arg, size_t *got)
{
    (void)c;
    *got = 0;
    pthread_mutex_lock(&host.lock);
    if (strcmp(url, host.expired_url) == 0) {
        host.refused++;
        pthread_mutex_unlock(&host.lock);
        return -EACCES;
    }
    pthread_mutex_unlock(&host.lock);
    if (offset >= BLOB_SIZE)
        return -EIO;
    size_t n = BLOB_SIZE - offset < len ? (size_t)(BLOB_SIZE - offset) : len;
    if (host.cut_at && offset + n > host.cut_at)
        n = offset < host.cut_at ? (size_t)(host.cut_at - offset) : 0;
    /* In pieces, as curl hands them over; a retry hands them over again from the start. */
    for (size_t at = 0; host.restart && at < n / 2; at += 24 * KiB) {
        size_t piece = n / 2 - at < 24 * KiB ? n / 2 - at : 24 * KiB;
        int err = sink(arg, at, host.served + offset + at, piece);
        if (err)
            return err;
    }
    for (size_t at = 0; at < n; at += 64 * KiB) {
        size_t piece = n - at < 64 * KiB ? n - at : 64 * KiB;
        int err = sink(arg, at, host.served + offset + at, piece);
        if (err)
            return err;
    }
    *got = n;
    pthread_mutex_lock(&host.lock);
    host.bytes_served += n;
    if (offset + n > host.furthest)
        host.furthest = offset + n;
    pthread_cond_broadcast(&host.cond);
    pthread_mutex_unlock(&host.lock);
    return 0;
}

int __wrap_files_resolve_download(struct http_client *c, const char *file_id, int version,
                                  enum vrc_data_kind kind, char **url)
{
    (void)c;
    pthread_mutex_lock(&host.lock);
    int n = ++host.resolves;
    pthread_mutex_unlock(&host.lock);
    char buf[128];
    snprintf(buf, sizeof buf, "https://blob.test/%s/%d/%d?sig=%d", file_id, version, (int)kind, n);
    *url = strdup(buf);
    return *url ? 0 : -ENOMEM;
}

/* Waits (at most 20 s) until some range request reached `end`. */
static bool wait_fetched(uint64_t end)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&host.lock);
    int err = 0;
    while (host.furthest < end && err == 0)
        err = pthread_cond_timedwait(&host.cond, &host.lock, &until);
    bool reached = host.furthest >= end;
    pthread_mutex_unlock(&host.lock);
    return reached;
}

/* --- a mount with one File ------------------------------------------------------------------ */

#define SMALL_SIZE (1u * MiB + 99) /* version 2: the first bytes of the same blob */

struct fixture {
    struct vfs v;
    struct vrc_file file;
    struct vrc_file_version version[2];
    char dir[64];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->v.cache = cache_new(64, 3600, 10);
    assert_non_null(fx->v.cache);
    /* tmpfs when there is one: the cache fsyncs, and a disk would make that slow. */
    snprintf(fx->dir, sizeof fx->dir, "%s/vrcfs-blob-test.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    assert_non_null(mkdtemp(fx->dir));
    fx->v.pool = buf_pool_new(40 * MiB, 1 * MiB);
    fx->v.content = content_cache_open(fx->dir, 1024 * MiB, fx->v.pool, NULL, NULL);
    assert_non_null(fx->v.content);
    host.clean = malloc(BLOB_SIZE);
    host.served = malloc(BLOB_SIZE);
    assert_non_null(host.clean);
    assert_non_null(host.served);
    uint32_t x = 2463534242u; /* xorshift: bytes that differ at every offset */
    for (size_t i = 0; i < BLOB_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        host.clean[i] = (unsigned char)x;
    }
    memcpy(host.served, host.clean, BLOB_SIZE);
    host.bytes_served = host.furthest = 0;
    host.resolves = host.refused = 0;
    host.expired_url[0] = '\0';
    host.cut_at = 0;
    host.restart = false;

    const uint64_t sizes[2] = {BLOB_SIZE, SMALL_SIZE};
    for (int i = 0; i < 2; i++) {
        unsigned char md5[16];
        unsigned int md5_len = 0;
        assert_true(EVP_Digest(host.clean, sizes[i], md5, &md5_len, EVP_md5(), NULL));
        fx->version[i].version = i + 1;
        fx->version[i].status = VRC_STATUS_COMPLETE;
        fx->version[i].data[VRC_DATA_FILE].present = true;
        fx->version[i].data[VRC_DATA_FILE].size = sizes[i];
        EVP_EncodeBlock((unsigned char *)fx->version[i].data[VRC_DATA_FILE].md5, md5, 16);
    }
    fx->file.id = "file_00000000-0000-0000-0000-000000000001";
    fx->file.versions = fx->version;
    fx->file.nversions = 2;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    content_cache_close(fx->v.content);
    buf_pool_free(fx->v.pool);
    cache_free(fx->v.cache);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    free(host.clean);
    free(host.served);
    return 0;
}

static struct vfs_handle *open_version(struct fixture *fx, int version, bool *verified)
{
    struct vfs_handle *h = NULL;
    bool v = false;
    assert_int_equal(
        blob_reader_open(&fx->v, &fx->file, version, VRC_DATA_FILE, "/files/file_1/1/file", &h, &v),
        0);
    assert_non_null(h);
    if (verified)
        *verified = v;
    return h;
}

static struct vfs_handle *open_blob(struct fixture *fx)
{
    return open_version(fx, 1, NULL);
}

/* One read as the kernel would send it: the result, and the bytes when it succeeded. */
static int read_chunk(struct vfs_handle *h, uint64_t offset, bool *bytes_ok)
{
    static _Thread_local char buf[CHUNK];
    int n = h->ops->read(h, buf, CHUNK, (off_t)offset);
    if (n > 0) {
        size_t want = BLOB_SIZE - offset < CHUNK ? (size_t)(BLOB_SIZE - offset) : CHUNK;
        if ((size_t)n != want || memcmp(buf, host.served + offset, want) != 0)
            *bytes_ok = false;
    }
    return n;
}

#define NCHUNKS ((BLOB_SIZE + CHUNK - 1) / CHUNK)
#define NCHUNKS_MAX (BLOB_SIZE / CHUNK + 1)

/* Reads every chunk once in the order given; returns how many reads failed with EIO and checks
 * that the others failed with nothing else. */
static int read_in_order(struct vfs_handle *h, const uint64_t *order, size_t n, bool *bytes_ok)
{
    int eio = 0;
    for (size_t i = 0; i < n; i++) {
        int got = read_chunk(h, order[i] * CHUNK, bytes_ok);
        if (got == -EIO)
            eio++;
        else
            assert_true(got > 0);
    }
    return eio;
}

static void corrupt_at(uint64_t offset)
{
    host.served[offset] ^= 0x5a;
}

/* --- whole reads are verified ----------------------------------------------------------------- */

/* Reads every chunk once in the order make_order gives. */
static void check_order(void **state, uint64_t *(*make_order)(void), bool corrupt)
{
    struct fixture *fx = *state;
    if (corrupt)
        corrupt_at(BLOB_SIZE - 3 * MiB);
    uint64_t *order = make_order();
    struct vfs_handle *h = open_blob(fx);
    bool bytes_ok = true;
    int eio = read_in_order(h, order, NCHUNKS, &bytes_ok);
    h->ops->release(h);
    free(order);
    if (corrupt) {
        assert_true(eio > 0);
    } else {
        assert_int_equal(eio, 0);
        assert_true(bytes_ok);
    }
}

static uint64_t *order_sequential(void)
{
    uint64_t *order = malloc(NCHUNKS * sizeof *order);
    assert_non_null(order);
    for (uint64_t i = 0; i < NCHUNKS; i++)
        order[i] = i;
    return order;
}

static void test_sequential_read_is_verified(void **state)
{
    check_order(state, order_sequential, false);
}

/* A body cut halfway that comes again from its start (curl's retry after a dropped connection)
 * is stored at the right offsets. */
static void test_body_sent_again_after_a_drop_is_verified(void **state)
{
    host.restart = true;
    check_order(state, order_sequential, false);
}

static void test_sequential_read_of_corrupt_blob_is_eio(void **state)
{
    check_order(state, order_sequential, true);
}

/* The kernel's first reads arrive swapped in pairs: 128K before 0, 384K before 256K, ... */
static uint64_t *order_swapped_start(void)
{
    uint64_t *order = order_sequential();
    for (uint64_t i = 0; i + 1 < 16; i += 2) {
        order[i] = i + 1;
        order[i + 1] = i;
    }
    return order;
}

static void test_swapped_start_is_verified(void **state)
{
    check_order(state, order_swapped_start, false);
}

static void test_swapped_start_of_corrupt_blob_is_eio(void **state)
{
    check_order(state, order_swapped_start, true);
}

/* While streaming, one read comes 3.5 MiB late: after the fetcher has reused its window. */
static void check_late_read(void **state, bool corrupt)
{
    struct fixture *fx = *state;
    if (corrupt)
        corrupt_at(BLOB_SIZE - 3 * MiB);
    struct vfs_handle *h = open_blob(fx);
    bool bytes_ok = true;
    const uint64_t late = (31 * MiB / 2) / CHUNK, resume = late + (7 * MiB / 2) / CHUNK;
    int eio = 0;
    for (uint64_t i = 0; i < resume; i++)
        if (i != late)
            eio += read_chunk(h, i * CHUNK, &bytes_ok) == -EIO;
    /* Three windows (as many as the stream keeps) fetched past the late read's: its own went
     * for the third. */
    assert_true(wait_fetched(late * CHUNK + 3 * BLOB_WINDOW_MAX));
    eio += read_chunk(h, late * CHUNK, &bytes_ok) == -EIO;
    for (uint64_t i = resume; i < NCHUNKS; i++)
        eio += read_chunk(h, i * CHUNK, &bytes_ok) == -EIO;
    h->ops->release(h);
    if (corrupt) {
        assert_true(eio > 0);
    } else {
        assert_int_equal(eio, 0);
        assert_true(bytes_ok);
        /* Everything once, and the late read's 128 KiB again. */
        assert_true(host.bytes_served <= BLOB_SIZE + CHUNK);
    }
}

static void test_late_read_while_streaming_is_verified(void **state)
{
    check_late_read(state, false);
}

static void test_late_read_of_corrupt_blob_is_eio(void **state)
{
    check_late_read(state, true);
}

/* Four threads take the chunks in turn, as the kernel hands a sequential reader's reads to the
 * mount's threads: each read arrives in whatever order the scheduler makes, but no more than
 * IN_FLIGHT chunks ahead of the oldest unanswered one (the kernel sends only its readahead
 * window ahead of the page the reader waits for). */
#define IN_FLIGHT (4 * MiB / CHUNK)

struct race {
    struct vfs_handle *h;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t next;          /* the next chunk to hand out */
    bool done[NCHUNKS_MAX]; /* answered chunks */
    uint64_t oldest;        /* the oldest unanswered chunk */
};

struct racer {
    struct race *race;
    int eio, other;
    bool bytes_ok;
};

static void *racer_main(void *arg)
{
    struct racer *rc = arg;
    struct race *race = rc->race;
    for (;;) {
        pthread_mutex_lock(&race->lock);
        while (race->next < NCHUNKS && race->next >= race->oldest + IN_FLIGHT)
            pthread_cond_wait(&race->cond, &race->lock);
        uint64_t i = race->next++;
        pthread_mutex_unlock(&race->lock);
        if (i >= NCHUNKS)
            return NULL;
        int got = read_chunk(race->h, i * CHUNK, &rc->bytes_ok);
        if (got == -EIO)
            rc->eio++;
        else if (got <= 0)
            rc->other++;
        pthread_mutex_lock(&race->lock);
        race->done[i] = true;
        while (race->oldest < NCHUNKS && race->done[race->oldest])
            race->oldest++;
        pthread_cond_broadcast(&race->cond);
        pthread_mutex_unlock(&race->lock);
    }
}

static void check_racing_readers(void **state, bool corrupt)
{
    struct fixture *fx = *state;
    if (corrupt)
        corrupt_at(BLOB_SIZE - 3 * MiB);
    for (int round = 0; round < 5; round++) {
        static struct race race;
        memset(&race, 0, sizeof race);
        race.h = open_blob(fx);
        pthread_mutex_init(&race.lock, NULL);
        pthread_cond_init(&race.cond, NULL);
        struct racer rc[4];
        pthread_t tid[4];
        for (int i = 0; i < 4; i++) {
            rc[i] = (struct racer){.race = &race, .bytes_ok = true};
            assert_int_equal(pthread_create(&tid[i], NULL, racer_main, &rc[i]), 0);
        }
        int eio = 0, other = 0;
        bool bytes_ok = true;
        for (int i = 0; i < 4; i++) {
            pthread_join(tid[i], NULL);
            eio += rc[i].eio;
            other += rc[i].other;
            bytes_ok = bytes_ok && rc[i].bytes_ok;
        }
        race.h->ops->release(race.h);
        pthread_cond_destroy(&race.cond);
        pthread_mutex_destroy(&race.lock);
        assert_int_equal(other, 0);
        if (corrupt) {
            assert_true(eio > 0);
        } else {
            assert_int_equal(eio, 0);
            assert_true(bytes_ok);
        }
    }
}

static void test_racing_readers_are_verified(void **state)
{
    check_racing_readers(state, false);
}

static void test_racing_readers_of_corrupt_blob_are_eio(void **state)
{
    check_racing_readers(state, true);
}

/* --- what reads cost -------------------------------------------------------------------------- */

static void test_random_reads_fetch_little(void **state)
{
    struct fixture *fx = *state;
    struct vfs_handle *h = open_blob(fx);
    uint32_t x = 12345;
    const int reads = 64;
    char buf[4096];
    for (int i = 0; i < reads; i++) {
        x = x * 1103515245u + 12345u;
        /* 4 KiB blocks past the first 8 MiB, as a random reader's would be. */
        uint64_t offset = 8 * MiB + (uint64_t)(x % ((BLOB_SIZE - 9 * MiB) / 4096)) * 4096;
        assert_int_equal(h->ops->read(h, buf, sizeof buf, (off_t)offset), (int)sizeof buf);
        assert_memory_equal(buf, host.clean + offset, sizeof buf);
    }
    h->ops->release(h);
    /* Each read fetched at most the smallest window. */
    assert_true(host.bytes_served <= (uint64_t)reads * BLOB_WINDOW_MIN);
    assert_int_equal(host.resolves, 1);
}

/* A body cut short (the server or a proxy closed early): never a short read, which the kernel
 * would take for the end of the file. Before and after streaming starts. */
static void test_cut_body_is_eio_not_a_short_read(void **state)
{
    struct fixture *fx = *state;
    const uint64_t cuts[] = {1 * MiB + 1000, 20 * MiB + 1000};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        host.cut_at = cuts[c];
        struct vfs_handle *h = open_blob(fx);
        bool bytes_ok = true;
        int failed = 0;
        for (uint64_t i = 0; i < NCHUNKS; i++) {
            int got = read_chunk(h, i * CHUNK, &bytes_ok);
            if (got < 0)
                failed++;
            else
                assert_int_equal(got,
                                 BLOB_SIZE - i * CHUNK < CHUNK ? BLOB_SIZE - i * CHUNK : CHUNK);
        }
        h->ops->release(h);
        assert_true(failed > 0);
        assert_true(bytes_ok);
    }
}

static void test_expired_url_is_resolved_once(void **state)
{
    struct fixture *fx = *state;
    struct vfs_handle *h = open_blob(fx);
    assert_int_equal(host.resolves, 0); /* opening sends no request */
    snprintf(host.expired_url, sizeof host.expired_url, "https://blob.test/%s/1/0?sig=1",
             fx->file.id);
    uint64_t *order = order_sequential();
    bool bytes_ok = true;
    assert_int_equal(read_in_order(h, order, NCHUNKS, &bytes_ok), 0);
    free(order);
    h->ops->release(h);
    assert_true(bytes_ok);
    assert_int_equal(host.resolves, 2);
    assert_int_equal(host.refused, 1);
}

/* A version read whole is verified in the cache: reading it again, from a new handle, costs no
 * request, and the open says so (the kernel may keep its pages). */
static void test_verified_version_is_read_again_for_free(void **state)
{
    struct fixture *fx = *state;
    bool verified = true;
    struct vfs_handle *h = open_version(fx, 1, &verified);
    assert_false(verified);
    uint64_t *order = order_sequential();
    bool bytes_ok = true;
    assert_int_equal(read_in_order(h, order, NCHUNKS, &bytes_ok), 0);
    h->ops->release(h);
    uint64_t served = host.bytes_served;
    int resolves = host.resolves;
    assert_true(served <= BLOB_SIZE); /* nothing twice */
    h = open_version(fx, 1, &verified);
    assert_true(verified);
    /* Backwards this time. */
    for (uint64_t i = 0; i < NCHUNKS / 2; i++) {
        uint64_t t = order[i];
        order[i] = order[NCHUNKS - 1 - i];
        order[NCHUNKS - 1 - i] = t;
    }
    assert_int_equal(read_in_order(h, order, NCHUNKS, &bytes_ok), 0);
    h->ops->release(h);
    free(order);
    assert_true(bytes_ok);
    assert_int_equal(host.bytes_served, served);
    assert_int_equal(host.resolves, resolves);
}

/* A corrupt version fails every later read of the handles open at the time; a new open after
 * the blob is mended downloads again and reads right. */
static void test_new_open_after_mismatch_reads_the_mended_blob(void **state)
{
    struct fixture *fx = *state;
    corrupt_at(BLOB_SIZE / 2);
    struct vfs_handle *h = open_blob(fx);
    uint64_t *order = order_sequential();
    bool bytes_ok = true;
    assert_true(read_in_order(h, order, NCHUNKS, &bytes_ok) > 0);
    char buf[CHUNK];
    assert_int_equal(h->ops->read(h, buf, CHUNK, 0), -EIO); /* also bytes it read before */
    corrupt_at(BLOB_SIZE / 2);                              /* mended */
    struct vfs_handle *h2 = open_blob(fx);
    bytes_ok = true;
    assert_int_equal(read_in_order(h2, order, NCHUNKS, &bytes_ok), 0);
    assert_true(bytes_ok);
    assert_int_equal(h->ops->read(h, buf, CHUNK, 0), -EIO); /* the old handle stays failed */
    h->ops->release(h);
    h2->ops->release(h2);
    free(order);
}

/* A small version is fetched whole and checked before any byte of it is served: a reader of
 * its first half alone gets EIO, not bytes that a whole read would reject. */
static void test_small_version_is_checked_before_serving(void **state)
{
    struct fixture *fx = *state;
    corrupt_at(SMALL_SIZE - 10);
    struct vfs_handle *h = open_version(fx, 2, NULL);
    char buf[4096];
    assert_int_equal(h->ops->read(h, buf, sizeof buf, 0), -EIO);
    h->ops->release(h);
    corrupt_at(SMALL_SIZE - 10);
    h = open_version(fx, 2, NULL);
    assert_int_equal(h->ops->read(h, buf, sizeof buf, 4096), (int)sizeof buf);
    assert_memory_equal(buf, host.clean + 4096, sizeof buf);
    h->ops->release(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sequential_read_is_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequential_read_of_corrupt_blob_is_eio, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_swapped_start_is_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_start_of_corrupt_blob_is_eio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_read_while_streaming_is_verified, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_late_read_of_corrupt_blob_is_eio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_racing_readers_are_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_racing_readers_of_corrupt_blob_are_eio, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_random_reads_fetch_little, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verified_version_is_read_again_for_free, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_new_open_after_mismatch_reads_the_mended_blob, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_small_version_is_checked_before_serving, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cut_body_is_eio_not_a_short_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_sent_again_after_a_drop_is_verified, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expired_url_is_resolved_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
