/* Unit tests for vrc_file_json: file.json is the same bytes for the same File, whichever answer
 * (listing or GET /file) and key order brought it, and carries the md5s the File holds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote/vrc_file_json.h"
#include "vfs/md5_memory.h"

/* GET /file's answer, and the listing's of the same File: other key order, no md5 for the file of
 * version 1 (VRChat's GET /files sometimes leaves it out). */
static const char *const by_get =
    "{\"id\":\"file_1\",\"name\":\"A\",\"extension\":\".png\",\"mimeType\":\"image/png\","
    "\"tags\":[],\"extra\":{\"b\":1,\"a\":2},\"versions\":["
    "{\"version\":0,\"status\":\"complete\",\"created_at\":\"2024-01-01T00:00:00.000Z\"},"
    "{\"version\":1,\"status\":\"complete\",\"created_at\":\"2024-01-01T00:01:00.000Z\","
    "\"file\":{\"category\":\"simple\",\"md5\":\"bWQ1IG9mIGRhdGEgMTIzNA==\",\"sizeInBytes\":10,"
    "\"status\":\"complete\"},\"signature\":{\"md5\":\"c2lnbmF0dXJlIG1kNTEyMw==\","
    "\"sizeInBytes\":48,\"status\":\"complete\"}}]}";
static const char *const by_listing =
    "{\"versions\":["
    "{\"status\":\"complete\",\"version\":0,\"created_at\":\"2024-01-01T00:00:00.000Z\"},"
    "{\"version\":1,\"created_at\":\"2024-01-01T00:01:00.000Z\",\"status\":\"complete\","
    "\"file\":{\"status\":\"complete\",\"sizeInBytes\":10,\"category\":\"simple\"},"
    "\"signature\":{\"sizeInBytes\":48,\"md5\":\"c2lnbmF0dXJlIG1kNTEyMw==\","
    "\"status\":\"complete\"}}],"
    "\"id\":\"file_1\",\"extra\":{\"a\":2,\"b\":1},\"tags\":[],\"mimeType\":\"image/png\","
    "\"name\":\"A\",\"extension\":\".png\"}";

static struct vrc_file *parse(const char *text)
{
    json_t *obj = json_loads(text, 0, NULL);
    assert_non_null(obj);
    char why[128];
    struct vrc_file *f = vrc_file_parse(obj, why, sizeof why);
    json_decref(obj);
    assert_non_null(f);
    return f;
}

static char *render(const struct vrc_file *f)
{
    size_t len = 0;
    char *text = vrc_file_json_render(f, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_int_equal(text[len - 1], '\n');
    return text;
}

/* Once the listing's File has the md5 that GET /file gave, both render the same bytes. */
static void same_bytes_whichever_answer(void **state)
{
    (void)state;
    struct md5_memory *m = md5_memory_new();
    struct vrc_file *got = parse(by_get), *listed = parse(by_listing);
    assert_int_equal(md5_memory_apply(m, got, true), 0);
    assert_int_equal(md5_memory_apply(m, listed, false), 0);
    char *a = render(got), *b = render(listed);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "\"md5\": \"bWQ1IG9mIGRhdGEgMTIzNA==\""));
    assert_non_null(strstr(a, "\"extra\": {\n    \"a\": 2,\n    \"b\": 1\n  }")); /* sorted */
    free(a);
    free(b);
    vrc_file_unref(got);
    vrc_file_unref(listed);
    md5_memory_free(m);
}

/* What the File does not hold is left out, so that rendering twice gives the same bytes. */
static void an_unknown_md5_is_left_out(void **state)
{
    (void)state;
    struct vrc_file *listed = parse(by_listing);
    char *a = render(listed), *b = render(listed);
    assert_string_equal(a, b);
    assert_null(strstr(a, "bWQ1IG9mIGRhdGEgMTIzNA=="));
    assert_non_null(strstr(a, "c2lnbmF0dXJlIG1kNTEyMw=="));
    free(a);
    free(b);
    vrc_file_unref(listed);
}

static void memory_knows_what_is_missing(void **state)
{
    (void)state;
    struct md5_memory *m = md5_memory_new();
    struct vrc_file *listed = parse(by_listing);
    assert_int_equal(md5_memory_apply(m, listed, false), 0);
    assert_true(md5_memory_lacks(m, listed)); /* version 1's file: nobody said */
    struct vrc_file *got = parse(by_get);
    assert_int_equal(md5_memory_apply(m, got, true), 0);
    assert_false(md5_memory_lacks(m, got));
    struct vrc_file *again = parse(by_listing); /* a later listing, after the cache expired */
    assert_int_equal(md5_memory_apply(m, again, false), 0);
    assert_false(md5_memory_lacks(m, again));
    assert_string_equal(again->versions[1].data[VRC_DATA_FILE].md5, "bWQ1IG9mIGRhdGEgMTIzNA==");
    vrc_file_unref(listed);
    vrc_file_unref(got);
    vrc_file_unref(again);
    md5_memory_free(m);
}

/* GET /file without an md5 either: remembered as none, so it is not asked again. */
static void none_from_get_is_remembered(void **state)
{
    (void)state;
    struct md5_memory *m = md5_memory_new();
    struct vrc_file *got = parse(by_listing);
    assert_int_equal(md5_memory_apply(m, got, true), 0);
    assert_false(md5_memory_lacks(m, got));
    struct vrc_file *later = parse(by_get); /* a real md5 still replaces "none" */
    assert_int_equal(md5_memory_apply(m, later, false), 0);
    struct vrc_file *listed = parse(by_listing);
    assert_int_equal(md5_memory_apply(m, listed, false), 0);
    assert_string_equal(listed->versions[1].data[VRC_DATA_FILE].md5, "bWQ1IG9mIGRhdGEgMTIzNA==");
    vrc_file_unref(got);
    vrc_file_unref(later);
    vrc_file_unref(listed);
    md5_memory_free(m);
}

/* Many Files: the table grows and keeps every md5. */
static void memory_grows(void **state)
{
    (void)state;
    struct md5_memory *m = md5_memory_new();
    char text[2048];
    for (int i = 0; i < 3000; i++) {
        snprintf(text, sizeof text,
                 "{\"id\":\"file_%d\",\"versions\":[{\"version\":1,\"status\":\"complete\","
                 "\"file\":{\"md5\":\"md5-%d\",\"status\":\"complete\"}}]}",
                 i, i);
        struct vrc_file *f = parse(text);
        assert_int_equal(md5_memory_apply(m, f, false), 0);
        vrc_file_unref(f);
    }
    for (int i = 0; i < 3000; i += 7) {
        snprintf(text, sizeof text,
                 "{\"id\":\"file_%d\",\"versions\":[{\"version\":1,\"status\":\"complete\","
                 "\"file\":{\"status\":\"complete\"}}]}",
                 i);
        struct vrc_file *f = parse(text);
        assert_int_equal(md5_memory_apply(m, f, false), 0);
        char want[32];
        snprintf(want, sizeof want, "md5-%d", i);
        assert_string_equal(f->versions[0].data[VRC_DATA_FILE].md5, want);
        vrc_file_unref(f);
    }
    md5_memory_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_bytes_whichever_answer),
        cmocka_unit_test(an_unknown_md5_is_left_out),
        cmocka_unit_test(memory_knows_what_is_missing),
        cmocka_unit_test(none_from_get_is_remembered),
        cmocka_unit_test(memory_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
