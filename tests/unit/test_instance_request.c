#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote/instance_request.h"

#define WRLD "wrld_ba913a96-fac4-4048-a062-9aa5db092812"
#define USR "usr_c1644b5b-3ca4-45b4-97c6-a2a0de70d469"
#define ME "usr_00000000-1111-2222-3333-444444444444"
#define GRP "grp_71a7ff59-112c-4e78-a990-c7cc650776e5"

/* The live example from NOTES.md 4, with real-looking ids. */
#define LIVE                                                                                       \
    "{\"worldId\":\"" WRLD "\",\"type\":\"private\",\"region\":\"use\",\"ownerId\":\"" USR         \
    "\",\"canRequestInvite\":true,\"displayName\":\"7btepm24\",\"contentSettings\":{\"drones\":"   \
    "false,\"props\":true}}"

static char err[256];

static json_t *parse(const char *text, const char *owner)
{
    memset(err, 'X', sizeof(err) - 1);
    err[sizeof(err) - 1] = '\0';
    return instance_request_parse(text, strlen(text), owner, err, sizeof(err));
}

static void assert_one_line(void)
{
    assert_null(strchr(err, '\n'));
    assert_null(strchr(err, '\r'));
    assert_true(strlen(err) > 0);
    assert_true(strlen(err) < sizeof(err) - 1);
}

/* Parsing must fail with exactly this message. */
static void assert_rejected(const char *text, const char *message)
{
    json_t *req = parse(text, NULL);

    if (req)
        json_decref(req);
    assert_null(req);
    assert_string_equal(err, message);
}

static void test_live_example_is_valid(void **state)
{
    (void)state;
    json_t *req = parse(LIVE, ME);
    json_t *cs;

    assert_non_null(req);
    assert_string_equal(json_string_value(json_object_get(req, "worldId")), WRLD);
    assert_string_equal(json_string_value(json_object_get(req, "type")), "private");
    assert_string_equal(json_string_value(json_object_get(req, "region")), "use");
    /* An explicit ownerId wins over the default. */
    assert_string_equal(json_string_value(json_object_get(req, "ownerId")), USR);
    assert_true(json_is_true(json_object_get(req, "canRequestInvite")));
    assert_string_equal(json_string_value(json_object_get(req, "displayName")), "7btepm24");
    cs = json_object_get(req, "contentSettings");
    assert_true(json_is_false(json_object_get(cs, "drones")));
    assert_true(json_is_true(json_object_get(cs, "props")));
    assert_int_equal(json_object_size(req), 7);
    json_decref(req);
}

static void test_text_is_not_nul_terminated(void **state)
{
    (void)state;
    char buf[sizeof(LIVE) + 8];
    json_t *req;

    memcpy(buf, LIVE, strlen(LIVE));
    memcpy(buf + strlen(LIVE), "garbage", 8);
    req = instance_request_parse(buf, strlen(LIVE), NULL, err, sizeof(err));
    assert_non_null(req);
    json_decref(req);
}

static void test_every_optional_field_accepted(void **state)
{
    (void)state;
    json_t *req = parse("{\"worldId\":\"" WRLD "\",\"type\":\"group\",\"region\":\"jp\","
                        "\"ownerId\":\"" GRP "\",\"canRequestInvite\":false,\"inviteOnly\":true,"
                        "\"groupAccessType\":\"members\",\"roleIds\":[\"grol_1\",\"grol_2\"],"
                        "\"queueEnabled\":true,\"ageGate\":false,\"closedAt\":"
                        "\"2030-01-01T00:00:00.000Z\",\"hardClose\":false,\"displayName\":null,"
                        "\"contentSettings\":{},\"instancePersistenceEnabled\":null,"
                        "\"playerPersistenceEnabled\":true,\"calendarEntryId\":\"cal_1\"}",
                        ME);

    assert_non_null(req);
    assert_int_equal(json_object_size(req), 17);
    /* Group instances are owned by the group: no default owner is added. */
    assert_string_equal(json_string_value(json_object_get(req, "ownerId")), GRP);
    json_decref(req);
}

static void test_missing_world_id(void **state)
{
    (void)state;
    assert_rejected("{\"type\":\"public\",\"region\":\"us\"}",
                    "worldId: required field is missing");
}

static void test_missing_type(void **state)
{
    (void)state;
    assert_rejected("{\"worldId\":\"" WRLD "\",\"region\":\"us\"}",
                    "type: required field is missing");
}

static void test_missing_region(void **state)
{
    (void)state;
    assert_rejected("{\"worldId\":\"" WRLD "\",\"type\":\"public\"}",
                    "region: required field is missing");
}

static void test_bad_world_ids(void **state)
{
    (void)state;
    const char *msg = "worldId: must be a string \"wrld_\" followed by letters, digits and '-'";

    assert_rejected("{\"worldId\":42,\"type\":\"public\",\"region\":\"us\"}", msg);
    assert_rejected("{\"worldId\":\"usr_x\",\"type\":\"public\",\"region\":\"us\"}", msg);
    assert_rejected("{\"worldId\":\"wrld_\",\"type\":\"public\",\"region\":\"us\"}", msg);
    assert_rejected("{\"worldId\":\"wrld_../x\",\"type\":\"public\",\"region\":\"us\"}", msg);
    assert_rejected("{\"worldId\":null,\"type\":\"public\",\"region\":\"us\"}", msg);
}

static void test_wrong_enum_values(void **state)
{
    (void)state;
    assert_rejected("{\"worldId\":\"" WRLD "\",\"type\":\"invite\",\"region\":\"us\"}",
                    "type: must be one of friends|group|hidden|private|public");
    assert_rejected("{\"worldId\":\"" WRLD "\",\"type\":\"Public\",\"region\":\"us\"}",
                    "type: must be one of friends|group|hidden|private|public");
    assert_rejected("{\"worldId\":\"" WRLD "\",\"type\":\"public\",\"region\":\"usw\"}",
                    "region: must be one of eu|jp|unknown|us|use");
    assert_rejected("{\"worldId\":\"" WRLD "\",\"type\":\"group\",\"region\":\"us\","
                    "\"groupAccessType\":\"everyone\"}",
                    "groupAccessType: must be one of members|plus|public");
}

static void test_enum_of_wrong_json_type(void **state)
{
    (void)state;
    assert_rejected("{\"worldId\":\"" WRLD "\",\"type\":1,\"region\":\"us\"}",
                    "type: must be one of friends|group|hidden|private|public");
    assert_rejected("{\"worldId\":\"" WRLD "\",\"type\":\"public\",\"region\":[\"us\"]}",
                    "region: must be one of eu|jp|unknown|us|use");
}

static void test_wrong_types_of_optional_fields(void **state)
{
    (void)state;
#define BASE "{\"worldId\":\"" WRLD "\",\"type\":\"hidden\",\"region\":\"eu\","
    assert_rejected(BASE "\"ownerId\":5}", "ownerId: must be a string or null");
    assert_rejected(BASE "\"canRequestInvite\":\"true\"}", "canRequestInvite: must be a boolean");
    assert_rejected(BASE "\"inviteOnly\":1}", "inviteOnly: must be a boolean");
    assert_rejected(BASE "\"queueEnabled\":null}", "queueEnabled: must be a boolean");
    assert_rejected(BASE "\"ageGate\":0}", "ageGate: must be a boolean");
    assert_rejected(BASE "\"hardClose\":{}}", "hardClose: must be a boolean");
    assert_rejected(BASE "\"roleIds\":\"grol_1\"}", "roleIds: must be an array of strings");
    assert_rejected(BASE "\"roleIds\":[\"grol_1\",2]}", "roleIds: must be an array of strings");
    assert_rejected(BASE "\"closedAt\":1700000000}", "closedAt: must be a string");
    assert_rejected(BASE "\"displayName\":false}", "displayName: must be a string or null");
    assert_rejected(BASE "\"contentSettings\":[]}",
                    "contentSettings: must be an object of booleans");
    assert_rejected(BASE "\"contentSettings\":{\"drones\":true,\"props\":\"no\"}}",
                    "contentSettings.props: must be a boolean");
    assert_rejected(BASE "\"instancePersistenceEnabled\":\"yes\"}",
                    "instancePersistenceEnabled: must be a boolean or null");
    assert_rejected(BASE "\"playerPersistenceEnabled\":1}",
                    "playerPersistenceEnabled: must be a boolean or null");
    assert_rejected(BASE "\"calendarEntryId\":null}", "calendarEntryId: must be a string");
#undef BASE
}

static void test_closed_at_not_for_public(void **state)
{
    (void)state;
    json_t *req;

    assert_rejected("{\"worldId\":\"" WRLD "\",\"type\":\"public\",\"region\":\"us\","
                    "\"closedAt\":\"2030-01-01T00:00:00Z\"}",
                    "closedAt: not allowed for a public instance");
    req = parse("{\"worldId\":\"" WRLD "\",\"type\":\"hidden\",\"region\":\"us\","
                "\"closedAt\":\"2030-01-01T00:00:00Z\"}",
                NULL);
    assert_non_null(req);
    json_decref(req);
}

static void test_owner_filled_for_private(void **state)
{
    (void)state;
    json_t *req = parse("{\"worldId\":\"" WRLD "\",\"type\":\"private\",\"region\":\"eu\"}", ME);

    assert_non_null(req);
    assert_string_equal(json_string_value(json_object_get(req, "ownerId")), ME);
    json_decref(req);
}

static void test_owner_filled_for_friends_and_hidden(void **state)
{
    (void)state;
    json_t *a = parse("{\"worldId\":\"" WRLD "\",\"type\":\"friends\",\"region\":\"eu\"}", ME);
    json_t *b = parse("{\"worldId\":\"" WRLD "\",\"type\":\"hidden\",\"region\":\"eu\"}", ME);

    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(a, "ownerId")), ME);
    assert_string_equal(json_string_value(json_object_get(b, "ownerId")), ME);
    json_decref(a);
    json_decref(b);
}

static void test_owner_not_filled_for_public_or_group(void **state)
{
    (void)state;
    json_t *a = parse("{\"worldId\":\"" WRLD "\",\"type\":\"public\",\"region\":\"eu\"}", ME);
    json_t *b = parse("{\"worldId\":\"" WRLD "\",\"type\":\"group\",\"region\":\"eu\"}", ME);

    assert_non_null(a);
    assert_non_null(b);
    assert_null(json_object_get(a, "ownerId"));
    assert_null(json_object_get(b, "ownerId"));
    json_decref(a);
    json_decref(b);
}

static void test_owner_not_filled_without_default_or_when_null(void **state)
{
    (void)state;
    json_t *a = parse("{\"worldId\":\"" WRLD "\",\"type\":\"private\",\"region\":\"eu\"}", NULL);
    json_t *b = parse(
        "{\"worldId\":\"" WRLD "\",\"type\":\"private\",\"region\":\"eu\",\"ownerId\":null}", ME);

    assert_non_null(a);
    assert_non_null(b);
    assert_null(json_object_get(a, "ownerId"));
    /* An explicit null is the user's choice, not an absence. */
    assert_true(json_is_null(json_object_get(b, "ownerId")));
    json_decref(a);
    json_decref(b);
}

static void test_unknown_fields_passed_through(void **state)
{
    (void)state;
    json_t *req = parse("{\"worldId\":\"" WRLD "\",\"type\":\"public\",\"region\":\"us\","
                        "\"futureFlag\":[1,{\"a\":null}],\"note\":\"hi\"}",
                        NULL);
    json_t *want = json_loads("[1,{\"a\":null}]", 0, NULL);

    assert_non_null(req);
    assert_true(json_equal(json_object_get(req, "futureFlag"), want));
    assert_string_equal(json_string_value(json_object_get(req, "note")), "hi");
    assert_int_equal(json_object_size(req), 5);
    json_decref(want);
    json_decref(req);
}

static void test_not_an_object(void **state)
{
    (void)state;
    assert_rejected("[]", "request: must be a JSON object");
    assert_rejected("[{\"worldId\":\"" WRLD "\"}]", "request: must be a JSON object");
    assert_rejected("\"" WRLD "\"", "request: must be a JSON object");
    assert_rejected("42", "request: must be a JSON object");
    assert_rejected("true", "request: must be a JSON object");
}

static void test_literal_null(void **state)
{
    (void)state;
    assert_rejected("null", "request: must be a JSON object");
}

static void test_invalid_json(void **state)
{
    (void)state;
    json_t *req = parse("{\"worldId\": \"" WRLD "\",\n  \"type\": public}", NULL);

    assert_null(req);
    assert_int_equal(strncmp(err, "request: invalid JSON at line 2, column ", 40), 0);
    assert_one_line();
}

static void test_empty_text(void **state)
{
    (void)state;
    json_t *req = parse("", NULL);

    assert_null(req);
    assert_int_equal(strncmp(err, "request: invalid JSON", 21), 0);
    assert_one_line();
    req = instance_request_parse(NULL, 0, NULL, err, sizeof(err));
    assert_null(req);
    assert_int_equal(strncmp(err, "request: invalid JSON", 21), 0);
}

static void test_duplicate_keys_rejected(void **state)
{
    (void)state;
    json_t *req = parse("{\"worldId\":\"" WRLD "\",\"type\":\"public\",\"type\":\"private\","
                        "\"region\":\"us\"}",
                        NULL);

    assert_null(req);
    assert_int_equal(strncmp(err, "request: invalid JSON", 21), 0);
    assert_one_line();
}

static void test_control_characters_do_not_break_the_line(void **state)
{
    (void)state;
    /* A raw newline inside a string is invalid JSON, and jansson quotes the token. */
    json_t *req = parse("{\"worldId\":\"wrld_a\nb\r\"}", NULL);

    assert_null(req);
    assert_one_line();
}

static char *huge_request(const char *field, size_t n)
{
    char *text = malloc(n + 256);
    int used;

    assert_non_null(text);
    used = snprintf(text, 256,
                    "{\"worldId\":\"" WRLD "\",\"type\":\"public\",\"region\":\"us\",\"%s\":\"",
                    field);
    memset(text + used, 'a', n);
    strcpy(text + used + n, "\"}");
    return text;
}

static void test_huge_display_name_passes_through(void **state)
{
    (void)state;
    char *text = huge_request("displayName", 1 << 20);
    json_t *req = parse(text, NULL);

    assert_non_null(req);
    assert_int_equal(strlen(json_string_value(json_object_get(req, "displayName"))), 1 << 20);
    json_decref(req);
    free(text);
}

static void test_huge_bad_value_gives_short_message(void **state)
{
    (void)state;
    char *text = huge_request("worldId", 1 << 20);
    json_t *req;

    /* The huge worldId comes last and replaces the valid one: a duplicate key. */
    req = parse(text, NULL);
    assert_null(req);
    assert_one_line();
    free(text);

    text = malloc((1 << 20) + 64);
    assert_non_null(text);
    strcpy(text, "{\"worldId\":\"wrld_");
    memset(text + strlen(text), 'a', 1 << 20);
    strcpy(text + strlen("{\"worldId\":\"wrld_") + (1 << 20), "\"}");
    req = parse(text, NULL);
    assert_null(req);
    assert_string_equal(err,
                        "worldId: must be a string \"wrld_\" followed by letters, digits and '-'");
    free(text);
}

static void test_huge_unterminated_string(void **state)
{
    (void)state;
    char *text = malloc((1 << 20) + 16);
    json_t *req;

    assert_non_null(text);
    strcpy(text, "{\"a\":\"");
    memset(text + 6, 'a', 1 << 20);
    text[6 + (1 << 20)] = '\0';
    req = parse(text, NULL);
    assert_null(req);
    assert_int_equal(strncmp(err, "request: invalid JSON", 21), 0);
    assert_one_line();
    free(text);
}

static void test_small_error_buffer_is_truncated_safely(void **state)
{
    (void)state;
    char small[8];
    json_t *req = instance_request_parse("null", 4, NULL, small, sizeof(small));

    assert_null(req);
    assert_string_equal(small, "request");
    assert_null(instance_request_parse("null", 4, NULL, NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_example_is_valid),
        cmocka_unit_test(test_text_is_not_nul_terminated),
        cmocka_unit_test(test_every_optional_field_accepted),
        cmocka_unit_test(test_missing_world_id),
        cmocka_unit_test(test_missing_type),
        cmocka_unit_test(test_missing_region),
        cmocka_unit_test(test_bad_world_ids),
        cmocka_unit_test(test_wrong_enum_values),
        cmocka_unit_test(test_enum_of_wrong_json_type),
        cmocka_unit_test(test_wrong_types_of_optional_fields),
        cmocka_unit_test(test_closed_at_not_for_public),
        cmocka_unit_test(test_owner_filled_for_private),
        cmocka_unit_test(test_owner_filled_for_friends_and_hidden),
        cmocka_unit_test(test_owner_not_filled_for_public_or_group),
        cmocka_unit_test(test_owner_not_filled_without_default_or_when_null),
        cmocka_unit_test(test_unknown_fields_passed_through),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_literal_null),
        cmocka_unit_test(test_invalid_json),
        cmocka_unit_test(test_empty_text),
        cmocka_unit_test(test_duplicate_keys_rejected),
        cmocka_unit_test(test_control_characters_do_not_break_the_line),
        cmocka_unit_test(test_huge_display_name_passes_through),
        cmocka_unit_test(test_huge_bad_value_gives_short_message),
        cmocka_unit_test(test_huge_unterminated_string),
        cmocka_unit_test(test_small_error_buffer_is_truncated_safely),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
