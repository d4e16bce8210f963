#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "remote/api_json.h"

static json_t *parse(const char *text)
{
    json_error_t err;
    return api_json_parse(text, strlen(text), &err);
}

/* A \u0000 inside one File's name must not fail the whole page. */
static void test_nul_in_a_string_is_allowed(void **state)
{
    (void)state;
    json_t *v = parse("[{\"name\":\"a\\u0000b\"},{\"name\":\"c\"}]");
    assert_non_null(v);
    json_t *name = json_object_get(json_array_get(v, 0), "name");
    assert_int_equal(json_string_length(name), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 1), "name")), "c");
    json_decref(v);
}

/* An integer above 2^64 in one File must not fail the whole page; it becomes its digits. */
static void test_huge_integer_becomes_a_string(void **state)
{
    (void)state;
    json_t *v = parse("[{\"sizeInBytes\":123456789012345678901234567890,\"version\":-99999999999"
                      "999999999},{\"sizeInBytes\":42}]");
    assert_non_null(v);
    json_t *a = json_array_get(v, 0);
    assert_string_equal(json_string_value(json_object_get(a, "sizeInBytes")),
                        "123456789012345678901234567890");
    assert_string_equal(json_string_value(json_object_get(a, "version")), "-99999999999999999999");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(v, 1), "sizeInBytes")), 42);
    json_decref(v);
}

/* Numbers jansson can hold keep their exact value and type, even next to a huge one. */
static void test_normal_numbers_keep_their_precision(void **state)
{
    (void)state;
    json_t *v = parse("{\"big\":1e999,\"max\":9223372036854775807,\"min\":-9223372036854775808,"
                      "\"real\":0.5,\"exp\":1e3,\"s\":\"99999999999999999999\","
                      "\"esc\":\"\\\"1e999\",\"n\":1}");
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "big")), "1e999");
    assert_true(json_is_integer(json_object_get(v, "max")));
    assert_true(json_integer_value(json_object_get(v, "max")) == INT64_MAX);
    assert_true(json_integer_value(json_object_get(v, "min")) == INT64_MIN);
    assert_true(json_is_real(json_object_get(v, "real")));
    assert_true(json_is_real(json_object_get(v, "exp")));
    assert_string_equal(json_string_value(json_object_get(v, "s")), "99999999999999999999");
    assert_string_equal(json_string_value(json_object_get(v, "esc")), "\"1e999");
    assert_int_equal(json_integer_value(json_object_get(v, "n")), 1);
    json_decref(v);
}

static void test_just_above_int64_is_a_string(void **state)
{
    (void)state;
    json_t *v = parse("[9223372036854775808,-9223372036854775809]");
    assert_non_null(v);
    assert_string_equal(json_string_value(json_array_get(v, 0)), "9223372036854775808");
    assert_string_equal(json_string_value(json_array_get(v, 1)), "-9223372036854775809");
    json_decref(v);
}

static void test_garbage_is_still_refused(void **state)
{
    (void)state;
    assert_null(parse("[1,"));
    assert_null(parse("[99999999999999999999999,"));
    assert_null(parse("[--99999999999999999999999]"));
    assert_null(parse("<html>"));
    assert_null(parse(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_in_a_string_is_allowed),
        cmocka_unit_test(test_huge_integer_becomes_a_string),
        cmocka_unit_test(test_normal_numbers_keep_their_precision),
        cmocka_unit_test(test_just_above_int64_is_a_string),
        cmocka_unit_test(test_garbage_is_still_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
