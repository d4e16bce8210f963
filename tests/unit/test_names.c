/* Unit tests for names: aliases, splitting new File names, MIME types, temporary names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "vfs/names.h"

static void assert_alias(const char *name, const char *ext, const char *want)
{
    char *got = names_alias(name, ext);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* A malloc'd string of n copies of unit (a multi-byte UTF-8 character, or one byte). */
static char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    s[u * n] = '\0';
    return s;
}

/* True when s is valid UTF-8 (no cut sequence at its end or anywhere else). */
static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        int extra = *p < 0x80         ? 0
                    : (*p >> 5) == 6  ? 1
                    : (*p >> 4) == 14 ? 2
                    : (*p >> 3) == 30 ? 3
                                      : -1;
        if (extra < 0)
            return 0;
        for (int i = 1; i <= extra; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        }
        p += extra + 1;
    }
    return 1;
}

static void test_alias_joins_name_and_extension(void **state)
{
    (void)state;
    assert_alias("Avatar Image", ".png", "Avatar Image.png");
    assert_alias("a:b~c(d)", ".vrca", "a:b~c(d).vrca");
}

static void test_alias_replaces_slash(void **state)
{
    (void)state;
    assert_alias("a/b/c", ".png", "a_b_c.png");
    assert_alias("/", ".png", "_.png");
    assert_alias("x", "./png", "x._png");
}

static void test_alias_replaces_control_characters(void **state)
{
    (void)state;
    assert_alias("a\tb\nc\x01"
                 "d\x7f",
                 ".png", "a_b_c_d_.png");
    assert_alias("x", ".p\x1bg", "x.p_g");
}

static void test_alias_keeps_non_ascii(void **state)
{
    (void)state;
    assert_alias("写真 é", ".png", "写真 é.png");
}

static void test_alias_empty_name_becomes_file(void **state)
{
    (void)state;
    assert_alias("", ".png", "file.png");
    assert_alias(NULL, ".png", "file.png");
    assert_alias("", "", "file");
    assert_alias("", NULL, "file");
}

static void test_alias_dot_and_dotdot_get_prefix(void **state)
{
    (void)state;
    assert_alias(".", "", "_.");
    assert_alias("..", "", "_..");
    assert_alias(".", ".", "_..");
    assert_alias("", ".", "file.");
    assert_alias("..", ".png", "...png");
}

static void test_alias_collisions_get_prefix(void **state)
{
    (void)state;
    assert_alias("file", ".json", "_file.json");
    assert_alias("latest", "", "_latest");
    assert_alias("lat", "est", "_latest");
    assert_alias("file", ".JSON", "file.JSON");
    assert_alias("latest", ".png", "latest.png");
}

static void test_alias_numeric_gets_prefix(void **state)
{
    (void)state;
    assert_alias("1", "", "_1");
    assert_alias("12", "3", "_123");
    assert_alias("-1", "", "_-1");
    assert_alias("1", ".png", "1.png");
}

static void test_alias_at_name_max_is_unchanged(void **state)
{
    (void)state;
    char *name = repeat("a", NAME_MAX - 4);
    char *want = malloc(NAME_MAX + 1);
    assert_non_null(want);
    strcpy(want, name);
    strcat(want, ".png");
    assert_alias(name, ".png", want);
    free(name);
    free(want);
}

static void test_alias_long_ascii_is_cut_keeping_extension(void **state)
{
    (void)state;
    char *name = repeat("a", 1000);
    char *got = names_alias(name, ".vrca");
    assert_int_equal(strlen(got), NAME_MAX);
    assert_memory_equal(got, name, NAME_MAX - 5);
    assert_string_equal(got + NAME_MAX - 5, ".vrca");
    free(got);
    free(name);
}

static void test_alias_long_utf8_is_cut_on_boundary(void **state)
{
    (void)state;
    /* "é" is 2 bytes and ".png" 4: 251 bytes for the name is 125.5 characters, so 250. */
    char *name = repeat("é", 200);
    char *got = names_alias(name, ".png");
    assert_int_equal(strlen(got), 250 + 4);
    assert_true(valid_utf8(got));
    assert_string_equal(got + 250, ".png");
    free(got);
    free(name);
    /* "😀" is 4 bytes: 251 bytes is 62.75 characters, so 248. */
    name = repeat("😀", 100);
    got = names_alias(name, ".png");
    assert_int_equal(strlen(got), 248 + 4);
    assert_true(valid_utf8(got));
    free(got);
    free(name);
}

static void test_alias_long_after_prefix_keeps_prefix(void **state)
{
    (void)state;
    char *name = repeat("7", 400);
    char *got = names_alias(name, "");
    assert_int_equal(strlen(got), NAME_MAX);
    assert_int_equal(got[0], '_');
    assert_int_equal(got[1], '7');
    free(got);
    free(name);
}

static void test_alias_huge_extension_cuts_whole_name(void **state)
{
    (void)state;
    char *ext = repeat("x", 400);
    ext[0] = '.';
    char *got = names_alias("name", ext);
    assert_int_equal(strlen(got), NAME_MAX);
    assert_memory_equal(got, "name.xxx", 8);
    free(got);
    /* An extension just under the limit still fits with a cut name. */
    ext[NAME_MAX / 2] = '\0';
    char *name = repeat("n", 300);
    got = names_alias(name, ext);
    assert_int_equal(strlen(got), NAME_MAX);
    assert_string_equal(got + NAME_MAX - NAME_MAX / 2, ext);
    free(got);
    free(name);
    free(ext);
}

static void test_alias_huge_utf8_extension_cut_on_boundary(void **state)
{
    (void)state;
    char *ext = repeat("é", 300);
    char *got = names_alias("n", ext);
    assert_true(strlen(got) <= NAME_MAX);
    assert_int_equal(strlen(got), 255); /* "n" + 127 "é" */
    assert_true(valid_utf8(got));
    free(got);
    free(ext);
}

static void test_split_simple(void **state)
{
    (void)state;
    char *name, *ext;
    assert_int_equal(names_split_new("photo.png", &name, &ext), 0);
    assert_string_equal(name, "photo");
    assert_string_equal(ext, ".png");
    free(name);
    free(ext);
}

static void test_split_uses_last_dot(void **state)
{
    (void)state;
    char *name, *ext;
    assert_int_equal(names_split_new("archive.tar.gz", &name, &ext), 0);
    assert_string_equal(name, "archive.tar");
    assert_string_equal(ext, ".gz");
    free(name);
    free(ext);
    assert_int_equal(names_split_new("My Avatar (v2).vrca", &name, &ext), 0);
    assert_string_equal(name, "My Avatar (v2)");
    assert_string_equal(ext, ".vrca");
    free(name);
    free(ext);
}

static void test_split_rejects_no_usable_extension(void **state)
{
    (void)state;
    static const char *const bad[] = {"noext", ".hidden", "x.", ".", "..", "", "a.b."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *name = (char *)1, *ext = (char *)1;
        assert_int_equal(names_split_new(bad[i], &name, &ext), -EINVAL);
        assert_null(name);
        assert_null(ext);
    }
}

static void test_split_rejects_null(void **state)
{
    (void)state;
    char *name, *ext;
    assert_int_equal(names_split_new(NULL, &name, &ext), -EINVAL);
    assert_int_equal(names_split_new("a.png", NULL, &ext), -EINVAL);
    assert_int_equal(names_split_new("a.png", &name, NULL), -EINVAL);
}

static void test_mime_images(void **state)
{
    (void)state;
    assert_string_equal(names_mime_for_extension(".png"), "image/png");
    assert_string_equal(names_mime_for_extension(".jpg"), "image/jpeg");
    assert_string_equal(names_mime_for_extension(".jpeg"), "image/jpeg");
    assert_string_equal(names_mime_for_extension(".gif"), "image/gif");
    assert_string_equal(names_mime_for_extension(".bmp"), "image/bmp");
    assert_string_equal(names_mime_for_extension(".webp"), "image/webp");
    assert_string_equal(names_mime_for_extension(".tif"), "image/tiff");
    assert_string_equal(names_mime_for_extension(".tiff"), "image/tiff");
}

static void test_mime_svg_uses_ascii_plus(void **state)
{
    (void)state;
    assert_string_equal(names_mime_for_extension(".svg"), "image/svg+xml");
}

static void test_mime_vrchat_and_rsync_types(void **state)
{
    (void)state;
    assert_string_equal(names_mime_for_extension(".vrca"), "application/x-avatar");
    assert_string_equal(names_mime_for_extension(".vrcw"), "application/x-world");
    assert_string_equal(names_mime_for_extension(".vrcp"), "application/x-prop");
    assert_string_equal(names_mime_for_extension(".delta"), "application/x-rsync-delta");
    assert_string_equal(names_mime_for_extension(".sig"), "application/x-rsync-signature");
    assert_string_equal(names_mime_for_extension(".signature"), "application/x-rsync-signature");
    assert_string_equal(names_mime_for_extension(".gz"), "application/gzip");
    assert_string_equal(names_mime_for_extension(".bin"), "application/octet-stream");
}

static void test_mime_is_case_insensitive(void **state)
{
    (void)state;
    assert_string_equal(names_mime_for_extension(".PNG"), "image/png");
    assert_string_equal(names_mime_for_extension(".JpEg"), "image/jpeg");
    assert_string_equal(names_mime_for_extension(".VRCA"), "application/x-avatar");
}

static void test_mime_unknown_is_octet_stream(void **state)
{
    (void)state;
    assert_string_equal(names_mime_for_extension(".txt"), "application/octet-stream");
    assert_string_equal(names_mime_for_extension("png"), "application/octet-stream");
    assert_string_equal(names_mime_for_extension(".png.bak"), "application/octet-stream");
    assert_string_equal(names_mime_for_extension(""), "application/octet-stream");
    assert_string_equal(names_mime_for_extension(NULL), "application/octet-stream");
}

static void test_temporary_vim_swap(void **state)
{
    (void)state;
    assert_true(names_is_temporary(".photo.png.swp"));
    assert_true(names_is_temporary(".photo.png.swo"));
    assert_true(names_is_temporary(".photo.png.swpx"));
    assert_false(names_is_temporary("photo.swp"));
}

static void test_temporary_backup_tilde(void **state)
{
    (void)state;
    assert_true(names_is_temporary("photo.png~"));
    assert_false(names_is_temporary("~"));
    assert_false(names_is_temporary("~photo.png"));
}

static void test_temporary_emacs(void **state)
{
    (void)state;
    assert_true(names_is_temporary("#photo.png#"));
    assert_true(names_is_temporary(".#photo.png"));
    assert_false(names_is_temporary("##"));
    assert_false(names_is_temporary("#photo.png"));
}

static void test_temporary_mkstemp(void **state)
{
    (void)state;
    assert_true(names_is_temporary(".photo.png.a1B2c3"));
    assert_true(names_is_temporary(".x.XXXXXX"));
    assert_false(names_is_temporary(".x.XXXXX"));
    assert_false(names_is_temporary(".x.XXXXXXX"));
    assert_false(names_is_temporary(".x.XX-XXX"));
    assert_false(names_is_temporary("x.a1B2c3"));
    assert_false(names_is_temporary(".a1B2c3"));
}

static void test_temporary_goutputstream_and_lock(void **state)
{
    (void)state;
    assert_true(names_is_temporary(".goutputstream-ABC123"));
    assert_true(names_is_temporary(".~lock.photo.png#"));
}

static void test_ordinary_names_are_not_temporary(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "photo.png", "Avatar Image.png", ".png", "a", "party.json", "x.tar.gz", "", NULL,
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_false(names_is_temporary(ok[i]));
}

/* --- UTF-8 --- */

static void test_utf8_accepts_text(void **state)
{
    (void)state;
    assert_true(names_is_utf8(""));
    assert_true(names_is_utf8("photo.png"));
    assert_true(names_is_utf8("Caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x98\x80.png"));
}

static void test_utf8_refuses_what_json_cannot_carry(void **state)
{
    (void)state;
    assert_false(names_is_utf8("\xff.png"));
    assert_false(names_is_utf8("caf\xe9.png"));        /* Latin-1 */
    assert_false(names_is_utf8("\xc0\xaf.png"));       /* overlong '/' */
    assert_false(names_is_utf8("\xed\xa0\x80.png"));   /* a surrogate */
    assert_false(names_is_utf8("\xf4\x90\x80\x80.x")); /* beyond U+10FFFF */
    assert_false(names_is_utf8("\xe2\x98.png"));       /* cut short */
}

static void test_printable_escapes_bytes(void **state)
{
    (void)state;
    char out[64];
    names_printable("a\xff\x01\xc3\xa9.png", out, sizeof out);
    assert_string_equal(out, "a\\xFF\\x01\xc3\xa9.png");
    names_printable("\xff\xff\xff", out, 9);
    assert_string_equal(out, "\\xFF\\xFF");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alias_joins_name_and_extension),
        cmocka_unit_test(test_alias_replaces_slash),
        cmocka_unit_test(test_alias_replaces_control_characters),
        cmocka_unit_test(test_alias_keeps_non_ascii),
        cmocka_unit_test(test_alias_empty_name_becomes_file),
        cmocka_unit_test(test_alias_dot_and_dotdot_get_prefix),
        cmocka_unit_test(test_alias_collisions_get_prefix),
        cmocka_unit_test(test_alias_numeric_gets_prefix),
        cmocka_unit_test(test_alias_at_name_max_is_unchanged),
        cmocka_unit_test(test_alias_long_ascii_is_cut_keeping_extension),
        cmocka_unit_test(test_alias_long_utf8_is_cut_on_boundary),
        cmocka_unit_test(test_alias_long_after_prefix_keeps_prefix),
        cmocka_unit_test(test_alias_huge_extension_cuts_whole_name),
        cmocka_unit_test(test_alias_huge_utf8_extension_cut_on_boundary),
        cmocka_unit_test(test_split_simple),
        cmocka_unit_test(test_split_uses_last_dot),
        cmocka_unit_test(test_split_rejects_no_usable_extension),
        cmocka_unit_test(test_split_rejects_null),
        cmocka_unit_test(test_mime_images),
        cmocka_unit_test(test_mime_svg_uses_ascii_plus),
        cmocka_unit_test(test_mime_vrchat_and_rsync_types),
        cmocka_unit_test(test_mime_is_case_insensitive),
        cmocka_unit_test(test_mime_unknown_is_octet_stream),
        cmocka_unit_test(test_temporary_vim_swap),
        cmocka_unit_test(test_temporary_backup_tilde),
        cmocka_unit_test(test_temporary_emacs),
        cmocka_unit_test(test_temporary_mkstemp),
        cmocka_unit_test(test_temporary_goutputstream_and_lock),
        cmocka_unit_test(test_ordinary_names_are_not_temporary),
        cmocka_unit_test(test_utf8_accepts_text),
        cmocka_unit_test(test_utf8_refuses_what_json_cannot_carry),
        cmocka_unit_test(test_printable_escapes_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
