#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "remote/http.h"

#define API "https://api.vrchat.cloud/api/1"
#define LOCAL "http://127.0.0.1:8080/api/1"

/* --- http_same_origin --- */

static void test_api_path_is_same_origin(void **state)
{
    (void)state;
    assert_true(http_same_origin(API, API "/file/file_abc/1/file"));
    assert_true(http_same_origin(API, "https://api.vrchat.cloud/other/path?x=1#frag"));
    assert_true(http_same_origin(LOCAL, "http://127.0.0.1:8080/"));
}

static void test_same_host_other_port_is_not_same_origin(void **state)
{
    (void)state;
    assert_false(http_same_origin(LOCAL, "http://127.0.0.1:8081/api/1/auth/user"));
    assert_false(http_same_origin(LOCAL, "http://127.0.0.1/api/1/auth/user"));
    assert_false(http_same_origin(API, "https://api.vrchat.cloud:8443/api/1"));
}

static void test_http_and_https_are_not_same_origin(void **state)
{
    (void)state;
    assert_false(http_same_origin(API, "http://api.vrchat.cloud/api/1/auth"));
    assert_false(http_same_origin(LOCAL, "https://127.0.0.1:8080/api/1"));
    /* Even with the port written out, the scheme still differs. */
    assert_false(http_same_origin("https://api.vrchat.cloud:443/api/1",
                                  "http://api.vrchat.cloud:443/api/1"));
}

static void test_default_ports_equal_explicit_ones(void **state)
{
    (void)state;
    assert_true(http_same_origin(API, "https://api.vrchat.cloud:443/api/1/files"));
    assert_true(http_same_origin("https://api.vrchat.cloud:443/api/1", API "/files"));
    assert_true(http_same_origin("http://127.0.0.1/api/1", "http://127.0.0.1:80/x"));
    assert_false(http_same_origin("http://127.0.0.1/api/1", "http://127.0.0.1:443/x"));
}

static void test_host_case_does_not_matter(void **state)
{
    (void)state;
    assert_true(http_same_origin(API, "https://API.VRChat.Cloud/api/1/auth"));
    assert_true(http_same_origin("https://Api.Vrchat.Cloud/api/1", API "/auth"));
    assert_true(http_same_origin(API, "HTTPS://api.vrchat.cloud/api/1"));
}

static void test_other_hosts_are_not_same_origin(void **state)
{
    (void)state;
    assert_false(http_same_origin(API, "https://files.vrchat.cloud/file_abc.1.png"));
    assert_false(http_same_origin(API, "https://vrchat.cloud/api/1"));
    assert_false(http_same_origin(API, "https://api.vrchat.cloud.evil.example/api/1"));
    assert_false(http_same_origin(API, "https://d348imysud55la.cloudfront.net/x"));
    assert_false(http_same_origin(LOCAL, "http://localhost:8080/api/1"));
}

static void test_userinfo_cannot_fake_the_host(void **state)
{
    (void)state;
    assert_false(http_same_origin("http://127.0.0.1:80/api/1", "http://127.0.0.1:80@evil/"));
    assert_false(http_same_origin("http://127.0.0.1/api/1", "http://127.0.0.1@evil.example/"));
    assert_false(http_same_origin(API, "https://api.vrchat.cloud@evil.example/api/1"));
    assert_false(http_same_origin(API, "https://api.vrchat.cloud:443@evil.example:443/api/1"));
    assert_false(http_same_origin(API, "https://api.vrchat.cloud:pw@evil.example/"));
}

static void test_host_in_query_or_fragment_does_not_count(void **state)
{
    (void)state;
    assert_false(http_same_origin(API, "https://evil.example/?https://api.vrchat.cloud/api/1"));
    assert_false(http_same_origin(API, "https://evil.example/#https://api.vrchat.cloud"));
    assert_false(http_same_origin(API, "https://evil.example/api.vrchat.cloud/api/1"));
}

static void test_garbage_urls_are_not_same_origin(void **state)
{
    (void)state;
    assert_false(http_same_origin(API, ""));
    assert_false(http_same_origin(API, "not a url"));
    assert_false(http_same_origin(API, "/api/1/auth/user"));
    assert_false(http_same_origin(API, "api.vrchat.cloud/api/1"));
    assert_false(http_same_origin(API, "https://"));
    assert_false(http_same_origin(API, "://api.vrchat.cloud/"));
    assert_false(http_same_origin(API, "https://api.vrchat.cloud:99999/"));
    assert_false(http_same_origin(API, "https://api.vrchat.cloud:abc/"));
    assert_false(http_same_origin("", API));
    assert_false(http_same_origin("garbage", API));
    /* Two equal garbage strings are not one origin either. */
    assert_false(http_same_origin("garbage", "garbage"));
    assert_false(http_same_origin("", ""));
}

/* --- http_error_message --- */

static void assert_message(const char *body, const char *expected)
{
    char out[256];
    memset(out, 'x', sizeof out);
    http_error_message(body, strlen(body), out, sizeof out);
    assert_string_equal(out, expected);
}

static void test_quoted_message_loses_its_quotes(void **state)
{
    (void)state;
    assert_message("{\"error\":{\"message\":\"\\\"Missing Credentials\\\"\",\"status_code\":401}}",
                   "Missing Credentials");
    assert_message("{\"error\":{\"message\":\"\\\"Missing Credentials\\\"\", \"status_code\":401}}",
                   "Missing Credentials");
}

static void test_waf_user_agent_message(void **state)
{
    (void)state;
    assert_message("{\"error\":{\"message\":\"\\\"please identify yourself with a properly "
                   "formatted user-agent containing application name, version and contact "
                   "information. thank you!\\\"\",\"status_code\":403,\"waf_code\":13799}}",
                   "please identify yourself with a properly formatted user-agent containing "
                   "application name, version and contact information. thank you!");
}

static void test_plain_message_is_kept(void **state)
{
    (void)state;
    assert_message("{\"error\":{\"message\":\"Too many requests\",\"status_code\":429}}",
                   "Too many requests");
    assert_message("{\"error\":{\"message\":\"Created too many sessions for that "
                   "user\",\"status_code\":429}}",
                   "Created too many sessions for that user");
}

static void test_unicode_look_alikes_are_kept(void **state)
{
    (void)state;
    /* U+2024 ONE DOT LEADER, as VRChat sends it. */
    assert_message("{\"error\":{\"message\":\"You can't upload any files right "
                   "now\\u2024\",\"status_code\":403}}",
                   "You can't upload any files right now\xe2\x80\xa4");
}

static void test_new_place_login_message(void **state)
{
    (void)state;
    assert_message("{\"error\":{\"message\":\"It looks like you're logging in from somewhere new! "
                   "Check your email for a message from VRChat.\",\"status_code\":401}}",
                   "It looks like you're logging in from somewhere new! Check your email for a "
                   "message from VRChat.");
}

static void test_error_as_a_string(void **state)
{
    (void)state;
    assert_message("{\"error\":\"The endpoint you're looking for is not implemented by our "
                   "system.\",\"status_code\":404}",
                   "The endpoint you're looking for is not implemented by our system.");
}

static void test_plain_text_body(void **state)
{
    (void)state;
    assert_message("Too many requests", "Too many requests");
    assert_message("Too many requests\n", "Too many requests");
}

static void test_plain_text_takes_the_first_line(void **state)
{
    (void)state;
    assert_message("Bad Gateway\nupstream connect error\n", "Bad Gateway");
    assert_message("Service Unavailable\r\nRetry later\r\n", "Service Unavailable");
}

static void test_html_page(void **state)
{
    (void)state;
    assert_message("<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
                   "<center><h1>504 Gateway Time-out</h1></center>\r\n"
                   "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
                   "(an HTML page)");
    assert_message("<!DOCTYPE html><html><body>Bad gateway</body></html>", "(an HTML page)");
}

/* S3 answers errors in XML: the log says its Code and Message, not "(an HTML page)". */
static void test_s3_xml_error(void **state)
{
    (void)state;
    assert_message("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                   "<Message>Request has expired</Message><RequestId>4442587FB7D0A2F9</RequestId>"
                   "</Error>",
                   "AccessDenied: Request has expired");
    assert_message("<Error><Code>SlowDown</Code></Error>", "SlowDown");
    assert_message("<Error><Message>no code</Message></Error>", "(an HTML page)");
    assert_message("<Error><Code>NoSuchKey", "(an HTML page)");
    assert_message("<Error><Code>Bad\nLine</Code><Message>x</Message></Error>", "Bad Line: x");
}

static void test_empty_body_gives_empty_message(void **state)
{
    (void)state;
    char out[64];
    memset(out, 'x', sizeof out);
    http_error_message("", 0, out, sizeof out);
    assert_string_equal(out, "");
    memset(out, 'x', sizeof out);
    http_error_message(NULL, 0, out, sizeof out);
    assert_string_equal(out, "");
}

static void test_json_without_a_message_gives_empty_message(void **state)
{
    (void)state;
    assert_message("{\"success\":{\"message\":\"Ok!\",\"status_code\":200}}", "");
    assert_message("{\"error\":{\"status_code\":500}}", "");
    assert_message("{\"error\":{\"message\":42}}", "");
    assert_message("{\"error\":null}", "");
    assert_message("null", "");
    assert_message("[]", "");
    assert_message("42", "");
}

static void test_huge_line_is_truncated_to_the_output(void **state)
{
    (void)state;
    size_t n = 100000;
    char *body = malloc(n + 1);
    assert_non_null(body);
    memset(body, 'a', n);
    body[n] = '\0';
    char out[32];
    http_error_message(body, n, out, sizeof out);
    assert_int_equal(strlen(out), sizeof out - 1);
    assert_memory_equal(out, body, sizeof out - 1);
    free(body);
}

static void test_huge_json_message_is_truncated_to_the_output(void **state)
{
    (void)state;
    enum { N = 5000 };
    static const char head[] = "{\"error\":{\"message\":\"";
    static const char tail[] = "\",\"status_code\":500}}";
    static char body[sizeof head - 1 + N + sizeof tail];
    memcpy(body, head, sizeof head - 1);
    memset(body + sizeof head - 1, 'm', N);
    memcpy(body + sizeof head - 1 + N, tail, sizeof tail);
    char out[256];
    http_error_message(body, strlen(body), out, sizeof out);
    assert_int_equal(strlen(out), sizeof out - 1);
    assert_int_equal(strspn(out, "m"), sizeof out - 1);
}

static void test_tiny_output_is_terminated(void **state)
{
    (void)state;
    char out[1] = {'x'};
    http_error_message("Too many requests", 17, out, sizeof out);
    assert_int_equal(out[0], '\0');
    char out4[4];
    http_error_message("Too many requests", 17, out4, sizeof out4);
    assert_string_equal(out4, "Too");
}

static void test_only_len_bytes_of_json_are_read(void **state)
{
    (void)state;
    const char *body = "{\"error\":{\"message\":\"Not found\"}}TRAILING";
    char out[64];
    http_error_message(body, strlen(body) - strlen("TRAILING"), out, sizeof out);
    assert_string_equal(out, "Not found");
}

static void test_text_body_is_read_only_up_to_len(void **state)
{
    (void)state;
    const char body[] = "Bad GatewayTRAILING";
    char out[64];
    http_error_message(body, strlen("Bad Gateway"), out, sizeof out);
    assert_string_equal(out, "Bad Gateway");
}

static void test_unterminated_heap_body_is_not_overread(void **state)
{
    (void)state;
    size_t len = strlen("Not Found");
    char *body = malloc(len);
    memcpy(body, "Not Found", len);
    char out[64];
    http_error_message(body, len, out, sizeof out);
    assert_string_equal(out, "Not Found");
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_path_is_same_origin),
        cmocka_unit_test(test_same_host_other_port_is_not_same_origin),
        cmocka_unit_test(test_http_and_https_are_not_same_origin),
        cmocka_unit_test(test_default_ports_equal_explicit_ones),
        cmocka_unit_test(test_host_case_does_not_matter),
        cmocka_unit_test(test_other_hosts_are_not_same_origin),
        cmocka_unit_test(test_userinfo_cannot_fake_the_host),
        cmocka_unit_test(test_host_in_query_or_fragment_does_not_count),
        cmocka_unit_test(test_garbage_urls_are_not_same_origin),
        cmocka_unit_test(test_quoted_message_loses_its_quotes),
        cmocka_unit_test(test_waf_user_agent_message),
        cmocka_unit_test(test_plain_message_is_kept),
        cmocka_unit_test(test_unicode_look_alikes_are_kept),
        cmocka_unit_test(test_new_place_login_message),
        cmocka_unit_test(test_error_as_a_string),
        cmocka_unit_test(test_plain_text_body),
        cmocka_unit_test(test_plain_text_takes_the_first_line),
        cmocka_unit_test(test_html_page),
        cmocka_unit_test(test_s3_xml_error),
        cmocka_unit_test(test_empty_body_gives_empty_message),
        cmocka_unit_test(test_json_without_a_message_gives_empty_message),
        cmocka_unit_test(test_huge_line_is_truncated_to_the_output),
        cmocka_unit_test(test_huge_json_message_is_truncated_to_the_output),
        cmocka_unit_test(test_tiny_output_is_terminated),
        cmocka_unit_test(test_only_len_bytes_of_json_are_read),
        cmocka_unit_test(test_text_body_is_read_only_up_to_len),
        cmocka_unit_test(test_unterminated_heap_body_is_not_overread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
