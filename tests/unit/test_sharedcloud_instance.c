#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "remote/sharedcloud_api.h"
#include "remote/sharedcloud_instance.h"

#define UUID "91c34f50-5181-4739-915a-7615a6a72d2f"

/* The document's list item: type as a word, gpu "n/a". */
static const char *doc_list_item =
    "{\"uuid\": \"" UUID "\", \"type\": \"cpu\", \"gpu\": \"n/a\", \"gpu_name\": \"n/a\","
    " \"num_running_jobs\": 1, \"updated_at\": \"06-10-2018 18:08:02\","
    " \"created_at\": \"05-10-2018 16:02:04\", \"num_assigned_jobs\": 0,"
    " \"current_server_time\": \"06-10-2018 19:10:01\", \"last_connection\": \"06-10-2018 "
    "18:08:02\","
    " \"name\": \"instance1\", \"status\": 1, \"ask_price\": 0.02, \"downloaded_images\": [],"
    " \"max_num_parallel_jobs\": 2}";

/* The document's create answer: type as a number, gpu and last_connection null. */
static const char *doc_create_answer =
    "{\"uuid\": \"6baf15c3-5fb1-4312-b793-fc7d19629a7f\", \"current_server_time\": \"05-10-2018 "
    "16:29:06\", \"num_running_jobs\": 0, \"num_assigned_jobs\": 0, \"gpu_name\": \"n/a\","
    " \"updated_at\": \"05-10-2018 16:29:06\", \"created_at\": \"05-10-2018 16:29:06\","
    " \"last_connection\": null, \"type\": 1, \"name\": \"instance1\", \"status\": 1,"
    " \"ask_price\": 0.01, \"max_num_parallel_jobs\": 1, \"gpu\": null, \"downloaded_images\": []}";

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return v;
}

/* Parses text; returns the rc and leaves the error text in err. */
static int parse_text(const char *text, struct sharedcloud_instance *in, char *err, size_t len)
{
    json_t *v = load(text);
    int rc = sharedcloud_instance_parse(v, in, err, len);
    json_decref(v);
    return rc;
}

/* --- dates --- */

static void test_date_parses_the_documents_dates(void **state)
{
    (void)state;
    time_t t = 0;
    assert_int_equal(sharedcloud_instance_parse_date("05-10-2018 16:02:04", &t), 0);
    assert_int_equal(t, 1538755324);
    assert_int_equal(sharedcloud_instance_parse_date("01-01-1970 00:00:00", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(sharedcloud_instance_parse_date("29-02-2020 23:59:59", &t), 0);
    assert_int_equal(t, 1583020799);
    assert_int_equal(sharedcloud_instance_parse_date("29-02-2000 00:00:00", &t), 0);
    assert_int_equal(sharedcloud_instance_parse_date("31-12-9999 23:59:59", &t), 0);
}

static void test_date_rejects_impossible_and_other_forms(void **state)
{
    (void)state;
    static const char *bad[] = {
        "29-02-2019 00:00:00", /* not a leap year */
        "29-02-1900 00:00:00", /* nor this one */
        "31-04-2018 00:00:00",
        "00-01-2018 00:00:00",
        "32-01-2018 00:00:00",
        "01-00-2018 00:00:00",
        "01-13-2018 00:00:00",
        "01-01-2018 24:00:00",
        "01-01-2018 23:60:00",
        "01-01-2018 23:59:60",
        "2018-10-05 16:02:04",
        "2018-10-05T16:02:04Z",
        "05/10/2018 16:02:04",
        "05-10-2018T16:02:04",
        "5-10-2018 16:02:04",
        "05-10-18 16:02:04",
        "05-10-2018 16:02:04 ",
        " 05-10-2018 16:02:04",
        "05-10-2018 16:02",
        "05-10-2018",
        "",
        "0a-10-2018 16:02:04",
        "+5-10-2018 16:02:04",
        "05-10-2018 16:02:0\xc3",
        "05-10-2018 16:02:04Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        time_t t = 42;
        if (sharedcloud_instance_parse_date(bad[i], &t) != -EINVAL)
            fail_msg("accepted '%s'", bad[i]);
    }
    time_t t;
    assert_int_equal(sharedcloud_instance_parse_date(NULL, &t), -EINVAL);
}

/* --- uuid --- */

static void test_uuid_form(void **state)
{
    (void)state;
    assert_true(sharedcloud_instance_uuid_ok(UUID));
    assert_true(sharedcloud_instance_uuid_ok("91C34F50-5181-4739-915A-7615A6A72D2F"));
    assert_false(sharedcloud_instance_uuid_ok(NULL));
    assert_false(sharedcloud_instance_uuid_ok(""));
    assert_false(sharedcloud_instance_uuid_ok("91c34f50-5181-4739-915a-7615a6a72d2"));
    assert_false(sharedcloud_instance_uuid_ok("91c34f50-5181-4739-915a-7615a6a72d2ff"));
    assert_false(sharedcloud_instance_uuid_ok("91c34f50x5181-4739-915a-7615a6a72d2f"));
    assert_false(sharedcloud_instance_uuid_ok("91c34f50-5181-4739-915a-7615a6a72d2g"));
    assert_false(sharedcloud_instance_uuid_ok("../../../../etc/passwd/../../../../x"));
    assert_false(sharedcloud_instance_uuid_ok("91c34f50-5181-4739-915a-7615a6a7/d2f"));
}

/* --- parse --- */

static void test_parse_the_documents_list_item(void **state)
{
    (void)state;
    struct sharedcloud_instance in;
    char err[128] = "";
    assert_int_equal(parse_text(doc_list_item, &in, err, sizeof err), 0);
    assert_string_equal(in.uuid, UUID);
    assert_string_equal(in.name, "instance1");
    assert_int_equal(in.type, SHAREDCLOUD_TYPE_CPU);
    assert_null(in.gpu);
    assert_null(in.gpu_name);
    assert_true(in.has_ask_price);
    assert_true(in.ask_price == 0.02);
    assert_int_equal(in.max_num_parallel_jobs, 2);
    assert_int_equal(in.status, 1);
    assert_true(in.has_created_at && in.has_updated_at && in.has_last_connection);
    assert_int_equal(in.created_at, 1538755324);
    assert_int_equal(in.updated_at, 1538849282);
    assert_int_equal(sharedcloud_instance_mtime(&in), 1538849282);
    sharedcloud_instance_clear(&in);
}

static void test_parse_the_documents_create_answer(void **state)
{
    (void)state;
    struct sharedcloud_instance in;
    char err[128] = "";
    assert_int_equal(parse_text(doc_create_answer, &in, err, sizeof err), 0);
    assert_int_equal(in.type, SHAREDCLOUD_TYPE_CPU);
    assert_null(in.gpu);
    assert_false(in.has_last_connection);
    assert_int_equal(in.max_num_parallel_jobs, 1);
    sharedcloud_instance_clear(&in);

    assert_int_equal(parse_text("{\"uuid\": \"" UUID "\", \"type\": 2, \"gpu\": \"14fb25d6-f1c3-"
                                "440b-b35e-2d9382ad8158\", \"gpu_name\": \"Tesla V100\"}",
                                &in, err, sizeof err),
                     0);
    assert_int_equal(in.type, SHAREDCLOUD_TYPE_GPU);
    assert_string_equal(in.gpu, "14fb25d6-f1c3-440b-b35e-2d9382ad8158");
    assert_string_equal(in.gpu_name, "Tesla V100");
    sharedcloud_instance_clear(&in);
}

static void test_parse_tolerates_missing_null_and_extra_fields(void **state)
{
    (void)state;
    struct sharedcloud_instance in;
    char err[128] = "";
    assert_int_equal(
        parse_text("{\"uuid\": \"91C34F50-5181-4739-915A-7615A6A72D2F\"}", &in, err, sizeof err),
        0);
    assert_string_equal(in.uuid, UUID); /* lowercased */
    assert_null(in.name);
    assert_int_equal(in.type, SHAREDCLOUD_TYPE_UNKNOWN);
    assert_false(in.has_ask_price);
    assert_int_equal(in.max_num_parallel_jobs, -1);
    assert_int_equal(in.status, -1);
    assert_false(in.has_created_at || in.has_updated_at || in.has_last_connection);
    assert_int_equal(sharedcloud_instance_mtime(&in), 0);
    sharedcloud_instance_clear(&in);

    assert_int_equal(parse_text("{\"uuid\": \"" UUID "\", \"name\": null, \"type\": null,"
                                " \"gpu\": null, \"gpu_name\": null, \"ask_price\": null,"
                                " \"max_num_parallel_jobs\": null, \"status\": null,"
                                " \"created_at\": \"05-10-2018 16:02:04\", \"updated_at\": null,"
                                " \"last_connection\": null, \"x_new\": {\"deep\": [1, 2]}}",
                                &in, err, sizeof err),
                     0);
    assert_null(in.name);
    assert_int_equal(sharedcloud_instance_mtime(&in), 1538755324); /* created_at stands in */
    sharedcloud_instance_clear(&in);

    /* What a Django DecimalField or the request form would answer is read as well. */
    assert_int_equal(parse_text("{\"uuid\": \"" UUID "\", \"ask_price\": \"0.25\","
                                " \"max_num_parallel_jobs\": \"3\"}",
                                &in, err, sizeof err),
                     0);
    assert_true(in.ask_price == 0.25);
    assert_int_equal(in.max_num_parallel_jobs, 3);
    sharedcloud_instance_clear(&in);
}

static void test_parse_refuses_wrong_types_with_the_field_named(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *err;
    } cases[] = {
        {"[]", "not an object"},
        {"null", "not an object"},
        {"\"" UUID "\"", "not an object"},
        {"{}", "uuid: missing"},
        {"{\"uuid\": null}", "uuid: missing"},
        {"{\"uuid\": 42}", "uuid: not a uuid"},
        {"{\"uuid\": \"../x\"}", "uuid: not a uuid"},
        {"{\"uuid\": \"" UUID "\", \"name\": 5}", "name: not a string"},
        {"{\"uuid\": \"" UUID "\", \"name\": \"a\\u0000b\"}", "name: contains a NUL character"},
        {"{\"uuid\": \"" UUID "\", \"type\": 3}", "type: not 1, 2, \"cpu\" or \"gpu\""},
        {"{\"uuid\": \"" UUID "\", \"type\": \"tpu\"}", "type: not 1, 2, \"cpu\" or \"gpu\""},
        {"{\"uuid\": \"" UUID "\", \"type\": true}", "type: not 1, 2, \"cpu\" or \"gpu\""},
        {"{\"uuid\": \"" UUID "\", \"gpu\": [1]}", "gpu: not a string"},
        {"{\"uuid\": \"" UUID "\", \"gpu_name\": {}}", "gpu_name: not a string"},
        {"{\"uuid\": \"" UUID "\", \"ask_price\": \"cheap\"}", "ask_price: not a finite number"},
        {"{\"uuid\": \"" UUID "\", \"ask_price\": true}", "ask_price: not a number"},
        {"{\"uuid\": \"" UUID "\", \"max_num_parallel_jobs\": -1}",
         "max_num_parallel_jobs: not a whole number >= 0"},
        {"{\"uuid\": \"" UUID "\", \"max_num_parallel_jobs\": 2.5}",
         "max_num_parallel_jobs: not a whole number >= 0"},
        {"{\"uuid\": \"" UUID "\", \"max_num_parallel_jobs\": \"2x\"}",
         "max_num_parallel_jobs: not a whole number >= 0"},
        {"{\"uuid\": \"" UUID "\", \"max_num_parallel_jobs\": \"99999999999999999999\"}",
         "max_num_parallel_jobs: not a whole number >= 0"},
        {"{\"uuid\": \"" UUID "\", \"max_num_parallel_jobs\": [2]}",
         "max_num_parallel_jobs: not a number"},
        {"{\"uuid\": \"" UUID "\", \"status\": \"1\"}", "status: not an integer"},
        {"{\"uuid\": \"" UUID "\", \"updated_at\": 1538849282}",
         "updated_at: not a dd-mm-yyyy HH:MM:SS date: (not a string)"},
        {"{\"uuid\": \"" UUID "\", \"created_at\": \"2018-10-06T18:08:02Z\"}",
         "created_at: not a dd-mm-yyyy HH:MM:SS date: 2018-10-06T18:08:02Z"},
        {"{\"uuid\": \"" UUID "\", \"last_connection\": \"31-02-2018 00:00:00\"}",
         "last_connection: not a dd-mm-yyyy HH:MM:SS date: 31-02-2018 00:00:00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sharedcloud_instance in;
        char err[128] = "";
        int rc = parse_text(cases[i].json, &in, err, sizeof err);
        if (rc != -EIO || strcmp(err, cases[i].err) != 0)
            fail_msg("%s: rc %d, err '%s', want '%s'", cases[i].json, rc, err, cases[i].err);
        assert_null(in.name);
        assert_null(in.raw);
    }
}

static void test_parse_of_nothing_is_an_error_not_a_crash(void **state)
{
    (void)state;
    struct sharedcloud_instance in;
    char err[8]; /* too short for the message: truncated, not overrun */
    assert_int_equal(sharedcloud_instance_parse(NULL, &in, err, sizeof err), -EIO);
    assert_string_equal(err, "not an ");
    sharedcloud_instance_clear(&in);
}

/* --- render --- */

static void test_render_is_writable_back_and_stable(void **state)
{
    (void)state;
    struct sharedcloud_instance in;
    char err[128];
    assert_int_equal(parse_text(doc_create_answer, &in, err, sizeof err), 0);
    char *text = sharedcloud_instance_render(&in);
    assert_non_null(text);
    assert_int_equal(text[strlen(text) - 1], '\n');
    assert_non_null(strstr(text, "\n    \"uuid\": \"6baf15c3-5fb1-4312-b793-fc7d19629a7f\",\n"));
    assert_non_null(strstr(text, "\"ask_price\": 0.01,"));
    assert_null(strstr(text, "current_server_time"));
    json_t *back = load(text);
    assert_string_equal(json_string_value(json_object_get(back, "type")), "cpu");
    assert_true(json_is_null(json_object_get(back, "gpu")));
    assert_int_equal(json_integer_value(json_object_get(back, "max_num_parallel_jobs")), 1);
    assert_string_equal(json_string_value(json_object_get(back, "created_at")),
                        "05-10-2018 16:29:06");
    /* The server's key order: uuid first, downloaded_images last. */
    assert_true(strstr(text, "\"uuid\"") < strstr(text, "\"num_running_jobs\""));
    assert_true(strstr(text, "\"gpu\"") < strstr(text, "\"downloaded_images\""));
    json_decref(back);
    free(text);
    sharedcloud_instance_clear(&in);

    assert_int_equal(parse_text(doc_list_item, &in, err, sizeof err), 0);
    text = sharedcloud_instance_render(&in);
    back = load(text);
    assert_true(json_is_null(json_object_get(back, "gpu"))); /* "n/a" */
    assert_string_equal(json_string_value(json_object_get(back, "gpu_name")), "n/a");
    assert_non_null(strstr(text, "\"ask_price\": 0.02,"));
    json_decref(back);
    free(text);
    sharedcloud_instance_clear(&in);
}

static void test_render_keeps_extra_fields_and_unknown_type(void **state)
{
    (void)state;
    struct sharedcloud_instance in;
    char err[128];
    assert_int_equal(parse_text("{\"uuid\": \"" UUID "\", \"x_new\": {\"a\": \"\\u2615\"},"
                                " \"type\": null}",
                                &in, err, sizeof err),
                     0);
    char *text = sharedcloud_instance_render(&in);
    json_t *back = load(text);
    assert_string_equal(json_string_value(json_object_get(json_object_get(back, "x_new"), "a")),
                        "\xe2\x98\x95");
    assert_true(json_is_null(json_object_get(back, "type")));
    assert_null(json_object_get(back, "gpu")); /* not invented when missing */
    json_decref(back);
    free(text);
    sharedcloud_instance_clear(&in);
}

/* --- request bodies --- */

static void test_request_sends_jobs_as_a_string_and_nothing_else_changed(void **state)
{
    (void)state;
    char err[64] = "";
    json_t *fields = load("{\"max_num_parallel_jobs\": 3}");
    json_t *body = sharedcloud_instance_request(fields, err, sizeof err);
    char *text = json_dumps(body, JSON_COMPACT);
    assert_string_equal(text, "{\"max_num_parallel_jobs\":\"3\"}");
    free(text);
    json_decref(body);
    json_decref(fields);

    fields = load("{\"name\": \"n\", \"ask_price\": 0.5, \"type\": 2, \"gpu\": \"n/a\","
                  " \"max_num_parallel_jobs\": 4.0, \"uuid\": \"" UUID "\", \"x\": [true]}");
    body = sharedcloud_instance_request(fields, err, sizeof err);
    text = json_dumps(body, JSON_COMPACT);
    assert_string_equal(text,
                        "{\"name\":\"n\",\"ask_price\":0.5,\"type\":\"gpu\",\"gpu\":null,"
                        "\"max_num_parallel_jobs\":\"4\",\"uuid\":\"" UUID "\",\"x\":[true]}");
    free(text);
    json_decref(body);
    /* The caller's object is left alone. */
    assert_int_equal(json_integer_value(json_object_get(fields, "type")), 2);
    json_decref(fields);

    /* What the server must judge goes as it is. */
    fields = load("{\"max_num_parallel_jobs\": \"2\", \"type\": 7, \"ask_price\": \"x\"}");
    body = sharedcloud_instance_request(fields, err, sizeof err);
    text = json_dumps(body, JSON_COMPACT);
    assert_string_equal(text, "{\"max_num_parallel_jobs\":\"2\",\"type\":7,\"ask_price\":\"x\"}");
    free(text);
    json_decref(body);
    json_decref(fields);

    fields = load("{\"max_num_parallel_jobs\": 2.5}");
    body = sharedcloud_instance_request(fields, err, sizeof err);
    assert_true(json_is_real(json_object_get(body, "max_num_parallel_jobs")));
    json_decref(body);
    json_decref(fields);

    fields = load("{}");
    body = sharedcloud_instance_request(fields, err, sizeof err);
    assert_int_equal(json_object_size(body), 0);
    json_decref(body);
    json_decref(fields);
}

static void test_request_refuses_a_non_object(void **state)
{
    (void)state;
    char err[64] = "";
    json_t *fields = load("[1]");
    assert_null(sharedcloud_instance_request(fields, err, sizeof err));
    assert_string_equal(err, "not a JSON object");
    json_decref(fields);
    assert_null(sharedcloud_instance_request(NULL, err, sizeof err));
}

/* --- Django REST framework error bodies --- */

static void test_error_lines(void **state)
{
    (void)state;
    char out[256];
    const char *body = "{\"name\": [\"This field is required.\"], \"ask_price\": [\"A valid "
                       "number is required.\", \"Second.\"]}";
    assert_int_equal(sharedcloud_api_error_lines(body, strlen(body), out, sizeof out), 3);
    assert_string_equal(out, "name: This field is required.\nask_price: A valid number is "
                             "required.\nask_price: Second.");
    body = "{\"detail\": \"Invalid token.\"}";
    assert_int_equal(sharedcloud_api_error_lines(body, strlen(body), out, sizeof out), 1);
    assert_string_equal(out, "Invalid token.");
    body = "{\"non_field_errors\": [\"Invalid data.\"], \"gpu\": {\"x\": [1]}, \"n\": [7]}";
    assert_int_equal(sharedcloud_api_error_lines(body, strlen(body), out, sizeof out), 3);
    assert_string_equal(out, "non_field_errors: Invalid data.\ngpu: {\"x\":[1]}\nn: 7");
    for (const char *const *b =
             (const char *const[]){"<h1>Server Error (500)</h1>", "[1]", "", "{\"a\":", NULL};
         *b; b++) {
        strcpy(out, "x");
        assert_int_equal(sharedcloud_api_error_lines(*b, strlen(*b), out, sizeof out), 0);
        assert_string_equal(out, "");
    }
    assert_int_equal(sharedcloud_api_error_lines(NULL, 0, out, sizeof out), 0);
    /* Too small: whole lines only. */
    char small[20];
    body = "{\"a\": [\"short\"], \"b\": [\"this one is much too long\"]}";
    assert_int_equal(sharedcloud_api_error_lines(body, strlen(body), small, sizeof small), 1);
    assert_string_equal(small, "a: short");
}

static void test_token_form(void **state)
{
    (void)state;
    assert_true(sharedcloud_api_token_ok("demo-token"));
    assert_true(sharedcloud_api_token_ok("9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"));
    assert_false(sharedcloud_api_token_ok(NULL));
    assert_false(sharedcloud_api_token_ok(""));
    assert_false(sharedcloud_api_token_ok("a b"));
    assert_false(sharedcloud_api_token_ok("tok\r\nX-Injected: 1"));
    assert_false(sharedcloud_api_token_ok("t\xc3\xa9"));
    char long_token[SHAREDCLOUD_TOKEN_MAX + 2];
    memset(long_token, 'a', sizeof long_token - 1);
    long_token[sizeof long_token - 1] = '\0';
    assert_false(sharedcloud_api_token_ok(long_token));
    long_token[SHAREDCLOUD_TOKEN_MAX] = '\0';
    assert_true(sharedcloud_api_token_ok(long_token));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_parses_the_documents_dates),
        cmocka_unit_test(test_date_rejects_impossible_and_other_forms),
        cmocka_unit_test(test_uuid_form),
        cmocka_unit_test(test_parse_the_documents_list_item),
        cmocka_unit_test(test_parse_the_documents_create_answer),
        cmocka_unit_test(test_parse_tolerates_missing_null_and_extra_fields),
        cmocka_unit_test(test_parse_refuses_wrong_types_with_the_field_named),
        cmocka_unit_test(test_parse_of_nothing_is_an_error_not_a_crash),
        cmocka_unit_test(test_render_is_writable_back_and_stable),
        cmocka_unit_test(test_render_keeps_extra_fields_and_unknown_type),
        cmocka_unit_test(test_request_sends_jobs_as_a_string_and_nothing_else_changed),
        cmocka_unit_test(test_request_refuses_a_non_object),
        cmocka_unit_test(test_error_lines),
        cmocka_unit_test(test_token_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
