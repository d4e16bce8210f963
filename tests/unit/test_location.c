#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "remote/location.h"

#define WRLD "wrld_ba913a96-fac4-4048-a062-9aa5db092812"
#define USR "usr_c1644b5b-3ca4-45b4-97c6-a2a0de70d469"
#define GRP "grp_71a7ff59-112c-4e78-a990-c7cc650776e5"
#define NONCE "8b6d3f2a-1c4e-4f5a-9b7d-2e6f8a0c1d3e"

static void assert_invalid(const char *s)
{
    struct location loc;

    memset(&loc, 0x5a, sizeof(loc));
    assert_int_equal(location_parse(s, &loc), -EINVAL);
    /* A failed parse leaves the output alone. */
    assert_int_equal(((unsigned char *)&loc)[0], 0x5a);
}

static void test_friends_plus_with_nonce_parses_all_fields(void **state)
{
    (void)state;
    const char *s = WRLD ":12345~hidden(" USR ")~region(eu)~nonce(" NONCE ")";
    struct location loc;

    assert_int_equal(location_parse(s, &loc), 0);
    assert_string_equal(loc.world_id, WRLD);
    assert_string_equal(loc.instance_id, "12345~hidden(" USR ")~region(eu)~nonce(" NONCE ")");
    assert_string_equal(loc.name, "12345");
    assert_string_equal(loc.type, "hidden");
    assert_string_equal(loc.owner_id, USR);
    assert_string_equal(loc.region, "eu");
    assert_string_equal(loc.group_access_type, "");
    assert_false(loc.can_request_invite);
}

static void test_invite_plus_sets_can_request_invite(void **state)
{
    (void)state;
    struct location loc;

    assert_int_equal(
        location_parse(WRLD ":12345~private(" USR ")~canRequestInvite~region(use)", &loc), 0);
    assert_string_equal(loc.type, "private");
    assert_string_equal(loc.owner_id, USR);
    assert_true(loc.can_request_invite);
    assert_string_equal(loc.region, "use");
}

static void test_group_plus_parses_access_type(void **state)
{
    (void)state;
    struct location loc;

    assert_int_equal(
        location_parse(WRLD ":12345~group(" GRP ")~groupAccessType(plus)~region(jp)", &loc), 0);
    assert_string_equal(loc.type, "group");
    assert_string_equal(loc.owner_id, GRP);
    assert_string_equal(loc.group_access_type, "plus");
    assert_string_equal(loc.region, "jp");
    assert_false(loc.can_request_invite);
}

static void test_friends_without_region(void **state)
{
    (void)state;
    struct location loc;

    assert_int_equal(location_parse(WRLD ":12345~friends(" USR ")", &loc), 0);
    assert_string_equal(loc.type, "friends");
    assert_string_equal(loc.owner_id, USR);
    assert_string_equal(loc.region, "");
}

static void test_public_bare_name(void **state)
{
    (void)state;
    struct location loc;

    assert_int_equal(location_parse(WRLD ":12345", &loc), 0);
    assert_string_equal(loc.world_id, WRLD);
    assert_string_equal(loc.instance_id, "12345");
    assert_string_equal(loc.name, "12345");
    assert_string_equal(loc.type, "public");
    assert_string_equal(loc.owner_id, "");
    assert_string_equal(loc.region, "");
    assert_string_equal(loc.group_access_type, "");
    assert_false(loc.can_request_invite);
}

static void test_public_with_region(void **state)
{
    (void)state;
    struct location loc;

    assert_int_equal(location_parse(WRLD ":12345~region(us)", &loc), 0);
    assert_string_equal(loc.type, "public");
    assert_string_equal(loc.region, "us");
}

static void test_other_tokens_kept_in_instance_id(void **state)
{
    (void)state;
    struct location loc;
    const char *inst = "12345~hidden(" USR ")~region(eu)~strict~ageGate";

    assert_int_equal(location_parse(WRLD ":12345~hidden(" USR ")~region(eu)~strict~ageGate", &loc),
                     0);
    assert_string_equal(loc.instance_id, inst);
    assert_string_equal(loc.type, "hidden");
    assert_string_equal(loc.region, "eu");
}

static void test_other_tokens_at_any_position(void **state)
{
    (void)state;
    assert_int_equal(location_parse(WRLD ":12345~strict", NULL), 0);
    assert_int_equal(location_parse(WRLD ":12345~ageGate~region(us)", NULL), 0);
    assert_int_equal(location_parse(WRLD ":12345~private(" USR ")~strict~canRequestInvite", NULL),
                     0);
}

static void test_other_token_with_argument(void **state)
{
    (void)state;
    struct location loc;

    assert_int_equal(location_parse(WRLD ":12345~future(abc-1)", &loc), 0);
    assert_string_equal(loc.instance_id, "12345~future(abc-1)");
}

static void test_alphanumeric_name(void **state)
{
    (void)state;
    struct location loc;

    assert_int_equal(location_parse(WRLD ":MyRoom42~region(us)", &loc), 0);
    assert_string_equal(loc.name, "MyRoom42");
}

static void test_null_out_is_allowed(void **state)
{
    (void)state;
    assert_int_equal(location_parse(WRLD ":12345", NULL), 0);
    assert_int_equal(location_parse("offline", NULL), -EINVAL);
}

static void test_sentinels_rejected(void **state)
{
    (void)state;
    assert_invalid("");
    assert_invalid("offline");
    assert_invalid("private");
    assert_invalid("traveling");
    assert_invalid("traveling:traveling");
}

static void test_null_string_rejected(void **state)
{
    (void)state;
    assert_int_equal(location_parse(NULL, NULL), -EINVAL);
}

static void test_bad_world_ids_rejected(void **state)
{
    (void)state;
    assert_invalid("wrld_:1");
    assert_invalid("wrld_");
    assert_invalid("wrld_abc");
    assert_invalid(":12345");
    assert_invalid("world_abc:12345");
    assert_invalid("WRLD_abc:12345");
    assert_invalid("wrld_a_b:12345");
    assert_invalid("wrld_a.b:12345");
    /* 59 characters after the prefix, one too many. */
    assert_invalid("wrld_01234567890123456789012345678901234567890123456789012345678:1");
}

static void test_world_id_of_58_chars_accepted(void **state)
{
    (void)state;
    const char *w = "wrld_0123456789012345678901234567890123456789012345678901234567";
    struct location loc;
    char s[128];

    assert_int_equal(strlen(w), 5 + 58);
    snprintf(s, sizeof(s), "%s:1", w);
    assert_int_equal(location_parse(s, &loc), 0);
    assert_string_equal(loc.world_id, w);
}

static void test_path_traversal_rejected(void **state)
{
    (void)state;
    assert_invalid("..");
    assert_invalid("../../etc/passwd");
    assert_invalid(WRLD ":..");
    assert_invalid(WRLD ":12345/..");
    assert_invalid(WRLD "/:12345");
    assert_invalid(WRLD ":12345~hidden(usr_a/b)");
    assert_invalid(WRLD ":12345%2F..");
    assert_invalid(WRLD ":12345~region(%2F)");
}

static void test_spaces_and_controls_rejected(void **state)
{
    (void)state;
    assert_invalid(WRLD ":123 45");
    assert_invalid(WRLD ":12345 ");
    assert_invalid(" " WRLD ":12345");
    assert_invalid(WRLD ":12345\n");
    assert_invalid(WRLD ":12345~hidden(usr_a b)");
}

static void test_length_limit(void **state)
{
    (void)state;
    const char *head = WRLD ":1~x(";
    size_t prefix = strlen(WRLD ":");
    char s[LOCATION_MAX + 1];
    struct location loc;

    /* LOCATION_MAX - 1 bytes, padded out by a token argument: accepted. */
    memcpy(s, head, strlen(head));
    memset(s + strlen(head), 'a', LOCATION_MAX - 2 - strlen(head));
    s[LOCATION_MAX - 2] = ')';
    s[LOCATION_MAX - 1] = '\0';
    assert_int_equal(strlen(s), LOCATION_MAX - 1);
    assert_int_equal(location_parse(s, &loc), 0);
    assert_int_equal(strlen(loc.instance_id), LOCATION_MAX - 1 - prefix);

    /* LOCATION_MAX bytes: rejected. */
    s[LOCATION_MAX - 2] = 'a';
    s[LOCATION_MAX - 1] = ')';
    s[LOCATION_MAX] = '\0';
    assert_int_equal(strlen(s), LOCATION_MAX);
    assert_invalid(s);
}

static void test_very_long_string_rejected(void **state)
{
    (void)state;
    static char s[1 << 16];

    memcpy(s, WRLD ":", strlen(WRLD ":"));
    memset(s + strlen(WRLD ":"), '1', sizeof(s) - 1 - strlen(WRLD ":"));
    s[sizeof(s) - 1] = '\0';
    assert_invalid(s);
}

static void test_long_name_rejected(void **state)
{
    (void)state;
    char s[256];

    /* 64 characters: one more than the name field holds. */
    snprintf(s, sizeof(s), WRLD ":%s",
             "1234567890123456789012345678901234567890123456789012345678901234");
    assert_invalid(s);
    s[strlen(s) - 1] = '\0';
    assert_int_equal(location_parse(s, NULL), 0);
}

static void test_long_owner_rejected(void **state)
{
    (void)state;
    char s[256];

    snprintf(s, sizeof(s), WRLD ":1~hidden(usr_%s)",
             "012345678901234567890123456789012345678901234567890123456789");
    assert_invalid(s);
}

static void test_unbalanced_parens_rejected(void **state)
{
    (void)state;
    assert_invalid(WRLD ":12345~hidden(" USR);
    assert_invalid(WRLD ":12345~hidden" USR ")");
    assert_invalid(WRLD ":12345~hidden((" USR "))");
    assert_invalid(WRLD ":12345~region(eu))");
    assert_invalid(WRLD ":12345~region()");
    assert_invalid(WRLD ":12345(~region(eu)");
    assert_invalid(WRLD ":12345~region(eu~nonce(x))");
}

static void test_empty_name_rejected(void **state)
{
    (void)state;
    assert_invalid(WRLD ":");
    assert_invalid(WRLD ":~region(eu)");
    assert_invalid(WRLD ":~hidden(" USR ")");
}

static void test_malformed_tokens_rejected(void **state)
{
    (void)state;
    assert_invalid(WRLD ":12345~");
    assert_invalid(WRLD ":12345~~region(eu)");
    assert_invalid(WRLD ":12345~(x)");
    assert_invalid(WRLD ":12345~region(eu)x");
    assert_invalid(WRLD ":12345:6789");
    assert_invalid(WRLD ":12345~region(e:u)");
    assert_invalid(WRLD ":123-45");
}

static void test_repeated_tokens_rejected(void **state)
{
    (void)state;
    assert_invalid(WRLD ":12345~region(eu)~region(eu)");
    assert_invalid(WRLD ":12345~hidden(" USR ")~hidden(" USR ")");
    assert_invalid(WRLD ":12345~hidden(" USR ")~friends(" USR ")");
    assert_invalid(WRLD ":12345~private(" USR ")~canRequestInvite~canRequestInvite");
    assert_invalid(WRLD ":12345~nonce(a)~nonce(a)");
    assert_invalid(WRLD ":12345~strict~strict");
}

static void test_wrong_order_rejected(void **state)
{
    (void)state;
    assert_invalid(WRLD ":12345~region(eu)~hidden(" USR ")");
    assert_invalid(WRLD ":12345~nonce(" NONCE ")~region(eu)");
    assert_invalid(WRLD ":12345~canRequestInvite~private(" USR ")");
    assert_invalid(WRLD ":12345~group(" GRP ")~region(jp)~groupAccessType(plus)");
    assert_invalid(WRLD ":12345~private(" USR ")~region(eu)~canRequestInvite");
}

static void test_unknown_values_rejected(void **state)
{
    (void)state;
    assert_invalid(WRLD ":12345~region(mars)");
    assert_invalid(WRLD ":12345~region(EU)");
    assert_invalid(WRLD ":12345~region(unknown)");
    assert_invalid(WRLD ":12345~group(" GRP ")~groupAccessType(everyone)");
    assert_invalid(WRLD ":12345~public(" USR ")");
}

static void test_token_argument_rules(void **state)
{
    (void)state;
    assert_invalid(WRLD ":12345~hidden");
    assert_invalid(WRLD ":12345~region");
    assert_invalid(WRLD ":12345~nonce");
    assert_invalid(WRLD ":12345~private(" USR ")~canRequestInvite(yes)");
    assert_invalid(WRLD ":12345~groupAccessType(plus)");
    assert_invalid(WRLD ":12345~hidden(" USR ")~groupAccessType(plus)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_friends_plus_with_nonce_parses_all_fields),
        cmocka_unit_test(test_invite_plus_sets_can_request_invite),
        cmocka_unit_test(test_group_plus_parses_access_type),
        cmocka_unit_test(test_friends_without_region),
        cmocka_unit_test(test_public_bare_name),
        cmocka_unit_test(test_public_with_region),
        cmocka_unit_test(test_other_tokens_kept_in_instance_id),
        cmocka_unit_test(test_other_tokens_at_any_position),
        cmocka_unit_test(test_other_token_with_argument),
        cmocka_unit_test(test_alphanumeric_name),
        cmocka_unit_test(test_null_out_is_allowed),
        cmocka_unit_test(test_sentinels_rejected),
        cmocka_unit_test(test_null_string_rejected),
        cmocka_unit_test(test_bad_world_ids_rejected),
        cmocka_unit_test(test_world_id_of_58_chars_accepted),
        cmocka_unit_test(test_path_traversal_rejected),
        cmocka_unit_test(test_spaces_and_controls_rejected),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_very_long_string_rejected),
        cmocka_unit_test(test_long_name_rejected),
        cmocka_unit_test(test_long_owner_rejected),
        cmocka_unit_test(test_unbalanced_parens_rejected),
        cmocka_unit_test(test_empty_name_rejected),
        cmocka_unit_test(test_malformed_tokens_rejected),
        cmocka_unit_test(test_repeated_tokens_rejected),
        cmocka_unit_test(test_wrong_order_rejected),
        cmocka_unit_test(test_unknown_values_rejected),
        cmocka_unit_test(test_token_argument_rules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
