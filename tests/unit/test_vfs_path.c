/* Unit tests for vfs_path: every kind of path in the VRChat mount's tree, and hostile ones, as
 * the core parses them (services_parse picks the subtree, whose grammar does the rest). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "vfs/services.h"

#define FID "file_0a1b2c3d-4e5f-6789-abcd-ef0123456789"
#define LOC_SIMPLE "wrld_4432ea9b-729c-46e3-8eaf-846aa0a37fdd:12345"
#define LOC_FULL                                                                                   \
    "wrld_4432ea9b-729c-46e3-8eaf-846aa0a37fdd:12345~private(usr_c1644b5b-3ca4-45b4-97c6-"         \
    "a2a0de70d469)~canRequestInvite~region(eu)~nonce(0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0)"

static int parse(const char *path, struct vfs_path *p)
{
    const struct subtree_ops *tree;
    return services_parse(services_find("vrchat"), path, p, &tree);
}

static struct vfs_path parse_ok(const char *path)
{
    struct vfs_path p;
    assert_int_equal(parse(path, &p), 0);
    return p;
}

static void assert_enoent(const char *path)
{
    struct vfs_path p;
    assert_int_equal(parse(path, &p), -ENOENT);
}

/* A string of n copies of ch, in a static buffer. */
static const char *repeat(char ch, size_t n)
{
    static char buf[1024];
    assert_true(n < sizeof(buf));
    memset(buf, ch, n);
    buf[n] = '\0';
    return buf;
}

static void test_root(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("/").kind, VP_ROOT);
}

static void test_top_level_dirs(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("/files").kind, VP_FILES);
    assert_int_equal(parse_ok("/instances").kind, VP_INSTANCES);
    assert_int_equal(parse_ok("/.vrcfs").kind, VP_META_DIR);
    assert_int_equal(parse_ok("/.vrcfs/stats.json").kind, VP_STATS);
    assert_int_equal(parse_ok("/.vrcfs/log").kind, VP_LOG);
}

static void test_unknown_top_level_is_enoent(void **state)
{
    (void)state;
    assert_enoent("/foo");
    assert_enoent("/Files");
    assert_enoent("/.vrcfs/other.json");
    assert_enoent("/.vrcfs/stats.json/x");
}

static void test_relative_or_empty_path_is_enoent(void **state)
{
    (void)state;
    assert_enoent("");
    assert_enoent("files");
    assert_enoent(NULL);
}

static void test_file_dir(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/files/" FID);
    assert_int_equal(p.kind, VP_FILE_DIR);
    assert_string_equal(p.file_id, FID);
}

static void test_file_json_and_latest(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/files/" FID "/file.json");
    assert_int_equal(p.kind, VP_FILE_JSON);
    assert_string_equal(p.file_id, FID);
    p = parse_ok("/files/" FID "/latest");
    assert_int_equal(p.kind, VP_FILE_LATEST);
    assert_string_equal(p.file_id, FID);
}

static void test_version_dir(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/files/" FID "/1");
    assert_int_equal(p.kind, VP_VERSION_DIR);
    assert_int_equal(p.version, 1);
    assert_string_equal(p.file_id, FID);
    assert_int_equal(parse_ok("/files/" FID "/2147483647").version, 2147483647);
}

static void test_version_data_types(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/files/" FID "/12/file");
    assert_int_equal(p.kind, VP_VERSION_DATA);
    assert_int_equal(p.version, 12);
    assert_int_equal(p.data_type, VD_FILE);
    assert_string_equal(p.file_id, FID);
    assert_int_equal(parse_ok("/files/" FID "/3/signature").data_type, VD_SIGNATURE);
    assert_int_equal(parse_ok("/files/" FID "/3/delta").data_type, VD_DELTA);
}

static void test_unknown_data_type_is_enoent(void **state)
{
    (void)state;
    assert_enoent("/files/" FID "/1/File");
    assert_enoent("/files/" FID "/1/data");
    assert_enoent("/files/" FID "/latest/file");
    assert_enoent("/files/" FID "/file.json/x");
}

static void test_version_zero_is_enoent(void **state)
{
    (void)state;
    assert_enoent("/files/" FID "/0");
    assert_enoent("/files/" FID "/0/file");
}

static void test_version_leading_zero_is_enoent(void **state)
{
    (void)state;
    assert_enoent("/files/" FID "/01");
    assert_enoent("/files/" FID "/007/file");
}

static void test_version_negative_or_signed_is_enoent(void **state)
{
    (void)state;
    assert_enoent("/files/" FID "/-1");
    assert_enoent("/files/" FID "/+1");
    assert_enoent("/files/" FID "/-1/file");
}

static void test_version_overflow_is_enoent(void **state)
{
    (void)state;
    assert_enoent("/files/" FID "/99999999999");
    assert_enoent("/files/" FID "/2147483648");
    assert_enoent("/files/" FID "/99999999999999999999999999/file");
}

static void test_file_alias_name(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/files/" FID "/Avatar Image.png");
    assert_int_equal(p.kind, VP_FILE_NAME);
    assert_string_equal(p.file_id, FID);
    assert_string_equal(p.name, "Avatar Image.png");
}

static void test_file_name_with_odd_characters(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/files/" FID "/a:b~c(d).vrca");
    assert_int_equal(p.kind, VP_FILE_NAME);
    assert_string_equal(p.name, "a:b~c(d).vrca");
    p = parse_ok("/files/" FID "/1.png");
    assert_int_equal(p.kind, VP_FILE_NAME);
    assert_string_equal(p.name, "1.png");
    p = parse_ok("/files/" FID "/...");
    assert_int_equal(p.kind, VP_FILE_NAME);
    assert_string_equal(p.name, "...");
}

static void test_files_name_for_new_file(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/files/photo.png");
    assert_int_equal(p.kind, VP_FILES_NAME);
    assert_string_equal(p.name, "photo.png");
    assert_string_equal(p.file_id, "");
    p = parse_ok("/files/photo (1):~.png");
    assert_int_equal(p.kind, VP_FILES_NAME);
    assert_string_equal(p.name, "photo (1):~.png");
}

static void test_files_name_that_is_almost_a_file_id(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("/files/file_").kind, VP_FILES_NAME);
    assert_int_equal(parse_ok("/files/file_a.b").kind, VP_FILES_NAME);
    assert_int_equal(parse_ok("/files/File_abc").kind, VP_FILES_NAME);
}

static void test_files_name_has_no_children(void **state)
{
    (void)state;
    assert_enoent("/files/photo.png/x");
    assert_enoent("/files/file_/1");
}

static void test_by_tag_dir(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("/files/by-tag").kind, VP_BY_TAG);
}

static void test_every_tag_dir(void **state)
{
    (void)state;
    char path[128];
    int count = 0;
    for (size_t i = 0; vfs_path_tags[i] != NULL; i++, count++) {
        snprintf(path, sizeof(path), "/files/by-tag/%s", vfs_path_tags[i]);
        struct vfs_path p = parse_ok(path);
        assert_int_equal(p.kind, VP_TAG_DIR);
        assert_string_equal(p.tag, vfs_path_tags[i]);
    }
    assert_int_equal(count, 11);
}

static void test_tag_list_is_image_purpose(void **state)
{
    (void)state;
    static const char *const want[] = {
        "admin",   "avatargallery", "avatarimage",    "bundle",  "emoji",   "emojianimated",
        "gallery", "icon",          "listinggallery", "product", "sticker",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_string_equal(vfs_path_tags[i], want[i]);
    assert_null(vfs_path_tags[sizeof(want) / sizeof(want[0])]);
}

static void test_unknown_tag_is_enoent(void **state)
{
    (void)state;
    assert_enoent("/files/by-tag/nope");
    assert_enoent("/files/by-tag/Icon");
    assert_enoent("/files/by-tag/icons");
    assert_enoent("/files/by-tag/nope/" FID);
}

static void test_tag_link(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/files/by-tag/icon/" FID);
    assert_int_equal(p.kind, VP_TAG_LINK);
    assert_string_equal(p.tag, "icon");
    assert_string_equal(p.file_id, FID);
}

/* Any other name in a tag's directory is a new File with that tag (or its link). */
static void test_tag_name(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/files/by-tag/sticker/photo.png");
    assert_int_equal(p.kind, VP_TAG_NAME);
    assert_string_equal(p.tag, "sticker");
    assert_string_equal(p.name, "photo.png");
    assert_string_equal(p.file_id, "");
    assert_enoent("/files/by-tag/icon/" FID "/1");
    assert_enoent("/files/by-tag/icon/photo.png/x");
}

static void test_file_id_grammar(void **state)
{
    (void)state;
    assert_true(vfs_path_is_file_id(FID));
    assert_true(vfs_path_is_file_id("file_a"));
    assert_false(vfs_path_is_file_id("file_"));
    assert_false(vfs_path_is_file_id("file_a_b"));
    assert_false(vfs_path_is_file_id("file_a.b"));
    assert_false(vfs_path_is_file_id("filea"));
    assert_false(vfs_path_is_file_id("xfile_a"));
    assert_false(vfs_path_is_file_id(""));
    assert_false(vfs_path_is_file_id(NULL));
}

static void test_file_id_length_limit(void **state)
{
    (void)state;
    char id[128] = "file_";
    strcat(id, repeat('a', 80));
    assert_true(vfs_path_is_file_id(id));
    char path[160];
    snprintf(path, sizeof(path), "/files/%s", id);
    struct vfs_path p = parse_ok(path);
    assert_int_equal(p.kind, VP_FILE_DIR);
    assert_string_equal(p.file_id, id);
    strcat(id, "a");
    assert_false(vfs_path_is_file_id(id));
}

static void test_instance_json_simple_location(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/instances/" LOC_SIMPLE ".json");
    assert_int_equal(p.kind, VP_INSTANCE_JSON);
    assert_string_equal(p.name, LOC_SIMPLE);
}

static void test_instance_json_full_location(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/instances/" LOC_FULL ".json");
    assert_int_equal(p.kind, VP_INSTANCE_JSON);
    assert_string_equal(p.name, LOC_FULL);
}

static void test_instance_name_for_invalid_location(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/instances/party.json");
    assert_int_equal(p.kind, VP_INSTANCE_NAME);
    assert_string_equal(p.name, "party.json");
    p = parse_ok("/instances/offline.json");
    assert_int_equal(p.kind, VP_INSTANCE_NAME);
    p = parse_ok("/instances/wrld_x:.json");
    assert_int_equal(p.kind, VP_INSTANCE_NAME);
    assert_string_equal(p.name, "wrld_x:.json");
    p = parse_ok("/instances/wrld_x:1~region(mars).json");
    assert_int_equal(p.kind, VP_INSTANCE_NAME);
    p = parse_ok("/instances/.json");
    assert_int_equal(p.kind, VP_INSTANCE_NAME);
}

static void test_instance_location_without_json_suffix_is_a_name(void **state)
{
    (void)state;
    struct vfs_path p = parse_ok("/instances/" LOC_SIMPLE);
    assert_int_equal(p.kind, VP_INSTANCE_NAME);
    assert_string_equal(p.name, LOC_SIMPLE);
    p = parse_ok("/instances/" LOC_SIMPLE ".JSON");
    assert_int_equal(p.kind, VP_INSTANCE_NAME);
}

static void test_instance_has_no_children(void **state)
{
    (void)state;
    assert_enoent("/instances/" LOC_SIMPLE ".json/x");
    assert_enoent("/instances/party.json/x");
}

static void test_short_dir_and_link(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("/instances/s").kind, VP_SHORT_DIR);
    struct vfs_path p = parse_ok("/instances/s/abc123~x");
    assert_int_equal(p.kind, VP_SHORT_LINK);
    assert_string_equal(p.name, "abc123~x");
    assert_enoent("/instances/s/abc/def");
}

static void test_dot_components_are_enoent(void **state)
{
    (void)state;
    assert_enoent("/.");
    assert_enoent("/..");
    assert_enoent("/files/.");
    assert_enoent("/files/..");
    assert_enoent("/files/../instances");
    assert_enoent("/files/" FID "/..");
    assert_enoent("/files/" FID "/./1");
    assert_enoent("/instances/s/..");
}

static void test_empty_components_are_enoent(void **state)
{
    (void)state;
    assert_enoent("//");
    assert_enoent("//files");
    assert_enoent("/files//" FID);
    assert_enoent("/files/" FID "//1");
}

static void test_trailing_slash_is_enoent(void **state)
{
    (void)state;
    assert_enoent("/files/");
    assert_enoent("/files/" FID "/");
    assert_enoent("/instances/s/");
}

static void test_too_deep_is_enoent(void **state)
{
    (void)state;
    assert_enoent("/files/" FID "/1/file/x");
    assert_enoent("/files/by-tag/icon/" FID "/x");
    assert_enoent("/a/b/c/d/e/f/g/h/i/j");
}

static void test_name_max_component_is_accepted(void **state)
{
    (void)state;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "/files/%s", repeat('n', NAME_MAX));
    struct vfs_path p = parse_ok(path);
    assert_int_equal(p.kind, VP_FILES_NAME);
    assert_int_equal(strlen(p.name), NAME_MAX);
}

static void test_long_component_is_enametoolong(void **state)
{
    (void)state;
    char path[PATH_MAX];
    struct vfs_path p;
    snprintf(path, sizeof(path), "/files/%s", repeat('n', NAME_MAX + 1));
    assert_int_equal(parse(path, &p), -ENAMETOOLONG);
    snprintf(path, sizeof(path), "/files/" FID "/%s", repeat('n', NAME_MAX + 1));
    assert_int_equal(parse(path, &p), -ENAMETOOLONG);
    snprintf(path, sizeof(path), "/instances/%s.json", repeat('n', NAME_MAX));
    assert_int_equal(parse(path, &p), -ENAMETOOLONG);
    snprintf(path, sizeof(path), "/%s", repeat('x', 1000));
    assert_int_equal(parse(path, &p), -ENAMETOOLONG);
}

static void test_error_leaves_no_partial_result(void **state)
{
    (void)state;
    struct vfs_path p;
    memset(&p, 0x5a, sizeof(p));
    assert_int_equal(parse("/files/" FID "/0", &p), -ENOENT);
    assert_string_equal(p.file_id, "");
    assert_string_equal(p.name, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root),
        cmocka_unit_test(test_top_level_dirs),
        cmocka_unit_test(test_unknown_top_level_is_enoent),
        cmocka_unit_test(test_relative_or_empty_path_is_enoent),
        cmocka_unit_test(test_file_dir),
        cmocka_unit_test(test_file_json_and_latest),
        cmocka_unit_test(test_version_dir),
        cmocka_unit_test(test_version_data_types),
        cmocka_unit_test(test_unknown_data_type_is_enoent),
        cmocka_unit_test(test_version_zero_is_enoent),
        cmocka_unit_test(test_version_leading_zero_is_enoent),
        cmocka_unit_test(test_version_negative_or_signed_is_enoent),
        cmocka_unit_test(test_version_overflow_is_enoent),
        cmocka_unit_test(test_file_alias_name),
        cmocka_unit_test(test_file_name_with_odd_characters),
        cmocka_unit_test(test_files_name_for_new_file),
        cmocka_unit_test(test_files_name_that_is_almost_a_file_id),
        cmocka_unit_test(test_files_name_has_no_children),
        cmocka_unit_test(test_by_tag_dir),
        cmocka_unit_test(test_every_tag_dir),
        cmocka_unit_test(test_tag_list_is_image_purpose),
        cmocka_unit_test(test_unknown_tag_is_enoent),
        cmocka_unit_test(test_tag_link),
        cmocka_unit_test(test_tag_name),
        cmocka_unit_test(test_file_id_grammar),
        cmocka_unit_test(test_file_id_length_limit),
        cmocka_unit_test(test_instance_json_simple_location),
        cmocka_unit_test(test_instance_json_full_location),
        cmocka_unit_test(test_instance_name_for_invalid_location),
        cmocka_unit_test(test_instance_location_without_json_suffix_is_a_name),
        cmocka_unit_test(test_instance_has_no_children),
        cmocka_unit_test(test_short_dir_and_link),
        cmocka_unit_test(test_dot_components_are_enoent),
        cmocka_unit_test(test_empty_components_are_enoent),
        cmocka_unit_test(test_trailing_slash_is_enoent),
        cmocka_unit_test(test_too_deep_is_enoent),
        cmocka_unit_test(test_name_max_component_is_accepted),
        cmocka_unit_test(test_long_component_is_enametoolong),
        cmocka_unit_test(test_error_leaves_no_partial_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
