#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfs/staging.h"

#define FID "file_0a1b2c3d-1111-2222-3333-444455556666"

static struct staging_record version_record(void)
{
    struct staging_record r = {0};
    r.kind = STAGING_VERSION;
    r.state = STAGING_CLOSED;
    strcpy(r.dir, FID);
    strcpy(r.file_id, FID);
    strcpy(r.name, "Avatar Image.png");
    strcpy(r.mime, "image/png");
    r.size = 6 * 1024 * 1024;
    strcpy(r.md5, "1B2M2Y8AsgTpgAmY7PhCfg==");
    r.time = 1700000000;
    return r;
}

/* --- sidecar round trip ----------------------------------------------------------------------- */

static void test_record_round_trip(void **state)
{
    (void)state;
    struct staging_record r = version_record(), back;
    json_t *obj = staging_record_to_json(&r);
    assert_non_null(obj);
    /* Through text, as it goes to disk. */
    char *text = json_dumps(obj, 0);
    json_decref(obj);
    obj = json_loads(text, 0, NULL);
    free(text);
    assert_int_equal(staging_record_from_json(obj, &back), 0);
    json_decref(obj);
    assert_int_equal(back.kind, STAGING_VERSION);
    assert_int_equal(back.state, STAGING_CLOSED);
    assert_string_equal(back.dir, FID);
    assert_string_equal(back.file_id, FID);
    assert_string_equal(back.name, "Avatar Image.png");
    assert_string_equal(back.mime, "image/png");
    assert_int_equal(back.size, 6 * 1024 * 1024);
    assert_string_equal(back.md5, "1B2M2Y8AsgTpgAmY7PhCfg==");
    assert_int_equal(back.time, 1700000000);
}

static void test_record_new_file_round_trip(void **state)
{
    (void)state;
    struct staging_record r = {0}, back;
    r.kind = STAGING_NEW;
    r.state = STAGING_WRITING;
    strcpy(r.name, "photo.png");
    strcpy(r.new_name, "photo");
    strcpy(r.extension, ".png");
    strcpy(r.mime, "image/png");
    json_t *obj = staging_record_to_json(&r);
    assert_int_equal(staging_record_from_json(obj, &back), 0);
    assert_int_equal(back.kind, STAGING_NEW);
    assert_string_equal(back.file_id, "");
    assert_string_equal(back.new_name, "photo");
    assert_string_equal(back.extension, ".png");
    json_decref(obj);
    /* Made in by-tag/<tag>/: the place says which tag the File gets. */
    strcpy(r.dir, "by-tag/sticker");
    obj = staging_record_to_json(&r);
    assert_int_equal(staging_record_from_json(obj, &back), 0);
    assert_string_equal(back.dir, "by-tag/sticker");
    json_decref(obj);
}

static void expect_refused(const char *text)
{
    struct staging_record r;
    json_t *obj = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_int_equal(staging_record_from_json(obj, &r), -EINVAL);
    json_decref(obj);
}

static void test_record_refuses_what_it_must_not_act_on(void **state)
{
    (void)state;
    expect_refused("null");
    expect_refused("[]");
    expect_refused("{}");
    expect_refused("{\"format\":2,\"kind\":\"temp\",\"state\":\"writing\",\"name\":\"x\"}");
    expect_refused("{\"format\":1,\"kind\":\"other\",\"state\":\"writing\",\"name\":\"x\"}");
    expect_refused("{\"format\":1,\"kind\":\"temp\",\"state\":\"gone\",\"name\":\"x\"}");
    expect_refused("{\"format\":1,\"kind\":\"temp\",\"state\":\"writing\",\"name\":\"\"}");
    expect_refused("{\"format\":1,\"kind\":\"temp\",\"state\":\"writing\",\"name\":\"a/b\"}");
    expect_refused("{\"format\":1,\"kind\":\"temp\",\"state\":\"writing\",\"name\":\"..\"}");
    expect_refused("{\"format\":1,\"kind\":\"temp\",\"state\":\"writing\",\"name\":3}");
    /* A version needs its File, in its own directory. */
    expect_refused("{\"format\":1,\"kind\":\"version\",\"state\":\"closed\",\"name\":\"x.png\"}");
    expect_refused("{\"format\":1,\"kind\":\"version\",\"state\":\"closed\",\"name\":\"x.png\","
                   "\"dir\":\"" FID "\",\"file_id\":\"file_other\"}");
    expect_refused("{\"format\":1,\"kind\":\"version\",\"state\":\"closed\",\"name\":\"x.png\","
                   "\"dir\":\"../etc\",\"file_id\":\"../etc\"}");
    /* A new File needs an extension and lives in /files or a known tag's directory. */
    expect_refused("{\"format\":1,\"kind\":\"new\",\"state\":\"closed\",\"name\":\"x.png\","
                   "\"extension\":\".png\",\"dir\":\"by-tag/nope\"}");
    expect_refused("{\"format\":1,\"kind\":\"new\",\"state\":\"closed\",\"name\":\"x.png\","
                   "\"extension\":\".png\",\"dir\":\"by-tag/../..\"}");
    expect_refused("{\"format\":1,\"kind\":\"new\",\"state\":\"closed\",\"name\":\"x\"}");
    expect_refused("{\"format\":1,\"kind\":\"new\",\"state\":\"closed\",\"name\":\"x.png\","
                   "\"extension\":\".png\",\"dir\":\"" FID "\"}");
    /* Oversized strings are refused, not cut. */
    char big[600];
    memset(big, 'a', sizeof big);
    big[sizeof big - 1] = '\0';
    char text[800];
    snprintf(text, sizeof text,
             "{\"format\":1,\"kind\":\"temp\",\"state\":\"writing\",\"name\":\"%s\"}", big);
    expect_refused(text);
}

/* --- recovery decisions ---------------------------------------------------------------------- */

static void test_recovery_uploads_complete_data(void **state)
{
    (void)state;
    struct staging_record r = version_record();
    assert_int_equal(staging_recovery_action(&r, true, r.size), STAGING_ACT_UPLOAD);
}

static void test_recovery_keeps_what_may_be_incomplete(void **state)
{
    (void)state;
    struct staging_record r = version_record();
    assert_int_equal(staging_recovery_action(&r, true, r.size - 1), STAGING_ACT_KEEP);
    r.state = STAGING_WRITING;
    assert_int_equal(staging_recovery_action(&r, true, r.size), STAGING_ACT_KEEP);
}

static void test_recovery_discards_what_loses_nothing(void **state)
{
    (void)state;
    struct staging_record r = version_record();
    assert_int_equal(staging_recovery_action(&r, false, 0), STAGING_ACT_DISCARD);
    r.state = STAGING_UPLOADED;
    assert_int_equal(staging_recovery_action(&r, true, r.size), STAGING_ACT_DISCARD);
    r.state = STAGING_CLOSED;
    r.kind = STAGING_TEMP;
    assert_int_equal(staging_recovery_action(&r, true, r.size), STAGING_ACT_DISCARD);
}

/* --- cache_size budget ----------------------------------------------------------------------- */

static void test_space_grows_to_the_limit_and_no_further(void **state)
{
    (void)state;
    struct staging_space s = {.used = 0, .limit = 100};
    assert_int_equal(staging_space_resize(&s, 0, 60), 0);
    assert_int_equal(s.used, 60);
    assert_int_equal(staging_space_resize(&s, 0, 41), -ENOSPC);
    assert_int_equal(s.used, 60); /* a refusal changes nothing */
    assert_int_equal(staging_space_resize(&s, 0, 40), 0);
    assert_int_equal(s.used, 100);
    assert_int_equal(staging_space_resize(&s, 40, 41), -ENOSPC);
    assert_int_equal(staging_space_resize(&s, 60, 10), 0); /* shrinking frees */
    assert_int_equal(s.used, 50);
    assert_int_equal(staging_space_resize(&s, 10, 60), 0);
    assert_int_equal(s.used, 100);
}

static void test_space_over_the_limit_refuses_growth_only(void **state)
{
    (void)state;
    /* Leftovers of an earlier run may already exceed a lowered limit. */
    struct staging_space s = {.used = 150, .limit = 100};
    assert_int_equal(staging_space_resize(&s, 0, 1), -ENOSPC);
    assert_int_equal(staging_space_resize(&s, 50, 0), 0);
    assert_int_equal(s.used, 100);
    assert_int_equal(staging_space_resize(&s, 500, 0), 0); /* never below zero */
    assert_int_equal(s.used, 0);
}

static void test_space_huge_sizes_do_not_wrap(void **state)
{
    (void)state;
    struct staging_space s = {.used = 10, .limit = 100};
    assert_int_equal(staging_space_resize(&s, 0, UINT64_MAX), -ENOSPC);
    assert_int_equal(staging_space_resize(&s, 1, UINT64_MAX - 5), -ENOSPC);
    assert_int_equal(s.used, 10);
}

/* --- digesting in order ----------------------------------------------------------------------- */

static void test_hash_sequential_writes_feed(void **state)
{
    (void)state;
    struct staging_hash h;
    staging_hash_init(&h);
    assert_int_equal(staging_hash_write(&h, 0, 4096), STAGING_HASH_FEED);
    assert_int_equal(staging_hash_write(&h, 4096, 100), STAGING_HASH_FEED);
    assert_int_equal(staging_hash_write(&h, 4196, 0), STAGING_HASH_FEED);
    assert_true(h.valid);
    assert_int_equal(h.hashed, 4196);
    assert_int_equal(staging_hash_truncate(&h, 4196), STAGING_HASH_KEEP);
    assert_true(h.valid);
}

static void test_hash_rewrite_breaks_order(void **state)
{
    (void)state;
    struct staging_hash h;
    staging_hash_init(&h);
    staging_hash_write(&h, 0, 8192);
    assert_int_equal(staging_hash_write(&h, 100, 10), STAGING_HASH_DROP);
    assert_false(h.valid);
    assert_int_equal(staging_hash_write(&h, 8192, 10), STAGING_HASH_SKIP);
    /* Truncating to 0 starts over, as `>` and O_TRUNC do. */
    assert_int_equal(staging_hash_truncate(&h, 0), STAGING_HASH_RESET);
    assert_true(h.valid);
    assert_int_equal(h.hashed, 0);
    assert_int_equal(staging_hash_write(&h, 0, 1), STAGING_HASH_FEED);
}

static void test_hash_holes_and_truncates_break_order(void **state)
{
    (void)state;
    struct staging_hash h;
    staging_hash_init(&h);
    assert_int_equal(staging_hash_write(&h, 10, 10), STAGING_HASH_DROP); /* a hole first */
    staging_hash_init(&h);
    staging_hash_write(&h, 0, 100);
    assert_int_equal(staging_hash_truncate(&h, 50), STAGING_HASH_DROP);
    assert_int_equal(staging_hash_truncate(&h, 100), STAGING_HASH_SKIP);
    staging_hash_init(&h);
    staging_hash_write(&h, 0, 100);
    assert_int_equal(staging_hash_truncate(&h, 200), STAGING_HASH_DROP); /* zeros added */
}

/* --- stems ----------------------------------------------------------------------------------- */

static void test_stems(void **state)
{
    (void)state;
    char a[STAGING_STEM_LEN + 1], b[STAGING_STEM_LEN + 1];
    staging_new_stem(a);
    staging_new_stem(b);
    assert_int_equal(strlen(a), STAGING_STEM_LEN);
    assert_true(staging_is_stem(a));
    assert_string_not_equal(a, b);
    assert_false(staging_is_stem(""));
    assert_false(staging_is_stem("0123456789abcdeF"));
    assert_false(staging_is_stem("0123456789abcde"));
    assert_false(staging_is_stem("0123456789abcdef0"));
    assert_false(staging_is_stem("../../etc/passwd"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_round_trip),
        cmocka_unit_test(test_record_new_file_round_trip),
        cmocka_unit_test(test_record_refuses_what_it_must_not_act_on),
        cmocka_unit_test(test_recovery_uploads_complete_data),
        cmocka_unit_test(test_recovery_keeps_what_may_be_incomplete),
        cmocka_unit_test(test_recovery_discards_what_loses_nothing),
        cmocka_unit_test(test_space_grows_to_the_limit_and_no_further),
        cmocka_unit_test(test_space_over_the_limit_refuses_growth_only),
        cmocka_unit_test(test_space_huge_sizes_do_not_wrap),
        cmocka_unit_test(test_hash_sequential_writes_feed),
        cmocka_unit_test(test_hash_rewrite_breaks_order),
        cmocka_unit_test(test_hash_holes_and_truncates_break_order),
        cmocka_unit_test(test_stems),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
