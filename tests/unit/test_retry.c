#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "remote/retry.h"

/* --- statuses --- */

static void test_get_retries_429_502_503_504(void **state)
{
    (void)state;
    assert_true(retry_status_is_transient(429, "GET"));
    assert_true(retry_status_is_transient(502, "GET"));
    assert_true(retry_status_is_transient(503, "GET"));
    assert_true(retry_status_is_transient(504, "GET"));
}

static void test_post_retries_only_429_and_503(void **state)
{
    (void)state;
    assert_true(retry_status_is_transient(429, "POST"));
    assert_true(retry_status_is_transient(503, "POST"));
    assert_false(retry_status_is_transient(502, "POST"));
    assert_false(retry_status_is_transient(504, "POST"));
}

static void test_idempotent_methods_retry_gateway_errors(void **state)
{
    (void)state;
    static const char *const methods[] = {"PUT", "DELETE", "HEAD"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        assert_true(retry_status_is_transient(502, methods[i]));
        assert_true(retry_status_is_transient(504, methods[i]));
        assert_true(retry_status_is_transient(429, methods[i]));
        assert_true(retry_status_is_transient(503, methods[i]));
    }
}

static void test_success_and_redirects_are_not_retried(void **state)
{
    (void)state;
    static const long statuses[] = {200, 201, 204, 206, 301, 302, 304};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        assert_false(retry_status_is_transient(statuses[i], "GET"));
        assert_false(retry_status_is_transient(statuses[i], "POST"));
    }
}

static void test_client_errors_are_not_retried(void **state)
{
    (void)state;
    /* NOTES 7: never retry a 401, even one that carries Retry-After. */
    static const long statuses[] = {400, 401, 403, 404, 409, 410, 413, 416};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        assert_false(retry_status_is_transient(statuses[i], "GET"));
        assert_false(retry_status_is_transient(statuses[i], "POST"));
    }
}

static void test_500_and_501_are_not_retried(void **state)
{
    (void)state;
    /* A 500 is how VRChat answers a refused version delete (NOTES 2): not transient. */
    assert_false(retry_status_is_transient(500, "GET"));
    assert_false(retry_status_is_transient(500, "DELETE"));
    assert_false(retry_status_is_transient(501, "GET"));
}

static void test_no_status_is_not_a_transient_status(void **state)
{
    (void)state;
    assert_false(retry_status_is_transient(0, "GET"));
}

/* --- curl codes --- */

static void test_get_retries_connect_drop_and_timeout(void **state)
{
    (void)state;
    assert_true(retry_curl_is_transient(CURLE_COULDNT_CONNECT, "GET"));
    assert_true(retry_curl_is_transient(CURLE_COULDNT_RESOLVE_HOST, "GET"));
    assert_true(retry_curl_is_transient(CURLE_GOT_NOTHING, "GET"));
    assert_true(retry_curl_is_transient(CURLE_RECV_ERROR, "GET"));
    assert_true(retry_curl_is_transient(CURLE_SEND_ERROR, "GET"));
    assert_true(retry_curl_is_transient(CURLE_PARTIAL_FILE, "GET"));
    assert_true(retry_curl_is_transient(CURLE_OPERATION_TIMEDOUT, "GET"));
}

static void test_put_retries_drops_like_get(void **state)
{
    (void)state;
    assert_true(retry_curl_is_transient(CURLE_RECV_ERROR, "PUT"));
    assert_true(retry_curl_is_transient(CURLE_OPERATION_TIMEDOUT, "PUT"));
    assert_true(retry_curl_is_transient(CURLE_GOT_NOTHING, "DELETE"));
}

static void test_post_retries_only_when_it_never_connected(void **state)
{
    (void)state;
    assert_true(retry_curl_is_transient(CURLE_COULDNT_CONNECT, "POST"));
    assert_true(retry_curl_is_transient(CURLE_COULDNT_RESOLVE_HOST, "POST"));
    assert_false(retry_curl_is_transient(CURLE_GOT_NOTHING, "POST"));
    assert_false(retry_curl_is_transient(CURLE_RECV_ERROR, "POST"));
    assert_false(retry_curl_is_transient(CURLE_SEND_ERROR, "POST"));
    assert_false(retry_curl_is_transient(CURLE_PARTIAL_FILE, "POST"));
    assert_false(retry_curl_is_transient(CURLE_OPERATION_TIMEDOUT, "POST"));
}

static void test_permanent_curl_failures_are_not_retried(void **state)
{
    (void)state;
    static const CURLcode codes[] = {CURLE_OK,
                                     CURLE_URL_MALFORMAT,
                                     CURLE_UNSUPPORTED_PROTOCOL,
                                     CURLE_PEER_FAILED_VERIFICATION,
                                     CURLE_WRITE_ERROR,
                                     CURLE_ABORTED_BY_CALLBACK,
                                     CURLE_OUT_OF_MEMORY,
                                     CURLE_TOO_MANY_REDIRECTS};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_false(retry_curl_is_transient(codes[i], "GET"));
        assert_false(retry_curl_is_transient(codes[i], "POST"));
    }
}

/* --- backoff --- */

static long cap_for(int attempt)
{
    long d = RETRY_BASE_MS;
    for (int i = 0; i < attempt && d < RETRY_CAP_MS; i++)
        d *= 2;
    return d < RETRY_CAP_MS ? d : RETRY_CAP_MS;
}

static void test_backoff_constants(void **state)
{
    (void)state;
    assert_int_equal(RETRY_BASE_MS, 250);
    assert_int_equal(RETRY_CAP_MS, 8000);
    assert_int_equal(RETRY_AFTER_MAX_S, 60);
}

static void test_backoff_jitter_zero_is_half_the_window(void **state)
{
    (void)state;
    assert_int_equal(retry_delay_ms(0, -1, 0.0), 125);
    assert_int_equal(retry_delay_ms(1, -1, 0.0), 250);
    assert_int_equal(retry_delay_ms(2, -1, 0.0), 500);
    assert_int_equal(retry_delay_ms(3, -1, 0.0), 1000);
    assert_int_equal(retry_delay_ms(4, -1, 0.0), 2000);
    assert_int_equal(retry_delay_ms(5, -1, 0.0), 4000);
    assert_int_equal(retry_delay_ms(6, -1, 0.0), 4000);
}

static void test_backoff_jitter_high_stays_within_the_window(void **state)
{
    (void)state;
    for (int attempt = 0; attempt < 10; attempt++) {
        long d = cap_for(attempt);
        long half = d / 2;
        long ms = retry_delay_ms(attempt, -1, 0.999);
        /* At most d, and near the top: within 0.1% of the half window plus rounding. */
        assert_in_range(ms, d - half / 1000 - 1, d);
    }
    assert_int_equal(retry_delay_ms(0, -1, 0.999), 249);
    assert_int_equal(retry_delay_ms(5, -1, 0.999), 7996);
}

static void test_backoff_every_jitter_is_within_bounds(void **state)
{
    (void)state;
    for (int attempt = 0; attempt < 8; attempt++) {
        long d = cap_for(attempt);
        long prev = -1;
        for (int j = 0; j < 1000; j++) {
            long ms = retry_delay_ms(attempt, -1, j / 1000.0);
            assert_in_range(ms, d / 2, d);
            assert_true(ms >= prev); /* more jitter never waits less */
            prev = ms;
        }
    }
}

static void test_backoff_grows_then_caps(void **state)
{
    (void)state;
    assert_true(retry_delay_ms(1, -1, 0.0) > retry_delay_ms(0, -1, 0.0));
    assert_true(retry_delay_ms(4, -1, 0.5) > retry_delay_ms(3, -1, 0.5));
    for (int attempt = 5; attempt < 64; attempt++) {
        assert_in_range(retry_delay_ms(attempt, -1, 0.0), RETRY_CAP_MS / 2, RETRY_CAP_MS);
        assert_in_range(retry_delay_ms(attempt, -1, 0.999), RETRY_CAP_MS / 2, RETRY_CAP_MS);
    }
}

static void test_backoff_huge_attempt_does_not_overflow(void **state)
{
    (void)state;
    assert_int_equal(retry_delay_ms(1000, -1, 0.0), RETRY_CAP_MS / 2);
    assert_in_range(retry_delay_ms(1 << 30, -1, 0.999), RETRY_CAP_MS / 2, RETRY_CAP_MS);
}

static void test_retry_after_is_honoured_exactly(void **state)
{
    (void)state;
    assert_int_equal(retry_delay_ms(0, 5, 0.0), 5000);
    assert_int_equal(retry_delay_ms(0, 5, 0.999), 5000);
    assert_int_equal(retry_delay_ms(7, 5, 0.5), 5000);
    assert_int_equal(retry_delay_ms(0, 1, 0.3), 1000);
    assert_int_equal(retry_delay_ms(3, RETRY_AFTER_MAX_S, 0.3), RETRY_AFTER_MAX_S * 1000L);
}

static void test_retry_after_beyond_the_cap_is_not_capped(void **state)
{
    (void)state;
    /* The exponential cap does not apply to what the server asked for. */
    assert_int_equal(retry_delay_ms(0, 30, 0.0), 30000);
}

static void test_retry_after_zero_means_now(void **state)
{
    (void)state;
    assert_int_equal(retry_delay_ms(0, 0, 0.0), 0);
    assert_int_equal(retry_delay_ms(4, 0, 0.999), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_retries_429_502_503_504),
        cmocka_unit_test(test_post_retries_only_429_and_503),
        cmocka_unit_test(test_idempotent_methods_retry_gateway_errors),
        cmocka_unit_test(test_success_and_redirects_are_not_retried),
        cmocka_unit_test(test_client_errors_are_not_retried),
        cmocka_unit_test(test_500_and_501_are_not_retried),
        cmocka_unit_test(test_no_status_is_not_a_transient_status),
        cmocka_unit_test(test_get_retries_connect_drop_and_timeout),
        cmocka_unit_test(test_put_retries_drops_like_get),
        cmocka_unit_test(test_post_retries_only_when_it_never_connected),
        cmocka_unit_test(test_permanent_curl_failures_are_not_retried),
        cmocka_unit_test(test_backoff_constants),
        cmocka_unit_test(test_backoff_jitter_zero_is_half_the_window),
        cmocka_unit_test(test_backoff_jitter_high_stays_within_the_window),
        cmocka_unit_test(test_backoff_every_jitter_is_within_bounds),
        cmocka_unit_test(test_backoff_grows_then_caps),
        cmocka_unit_test(test_backoff_huge_attempt_does_not_overflow),
        cmocka_unit_test(test_retry_after_is_honoured_exactly),
        cmocka_unit_test(test_retry_after_beyond_the_cap_is_not_capped),
        cmocka_unit_test(test_retry_after_zero_means_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
