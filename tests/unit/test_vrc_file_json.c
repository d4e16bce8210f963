/* Unit tests for vrc_file_json: file.json is the same bytes for the same File, whichever answer
 * (listing or GET /file) and key order brought it, carries the md5s the File holds, and has the
 * same size before the md5s a listing left out are known. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote/file_digest.h"
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

/* The md5 of version 1's file in the text: the quoted MD5, or the padded null. */
static const char *const md5_known = "\"md5\": \"bWQ1IG9mIGRhdGEgMTIzNA==\",\n";
static const char *const md5_none = "\"md5\": null                      ,\n";

/* An md5 the File does not hold (not known yet, or the server has none) takes the width of one
 * it holds: the size of file.json does not depend on GET /file, and rendering twice gives the
 * same bytes. */
static void an_unknown_md5_takes_its_width(void **state)
{
    (void)state;
    struct vrc_file *listed = parse(by_listing), *got = parse(by_get);
    char *a = render(listed), *b = render(listed), *whole = render(got);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), strlen(whole));
    assert_non_null(strstr(a, md5_none));
    assert_null(strstr(a, md5_known));
    assert_non_null(strstr(whole, md5_known));
    assert_non_null(strstr(a, "c2lnbmF0dXJlIG1kNTEyMw=="));
    free(a);
    free(b);
    free(whole);
    vrc_file_unref(listed);
    vrc_file_unref(got);
}

/* The padded null is JSON's null: jq and python read it. */
static void the_padded_null_is_null(void **state)
{
    (void)state;
    struct vrc_file *listed = parse(by_listing);
    char *a = render(listed);
    json_error_t error;
    json_t *doc = json_loads(a, 0, &error);
    assert_non_null(doc);
    json_t *v1 = json_array_get(json_object_get(doc, "versions"), 1);
    assert_true(json_is_null(json_object_get(json_object_get(v1, "file"), "md5")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(v1, "signature"), "md5")),
                        "c2lnbmF0dXJlIG1kNTEyMw==");
    json_decref(doc);
    free(a);
    vrc_file_unref(listed);
}

/* The stat before GET /file and the read after it give one size, whether GET /file had the md5
 * (the size of the whole rendering) or had none either (the same bytes as before). */
static void stat_and_read_agree(void **state)
{
    (void)state;
    struct md5_memory *m = md5_memory_new();
    struct vrc_file *listed = parse(by_listing);
    assert_int_equal(md5_memory_apply(m, listed, false), 0);
    char *at_stat = render(listed);
    struct vrc_file *got = parse(by_get);
    assert_int_equal(md5_memory_apply(m, got, true), 0);
    char *at_read = render(got);
    assert_int_equal(strlen(at_stat), strlen(at_read));
    assert_non_null(strstr(at_read, md5_known));
    md5_memory_free(m);

    m = md5_memory_new();
    struct vrc_file *none = parse(by_listing); /* GET /file's answer, without the md5 either */
    assert_int_equal(md5_memory_apply(m, listed, false), 0);
    assert_true(md5_memory_lacks(m, listed));
    assert_int_equal(md5_memory_apply(m, none, true), 0);
    assert_false(md5_memory_lacks(m, none));
    char *read_none = render(none);
    assert_string_equal(at_stat, read_none);
    md5_memory_free(m);
    free(at_stat);
    free(at_read);
    free(read_none);
    vrc_file_unref(listed);
    vrc_file_unref(got);
    vrc_file_unref(none);
}

/* The File of by_get with another md5 for version 1's file, and a waiting version 2. */
static struct vrc_file *with_md5(const char *md5)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"id\":\"file_1\",\"name\":\"vrcfs.md5.none.000000000\",\"versions\":["
             "{\"version\":1,\"status\":\"complete\",\"file\":{\"md5\":\"%s\","
             "\"status\":\"complete\"}},"
             "{\"version\":2,\"status\":\"waiting\",\"file\":{\"md5\":\"dGVzdA==\","
             "\"status\":\"waiting\"}}]}",
             md5);
    return parse(text);
}

/* A complete version's md5 that is not an MD5 (a hostile server) is shown as none, in the same
 * width; a waiting version's declared md5 is shown as the server wrote it; a name that looks like
 * vrcfs's own mark for none stays a name. */
static void a_non_md5_is_none(void **state)
{
    (void)state;
    const char *bad[] = {"dGVzdA==",
                         "bWQ1IG9mIGRhdGEgMTIzNA=",
                         "bWQ1IG9mIGRhdGEgMTIzNA===",
                         "bWQ1IG9mIGRhdGEgMTIzNB==",
                         "bWQ1IG9mIGRhdGEg MTIzNA=",
                         "x\\\"y"};
    struct vrc_file *good = with_md5("bWQ1IG9mIGRhdGEgMTIzNA==");
    char *want = render(good);
    assert_non_null(strstr(want, md5_known));
    assert_non_null(strstr(want, "\"name\": \"vrcfs.md5.none.000000000\""));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_false(vrc_file_json_md5_ok(bad[i]));
        struct vrc_file *f = with_md5(bad[i]);
        char *text = render(f);
        assert_int_equal(strlen(text), strlen(want));
        assert_non_null(strstr(text, md5_none));
        assert_non_null(strstr(text, "\"md5\": \"dGVzdA==\""));
        assert_non_null(strstr(text, "\"name\": \"vrcfs.md5.none.000000000\""));
        free(text);
        vrc_file_unref(f);
    }
    assert_true(vrc_file_json_md5_ok("bWQ1IG9mIGRhdGEgMTIzNA=="));
    free(want);
    vrc_file_unref(good);
}

/* md5_memory takes a complete version's non-MD5 out and remembers none (no GET /file is asked for
 * it), keeps a waiting version's as it is, and a real MD5 from another answer still wins. */
static void memory_takes_a_non_md5_for_none(void **state)
{
    (void)state;
    struct md5_memory *m = md5_memory_new();
    struct vrc_file *f = with_md5("dGVzdA==");
    assert_int_equal(md5_memory_apply(m, f, false), 0);
    assert_string_equal(f->versions[0].data[VRC_DATA_FILE].md5, "");
    assert_string_equal(f->versions[1].data[VRC_DATA_FILE].md5, "dGVzdA==");
    assert_false(md5_memory_lacks(m, f));
    vrc_file_unref(f);
    f = with_md5("bWQ1IG9mIGRhdGEgMTIzNA==");
    assert_int_equal(md5_memory_apply(m, f, true), 0);
    vrc_file_unref(f);
    f = with_md5("dGVzdA==");
    assert_int_equal(md5_memory_apply(m, f, false), 0);
    assert_string_equal(f->versions[0].data[VRC_DATA_FILE].md5, "bWQ1IG9mIGRhdGEgMTIzNA==");
    vrc_file_unref(f);
    md5_memory_free(m);
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
        char md5[DIGEST_MD5_B64_LEN + 1];
        snprintf(text, sizeof text, "md5-%d", i);
        digest_md5_base64(text, strlen(text), md5);
        snprintf(text, sizeof text,
                 "{\"id\":\"file_%d\",\"versions\":[{\"version\":1,\"status\":\"complete\","
                 "\"file\":{\"md5\":\"%s\",\"status\":\"complete\"}}]}",
                 i, md5);
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
        char want[DIGEST_MD5_B64_LEN + 1];
        snprintf(text, sizeof text, "md5-%d", i);
        digest_md5_base64(text, strlen(text), want);
        assert_string_equal(f->versions[0].data[VRC_DATA_FILE].md5, want);
        vrc_file_unref(f);
    }
    md5_memory_free(m);
}

/* A listing's File with one version whose file data has no md5. */
static struct vrc_file *listed_without_md5(const char *id)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"id\":\"%s\",\"versions\":[{\"version\":1,\"status\":\"complete\","
             "\"file\":{\"status\":\"complete\"}}]}",
             id);
    return parse(text);
}

static char *kept_path(void)
{
    char *dir = strdup("/tmp/test_md5_memory.XXXXXX");
    assert_non_null(mkdtemp(dir));
    char *path = NULL;
    assert_true(asprintf(&path, "%s/md5s", dir) > 0);
    free(dir);
    return path;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void drop(char *path)
{
    unlink(path);
    *strrchr(path, '/') = '\0';
    rmdir(path);
    free(path);
}

/* What GET /file taught is kept, and only that: a later mount (a new memory on the same file)
 * fills the listing's gap without asking. */
static void what_get_taught_outlives_the_mount(void **state)
{
    (void)state;
    char *path = kept_path();
    struct md5_memory *m = md5_memory_new();
    assert_int_equal(md5_memory_keep(m, path), 0);
    struct vrc_file *listed = parse(by_listing), *got = parse(by_get);
    assert_int_equal(md5_memory_apply(m, listed, false), 0);
    assert_true(md5_memory_lacks(m, listed));
    assert_int_equal(md5_memory_apply(m, got, true), 0);
    assert_int_equal(md5_memory_apply(m, got, true), 0); /* nothing new: nothing written */
    md5_memory_free(m);
    vrc_file_unref(listed);
    vrc_file_unref(got);
    /* The signature's md5 came in the listing: listings give it again, it is not kept. */
    assert_string_equal(slurp(path), "file_1/1/file bWQ1IG9mIGRhdGEgMTIzNA==\n");

    m = md5_memory_new();
    assert_int_equal(md5_memory_keep(m, path), 0);
    listed = parse(by_listing);
    assert_int_equal(md5_memory_apply(m, listed, false), 0);
    assert_false(md5_memory_lacks(m, listed));
    assert_string_equal(listed->versions[1].data[VRC_DATA_FILE].md5, "bWQ1IG9mIGRhdGEgMTIzNA==");
    vrc_file_unref(listed);
    md5_memory_free(m);
    drop(path);
}

/* GET /file without an md5 is kept as "-": the next mount does not ask either. */
static void none_is_kept_too(void **state)
{
    (void)state;
    char *path = kept_path();
    struct md5_memory *m = md5_memory_new();
    assert_int_equal(md5_memory_keep(m, path), 0);
    struct vrc_file *f = listed_without_md5("file_2");
    assert_int_equal(md5_memory_apply(m, f, true), 0);
    vrc_file_unref(f);
    md5_memory_free(m);
    assert_string_equal(slurp(path), "file_2/1/file -\n");
    m = md5_memory_new();
    assert_int_equal(md5_memory_keep(m, path), 0);
    f = listed_without_md5("file_2");
    assert_int_equal(md5_memory_apply(m, f, false), 0);
    assert_false(md5_memory_lacks(m, f));
    assert_string_equal(f->versions[0].data[VRC_DATA_FILE].md5, "");
    vrc_file_unref(f);
    md5_memory_free(m);
    drop(path);
}

/* A line cut short by a crash, and lines that are not ours, are skipped; the next line starts on
 * a line of its own. */
static void a_cut_line_is_skipped(void **state)
{
    (void)state;
    char *path = kept_path();
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fputs("file_9/1/file AAAAAAAAAAAAAAAAAAAAAA==\n"
          "file_8/1/file not base64!\n"
          "file_7/1/file\n"
          "file_3/1/file AAAA",
          out);
    fclose(out);
    struct md5_memory *m = md5_memory_new();
    assert_int_equal(md5_memory_keep(m, path), 0);
    const char *ids[] = {"file_9", "file_8", "file_7", "file_3"};
    for (int i = 0; i < 4; i++) {
        struct vrc_file *f = listed_without_md5(ids[i]);
        assert_int_equal(md5_memory_apply(m, f, false), 0);
        assert_int_equal(md5_memory_lacks(m, f), i != 0);
        vrc_file_unref(f);
    }
    struct vrc_file *got = listed_without_md5("file_3");
    assert_int_equal(md5_memory_apply(m, got, true), 0);
    vrc_file_unref(got);
    md5_memory_free(m);
    /* The cut line is gone, or the next mount would take "AAAA" for file_3's md5. */
    assert_string_equal(slurp(path), "file_9/1/file AAAAAAAAAAAAAAAAAAAAAA==\n"
                                     "file_8/1/file not base64!\n"
                                     "file_7/1/file\n"
                                     "file_3/1/file -\n");
    m = md5_memory_new();
    assert_int_equal(md5_memory_keep(m, path), 0);
    struct vrc_file *f = listed_without_md5("file_3");
    assert_int_equal(md5_memory_apply(m, f, false), 0);
    assert_false(md5_memory_lacks(m, f));
    assert_string_equal(f->versions[0].data[VRC_DATA_FILE].md5, "");
    vrc_file_unref(f);
    md5_memory_free(m);
    drop(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_bytes_whichever_answer),
        cmocka_unit_test(an_unknown_md5_takes_its_width),
        cmocka_unit_test(the_padded_null_is_null),
        cmocka_unit_test(stat_and_read_agree),
        cmocka_unit_test(a_non_md5_is_none),
        cmocka_unit_test(memory_takes_a_non_md5_for_none),
        cmocka_unit_test(memory_knows_what_is_missing),
        cmocka_unit_test(none_from_get_is_remembered),
        cmocka_unit_test(memory_grows),
        cmocka_unit_test(what_get_taught_outlives_the_mount),
        cmocka_unit_test(none_is_kept_too),
        cmocka_unit_test(a_cut_line_is_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
