#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote/file_digest.h"

/* Expected values were made outside vrcfs: signatures with
 * `rdiff -H blake2 -R rollsum -b 2048 -S 32 signature IN OUT` (files in tests/data/), MD5s with
 * Python's hashlib + base64, over the pattern byte i = (i * 31 + 7) & 0xff. */
struct vector {
    size_t n;
    const char *sig_path;
    const char *md5_b64;
    const char *sig_md5_b64;
};

static const struct vector vectors[] = {
    {0, "tests/data/sig_0.rdiff", "1B2M2Y8AsgTpgAmY7PhCfg==", "wFTc7oMFDcoZnqdLNiwHBw=="},
    {1, "tests/data/sig_1.rdiff", "iedOZAuMRiV6Kd4GFnlNXQ==", "luRfgu3U9ukNoO8n2YWZFw=="},
    {2048, "tests/data/sig_2048.rdiff", "+7Ljs4ojx9ggUz3ygbS27A==", "sGU1c6JNg127QNW5sXBqBQ=="},
    {2049, "tests/data/sig_2049.rdiff", "VOHytsiPmkZbpzpt8yyT7g==", "/5aMprNhSVCkSYQ+c63QEQ=="},
    {100000, "tests/data/sig_100000.rdiff", "c1TxbQagEyMtqiPPp6CS3w==", "nR4/7puw6qTtQqRv+Yb4CQ=="},
};

#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

static unsigned char *pattern(size_t n)
{
    unsigned char *p = malloc(n ? n : 1);

    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 31 + 7) & 0xff);
    return p;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Digests vector v in chunks of at most chunk bytes (0: all at once) into memory, then
 * compares the signature byte for byte with the rdiff file and every field of the result. */
static void check_vector(const struct vector *v, size_t chunk)
{
    unsigned char *data = pattern(v->n);
    struct file_digest_result res;
    char *sig = NULL, *want;
    size_t sig_len = 0, want_len;
    FILE *out = open_memstream(&sig, &sig_len);
    struct file_digest *d;

    assert_non_null(out);
    d = file_digest_new(out);
    assert_non_null(d);
    if (chunk == 0)
        chunk = v->n ? v->n : 1;
    for (size_t off = 0; off < v->n; off += chunk) {
        size_t len = v->n - off < chunk ? v->n - off : chunk;

        assert_int_equal(file_digest_update(d, data + off, len), 0);
    }
    memset(&res, 0x5a, sizeof(res));
    assert_int_equal(file_digest_finish(d, &res), 0);
    fclose(out);

    want = read_file(v->sig_path, &want_len);
    assert_int_equal(sig_len, want_len);
    assert_memory_equal(sig, want, want_len);
    assert_string_equal(res.md5_b64, v->md5_b64);
    assert_int_equal(res.size, v->n);
    assert_string_equal(res.sig_md5_b64, v->sig_md5_b64);
    assert_int_equal(res.sig_size, want_len);
    free(want);
    free(sig);
    free(data);
}

static void check_all_vectors(size_t chunk)
{
    for (size_t i = 0; i < N_VECTORS; i++)
        check_vector(&vectors[i], chunk);
}

static void test_signature_matches_rdiff_in_one_update(void **state)
{
    (void)state;
    check_all_vectors(0);
}

static void test_signature_matches_rdiff_in_1_byte_chunks(void **state)
{
    (void)state;
    check_all_vectors(1);
}

static void test_signature_matches_rdiff_in_7_byte_chunks(void **state)
{
    (void)state;
    check_all_vectors(7);
}

static void test_signature_matches_rdiff_in_4095_byte_chunks(void **state)
{
    (void)state;
    check_all_vectors(4095);
}

static void test_sig_size_formula(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 2047, 2048, 2049, 4096, 4097, 100000, 1 << 20};
    FILE *out = fopen("/dev/null", "w");

    assert_non_null(out);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        unsigned char *data = pattern(sizes[i]);
        struct file_digest *d = file_digest_new(out);
        struct file_digest_result res;

        assert_non_null(d);
        assert_int_equal(file_digest_update(d, data, sizes[i]), 0);
        assert_int_equal(file_digest_finish(d, &res), 0);
        assert_int_equal(res.size, sizes[i]);
        assert_int_equal(res.sig_size, 12 + (sizes[i] + 2047) / 2048 * 36);
        free(data);
    }
    fclose(out);
}

static void test_signature_header_is_blake2_2048_32(void **state)
{
    (void)state;
    static const unsigned char header[12] = {0x72, 0x73, 0x01, 0x37, 0, 0, 0x08, 0, 0, 0, 0, 0x20};
    char *sig = NULL;
    size_t sig_len = 0;
    FILE *out = open_memstream(&sig, &sig_len);
    struct file_digest_result res;

    assert_int_equal(file_digest_finish(file_digest_new(out), &res), 0);
    fclose(out);
    assert_int_equal(sig_len, 12);
    assert_memory_equal(sig, header, 12);
    free(sig);
}

static void test_md5_base64_known_values(void **state)
{
    (void)state;
    char b64[DIGEST_MD5_B64_LEN + 1];

    digest_md5_base64("", 0, b64);
    assert_string_equal(b64, "1B2M2Y8AsgTpgAmY7PhCfg==");
    digest_md5_base64("test", 4, b64);
    assert_string_equal(b64, "CY9rzUYh03PK3k6DJie09g==");
    assert_int_equal(strlen(b64), DIGEST_MD5_B64_LEN);
}

static void test_md5_from_base64_round_trip(void **state)
{
    (void)state;
    static const unsigned char md5_test[16] = {0x09, 0x8f, 0x6b, 0xcd, 0x46, 0x21, 0xd3, 0x73,
                                               0xca, 0xde, 0x4e, 0x83, 0x26, 0x27, 0xb4, 0xf6};
    unsigned char raw[16], want[16];
    char b64[DIGEST_MD5_B64_LEN + 1];

    assert_int_equal(digest_md5_from_base64("CY9rzUYh03PK3k6DJie09g==", raw), 0);
    assert_memory_equal(raw, md5_test, 16);
    /* Many digests, so that every base64 character position sees varied values. */
    for (int seed = 0; seed < 256; seed++) {
        assert_int_equal(EVP_Digest(&seed, sizeof(seed), want, NULL, EVP_md5(), NULL), 1);
        digest_md5_base64(&seed, sizeof(seed), b64);
        assert_int_equal(digest_md5_from_base64(b64, raw), 0);
        assert_memory_equal(raw, want, 16);
    }
}

static void test_md5_from_base64_rejects_bad_input(void **state)
{
    (void)state;
    unsigned char raw[16];

    assert_int_equal(digest_md5_from_base64(NULL, raw), -EINVAL);
    assert_int_equal(digest_md5_from_base64("", raw), -EINVAL);
    /* hex, not base64 */
    assert_int_equal(digest_md5_from_base64("098f6bcd4621d373cade4e832627b4f6", raw), -EINVAL);
    /* padding missing, or one char short/long */
    assert_int_equal(digest_md5_from_base64("CY9rzUYh03PK3k6DJie09g", raw), -EINVAL);
    assert_int_equal(digest_md5_from_base64("CY9rzUYh03PK3k6DJie09g=", raw), -EINVAL);
    assert_int_equal(digest_md5_from_base64("CY9rzUYh03PK3k6DJie09g===", raw), -EINVAL);
    /* 18 bytes of data: right length, wrong size */
    assert_int_equal(digest_md5_from_base64("CY9rzUYh03PK3k6DJie09gAA", raw), -EINVAL);
    /* character outside the alphabet, whitespace, URL-safe alphabet */
    assert_int_equal(digest_md5_from_base64("CY9rzUYh03PK3k6DJie0*g==", raw), -EINVAL);
    assert_int_equal(digest_md5_from_base64(" Y9rzUYh03PK3k6DJie09g==", raw), -EINVAL);
    assert_int_equal(digest_md5_from_base64("CY9rzUYh03PK3k6DJie09g= ", raw), -EINVAL);
    assert_int_equal(digest_md5_from_base64("_-9rzUYh03PK3k6DJie09g==", raw), -EINVAL);
    /* padding in the middle */
    assert_int_equal(digest_md5_from_base64("CY9rzUYh03PK3k6D==ie09g=", raw), -EINVAL);
    /* non-zero bits in the last char's unused low bits: not canonical */
    assert_int_equal(digest_md5_from_base64("CY9rzUYh03PK3k6DJie09h==", raw), -EINVAL);
}

static void test_file_digest_fd_on_temp_file(void **state)
{
    (void)state;
    const struct vector *v = &vectors[4];
    char path[] = "/tmp/vrcfs-test-digest-XXXXXX";
    int fd = mkstemp(path);
    unsigned char *data = pattern(v->n);
    struct file_digest_result res;
    char *sig = NULL, *want;
    size_t sig_len = 0, want_len;
    FILE *out = open_memstream(&sig, &sig_len);

    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, data, v->n), (ssize_t)v->n);
    /* The file offset is at the end: file_digest_fd must still start at 0. */
    assert_int_equal(file_digest_fd(fd, out, &res), 0);
    fclose(out);
    close(fd);

    want = read_file(v->sig_path, &want_len);
    assert_int_equal(sig_len, want_len);
    assert_memory_equal(sig, want, want_len);
    assert_string_equal(res.md5_b64, v->md5_b64);
    assert_int_equal(res.size, v->n);
    assert_string_equal(res.sig_md5_b64, v->sig_md5_b64);
    assert_int_equal(res.sig_size, want_len);
    free(want);
    free(sig);
    free(data);
}

static void test_file_digest_fd_bad_fd(void **state)
{
    (void)state;
    struct file_digest_result res;
    FILE *out = fopen("/dev/null", "w");
    int fd;

    assert_non_null(out);
    assert_int_equal(file_digest_fd(-1, out, &res), -EINVAL);
    /* A directory cannot be read. */
    fd = open("/", O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    assert_int_equal(file_digest_fd(fd, out, &res), -EISDIR);
    close(fd);
    fclose(out);
}

static void test_abort_frees_everything(void **state)
{
    (void)state;
    unsigned char *data = pattern(5000);
    FILE *out = fopen("/dev/null", "w");
    struct file_digest *d;

    assert_non_null(out);
    /* Abort with a partial block held in librsync's scoop buffer. */
    d = file_digest_new(out);
    assert_non_null(d);
    assert_int_equal(file_digest_update(d, data, 5000), 0);
    file_digest_abort(d);
    /* Abort right after creation, and of NULL. */
    file_digest_abort(file_digest_new(out));
    file_digest_abort(NULL);
    fclose(out);
    free(data);
}

static void test_write_error_is_eio(void **state)
{
    (void)state;
    FILE *out = fopen("/dev/null", "r");
    struct file_digest_result res;
    struct file_digest *d;

    assert_non_null(out);
    d = file_digest_new(out);
    assert_non_null(d);
    /* The header is the first thing written, and writing to a read-only stream fails. */
    assert_int_equal(file_digest_update(d, "x", 1), -EIO);
    assert_int_equal(file_digest_update(d, "x", 1), -EIO);
    assert_int_equal(file_digest_finish(d, &res), -EIO);
    fclose(out);
}

static void test_flush_error_is_eio(void **state)
{
    (void)state;
    FILE *out = fopen("/dev/full", "w");
    struct file_digest_result res;
    struct file_digest *d;

    if (!out)
        skip();
    d = file_digest_new(out);
    assert_non_null(d);
    /* Buffered writes succeed; the error shows up when finish flushes. */
    assert_int_equal(file_digest_update(d, "abc", 3), 0);
    assert_int_equal(file_digest_finish(d, &res), -EIO);
    fclose(out);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    struct file_digest_result res;
    FILE *out = fopen("/dev/null", "w");
    struct file_digest *d;

    assert_non_null(out);
    assert_null(file_digest_new(NULL));
    assert_int_equal(file_digest_update(NULL, "x", 1), -EINVAL);
    assert_int_equal(file_digest_finish(NULL, &res), -EINVAL);
    d = file_digest_new(out);
    assert_int_equal(file_digest_update(d, NULL, 1), -EINVAL);
    assert_int_equal(file_digest_update(d, NULL, 0), 0);
    /* finish frees d even when it fails. */
    assert_int_equal(file_digest_finish(d, NULL), -EINVAL);
    fclose(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_matches_rdiff_in_one_update),
        cmocka_unit_test(test_signature_matches_rdiff_in_1_byte_chunks),
        cmocka_unit_test(test_signature_matches_rdiff_in_7_byte_chunks),
        cmocka_unit_test(test_signature_matches_rdiff_in_4095_byte_chunks),
        cmocka_unit_test(test_sig_size_formula),
        cmocka_unit_test(test_signature_header_is_blake2_2048_32),
        cmocka_unit_test(test_md5_base64_known_values),
        cmocka_unit_test(test_md5_from_base64_round_trip),
        cmocka_unit_test(test_md5_from_base64_rejects_bad_input),
        cmocka_unit_test(test_file_digest_fd_on_temp_file),
        cmocka_unit_test(test_file_digest_fd_bad_fd),
        cmocka_unit_test(test_abort_frees_everything),
        cmocka_unit_test(test_write_error_is_eio),
        cmocka_unit_test(test_flush_error_is_eio),
        cmocka_unit_test(test_invalid_arguments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
