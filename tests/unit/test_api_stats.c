#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "remote/api_stats.h"

static void assert_endpoint(const char *method, const char *path, const char *expected)
{
    char out[128];
    memset(out, 'x', sizeof out);
    api_stats_endpoint(method, path, out, sizeof out);
    assert_string_equal(out, expected);
}

/* --- templates --- */

static void test_file_data_url_becomes_file_id_and_n(void **state)
{
    (void)state;
    assert_endpoint("GET", "/file/file_abc/3/file?x=1", "GET /file/{fileId}/{n}/file");
}

static void test_file_id_with_uuid(void **state)
{
    (void)state;
    assert_endpoint("GET", "/file/file_2a7f6e2c-4c5e-4b8e-9d3a-0f1e2d3c4b5a", "GET /file/{fileId}");
    assert_endpoint("DELETE", "/file/file_2a7f6e2c-4c5e-4b8e-9d3a-0f1e2d3c4b5a/12",
                    "DELETE /file/{fileId}/{n}");
}

static void test_sharedcloud_instance_uuid_becomes_uuid(void **state)
{
    (void)state;
    assert_endpoint("PATCH", "/api/v1/instances/6baf15c3-5fb1-4312-b793-fc7d19629a7f/",
                    "PATCH /api/v1/instances/{uuid}/");
    assert_endpoint("GET", "/api/v1/instances/", "GET /api/v1/instances/");
    /* Not quite a uuid: kept as it is. */
    assert_endpoint("GET", "/x/6baf15c3x5fb1-4312-b793-fc7d19629a7f",
                    "GET /x/6baf15c3x5fb1-4312-b793-fc7d19629a7f");
}

static void test_upload_start_with_part_number_query(void **state)
{
    (void)state;
    assert_endpoint("PUT", "/file/file_abc/7/signature/start?partNumber=2",
                    "PUT /file/{fileId}/{n}/signature/start");
}

static void test_instance_location_becomes_location(void **state)
{
    (void)state;
    assert_endpoint("GET", "/instances/wrld_x:123~hidden(usr_y)", "GET /instances/{location}");
}

static void test_instance_location_with_every_token(void **state)
{
    (void)state;
    assert_endpoint("DELETE",
                    "/instances/wrld_ba913a96-fac4-4048-a062-9aa5db092812:12345~group(grp_1)"
                    "~groupAccessType(plus)~region(eu)~nonce(abc)?hardClose=true",
                    "DELETE /instances/{location}");
    assert_endpoint("GET", "/instances/wrld_x:1/shortName", "GET /instances/{location}/shortName");
}

static void test_invite_myself_to_location(void **state)
{
    (void)state;
    assert_endpoint("POST", "/invite/myself/to/wrld_x:99~private(usr_z)~canRequestInvite",
                    "POST /invite/myself/to/{location}");
}

static void test_query_is_dropped(void **state)
{
    (void)state;
    assert_endpoint("GET", "/files?n=100", "GET /files");
    assert_endpoint("GET", "/files?tag=gallery&n=100&offset=200", "GET /files");
    assert_endpoint("GET", "/instances/recent?n=100&offset=0", "GET /instances/recent");
}

static void test_user_and_group_ids(void **state)
{
    (void)state;
    assert_endpoint("GET", "/users/usr_c1644b5b/instances/groups/grp_71a7ff59",
                    "GET /users/{userId}/instances/groups/{groupId}");
    assert_endpoint("GET", "/groups/grp_71a7ff59/instances", "GET /groups/{groupId}/instances");
}

static void test_notification_id(void **state)
{
    (void)state;
    assert_endpoint("PUT", "/auth/user/notifications/not_123/accept",
                    "PUT /auth/user/notifications/{notificationId}/accept");
}

static void test_plain_paths_are_kept(void **state)
{
    (void)state;
    assert_endpoint("GET", "/auth/user", "GET /auth/user");
    assert_endpoint("POST", "/auth/twofactorauth/totp/verify",
                    "POST /auth/twofactorauth/totp/verify");
    assert_endpoint("PUT", "/logout", "PUT /logout");
    assert_endpoint("POST", "/file", "POST /file");
}

static void test_bare_prefix_is_not_an_id(void **state)
{
    (void)state;
    /* "file" and "file_" alone are words, not ids; "files" is not "file_". */
    assert_endpoint("GET", "/file/file_/1", "GET /file/file_/{n}");
    assert_endpoint("GET", "/files", "GET /files");
}

static void test_mixed_digits_are_not_a_number(void **state)
{
    (void)state;
    assert_endpoint("GET", "/file/file_a/3a", "GET /file/{fileId}/3a");
    assert_endpoint("GET", "/x/0", "GET /x/{n}");
}

static void test_truncated_output_is_a_terminated_prefix(void **state)
{
    (void)state;
    const char *full = "GET /file/{fileId}/{n}/file";
    for (size_t len = 1; len <= strlen(full) + 1; len++) {
        char out[64];
        memset(out, 'x', sizeof out);
        api_stats_endpoint("GET", "/file/file_abc/3/file?x=1", out, len);
        assert_true(memchr(out, '\0', len) != NULL);
        assert_true(strlen(out) < len);
        assert_memory_equal(out, full, strlen(out));
        assert_int_equal(out[len], 'x'); /* nothing written past out_len */
    }
}

/* --- counting and JSON --- */

static json_int_t get_int(json_t *root, const char *key)
{
    json_t *v = json_object_get(root, key);
    assert_non_null(v);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static json_int_t count_of(const char *endpoint, const char *status)
{
    json_t *root = api_stats_json();
    json_t *by_status = json_object_get(json_object_get(root, "requests"), endpoint);
    json_int_t n = json_integer_value(json_object_get(by_status, status));
    json_decref(root);
    return n;
}

static void test_json_has_exactly_the_documented_keys(void **state)
{
    (void)state;
    json_t *root = api_stats_json();
    assert_non_null(root);
    assert_true(json_is_object(root));
    assert_int_equal(json_object_size(root), 8);
    assert_true(json_is_object(json_object_get(root, "requests")));
    json_t *api = json_object_get(root, "api");
    assert_int_equal(json_object_size(api), 3);
    get_int(api, "pacing");
    assert_true(json_is_real(json_object_get(api, "backoff_until")));
    get_int(api, "backoff_status");
    json_t *session = json_object_get(root, "session");
    assert_int_equal(json_object_size(session), 2);
    assert_string_equal(json_string_value(json_object_get(session, "state")), "ok");
    assert_true(json_is_real(json_object_get(session, "since")));
    get_int(root, "requests_total");
    get_int(root, "bytes_down");
    get_int(root, "bytes_up");
    get_int(root, "retries");
    get_int(root, "rate_limited");
    json_decref(root);
}

static void test_requests_are_counted_by_endpoint_and_status(void **state)
{
    (void)state;
    json_t *before = api_stats_json();
    api_stats_count_request("GET /test/counted", 200);
    api_stats_count_request("GET /test/counted", 200);
    api_stats_count_request("GET /test/counted", 200);
    api_stats_count_request("GET /test/counted", 404);
    json_t *after = api_stats_json();

    json_t *by_status = json_object_get(json_object_get(after, "requests"), "GET /test/counted");
    assert_true(json_is_object(by_status));
    assert_int_equal(json_object_size(by_status), 2);
    assert_int_equal(json_integer_value(json_object_get(by_status, "200")), 3);
    assert_int_equal(json_integer_value(json_object_get(by_status, "404")), 1);
    assert_int_equal(get_int(after, "requests_total") - get_int(before, "requests_total"), 4);
    assert_int_equal(get_int(after, "rate_limited") - get_int(before, "rate_limited"), 0);
    json_decref(before);
    json_decref(after);
}

static void test_endpoints_are_counted_separately(void **state)
{
    (void)state;
    api_stats_count_request("GET /test/one", 200);
    api_stats_count_request("POST /test/one", 200);
    api_stats_count_request("POST /test/one", 200);
    assert_int_equal(count_of("GET /test/one", "200"), 1);
    assert_int_equal(count_of("POST /test/one", "200"), 2);
}

static void test_no_response_is_counted_as_status_zero(void **state)
{
    (void)state;
    api_stats_count_request("GET /test/dropped", 0);
    assert_int_equal(count_of("GET /test/dropped", "0"), 1);
}

static void test_429_counts_as_rate_limited(void **state)
{
    (void)state;
    json_t *before = api_stats_json();
    api_stats_count_request("POST /test/limited", 429);
    api_stats_count_request("POST /test/limited", 429);
    api_stats_count_request("POST /test/limited", 503);
    json_t *after = api_stats_json();
    assert_int_equal(get_int(after, "rate_limited") - get_int(before, "rate_limited"), 2);
    assert_int_equal(get_int(after, "requests_total") - get_int(before, "requests_total"), 3);
    json_decref(before);
    json_decref(after);
    assert_int_equal(count_of("POST /test/limited", "429"), 2);
    assert_int_equal(count_of("POST /test/limited", "503"), 1);
}

static void test_bytes_are_added(void **state)
{
    (void)state;
    json_t *before = api_stats_json();
    api_stats_add_bytes(1000, 7);
    api_stats_add_bytes(24, 0);
    api_stats_add_bytes(0, 3000000000ULL);
    json_t *after = api_stats_json();
    assert_int_equal(get_int(after, "bytes_down") - get_int(before, "bytes_down"), 1024);
    assert_int_equal(get_int(after, "bytes_up") - get_int(before, "bytes_up"), 3000000007LL);
    assert_int_equal(get_int(after, "requests_total") - get_int(before, "requests_total"), 0);
    json_decref(before);
    json_decref(after);
}

static void test_retries_are_counted(void **state)
{
    (void)state;
    json_t *before = api_stats_json();
    api_stats_count_retry(503);
    api_stats_count_retry(0);
    api_stats_count_retry(429);
    json_t *after = api_stats_json();
    assert_int_equal(get_int(after, "retries") - get_int(before, "retries"), 3);
    /* A retry is not a request of its own; the attempt is counted by count_request. */
    assert_int_equal(get_int(after, "requests_total") - get_int(before, "requests_total"), 0);
    json_decref(before);
    json_decref(after);
}

static void test_json_is_a_new_object_each_time(void **state)
{
    (void)state;
    json_t *a = api_stats_json();
    json_t *b = api_stats_json();
    assert_ptr_not_equal(a, b);
    json_decref(a);
    api_stats_count_request("GET /test/fresh", 200);
    assert_null(json_object_get(json_object_get(b, "requests"), "GET /test/fresh"));
    json_decref(b);
}

/* One number of a sub-object, e.g. api.pacing. */
static double sub_number(const char *object, const char *key)
{
    json_t *root = api_stats_json();
    double v = json_number_value(json_object_get(json_object_get(root, object), key));
    json_decref(root);
    return v;
}

static void test_pacing_counts_the_requests_waiting_now(void **state)
{
    (void)state;
    api_stats_pacing(1);
    api_stats_pacing(1);
    assert_int_equal(sub_number("api", "pacing"), 2);
    api_stats_pacing(-1);
    api_stats_pacing(-1);
    assert_int_equal(sub_number("api", "pacing"), 0);
}

static void test_backoff_keeps_the_latest_end_and_its_status(void **state)
{
    (void)state;
    api_stats_backoff(2000000000.5, 503);
    api_stats_backoff(1900000000.0, 429); /* ends earlier: the later end still stands */
    assert_true(sub_number("api", "backoff_until") == 2000000000.5);
    assert_int_equal(sub_number("api", "backoff_status"), 503);
    api_stats_backoff(2000000100.0, 429);
    assert_true(sub_number("api", "backoff_until") == 2000000100.0);
    assert_int_equal(sub_number("api", "backoff_status"), 429);
}

static const char *session_state(char *out, size_t len)
{
    json_t *root = api_stats_json();
    snprintf(out, len, "%s",
             json_string_value(json_object_get(json_object_get(root, "session"), "state")));
    json_decref(root);
    return out;
}

static void test_session_expired_keeps_its_first_time_until_ok(void **state)
{
    (void)state;
    char st[16];
    api_stats_session(true, 1000.0);
    api_stats_session(true, 2000.0); /* still the same expiry: since stays */
    assert_string_equal(session_state(st, sizeof st), "expired");
    assert_true(sub_number("session", "since") == 1000.0);
    api_stats_session(false, 0);
    assert_string_equal(session_state(st, sizeof st), "ok");
    assert_true(sub_number("session", "since") == 0);
}

#define THREADS 4
#define PER_THREAD 5000

static void *count_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        api_stats_count_request("GET /test/threads", i % 2 ? 200 : 429);
        api_stats_add_bytes(1, 2);
    }
    return NULL;
}

static void test_counts_from_threads_are_exact(void **state)
{
    (void)state;
    json_t *before = api_stats_json();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, count_many, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    json_t *after = api_stats_json();
    assert_int_equal(get_int(after, "requests_total") - get_int(before, "requests_total"),
                     THREADS * PER_THREAD);
    assert_int_equal(get_int(after, "rate_limited") - get_int(before, "rate_limited"),
                     THREADS * PER_THREAD / 2);
    assert_int_equal(get_int(after, "bytes_down") - get_int(before, "bytes_down"),
                     THREADS * PER_THREAD);
    assert_int_equal(get_int(after, "bytes_up") - get_int(before, "bytes_up"),
                     2 * THREADS * PER_THREAD);
    json_decref(before);
    json_decref(after);
    assert_int_equal(count_of("GET /test/threads", "200"), THREADS * PER_THREAD / 2);
    assert_int_equal(count_of("GET /test/threads", "429"), THREADS * PER_THREAD / 2);
}

/* Runs last: it fills the endpoint table. */
static void test_more_endpoints_than_the_table_holds_still_count_the_total(void **state)
{
    (void)state;
    json_t *before = api_stats_json();
    for (int i = 0; i < 200; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "GET /test/many/%d", i);
        api_stats_count_request(ep, 200);
    }
    json_t *after = api_stats_json();
    assert_int_equal(get_int(after, "requests_total") - get_int(before, "requests_total"), 200);
    assert_true(json_object_size(json_object_get(after, "requests")) >=
                json_object_size(json_object_get(before, "requests")));
    json_decref(before);
    json_decref(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_data_url_becomes_file_id_and_n),
        cmocka_unit_test(test_file_id_with_uuid),
        cmocka_unit_test(test_sharedcloud_instance_uuid_becomes_uuid),
        cmocka_unit_test(test_upload_start_with_part_number_query),
        cmocka_unit_test(test_instance_location_becomes_location),
        cmocka_unit_test(test_instance_location_with_every_token),
        cmocka_unit_test(test_invite_myself_to_location),
        cmocka_unit_test(test_query_is_dropped),
        cmocka_unit_test(test_user_and_group_ids),
        cmocka_unit_test(test_notification_id),
        cmocka_unit_test(test_plain_paths_are_kept),
        cmocka_unit_test(test_bare_prefix_is_not_an_id),
        cmocka_unit_test(test_mixed_digits_are_not_a_number),
        cmocka_unit_test(test_truncated_output_is_a_terminated_prefix),
        cmocka_unit_test(test_json_has_exactly_the_documented_keys),
        cmocka_unit_test(test_requests_are_counted_by_endpoint_and_status),
        cmocka_unit_test(test_endpoints_are_counted_separately),
        cmocka_unit_test(test_no_response_is_counted_as_status_zero),
        cmocka_unit_test(test_429_counts_as_rate_limited),
        cmocka_unit_test(test_bytes_are_added),
        cmocka_unit_test(test_retries_are_counted),
        cmocka_unit_test(test_json_is_a_new_object_each_time),
        cmocka_unit_test(test_pacing_counts_the_requests_waiting_now),
        cmocka_unit_test(test_backoff_keeps_the_latest_end_and_its_status),
        cmocka_unit_test(test_session_expired_keeps_its_first_time_until_ok),
        cmocka_unit_test(test_counts_from_threads_are_exact),
        cmocka_unit_test(test_more_endpoints_than_the_table_holds_still_count_the_total),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
