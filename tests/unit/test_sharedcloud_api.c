/* sharedcloud_api against scripts/sharedcloud-emulator: every call, the errno of each refusal,
 * retries, request counts from the emulator's log, and the token sent to the API origin only.
 * Two emulators run for the whole group: the API and "another origin". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "remote/api_stats.h"
#include "remote/sharedcloud_api.h"

extern char **environ;

struct emulator {
    pid_t pid;
    char origin[64];
    char log[256];
};

static char work_dir[] = "/tmp/vrcfs-test-sharedcloud-XXXXXX";
static struct emulator api_emu, other_emu;
static struct http_client *client;  /* demo-token */
static struct http_client *control; /* no token: the /_emulator/ endpoints */

static int emulator_start(struct emulator *e, const char *name)
{
    char port_file[256];
    snprintf(port_file, sizeof port_file, "%s/%s.port", work_dir, name);
    snprintf(e->log, sizeof e->log, "%s/%s.log", work_dir, name);
    char *argv[] = {"python3",     "scripts/sharedcloud-emulator",
                    "--port",      "0",
                    "--port-file", port_file,
                    "--log",       e->log,
                    "--quiet",     NULL};
    if (posix_spawnp(&e->pid, "python3", NULL, NULL, argv, environ) != 0)
        return -1;
    for (int i = 0; i < 600; i++) { /* up to 30 s on a loaded machine */
        FILE *fp = fopen(port_file, "r");
        int port = 0;
        if (fp) {
            int got = fscanf(fp, "%d", &port);
            fclose(fp);
            if (got == 1 && port > 0) {
                snprintf(e->origin, sizeof e->origin, "http://127.0.0.1:%d", port);
                return 0;
            }
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static void emulator_stop(struct emulator *e)
{
    if (e->pid > 0) {
        kill(e->pid, SIGTERM);
        waitpid(e->pid, NULL, 0);
        e->pid = 0;
    }
}

static struct http_client *client_new(const char *origin, const char *token)
{
    struct http_config cfg = {
        .api_url = origin,
        .contact = "tests@vrcfs.invalid",
        .rate_per_min = 0,
        .retries = 3,
        .connect_timeout_s = 10,
        .low_speed_time_s = 30,
        .api_timeout_s = 60,
    };
    struct http_client *c = http_client_new(&cfg);
    if (c && token)
        sharedcloud_api_set_token(c, token);
    return c;
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!mkdtemp(work_dir) || emulator_start(&api_emu, "api") != 0 ||
        emulator_start(&other_emu, "other") != 0)
        return -1;
    client = client_new(api_emu.origin, "demo-token");
    control = client_new(api_emu.origin, NULL);
    return client && control ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    http_client_free(client);
    http_client_free(control);
    emulator_stop(&api_emu);
    emulator_stop(&other_emu);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work_dir);
    int rc = system(cmd);
    curl_global_cleanup();
    return rc == 0 ? 0 : -1;
}

/* --- the emulator's side --- */

static json_t *log_lines(const struct emulator *e)
{
    json_t *all = json_array();
    FILE *fp = fopen(e->log, "r");
    char line[4096];
    while (fp && fgets(line, sizeof line, fp))
        json_array_append_new(all, json_loads(line, 0, NULL));
    if (fp)
        fclose(fp);
    return all;
}

static size_t log_mark(void)
{
    json_t *all = log_lines(&api_emu);
    size_t n = json_array_size(all);
    json_decref(all);
    return n;
}

/* API requests since mark with that method (NULL: any) and path (NULL: any). */
static int requests_since(size_t mark, const char *method, const char *path)
{
    json_t *all = log_lines(&api_emu);
    int n = 0;
    for (size_t i = mark; i < json_array_size(all); i++) {
        json_t *r = json_array_get(all, i);
        if (strcmp(json_string_value(json_object_get(r, "host")), "api") == 0 &&
            (!method || strcmp(json_string_value(json_object_get(r, "method")), method) == 0) &&
            (!path || strcmp(json_string_value(json_object_get(r, "path")), path) == 0))
            n++;
    }
    json_decref(all);
    return n;
}

static json_t *control_call(const char *method, const char *path, const char *body)
{
    struct http_request req = {.method = method,
                               .url = path,
                               .body = body,
                               .body_len = body ? strlen(body) : 0,
                               .content_type = body ? "application/json" : NULL};
    struct http_response resp;
    int err = http_perform(control, &req, &resp);
    json_t *out = err ? NULL : json_loadb(resp.body, resp.body_len, 0, NULL);
    http_response_free(&resp);
    assert_non_null(out);
    return out;
}

static void fault(const char *spec)
{
    char body[256];
    snprintf(body, sizeof body, "{\"spec\": \"%s\"}", spec);
    json_decref(control_call("POST", "/_emulator/faults", body));
}

/* The last write the emulator received must have been method with exactly this body. */
static void assert_last_write(const char *method, const char *want)
{
    json_t *state = control_call("GET", "/_emulator/state", NULL);
    json_t *writes = json_object_get(state, "writes");
    json_t *last = json_array_get(writes, json_array_size(writes) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "method")), method);
    assert_string_equal(json_string_value(json_object_get(last, "content_type")),
                        "application/json");
    assert_string_equal(json_string_value(json_object_get(last, "body")), want);
    json_decref(state);
}

static json_t *load(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    return v;
}

/* --- tests --- */

static void test_list_is_one_request(void **state)
{
    (void)state;
    size_t mark = log_mark();
    struct sharedcloud_instance *list;
    size_t n;
    assert_int_equal(sharedcloud_api_list(client, &list, &n), 0);
    assert_int_equal(requests_since(mark, NULL, NULL), 1);
    assert_true(n >= 3);
    assert_string_equal(list[0].name, "instance1");
    assert_int_equal(list[0].type, SHAREDCLOUD_TYPE_CPU);
    assert_int_equal(list[0].created_at, 1538755324);
    assert_int_equal(list[1].type, SHAREDCLOUD_TYPE_GPU);
    assert_string_equal(list[1].gpu_name, "GeForce GTX 1080 Ti");
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(list[i].name, "someone-elses");
    sharedcloud_api_free_list(list, n);
    assert_int_equal(sharedcloud_api_check(client, NULL), 0);
}

static void test_get_and_not_found(void **state)
{
    (void)state;
    struct sharedcloud_instance *list;
    size_t n;
    assert_int_equal(sharedcloud_api_list(client, &list, &n), 0);
    struct sharedcloud_instance one;
    assert_int_equal(sharedcloud_api_get(client, list[0].uuid, &one), 0);
    assert_string_equal(one.uuid, list[0].uuid);
    assert_string_equal(one.name, list[0].name);
    sharedcloud_instance_clear(&one);
    sharedcloud_api_free_list(list, n);

    size_t mark = log_mark();
    assert_int_equal(sharedcloud_api_get(client, "6baf15c3-5fb1-4312-b793-fc7d19629a7f", &one),
                     -ENOENT);
    assert_int_equal(requests_since(mark, NULL, NULL), 1);
    mark = log_mark();
    assert_int_equal(sharedcloud_api_get(client, "../../etc", &one), -ENOENT);
    assert_int_equal(sharedcloud_api_get(client, NULL, &one), -ENOENT);
    assert_int_equal(sharedcloud_api_delete(client, "x/../y", NULL), -ENOENT);
    assert_int_equal(requests_since(mark, NULL, NULL), 0);
}

static void test_create_update_replace_delete(void **state)
{
    (void)state;
    char message[SHAREDCLOUD_MESSAGE_LEN];
    struct sharedcloud_instance made, after;
    json_t *fields = load("{\"name\": \"made-by-test\", \"ask_price\": 0.3, \"type\": \"cpu\","
                          " \"max_num_parallel_jobs\": 3}");
    size_t mark = log_mark();
    assert_int_equal(sharedcloud_api_create(client, fields, &made, message), 0);
    json_decref(fields);
    assert_int_equal(requests_since(mark, "POST", SHAREDCLOUD_INSTANCES_PATH), 1);
    assert_string_equal(made.name, "made-by-test");
    assert_int_equal(made.max_num_parallel_jobs, 3);
    assert_last_write("POST", "{\"name\":\"made-by-test\",\"ask_price\":0.3,\"type\":\"cpu\","
                              "\"max_num_parallel_jobs\":\"3\"}");

    /* PATCH: exactly the fields given; the others stay as they were. */
    fields = load("{\"ask_price\": 0.9}");
    assert_int_equal(sharedcloud_api_update(client, made.uuid, fields, &after, message), 0);
    json_decref(fields);
    assert_last_write("PATCH", "{\"ask_price\":0.9}");
    assert_true(after.ask_price == 0.9);
    assert_string_equal(after.name, "made-by-test");
    assert_int_equal(after.max_num_parallel_jobs, 3);
    sharedcloud_instance_clear(&after);

    /* PUT needs name and ask_price: the server's field errors come back. */
    fields = load("{\"ask_price\": 1}");
    mark = log_mark();
    assert_int_equal(sharedcloud_api_replace(client, made.uuid, fields, &after, message), -EINVAL);
    assert_int_equal(requests_since(mark, NULL, NULL), 1); /* a 400 is not retried */
    assert_string_equal(message, "name: This field is required.");
    json_decref(fields);
    fields = load("{\"name\": \"replaced\", \"ask_price\": 1, \"max_num_parallel_jobs\": 2}");
    assert_int_equal(sharedcloud_api_replace(client, made.uuid, fields, &after, message), 0);
    json_decref(fields);
    assert_string_equal(after.name, "replaced");
    assert_int_equal(after.max_num_parallel_jobs, 2);
    sharedcloud_instance_clear(&after);

    mark = log_mark();
    assert_int_equal(sharedcloud_api_delete(client, made.uuid, message), 0);
    assert_int_equal(requests_since(mark, "DELETE", NULL), 1);
    assert_int_equal(sharedcloud_api_get(client, made.uuid, &after), -ENOENT);
    assert_int_equal(sharedcloud_api_delete(client, made.uuid, message), -ENOENT);
    assert_string_equal(message, "Not found.");
    sharedcloud_instance_clear(&made);
}

static void test_bad_fields_are_einval_with_every_field_named(void **state)
{
    (void)state;
    char message[SHAREDCLOUD_MESSAGE_LEN];
    struct sharedcloud_instance out;
    json_t *fields = load("{\"name\": \"x\", \"ask_price\": \"cheap\", \"type\": \"tpu\"}");
    assert_int_equal(sharedcloud_api_create(client, fields, &out, message), -EINVAL);
    assert_string_equal(
        message, "type: \"tpu\" is not a valid choice.; ask_price: A valid number is required.");
    json_decref(fields);
    /* Not an object: refused here, without a request. */
    size_t mark = log_mark();
    fields = load("[1, 2]");
    assert_int_equal(sharedcloud_api_create(client, fields, &out, message), -EINVAL);
    assert_string_equal(message, "not a JSON object");
    json_decref(fields);
    assert_int_equal(requests_since(mark, NULL, NULL), 0);
}

static void test_wrong_token_is_eacces(void **state)
{
    (void)state;
    struct http_client *bad = client_new(api_emu.origin, "wrong-token");
    char message[SHAREDCLOUD_MESSAGE_LEN];
    assert_int_equal(sharedcloud_api_check(bad, message), -EACCES);
    assert_string_equal(message, "Invalid token.");
    struct sharedcloud_instance *list;
    size_t n;
    assert_int_equal(sharedcloud_api_list(bad, &list, &n), -EACCES);
    http_client_free(bad);
    struct http_client *none = client_new(api_emu.origin, NULL);
    assert_int_equal(sharedcloud_api_check(none, message), -EACCES);
    assert_string_equal(message, "Authentication credentials were not provided.");
    http_client_free(none);
}

static void test_transient_failures_are_retried_and_counted(void **state)
{
    (void)state;
    struct sharedcloud_instance *list;
    size_t n;
    fault("api:503:count=2");
    size_t mark = log_mark();
    assert_int_equal(sharedcloud_api_list(client, &list, &n), 0);
    sharedcloud_api_free_list(list, n);
    assert_int_equal(requests_since(mark, NULL, NULL), 3);

    fault("api:429:count=1,retry_after=0");
    fault("api:drop:count=1,method=GET");
    mark = log_mark();
    assert_int_equal(sharedcloud_api_list(client, &list, &n), 0);
    sharedcloud_api_free_list(list, n);
    assert_int_equal(requests_since(mark, NULL, NULL), 3);

    /* A 500 (Django's HTML page) is not transient: one request, EIO. */
    fault("api:500:count=1");
    mark = log_mark();
    assert_int_equal(sharedcloud_api_list(client, &list, &n), -EIO);
    assert_int_equal(requests_since(mark, NULL, NULL), 1);

    /* Bounded: 1 + retries (3) requests, then EAGAIN. */
    fault("api:503:count=10");
    mark = log_mark();
    assert_int_equal(sharedcloud_api_list(client, &list, &n), -EAGAIN);
    assert_int_equal(requests_since(mark, NULL, NULL), 4);
    json_decref(control_call("DELETE", "/_emulator/faults", NULL));

    json_t *stats = api_stats_json();
    json_t *reqs = json_object_get(stats, "requests");
    assert_non_null(json_object_get(reqs, "GET /api/v1/instances/"));
    assert_non_null(json_object_get(reqs, "DELETE /api/v1/instances/{uuid}/"));
    json_decref(stats);
}

static void test_token_goes_to_the_api_origin_only(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "%s%s", other_emu.origin, SHAREDCLOUD_INSTANCES_PATH);
    struct http_request req = {.method = "GET", .url = url};
    struct http_response resp;
    assert_int_equal(http_perform(client, &req, &resp), -EACCES);
    assert_string_equal(resp.message, "Authentication credentials were not provided.");
    http_response_free(&resp);
    json_t *all = log_lines(&other_emu);
    json_t *last = json_array_get(all, json_array_size(all) - 1);
    assert_true(json_is_false(json_object_get(last, "authorization")));
    json_decref(all);

    /* The same client, an absolute URL on the API origin: the header goes. */
    snprintf(url, sizeof url, "%s%s", api_emu.origin, SHAREDCLOUD_INSTANCES_PATH);
    assert_int_equal(http_perform(client, &req, &resp), 0);
    http_response_free(&resp);
    all = log_lines(&api_emu);
    last = json_array_get(all, json_array_size(all) - 1);
    assert_true(json_is_true(json_object_get(last, "authorization")));
    json_decref(all);
}

static void test_hostile_answers_are_errors_not_crashes(void **state)
{
    (void)state;
    struct sharedcloud_instance *list;
    size_t n, before;
    assert_int_equal(sharedcloud_api_list(client, &list, &n), 0);
    before = n;
    char uuid[SHAREDCLOUD_UUID_LEN + 1], other[SHAREDCLOUD_UUID_LEN + 1];
    strcpy(uuid, list[0].uuid);
    strcpy(other, list[1].uuid);
    sharedcloud_api_free_list(list, n);

    char body[256];
    snprintf(body, sizeof body, "{\"uuid\": \"%s\", \"set\": {\"type\": \"weird\"}}", uuid);
    json_decref(control_call("POST", "/_emulator/mangle", body));
    snprintf(body, sizeof body,
             "{\"uuid\": \"%s\", \"set\": {\"updated_at\": null, \"extra\": [1]},"
             " \"drop\": [\"name\", \"type\"]}",
             other);
    json_decref(control_call("POST", "/_emulator/mangle", body));

    assert_int_equal(sharedcloud_api_list(client, &list, &n), 0);
    assert_int_equal(n, before - 1); /* the weird one is left out, the bare one kept */
    assert_string_equal(list[0].uuid, other);
    assert_null(list[0].name);
    assert_int_equal(list[0].type, SHAREDCLOUD_TYPE_UNKNOWN);
    sharedcloud_api_free_list(list, n);
    struct sharedcloud_instance one;
    assert_int_equal(sharedcloud_api_get(client, uuid, &one), -EIO);

    for (const char *u = uuid; u; u = u == uuid ? other : NULL) {
        snprintf(body, sizeof body, "{\"uuid\": \"%s\", \"clear\": true}", u);
        json_decref(control_call("POST", "/_emulator/mangle", body));
    }
    assert_int_equal(sharedcloud_api_get(client, uuid, &one), 0);
    sharedcloud_instance_clear(&one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_is_one_request),
        cmocka_unit_test(test_get_and_not_found),
        cmocka_unit_test(test_create_update_replace_delete),
        cmocka_unit_test(test_bad_fields_are_einval_with_every_field_named),
        cmocka_unit_test(test_wrong_token_is_eacces),
        cmocka_unit_test(test_transient_failures_are_retried_and_counted),
        cmocka_unit_test(test_token_goes_to_the_api_origin_only),
        cmocka_unit_test(test_hostile_answers_are_errors_not_crashes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
