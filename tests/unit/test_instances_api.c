/* instances_api against a tiny canned HTTP server in a thread: what goes on the wire (method,
 * raw path, query, body) and what each kind of answer becomes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "remote/instances_api.h"

#define WRLD "wrld_ba913a96-fac4-4048-a062-9aa5db092812"
#define USR "usr_c1644b5b-3ca4-45b4-97c6-a2a0de70d469"
#define LOC WRLD ":67890~hidden(" USR ")~region(eu)~nonce(abc-def)"
#define INSTANCE "{\"id\":\"" LOC "\",\"location\":\"" LOC "\",\"worldId\":\"" WRLD "\"}"

struct canned {
    int status;
    const char *body;
};

static struct {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t lock;
    struct canned answers[8];
    int nanswers, served;
    int requests;
    char method[16];
    char target[2048];
    char body[8192];
} srv;

static struct http_client *client;

static void read_request(int c)
{
    char buf[16384];
    size_t len = 0;
    char *end = NULL;
    while (!end && len < sizeof buf - 1) {
        ssize_t n = recv(c, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0)
            return;
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end)
        return;
    size_t want = 0;
    const char *cl = strcasestr(buf, "\r\ncontent-length:");
    if (cl && cl < end)
        want = strtoul(cl + 17, NULL, 10);
    size_t have = len - (size_t)(end + 4 - buf);
    while (have < want && len < sizeof buf - 1) {
        ssize_t n = recv(c, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        have += (size_t)n;
    }
    buf[len] = '\0';
    end = strstr(buf, "\r\n\r\n");
    pthread_mutex_lock(&srv.lock);
    srv.requests++;
    sscanf(buf, "%15s %2047s", srv.method, srv.target);
    snprintf(srv.body, sizeof srv.body, "%s", end + 4);
    pthread_mutex_unlock(&srv.lock);
}

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(srv.fd, NULL, NULL);
        if (c < 0)
            return NULL;
        read_request(c);
        pthread_mutex_lock(&srv.lock);
        struct canned a =
            srv.served < srv.nanswers ? srv.answers[srv.served++] : (struct canned){500, "{}"};
        pthread_mutex_unlock(&srv.lock);
        char head[256];
        size_t blen = strlen(a.body);
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                         a.status, blen);
        if (send(c, head, (size_t)n, MSG_NOSIGNAL) < 0 || send(c, a.body, blen, MSG_NOSIGNAL) < 0)
            perror("send");
        close(c);
    }
}

static int setup_all(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_mutex_init(&srv.lock, NULL);
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(srv.fd, (struct sockaddr *)&a, sizeof a) || listen(srv.fd, 16) ||
        getsockname(srv.fd, (struct sockaddr *)&a, &al))
        return -1;
    srv.port = ntohs(a.sin_port);
    pthread_create(&srv.thread, NULL, serve, NULL);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/1", srv.port);
    struct http_config cfg = {.api_url = url,
                              .contact = "test@example.com",
                              .rate_per_min = 0,
                              .retries = 0,
                              .connect_timeout_s = 5,
                              .low_speed_time_s = 5,
                              .api_timeout_s = 10};
    client = http_client_new(&cfg);
    return client ? 0 : -1;
}

static int teardown_all(void **state)
{
    (void)state;
    http_client_free(client);
    shutdown(srv.fd, SHUT_RDWR);
    close(srv.fd);
    pthread_join(srv.thread, NULL);
    curl_global_cleanup();
    return 0;
}

/* Queues the answers of the next requests and forgets the last request. */
static void answer(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    pthread_mutex_lock(&srv.lock);
    srv.nanswers = n;
    srv.served = 0;
    srv.requests = 0;
    srv.method[0] = srv.target[0] = srv.body[0] = '\0';
    for (int i = 0; i < n; i++) {
        srv.answers[i].status = va_arg(ap, int);
        srv.answers[i].body = va_arg(ap, const char *);
    }
    pthread_mutex_unlock(&srv.lock);
    va_end(ap);
}

static void assert_request(const char *method, const char *target)
{
    assert_int_equal(srv.requests, 1);
    assert_string_equal(srv.method, method);
    assert_string_equal(srv.target, target);
}

/* ------------------------------------------------------------------------- get */

static void test_get_sends_location_raw(void **state)
{
    (void)state;
    answer(1, 200, INSTANCE);
    json_t *inst = NULL;
    assert_int_equal(instances_api_get(client, LOC, &inst), 0);
    assert_request("GET", "/api/1/instances/" LOC);
    assert_string_equal(json_string_value(json_object_get(inst, "location")), LOC);
    json_decref(inst);
}

static void test_get_null_and_404_are_enoent(void **state)
{
    (void)state;
    json_t *inst = (json_t *)1;
    answer(1, 200, "null");
    assert_int_equal(instances_api_get(client, LOC, &inst), -ENOENT);
    assert_null(inst);
    answer(1, 200, " null\n");
    assert_int_equal(instances_api_get(client, LOC, &inst), -ENOENT);
    answer(1, 404, "{\"error\":{\"message\":\"Instance not found\",\"status_code\":404}}");
    assert_int_equal(instances_api_get(client, LOC, &inst), -ENOENT);
    assert_null(inst);
}

static void test_get_unusable_answers_are_eio(void **state)
{
    (void)state;
    const char *bodies[] = {"[]", "42", "\"" LOC "\"", "true", "{\"id\":", "<html>oops</html>", ""};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        json_t *inst = (json_t *)1;
        answer(1, 200, bodies[i]);
        if (instances_api_get(client, LOC, &inst) != -EIO)
            fail_msg("accepted %s", bodies[i]);
        assert_null(inst);
    }
}

static void test_get_errors_map(void **state)
{
    (void)state;
    json_t *inst;
    answer(1, 403, "{\"error\":{\"message\":\"no\",\"status_code\":403}}");
    assert_int_equal(instances_api_get(client, LOC, &inst), -EACCES);
    answer(1, 400, "{\"error\":{\"message\":\"bad\",\"status_code\":400}}");
    assert_int_equal(instances_api_get(client, LOC, &inst), -EINVAL);
    answer(1, 502, "<html>bad gateway</html>");
    assert_int_equal(instances_api_get(client, LOC, &inst), -EIO);
}

static void test_malformed_locations_send_nothing(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "offline",
                         "private",
                         "traveling:traveling",
                         WRLD,
                         WRLD ":",
                         WRLD ":1/../../auth/user",
                         WRLD ":1?x=1",
                         WRLD ":1#x",
                         WRLD ":1 2",
                         WRLD ":1%2F",
                         "wrld_x:1~region(mars)",
                         "usr_x:12345",
                         NULL};
    answer(0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *inst = (json_t *)1;
        char *s1, *s2;
        assert_int_equal(instances_api_get(client, bad[i], &inst), -ENOENT);
        assert_null(inst);
        assert_int_equal(instances_api_short_name(client, bad[i], &s1, &s2), -ENOENT);
        assert_int_equal(instances_api_close(client, bad[i], NULL, NULL), -ENOENT);
        assert_int_equal(instances_api_invite_self(client, bad[i]), -ENOENT);
    }
    assert_int_equal(srv.requests, 0);
}

/* -------------------------------------------------------------------- short names */

static void test_get_by_short_name(void **state)
{
    (void)state;
    answer(1, 200, INSTANCE);
    json_t *inst = NULL;
    assert_int_equal(instances_api_get_by_short_name(client, "ab12-cd_34", &inst), 0);
    assert_request("GET", "/api/1/instances/s/ab12-cd_34");
    json_decref(inst);
    answer(1, 404, "{\"error\":{\"message\":\"Instance not found\",\"status_code\":404}}");
    assert_int_equal(instances_api_get_by_short_name(client, "nope", &inst), -ENOENT);
    assert_null(inst);
}

static void test_bad_short_names_send_nothing(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "..",
                         ".",
                         "a/b",
                         "a b",
                         "a?b",
                         "a%2Fb",
                         "a.b",
                         "é",
                         "a\nb",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                         NULL};
    answer(0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *inst = (json_t *)1;
        assert_false(instances_api_short_name_ok(bad[i]));
        assert_int_equal(instances_api_get_by_short_name(client, bad[i], &inst), -ENOENT);
        assert_null(inst);
    }
    assert_int_equal(srv.requests, 0);
    assert_true(instances_api_short_name_ok("a"));
    assert_true(instances_api_short_name_ok(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void test_short_name_answers(void **state)
{
    (void)state;
    char *shrt = (char *)1, *secure = (char *)1;
    answer(1, 200, "{\"secureName\":\"sec12345\",\"shortName\":null}");
    assert_int_equal(instances_api_short_name(client, LOC, &shrt, &secure), 0);
    assert_request("GET", "/api/1/instances/" LOC "/shortName");
    assert_null(shrt);
    assert_string_equal(secure, "sec12345");
    free(secure);

    answer(1, 200, "{\"secureName\":\"sec12345\",\"shortName\":\"short123\"}");
    assert_int_equal(instances_api_short_name(client, LOC, &shrt, &secure), 0);
    assert_string_equal(shrt, "short123");
    free(shrt);
    free(secure);

    answer(1, 200, "{\"secureName\":\"sec12345\"}");
    assert_int_equal(instances_api_short_name(client, LOC, &shrt, &secure), 0);
    assert_null(shrt);
    free(secure);

    answer(1, 200, "{\"secureName\":\"sec12345\",\"shortName\":\"\"}");
    assert_int_equal(instances_api_short_name(client, LOC, &shrt, &secure), 0);
    assert_null(shrt); /* empty is as good as absent */
    free(secure);
}

static void test_short_name_bad_answers(void **state)
{
    (void)state;
    const char *eio[] = {"{\"shortName\":\"x\"}",
                         "{\"secureName\":null}",
                         "{\"secureName\":\"a\",\"shortName\":5}",
                         "[]",
                         "\"sec\"",
                         ""};
    for (size_t i = 0; i < sizeof eio / sizeof eio[0]; i++) {
        char *shrt = (char *)1, *secure = (char *)1;
        answer(1, 200, eio[i]);
        if (instances_api_short_name(client, LOC, &shrt, &secure) != -EIO)
            fail_msg("accepted %s", eio[i]);
        assert_null(shrt);
        assert_null(secure);
    }
    char *shrt, *secure;
    answer(1, 200, "null");
    assert_int_equal(instances_api_short_name(client, LOC, &shrt, &secure), -ENOENT);
}

/* --------------------------------------------------------------------- create */

static void test_create(void **state)
{
    (void)state;
    answer(1, 200, INSTANCE);
    json_t *req = json_pack("{s:s,s:s,s:s}", "worldId", WRLD, "type", "public", "region", "us");
    json_t *inst = NULL;
    long status = -1;
    char msg[256];
    assert_int_equal(instances_api_create(client, req, &inst, &status, msg), 0);
    assert_request("POST", "/api/1/instances");
    json_error_t e;
    json_t *sent = json_loads(srv.body, 0, &e);
    assert_non_null(sent);
    assert_true(json_equal(sent, req));
    assert_string_equal(json_string_value(json_object_get(inst, "location")), LOC);
    json_decref(sent);
    json_decref(inst);
    json_decref(req);
}

static void test_create_refused(void **state)
{
    (void)state;
    answer(1, 400,
           "{\"error\":{\"message\":\"region must be one of eu, jp\",\"status_code\":400}}");
    json_t *req = json_object();
    json_t *inst = (json_t *)1;
    long status = 0;
    char msg[256] = "";
    assert_int_equal(instances_api_create(client, req, &inst, &status, msg), -EINVAL);
    assert_null(inst);
    assert_int_equal(status, 400);
    assert_non_null(strstr(msg, "region must be one of"));
    answer(1, 403,
           "{\"error\":{\"message\":\"You can only create instances that you own\","
           "\"status_code\":403}}");
    assert_int_equal(instances_api_create(client, req, &inst, &status, msg), -EACCES);
    assert_int_equal(status, 403);
    json_decref(req);
}

static void test_create_unusable_answers(void **state)
{
    (void)state;
    const char *bodies[] = {"null",
                            "{}",
                            "{\"location\":\"offline\"}",
                            "{\"location\":\"" WRLD ":1/../x\"}",
                            "{\"location\":42}",
                            "[]",
                            ""};
    json_t *req = json_object();
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        json_t *inst = (json_t *)1;
        long status = 0;
        answer(1, 200, bodies[i]);
        if (instances_api_create(client, req, &inst, &status, NULL) != -EIO)
            fail_msg("accepted %s", bodies[i]);
        assert_null(inst);
    }
    json_decref(req);
}

/* ---------------------------------------------------------------------- close */

static void test_close_queries(void **state)
{
    (void)state;
    json_t *inst = NULL;
    answer(1, 200, INSTANCE);
    assert_int_equal(instances_api_close(client, LOC, NULL, &inst), 0);
    assert_request("DELETE", "/api/1/instances/" LOC "?hardClose=false");
    assert_non_null(inst);
    json_decref(inst);

    struct instances_api_close hard = {.hard = true};
    answer(1, 200, INSTANCE);
    assert_int_equal(instances_api_close(client, LOC, &hard, NULL), 0);
    assert_request("DELETE", "/api/1/instances/" LOC "?hardClose=true");

    struct instances_api_close at = {.closed_at = "2030-01-02T03:04:05.000Z"};
    answer(1, 200, "");
    assert_int_equal(instances_api_close(client, LOC, &at, &inst), 0);
    assert_request("DELETE", "/api/1/instances/" LOC
                             "?hardClose=false&closedAt=2030-01-02T03%3A04%3A05.000Z");
    assert_null(inst); /* an empty answer is fine for a close */
}

static void test_close_refused(void **state)
{
    (void)state;
    json_t *inst = (json_t *)1;
    answer(1, 403,
           "{\"error\":{\"message\":\"You are not the owner of this instance\","
           "\"status_code\":403}}");
    assert_int_equal(instances_api_close(client, LOC, NULL, &inst), -EACCES);
    assert_null(inst);
    answer(1, 404, "{\"error\":{\"message\":\"Instance not found\",\"status_code\":404}}");
    assert_int_equal(instances_api_close(client, LOC, NULL, NULL), -ENOENT);
}

static void test_close_query_too_small(void **state)
{
    (void)state;
    char q[8];
    assert_int_equal(instances_api_close_query(NULL, q, sizeof q), -ENAMETOOLONG);
    char q2[32];
    assert_int_equal(instances_api_close_query(NULL, q2, sizeof q2), 0);
    assert_string_equal(q2, "?hardClose=false");
}

/* --------------------------------------------------------------------- invite */

static void test_invite(void **state)
{
    (void)state;
    answer(1, 200, "{\"id\":\"not_1\",\"type\":\"invite\"}");
    assert_int_equal(instances_api_invite_self(client, LOC), 0);
    assert_request("POST", "/api/1/invite/myself/to/" LOC);
    answer(1, 404, "{\"error\":{\"message\":\"Instance not found\",\"status_code\":404}}");
    assert_int_equal(instances_api_invite_self(client, LOC), -ENOENT);
}

/* --------------------------------------------------------------------- recent */

static void test_recent_page(void **state)
{
    (void)state;
    char **locs = NULL;
    size_t nlocs = 9, count = 9;
    answer(1, 200, "[\"" LOC "\", 1, null, {\"x\":1}, \"offline\"]");
    assert_int_equal(instances_api_recent_page(client, 200, 100, &locs, &nlocs, &count), 0);
    assert_request("GET", "/api/1/instances/recent?n=100&offset=200");
    assert_int_equal(count, 5); /* the page length decides whether there is more */
    assert_int_equal(nlocs, 2); /* only strings; the listing checks the grammar */
    assert_string_equal(locs[0], LOC);
    assert_string_equal(locs[1], "offline");
    assert_null(locs[2]);
    instances_api_free_strings(locs);

    answer(1, 200, "[]");
    assert_int_equal(instances_api_recent_page(client, 0, 100, &locs, &nlocs, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(nlocs, 0);
    assert_null(locs[0]);
    instances_api_free_strings(locs);
}

/* A server that ignores n: only the first n items are looked at, and count says how many
 * came so that the caller stops paging. */
static void test_recent_page_longer_than_asked(void **state)
{
    (void)state;
    char **locs = NULL;
    size_t nlocs = 0, count = 0;
    answer(1, 200, "[\"" LOC "\", \"a\", \"b\", \"c\", \"d\"]");
    assert_int_equal(instances_api_recent_page(client, 0, 2, &locs, &nlocs, &count), 0);
    assert_int_equal(count, 5);
    assert_int_equal(nlocs, 2);
    assert_string_equal(locs[0], LOC);
    assert_string_equal(locs[1], "a");
    assert_null(locs[2]);
    instances_api_free_strings(locs);
}

static void test_recent_bad(void **state)
{
    (void)state;
    char **locs = (char **)1;
    size_t nlocs, count;
    const char *bodies[] = {"{}", "null", "\"x\"", ""};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        answer(1, 200, bodies[i]);
        if (instances_api_recent_page(client, 0, 100, &locs, &nlocs, &count) != -EIO)
            fail_msg("accepted %s", bodies[i]);
        assert_null(locs);
        assert_int_equal(count, 0);
    }
    answer(0);
    assert_int_equal(instances_api_recent_page(client, 0, 0, &locs, &nlocs, &count), -EINVAL);
    assert_int_equal(instances_api_recent_page(client, 0, 101, &locs, &nlocs, &count), -EINVAL);
    assert_int_equal(instances_api_recent_page(client, -1, 10, &locs, &nlocs, &count), -EINVAL);
    assert_int_equal(srv.requests, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_sends_location_raw),
        cmocka_unit_test(test_get_null_and_404_are_enoent),
        cmocka_unit_test(test_get_unusable_answers_are_eio),
        cmocka_unit_test(test_get_errors_map),
        cmocka_unit_test(test_malformed_locations_send_nothing),
        cmocka_unit_test(test_get_by_short_name),
        cmocka_unit_test(test_bad_short_names_send_nothing),
        cmocka_unit_test(test_short_name_answers),
        cmocka_unit_test(test_short_name_bad_answers),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_create_refused),
        cmocka_unit_test(test_create_unusable_answers),
        cmocka_unit_test(test_close_queries),
        cmocka_unit_test(test_close_refused),
        cmocka_unit_test(test_close_query_too_small),
        cmocka_unit_test(test_invite),
        cmocka_unit_test(test_recent_page),
        cmocka_unit_test(test_recent_page_longer_than_asked),
        cmocka_unit_test(test_recent_bad),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
