#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "remote/upload.h"

#define MiB (1024ull * 1024)

/* --- finish bodies ------------------------------------------------------------------------- */

static void test_finish_body_simple_has_no_etags(void **state)
{
    (void)state;
    char *body = upload_finish_body(NULL, 0);
    assert_non_null(body);
    assert_string_equal(body, "{\"nextPartNumber\":\"0\",\"maxParts\":\"0\"}");
    free(body);
}

static void test_finish_body_keeps_etag_order(void **state)
{
    (void)state;
    const char *etags[] = {"bbb", "aaa", "ccc"};
    char *body = upload_finish_body(etags, 3);
    assert_non_null(body);
    assert_string_equal(body, "{\"etags\":[\"bbb\",\"aaa\",\"ccc\"],\"nextPartNumber\":\"0\","
                              "\"maxParts\":\"0\"}");
    free(body);
}

static void test_finish_body_escapes(void **state)
{
    (void)state;
    const char *etags[] = {"a\"b"};
    char *body = upload_finish_body(etags, 1);
    assert_non_null(strstr(body, "\"a\\\"b\""));
    free(body);
}

/* --- Content-MD5 --------------------------------------------------------------------------- */

static void test_md5_header(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(upload_md5_header("1B2M2Y8AsgTpgAmY7PhCfg==", out, sizeof out), 0);
    assert_string_equal(out, "Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==");
}

static void test_md5_header_refuses_bad_input(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(upload_md5_header("d41d8cd98f00b204e9800998ecf8427e", out, sizeof out),
                     -EINVAL); /* hex is not what S3 wants */
    assert_int_equal(upload_md5_header("", out, sizeof out), -EINVAL);
    assert_int_equal(upload_md5_header(NULL, out, sizeof out), -EINVAL);
    char tiny[10];
    assert_int_equal(upload_md5_header("1B2M2Y8AsgTpgAmY7PhCfg==", tiny, sizeof tiny), -EINVAL);
}

/* --- stale versions ------------------------------------------------------------------------ */

static struct vrc_file *parse(const char *text)
{
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    assert_non_null(obj);
    char why[128];
    struct vrc_file *f = vrc_file_parse(obj, why, sizeof why);
    json_decref(obj);
    assert_non_null(f);
    return f;
}

#define V0 "{\"version\":0,\"status\":\"complete\",\"created_at\":\"2024-01-01T00:00:00Z\"}"
#define DATA(md5, size)                                                                            \
    "{\"category\":\"simple\",\"md5\":\"" md5 "\",\"sizeInBytes\":" #size                          \
    ",\"status\":\"waiting\",\"url\":\"\",\"uploadId\":\"\",\"fileName\":\"x\"}"

static const struct file_digest_result digest = {
    .md5_b64 = "iedOZAuMRiV6Kd4GFnlNXQ==",
    .size = 1,
    .sig_md5_b64 = "luRfgu3U9ukNoO8n2YWZFw==",
    .sig_size = 48,
};

static void test_find_waiting_none(void **state)
{
    (void)state;
    bool same = true;
    struct vrc_file *f = parse("{\"id\":\"file_a\",\"versions\":[" V0 "]}");
    assert_int_equal(upload_find_waiting(f, &digest, &same), 0);
    assert_false(same);
    vrc_file_unref(f);
    f = parse("{\"id\":\"file_a\",\"versions\":[" V0 ",{\"version\":1,\"status\":\"complete\"}]}");
    assert_int_equal(upload_find_waiting(f, &digest, &same), 0);
    vrc_file_unref(f);
}

static void test_find_waiting_same_bytes(void **state)
{
    (void)state;
    bool same = false;
    struct vrc_file *f =
        parse("{\"id\":\"file_a\",\"versions\":[" V0 ",{\"version\":1,\"status\":\"complete\"},"
              "{\"version\":2,\"status\":\"waiting\",\"file\":" DATA(
                  "iedOZAuMRiV6Kd4GFnlNXQ==", 1) ",\"signature\":" DATA("luRfgu3U9ukNoO8n2YWZFw==",
                                                                        48) "}]}");
    assert_int_equal(upload_find_waiting(f, &digest, &same), 2);
    assert_true(same);
    vrc_file_unref(f);
}

static void test_find_waiting_other_bytes(void **state)
{
    (void)state;
    bool same = true;
    struct vrc_file *f = parse("{\"id\":\"file_a\",\"versions\":[" V0
                               ",{\"version\":3,\"status\":\"queued\",\"file\":" DATA(
                                   "iedOZAuMRiV6Kd4GFnlNXQ==",
                                   2) ",\"signature\":" DATA("luRfgu3U9ukNoO8n2YWZFw==", 48) "}]}");
    assert_int_equal(upload_find_waiting(f, &digest, &same), 3);
    assert_false(same); /* the size differs */
    vrc_file_unref(f);
}

static void test_find_waiting_ignores_deleted(void **state)
{
    (void)state;
    bool same = true;
    struct vrc_file *f =
        parse("{\"id\":\"file_a\",\"versions\":[" V0 ",{\"version\":1,\"status\":\"complete\"},"
              "{\"version\":2,\"status\":\"waiting\",\"deleted\":true}]}");
    assert_int_equal(upload_find_waiting(f, &digest, &same), 0);
    vrc_file_unref(f);
}

/* --- timing --------------------------------------------------------------------------------- */

static void test_complete_timeout_bounds(void **state)
{
    (void)state;
    assert_true(upload_complete_timeout_s(0) >= 60.0);
    assert_true(upload_complete_timeout_s(50000000) > upload_complete_timeout_s(0));
    assert_true(upload_complete_timeout_s(UINT64_MAX) <= 600.0);
    assert_true(upload_complete_timeout_s(300 * 1000 * 1000ull) <= 600.0);
}

static void test_poll_delay_grows_and_caps(void **state)
{
    (void)state;
    assert_int_equal(upload_poll_delay_ms(0), 250);
    assert_int_equal(upload_poll_delay_ms(1), 500);
    assert_int_equal(upload_poll_delay_ms(4), 4000);
    assert_int_equal(upload_poll_delay_ms(100), 4000);
    assert_int_equal(upload_poll_delay_ms(1 << 30), 4000);
}

static void test_retryable(void **state)
{
    (void)state;
    assert_true(upload_err_retryable(-EIO, UPLOAD_AT_BLOB));
    assert_true(upload_err_retryable(-EAGAIN, UPLOAD_AT_BLOB));
    assert_true(upload_err_retryable(-ETIMEDOUT, UPLOAD_AT_BLOB));
    assert_true(upload_err_retryable(-EACCES, UPLOAD_AT_BLOB));
    assert_false(upload_err_retryable(-EINVAL, UPLOAD_AT_BLOB));
    assert_false(upload_err_retryable(-ENOENT, UPLOAD_AT_BLOB));
    assert_false(upload_err_retryable(-ENOSPC, UPLOAD_AT_BLOB));
    assert_false(upload_err_retryable(0, UPLOAD_AT_BLOB));
    /* From the API, EACCES is a 401 (the session is gone) or a 403 (not yours): never again. */
    assert_false(upload_err_retryable(-EACCES, UPLOAD_AT_API));
    assert_true(upload_err_retryable(-EIO, UPLOAD_AT_API));
    assert_true(upload_err_retryable(-EAGAIN, UPLOAD_AT_API));
    assert_false(upload_err_retryable(-ENOENT, UPLOAD_AT_API));
}

/* --- status of a waiting multipart upload --------------------------------------------------- */

static void test_parse_status_parts(void **state)
{
    (void)state;
    json_t *s = json_loads("{\"uploadId\":\"u\",\"nextPartNumber\":2,\"maxParts\":1000,"
                           "\"parts\":[{\"PartNumber\":3,\"ETag\":\"\\\"abc\\\"\",\"Size\":5},"
                           "{\"PartNumber\":1,\"ETag\":\"def\"},{\"PartNumber\":0,\"ETag\":\"x\"},"
                           "{\"ETag\":\"y\"},{\"PartNumber\":2}],\"etags\":[\"zzz\"]}",
                           0, NULL);
    int *numbers;
    char **etags;
    size_t n = upload_parse_status(s, &numbers, &etags);
    assert_int_equal(n, 2);
    assert_int_equal(numbers[0], 3);
    assert_string_equal(etags[0], "abc");
    assert_int_equal(numbers[1], 1);
    assert_string_equal(etags[1], "def");
    upload_remote_parts_free(numbers, etags, n);
    json_decref(s);
}

static void test_parse_status_etags_only(void **state)
{
    (void)state;
    json_t *s =
        json_loads("{\"nextPartNumber\":2,\"parts\":[],\"etags\":[\"a\",\"\\\"b\\\"\"]}", 0, NULL);
    int *numbers;
    char **etags;
    size_t n = upload_parse_status(s, &numbers, &etags);
    assert_int_equal(n, 2);
    assert_int_equal(numbers[0], 1);
    assert_int_equal(numbers[1], 2);
    assert_string_equal(etags[1], "b");
    upload_remote_parts_free(numbers, etags, n);
    json_decref(s);
}

static void test_parse_status_junk(void **state)
{
    (void)state;
    int *numbers;
    char **etags;
    json_t *s = json_loads("[1,2]", 0, NULL);
    assert_int_equal(upload_parse_status(s, &numbers, &etags), 0);
    assert_int_equal(upload_parse_status(NULL, &numbers, &etags), 0);
    json_decref(s);
    s = json_loads("{\"parts\":\"x\",\"etags\":[null,3]}", 0, NULL);
    size_t n = upload_parse_status(s, &numbers, &etags);
    assert_int_equal(n, 0);
    upload_remote_parts_free(numbers, etags, n);
    json_decref(s);
}

/* --- part scheduling ------------------------------------------------------------------------ */

static struct upload_part *plan(uint64_t size, int *n)
{
    struct upload_part *p = NULL;
    *n = upload_plan_parts(size, 5 * MiB, &p);
    assert_true(*n > 0);
    return p;
}

static void test_queue_in_order_then_done(void **state)
{
    (void)state;
    int n;
    struct upload_part *p = plan(12 * MiB, &n);
    assert_int_equal(n, 3);
    struct upload_queue q;
    assert_int_equal(upload_queue_init(&q, p, n), 0);
    assert_int_equal(upload_queue_take(&q), 0);
    assert_int_equal(upload_queue_take(&q), 1);
    assert_int_equal(upload_queue_take(&q), 2);
    assert_int_equal(upload_queue_take(&q), -1);
    /* Parts finish out of order; the etags stay in part order. */
    upload_queue_put(&q, 2, 0, UPLOAD_AT_BLOB, "e3");
    upload_queue_put(&q, 0, 0, UPLOAD_AT_BLOB, "e1");
    assert_false(upload_queue_complete(&q));
    upload_queue_put(&q, 1, 0, UPLOAD_AT_BLOB, "e2");
    assert_true(upload_queue_complete(&q));
    assert_string_equal(q.etags[0], "e1");
    assert_string_equal(q.etags[1], "e2");
    assert_string_equal(q.etags[2], "e3");
    char *body = upload_finish_body((const char *const *)q.etags, (size_t)q.nparts);
    assert_string_equal(body, "{\"etags\":[\"e1\",\"e2\",\"e3\"],\"nextPartNumber\":\"0\","
                              "\"maxParts\":\"0\"}");
    free(body);
    upload_queue_free(&q);
    free(p);
}

static void test_queue_retries_a_part_alone(void **state)
{
    (void)state;
    int n;
    struct upload_part *p = plan(12 * MiB, &n);
    struct upload_queue q;
    assert_int_equal(upload_queue_init(&q, p, n), 0);
    assert_int_equal(upload_queue_take(&q), 0);
    assert_int_equal(upload_queue_take(&q), 1);
    upload_queue_put(&q, 1, -EIO, UPLOAD_AT_BLOB, NULL); /* a 500 from the blob store */
    upload_queue_put(&q, 0, 0, UPLOAD_AT_BLOB, "e1");
    /* Part 2 comes back before part 3 (lowest number first). */
    assert_int_equal(upload_queue_take(&q), 1);
    assert_int_equal(q.attempts[1], 2);
    assert_int_equal(upload_queue_take(&q), 2);
    upload_queue_put(&q, 1, -EAGAIN, UPLOAD_AT_BLOB, NULL);
    assert_int_equal(upload_queue_take(&q), 1);
    upload_queue_put(&q, 1, 0, UPLOAD_AT_BLOB, "e2");
    upload_queue_put(&q, 2, 0, UPLOAD_AT_BLOB, "e3");
    assert_true(upload_queue_complete(&q));
    assert_int_equal(q.err, 0);
    upload_queue_free(&q);
    free(p);
}

static void test_queue_gives_up_after_attempts(void **state)
{
    (void)state;
    int n;
    struct upload_part *p = plan(12 * MiB, &n);
    struct upload_queue q;
    assert_int_equal(upload_queue_init(&q, p, n), 0);
    for (int a = 0; a < UPLOAD_PART_ATTEMPTS; a++) {
        assert_int_equal(upload_queue_take(&q), 0);
        upload_queue_put(&q, 0, -ETIMEDOUT, UPLOAD_AT_BLOB, NULL);
    }
    assert_int_equal(q.err, -ETIMEDOUT);
    assert_int_equal(upload_queue_take(&q), -1); /* nobody starts another part */
    assert_false(upload_queue_complete(&q));
    upload_queue_free(&q);
    free(p);
}

static void test_queue_fails_at_once_on_a_refusal(void **state)
{
    (void)state;
    int n;
    struct upload_part *p = plan(12 * MiB, &n);
    struct upload_queue q;
    assert_int_equal(upload_queue_init(&q, p, n), 0);
    assert_int_equal(upload_queue_take(&q), 0);
    assert_int_equal(upload_queue_take(&q), 1);
    upload_queue_put(&q, 0, -EINVAL, UPLOAD_AT_BLOB,
                     NULL); /* BadDigest: trying again changes nothing */
    assert_int_equal(q.err, -EINVAL);
    assert_int_equal(upload_queue_take(&q), -1);
    upload_queue_put(&q, 1, 0, UPLOAD_AT_BLOB, "e2"); /* a part in flight still lands */
    assert_int_equal(q.err, -EINVAL);
    upload_queue_free(&q);
    free(p);
}

/* A 401 on a part's start: the part is not tried again and no other part starts. */
static void test_queue_fails_at_once_on_a_401_from_start(void **state)
{
    (void)state;
    int n;
    struct upload_part *p = plan(12 * MiB, &n);
    struct upload_queue q;
    assert_int_equal(upload_queue_init(&q, p, n), 0);
    assert_int_equal(upload_queue_take(&q), 0);
    upload_queue_put(&q, 0, -EACCES, UPLOAD_AT_API, NULL);
    assert_int_equal(q.err, -EACCES);
    assert_int_equal(upload_queue_take(&q), -1);
    upload_queue_free(&q);
    free(p);
}

static void test_queue_success_without_etag_is_a_failure(void **state)
{
    (void)state;
    int n;
    struct upload_part *p = plan(1, &n);
    struct upload_queue q;
    assert_int_equal(upload_queue_init(&q, p, n), 0);
    for (int a = 0; a < UPLOAD_PART_ATTEMPTS; a++) {
        assert_int_equal(upload_queue_take(&q), 0);
        upload_queue_put(&q, 0, 0, UPLOAD_AT_BLOB, NULL);
    }
    assert_int_equal(q.err, -EIO);
    upload_queue_free(&q);
    free(p);
}

static void test_queue_resume_skips_preloaded(void **state)
{
    (void)state;
    int n;
    struct upload_part *p = plan(22 * MiB, &n);
    assert_int_equal(n, 5);
    struct upload_queue q;
    assert_int_equal(upload_queue_init(&q, p, n), 0);
    upload_queue_preload(&q, 0, "e1");
    upload_queue_preload(&q, 2, "e3");
    upload_queue_preload(&q, 2, "again"); /* ignored: already there */
    upload_queue_preload(&q, 9, "e10");   /* ignored: not a part of this plan */
    assert_int_equal(q.done, 2);
    assert_string_equal(q.etags[2], "e3");
    assert_int_equal(upload_queue_take(&q), 1);
    assert_int_equal(upload_queue_take(&q), 3);
    assert_int_equal(upload_queue_take(&q), 4);
    assert_int_equal(upload_queue_take(&q), -1);
    upload_queue_put(&q, 1, 0, UPLOAD_AT_BLOB, "e2");
    upload_queue_put(&q, 3, 0, UPLOAD_AT_BLOB, "e4");
    upload_queue_put(&q, 4, 0, UPLOAD_AT_BLOB, "e5");
    assert_true(upload_queue_complete(&q));
    upload_queue_free(&q);
    free(p);
}

static void test_queue_ignores_bad_puts(void **state)
{
    (void)state;
    int n;
    struct upload_part *p = plan(12 * MiB, &n);
    struct upload_queue q;
    assert_int_equal(upload_queue_init(&q, p, n), 0);
    upload_queue_put(&q, 0, 0, UPLOAD_AT_BLOB, "not taken"); /* never handed out */
    upload_queue_put(&q, -1, 0, UPLOAD_AT_BLOB, "x");
    upload_queue_put(&q, 7, 0, UPLOAD_AT_BLOB, "x");
    assert_int_equal(q.done, 0);
    assert_null(q.etags[0]);
    upload_queue_free(&q);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finish_body_simple_has_no_etags),
        cmocka_unit_test(test_finish_body_keeps_etag_order),
        cmocka_unit_test(test_finish_body_escapes),
        cmocka_unit_test(test_md5_header),
        cmocka_unit_test(test_md5_header_refuses_bad_input),
        cmocka_unit_test(test_find_waiting_none),
        cmocka_unit_test(test_find_waiting_same_bytes),
        cmocka_unit_test(test_find_waiting_other_bytes),
        cmocka_unit_test(test_find_waiting_ignores_deleted),
        cmocka_unit_test(test_complete_timeout_bounds),
        cmocka_unit_test(test_poll_delay_grows_and_caps),
        cmocka_unit_test(test_retryable),
        cmocka_unit_test(test_parse_status_parts),
        cmocka_unit_test(test_parse_status_etags_only),
        cmocka_unit_test(test_parse_status_junk),
        cmocka_unit_test(test_queue_in_order_then_done),
        cmocka_unit_test(test_queue_retries_a_part_alone),
        cmocka_unit_test(test_queue_gives_up_after_attempts),
        cmocka_unit_test(test_queue_fails_at_once_on_a_refusal),
        cmocka_unit_test(test_queue_fails_at_once_on_a_401_from_start),
        cmocka_unit_test(test_queue_success_without_etag_is_a_failure),
        cmocka_unit_test(test_queue_resume_skips_preloaded),
        cmocka_unit_test(test_queue_ignores_bad_puts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
