#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs/instance_names.h"

#define WRLD "wrld_ba913a96-fac4-4048-a062-9aa5db092812"
#define USR "usr_c1644b5b-3ca4-45b4-97c6-a2a0de70d469"
#define LOC_PUB WRLD ":12345~region(us)"
#define LOC_HID WRLD ":67890~hidden(" USR ")~region(eu)~nonce(abc-def)"
#define LOC_PRIV WRLD ":4242~private(" USR ")~canRequestInvite~region(jp)~nonce(n1)"

/* ------------------------------------------------------------------- xattr names */

static void test_xattr_names_exact(void **state)
{
    (void)state;
    assert_int_equal(instance_names_xattr("user.vrchat.shortName"), IX_SHORT_NAME);
    assert_int_equal(instance_names_xattr("user.vrchat.secureName"), IX_SECURE_NAME);
    assert_int_equal(instance_names_xattr("user.vrchat.invite"), IX_INVITE);
    assert_int_equal(instance_names_xattr("user.vrchat.close"), IX_CLOSE);
}

static void test_xattr_names_others_are_not_ours(void **state)
{
    (void)state;
    const char *others[] = {
        "user.vrchat.shortname", /* case matters, as for every xattr name */
        "user.vrchat.close ",    "user.vrchat.",
        "user.vrchat",           "user.vrchat.closeX",
        "security.capability",   "system.posix_acl_access",
        "trusted.vrchat.close",  "",
        "vrchat.close",          "user.vrchat.invite\n",
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        assert_int_equal(instance_names_xattr(others[i]), IX_NONE);
    assert_int_equal(instance_names_xattr(NULL), IX_NONE);
}

static void test_xattr_list_layout(void **state)
{
    (void)state;
    const char expect[] = "user.vrchat.shortName\0user.vrchat.secureName\0user.vrchat.invite\0"
                          "user.vrchat.close";
    int need = instance_names_xattr_list(NULL, 0);
    assert_int_equal(need, (int)sizeof expect);
    char buf[256];
    memset(buf, 'X', sizeof buf);
    assert_int_equal(instance_names_xattr_list(buf, sizeof buf), need);
    assert_memory_equal(buf, expect, sizeof expect);
    assert_int_equal(buf[need], 'X'); /* nothing written past the end */
    /* Every listed name is one instance_names_xattr() knows. */
    for (const char *p = buf; p < buf + need; p += strlen(p) + 1)
        assert_int_not_equal(instance_names_xattr(p), IX_NONE);
}

static void test_xattr_list_too_small(void **state)
{
    (void)state;
    int need = instance_names_xattr_list(NULL, 0);
    char buf[256];
    memset(buf, 'X', sizeof buf);
    assert_int_equal(instance_names_xattr_list(buf, (size_t)need - 1), -ERANGE);
    assert_int_equal(instance_names_xattr_list(buf, 1), -ERANGE);
    assert_int_equal(buf[0], 'X');
    assert_int_equal(instance_names_xattr_list(buf, (size_t)need), need);
}

/* ---------------------------------------------------------------- close values */

static int close_of(const char *value, struct instances_api_close *how, char *when)
{
    return instance_names_close_value(value, strlen(value), when, 48, how);
}

static void test_close_soft_and_hard(void **state)
{
    (void)state;
    struct instances_api_close how;
    char when[48];
    assert_int_equal(close_of("soft", &how, when), 0);
    assert_false(how.hard);
    assert_null(how.closed_at);
    assert_int_equal(close_of("hard", &how, when), 0);
    assert_true(how.hard);
    assert_null(how.closed_at);
    /* What `echo hard | xargs setfattr` or an editor may leave behind. */
    assert_int_equal(close_of("hard\n", &how, when), 0);
    assert_true(how.hard);
    assert_int_equal(close_of("soft \r\n", &how, when), 0);
    assert_false(how.hard);
    assert_int_equal(instance_names_close_value("hard\0", 5, when, sizeof when, &how), 0);
    assert_true(how.hard);
}

static void test_close_iso_times(void **state)
{
    (void)state;
    struct {
        const char *in, *out;
    } ok[] = {
        {"2030-01-02T03:04:05Z", "2030-01-02T03:04:05Z"},
        {"2030-01-02T03:04:05.123Z", "2030-01-02T03:04:05.123Z"},
        {"2030-01-02T03:04:05+02:00", "2030-01-02T03:04:05+02:00"},
        {"2030-01-02T03:04:05-0530", "2030-01-02T03:04:05-0530"},
        {"2030-01-02T03:04", "2030-01-02T03:04"},
        {"2030-01-02 03:04:05+00:00", "2030-01-02T03:04:05+00:00"}, /* date --rfc-3339 */
        {"2030-01-02t03:04:05z", "2030-01-02T03:04:05Z"},
        {"2028-02-29T00:00:00Z", "2028-02-29T00:00:00Z"},
        {"2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"},
        {"2030-12-31T23:59:60Z", "2030-12-31T23:59:60Z"}, /* a leap second */
        {"2030-01-02T03:04:05,5Z", "2030-01-02T03:04:05,5Z"},
        {"2030-01-02T03:04:05Z\n", "2030-01-02T03:04:05Z"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct instances_api_close how = {.hard = true};
        char when[48];
        assert_int_equal(close_of(ok[i].in, &how, when), 0);
        assert_false(how.hard);
        assert_non_null(how.closed_at);
        assert_ptr_equal(how.closed_at, when);
        assert_string_equal(how.closed_at, ok[i].out);
    }
}

static void test_close_bad_values(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "\n",
        "Soft",
        "HARD",
        "hard!",
        "softly",
        "now",
        "true",
        "1",
        "2030-01-02",
        "2030-01-02T",
        "2030-01-02T03",
        "2030-01-02T3:04:05Z",
        "2030-13-02T03:04:05Z",
        "2030-00-02T03:04:05Z",
        "2030-02-30T03:04:05Z",
        "2029-02-29T03:04:05Z",
        "1900-02-29T03:04:05Z",
        "2030-04-31T03:04:05Z",
        "2030-01-02T24:00:00Z",
        "2030-01-02T03:60:00Z",
        "2030-01-02T03:04:61Z",
        "2030-01-02T03:04:05.Z",
        "2030-01-02T03:04:05.1234567890Z",
        "2030-01-02T03:04:05ZZ",
        "2030-01-02T03:04:05+2",
        "2030-01-02T03:04:05+24:00",
        "2030-01-02T03:04:05+02:60",
        "2030-01-02T03:04:05 Z",
        "2030-01-02T03:04:05Z&hardClose=true",
        "2030-01-02T03:04:05Z/../x",
        "+2030-01-02T03:04:05Z",
        " 2030-01-02T03:04:05Z",
        "2030-01-02T03:04:05Z\nhard",
        "２０３０-01-02T03:04:05Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct instances_api_close how;
        char when[48];
        if (close_of(bad[i], &how, when) != -EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
}

static void test_close_value_not_nul_terminated_and_embedded_nul(void **state)
{
    (void)state;
    struct instances_api_close how;
    char when[48];
    const char text[] = "hardXXXX";
    assert_int_equal(instance_names_close_value(text, 4, when, sizeof when, &how), 0);
    assert_true(how.hard);
    const char t2[] = "2030-01-02T03:04:05Zjunk";
    assert_int_equal(instance_names_close_value(t2, 20, when, sizeof when, &how), 0);
    assert_string_equal(when, "2030-01-02T03:04:05Z");
    const char nul[] = "2030-01-02T03:04\0:05Z";
    assert_int_equal(instance_names_close_value(nul, sizeof nul - 1, when, sizeof when, &how),
                     -EINVAL);
    assert_int_equal(instance_names_close_value(NULL, 0, when, sizeof when, &how), -EINVAL);
}

static void test_close_value_huge_and_small_buffer(void **state)
{
    (void)state;
    struct instances_api_close how;
    char big[4096];
    memset(big, '9', sizeof big);
    char when[48];
    assert_int_equal(instance_names_close_value(big, sizeof big, when, sizeof when, &how), -EINVAL);
    char tiny[8];
    assert_int_equal(
        instance_names_close_value("2030-01-02T03:04:05Z", 20, tiny, sizeof tiny, &how), -EINVAL);
}

static void test_close_value_goes_into_query(void **state)
{
    (void)state;
    struct instances_api_close how;
    char when[48], q[128];
    assert_int_equal(close_of("2030-01-02T03:04:05+02:00", &how, when), 0);
    assert_int_equal(instances_api_close_query(&how, q, sizeof q), 0);
    assert_string_equal(q, "?hardClose=false&closedAt=2030-01-02T03%3A04%3A05%2B02%3A00");
    assert_int_equal(close_of("hard", &how, when), 0);
    assert_int_equal(instances_api_close_query(&how, q, sizeof q), 0);
    assert_string_equal(q, "?hardClose=true");
}

/* ----------------------------------------------------------------- request names */

static void test_request_names(void **state)
{
    (void)state;
    assert_true(instance_names_is_request_name("party.json"));
    assert_true(instance_names_is_request_name("a.json"));
    assert_true(instance_names_is_request_name(".party.json"));
    assert_true(instance_names_is_request_name("my party.json"));
    assert_true(instance_names_is_request_name("x.json.json"));
    assert_false(instance_names_is_request_name(".json"));
    assert_false(instance_names_is_request_name("json"));
    assert_false(instance_names_is_request_name("party"));
    assert_false(instance_names_is_request_name("party.JSON"));
    assert_false(instance_names_is_request_name("party.json~"));
    assert_false(instance_names_is_request_name(".party.json.swp"));
    assert_false(instance_names_is_request_name("4913"));
    assert_false(instance_names_is_request_name(""));
    assert_false(instance_names_is_request_name(NULL));
}

/* ---------------------------------------------------------------------- presence */

static int presence_of(const char *json, char *out, size_t len)
{
    json_error_t e;
    json_t *user = json_loads(json, 0, &e);
    assert_non_null(user);
    int r = instance_names_presence(user, out, len);
    json_decref(user);
    return r;
}

static void test_presence_world_and_instance(void **state)
{
    (void)state;
    char loc[256];
    assert_int_equal(
        presence_of("{\"id\":\"" USR "\",\"presence\":{\"world\":\"" WRLD
                    "\",\"instance\":\"12345~region(us)\",\"instanceType\":\"public\"}}",
                    loc, sizeof loc),
        0);
    assert_string_equal(loc, LOC_PUB);
}

static void test_presence_whole_location_in_instance(void **state)
{
    (void)state;
    char loc[256];
    assert_int_equal(presence_of("{\"presence\":{\"world\":\"" WRLD "\",\"instance\":\"" LOC_HID
                                 "\"}}",
                                 loc, sizeof loc),
                     0);
    assert_string_equal(loc, LOC_HID);
}

static void test_presence_none(void **state)
{
    (void)state;
    const char *users[] = {
        /* NOTES.md 7: an offline user has the string "offline" in both. */
        "{\"presence\":{\"world\":\"offline\",\"instance\":\"offline\",\"instanceType\":\"\"}}",
        "{\"presence\":{\"world\":\"private\",\"instance\":\"private\"}}",
        "{\"presence\":{\"world\":\"traveling\",\"instance\":\"traveling\"}}",
        "{\"presence\":{\"world\":\"\",\"instance\":\"\"}}",
        "{\"presence\":{\"world\":null,\"instance\":null}}",
        "{\"presence\":{\"world\":\"" WRLD "\"}}",
        "{\"presence\":{\"instance\":\"12345\"}}",
        "{\"presence\":{\"world\":\"" WRLD "\",\"instance\":\"offline\"}}",
        "{\"presence\":{\"world\":\"" WRLD "\",\"instance\":\"12/../x\"}}",
        "{\"presence\":{\"world\":\"wrld_a/b\",\"instance\":\"12345\"}}",
        "{\"presence\":{\"world\":42,\"instance\":[]}}",
        "{\"presence\":\"offline\"}",
        "{\"presence\":null}",
        "{}",
        "[]",
        "null",
    };
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
        char loc[256] = "unchanged";
        json_error_t e;
        json_t *u = json_loads(users[i], JSON_DECODE_ANY, &e);
        assert_non_null(u);
        if (instance_names_presence(u, loc, sizeof loc) != -ENOENT)
            fail_msg("found a location in %s: %s", users[i], loc);
        json_decref(u);
    }
    assert_int_equal(instance_names_presence(NULL, NULL, 0), -ENOENT);
}

static void test_presence_too_long_for_buffer(void **state)
{
    (void)state;
    char loc[16];
    assert_int_equal(presence_of("{\"presence\":{\"world\":\"" WRLD
                                 "\",\"instance\":\"12345~region(us)\"}}",
                                 loc, sizeof loc),
                     -ENOENT);
    assert_string_equal(loc, "");
}

/* ----------------------------------------------------------------------- merging */

static void test_merge_order_and_duplicates(void **state)
{
    (void)state;
    char *recent[] = {LOC_HID, LOC_PUB, LOC_HID, LOC_PRIV};
    char *created[] = {LOC_PRIV, WRLD ":999~region(eu)"};
    size_t n = 0;
    char **all = instance_names_merge(LOC_PUB, recent, 4, created, 2, &n);
    assert_non_null(all);
    assert_int_equal(n, 4);
    assert_string_equal(all[0], LOC_PUB);
    assert_string_equal(all[1], LOC_HID);
    assert_string_equal(all[2], LOC_PRIV);
    assert_string_equal(all[3], WRLD ":999~region(eu)");
    assert_null(all[4]);
    instances_api_free_strings(all);
}

static void test_merge_leaves_out_what_is_not_a_location(void **state)
{
    (void)state;
    char *recent[] = {"offline",
                      "",
                      "private",
                      "traveling:traveling",
                      WRLD ":1/../../etc",
                      WRLD ":12345~region(mars)",
                      "wrld_x:1~hidden(usr_a)~hidden(usr_a)",
                      LOC_PUB,
                      WRLD ":%2e%2e"};
    size_t n = 99;
    char **all = instance_names_merge("traveling", recent, 9, NULL, 0, &n);
    assert_non_null(all);
    assert_int_equal(n, 1);
    assert_string_equal(all[0], LOC_PUB);
    instances_api_free_strings(all);
}

static void test_merge_empty(void **state)
{
    (void)state;
    size_t n = 99;
    char **all = instance_names_merge(NULL, NULL, 0, NULL, 0, &n);
    assert_non_null(all);
    assert_int_equal(n, 0);
    assert_null(all[0]);
    instances_api_free_strings(all);
    instances_api_free_strings(NULL);
}

static void test_merge_many(void **state)
{
    (void)state;
    enum { N = 1000 };
    char **recent = calloc(N, sizeof *recent);
    for (int i = 0; i < N; i++) {
        recent[i] = malloc(96);
        snprintf(recent[i], 96, WRLD ":%d~region(us)", i % 700); /* 300 repeats */
    }
    size_t n = 0;
    char **all = instance_names_merge(NULL, recent, N, recent, N, &n);
    assert_non_null(all);
    assert_int_equal(n, 700);
    assert_string_equal(all[699], WRLD ":699~region(us)");
    instances_api_free_strings(all);
    for (int i = 0; i < N; i++)
        free(recent[i]);
    free(recent);
}

/* A server answered 200,000 locations in one page: the old pairwise check took minutes (and
 * meson's time-out fails it); a hash set makes it one pass. */
static void test_merge_200000_distinct_is_one_pass(void **state)
{
    (void)state;
    enum { N = 200000 };
    char **recent = calloc(N, sizeof *recent);
    assert_non_null(recent);
    for (int i = 0; i < N; i++) {
        recent[i] = malloc(96);
        snprintf(recent[i], 96, WRLD ":%d~region(us)", i);
    }
    size_t n = 0;
    char **all = instance_names_merge(WRLD ":7~region(us)", recent, N, recent, 10, &n);
    assert_non_null(all);
    assert_int_equal(n, N);
    assert_string_equal(all[0], WRLD ":7~region(us)");
    assert_string_equal(all[1], WRLD ":0~region(us)");
    assert_string_equal(all[N - 1], WRLD ":199999~region(us)");
    instances_api_free_strings(all);
    for (int i = 0; i < N; i++)
        free(recent[i]);
    free(recent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xattr_names_exact),
        cmocka_unit_test(test_xattr_names_others_are_not_ours),
        cmocka_unit_test(test_xattr_list_layout),
        cmocka_unit_test(test_xattr_list_too_small),
        cmocka_unit_test(test_close_soft_and_hard),
        cmocka_unit_test(test_close_iso_times),
        cmocka_unit_test(test_close_bad_values),
        cmocka_unit_test(test_close_value_not_nul_terminated_and_embedded_nul),
        cmocka_unit_test(test_close_value_huge_and_small_buffer),
        cmocka_unit_test(test_close_value_goes_into_query),
        cmocka_unit_test(test_request_names),
        cmocka_unit_test(test_presence_world_and_instance),
        cmocka_unit_test(test_presence_whole_location_in_instance),
        cmocka_unit_test(test_presence_none),
        cmocka_unit_test(test_presence_too_long_for_buffer),
        cmocka_unit_test(test_merge_order_and_duplicates),
        cmocka_unit_test(test_merge_leaves_out_what_is_not_a_location),
        cmocka_unit_test(test_merge_empty),
        cmocka_unit_test(test_merge_many),
        cmocka_unit_test(test_merge_200000_distinct_is_one_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
