#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "remote/vrc_file.h"

#define FID "file_2a7f6e2c-4c5e-4b8e-9d3a-0f1e2d3c4b5a"
#define USR "usr_c1644b5b-3ca4-45b4-97c6-a2a0de70d469"
#define API "https://api.vrchat.cloud/api/1"

/* NOTES 7: a new File has version 0 only, complete, with no file/signature. */
static const char *const file_v0_only =
    "{\"id\":\"" FID "\",\"name\":\"notes\",\"ownerId\":\"" USR "\","
    "\"mimeType\":\"application/octet-stream\",\"extension\":\".txt\",\"tags\":[],"
    "\"versions\":[{\"version\":0,\"status\":\"complete\","
    "\"created_at\":\"2024-05-01T12:34:56.789Z\"}]}";

/* NOTES 3: the live "new version" example, appended to a version 0. */
static const char *const file_new_version =
    "{\"id\":\"" FID "\",\"name\":\"string\",\"ownerId\":\"" USR "\","
    "\"mimeType\":\"application/octet-stream\",\"extension\":\".A\",\"tags\":[\"a\",\"b\"],"
    "\"versions\":["
    "{\"version\":0,\"status\":\"complete\",\"created_at\":\"2024-05-01T12:34:56.789Z\"},"
    "{\"version\":1,\"status\":\"waiting\",\"created_at\":\"2024-05-01T12:35:00.000Z\","
    "\"file\":{\"category\":\"simple\",\"fileName\":\"string." FID ".1.A\","
    "\"md5\":\"dGVzdA==\",\"sizeInBytes\":64,\"status\":\"waiting\",\"uploadId\":\"\","
    "\"url\":\"" API "/file/" FID "/1/file\"},"
    "\"signature\":{\"category\":\"simple\",\"fileName\":\"string." FID ".1.A.signature\","
    "\"md5\":\"c2lnbmF0dXJlIG1kNQ==\",\"sizeInBytes\":48,\"status\":\"waiting\","
    "\"uploadId\":\"\",\"url\":\"" API "/file/" FID "/1/signature\"}}]}";

static struct vrc_file *parse_text(const char *text)
{
    json_error_t jerr;
    json_t *obj = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!obj)
        fail_msg("test JSON does not parse: %s (line %d)", jerr.text, jerr.line);
    char err[128] = "";
    struct vrc_file *f = vrc_file_parse(obj, err, sizeof err);
    json_decref(obj); /* the File must not borrow from the JSON */
    if (!f)
        fail_msg("vrc_file_parse failed: %s", err);
    return f;
}

static void assert_rejected(json_t *obj)
{
    char err[128];
    memset(err, 0, sizeof err);
    assert_null(vrc_file_parse(obj, err, sizeof err));
    assert_true(err[0] != '\0');
}

static void assert_rejected_text(const char *text)
{
    json_t *obj = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(obj);
    assert_rejected(obj);
    json_decref(obj);
}

/* --- real shapes --- */

static void test_file_with_version_zero_only(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text(file_v0_only);
    assert_string_equal(f->id, FID);
    assert_string_equal(f->name, "notes");
    assert_string_equal(f->owner_id, USR);
    assert_string_equal(f->mime_type, "application/octet-stream");
    assert_string_equal(f->extension, ".txt");
    assert_int_equal(f->ntags, 0);
    assert_int_equal(f->nversions, 1);
    assert_int_equal(f->versions[0].version, 0);
    assert_int_equal(f->versions[0].status, VRC_STATUS_COMPLETE);
    assert_false(f->versions[0].deleted);
    assert_int_equal(f->versions[0].created_at, 1714566896);
    for (int k = 0; k < VRC_DATA_KINDS; k++)
        assert_false(f->versions[0].data[k].present);
    /* Version 0 is a placeholder and never has data. */
    assert_null(vrc_file_version(f, 0));
    assert_null(vrc_file_version(f, 1));
    assert_int_equal(vrc_file_latest(f), 0);
    assert_int_equal(vrc_file_newest(f), 0);
    vrc_file_unref(f);
}

static void test_live_new_version_is_waiting(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text(file_new_version);
    assert_int_equal(f->ntags, 2);
    assert_string_equal(f->tags[0], "a");
    assert_string_equal(f->tags[1], "b");
    assert_int_equal(f->nversions, 2);
    const struct vrc_file_version *v = &f->versions[1];
    assert_int_equal(v->version, 1);
    assert_int_equal(v->status, VRC_STATUS_WAITING);
    assert_int_equal(v->created_at, 1714566900);

    const struct vrc_file_data *d = &v->data[VRC_DATA_FILE];
    assert_true(d->present);
    assert_false(d->multipart);
    assert_int_equal(d->status, VRC_STATUS_WAITING);
    assert_int_equal(d->size, 64);
    assert_string_equal(d->md5, "dGVzdA==");
    assert_string_equal(d->url, API "/file/" FID "/1/file");
    assert_string_equal(d->upload_id, "");

    const struct vrc_file_data *s = &v->data[VRC_DATA_SIGNATURE];
    assert_true(s->present);
    assert_int_equal(s->size, 48);
    assert_string_equal(s->md5, "c2lnbmF0dXJlIG1kNQ==");
    assert_string_equal(s->url, API "/file/" FID "/1/signature");
    assert_false(v->data[VRC_DATA_DELTA].present);

    /* Not complete yet: not readable, but the newest (deletable) one. */
    assert_null(vrc_file_version(f, 1));
    assert_int_equal(vrc_file_latest(f), 0);
    assert_int_equal(vrc_file_newest(f), 1);
    vrc_file_unref(f);
}

static void test_file_data_without_md5_parses_with_empty_md5(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text(
        "{\"id\":\"" FID "\",\"versions\":[{\"version\":1,\"status\":\"complete\","
        "\"file\":{\"category\":\"simple\",\"fileName\":\"x\",\"sizeInBytes\":12345,"
        "\"status\":\"complete\",\"uploadId\":\"\",\"url\":\"" API "/file/" FID "/1/file\"}}]}");
    const struct vrc_file_version *v = vrc_file_version(f, 1);
    assert_non_null(v);
    assert_true(v->data[VRC_DATA_FILE].present);
    assert_string_equal(v->data[VRC_DATA_FILE].md5, "");
    assert_int_equal(v->data[VRC_DATA_FILE].size, 12345);
    assert_int_equal(v->data[VRC_DATA_FILE].status, VRC_STATUS_COMPLETE);
    vrc_file_unref(f);
}

static void test_multipart_category_and_upload_id(void **state)
{
    (void)state;
    struct vrc_file *f =
        parse_text("{\"id\":\"" FID "\",\"versions\":[{\"version\":2,\"status\":\"complete\","
                   "\"file\":{\"category\":\"multipart\",\"sizeInBytes\":303055180,"
                   "\"status\":\"complete\",\"uploadId\":\"up-123\",\"url\":\"u\"},"
                   "\"delta\":{\"category\":\"queued\",\"status\":\"none\",\"sizeInBytes\":0,"
                   "\"uploadId\":\"\",\"url\":\"\"}}]}");
    const struct vrc_file_version *v = vrc_file_version(f, 2);
    assert_non_null(v);
    assert_true(v->data[VRC_DATA_FILE].multipart);
    assert_int_equal(v->data[VRC_DATA_FILE].size, 303055180);
    assert_string_equal(v->data[VRC_DATA_FILE].upload_id, "up-123");
    assert_true(v->data[VRC_DATA_DELTA].present);
    assert_false(v->data[VRC_DATA_DELTA].multipart);
    assert_int_equal(v->data[VRC_DATA_DELTA].status, VRC_STATUS_OTHER);
    assert_false(v->data[VRC_DATA_SIGNATURE].present);
    vrc_file_unref(f);
}

static void test_sizes_above_4_gib_are_kept(void **state)
{
    (void)state;
    struct vrc_file *f =
        parse_text("{\"id\":\"" FID "\",\"versions\":[{\"version\":1,\"status\":\"complete\","
                   "\"file\":{\"sizeInBytes\":5000000000,\"status\":\"complete\"}}]}");
    assert_int_equal(f->versions[0].data[VRC_DATA_FILE].size, 5000000000ULL);
    vrc_file_unref(f);
}

/* Hostile: INT64_MAX must not overflow anything downstream (st_blocks rounds it up). */
static void test_sizes_beyond_belief_are_cut(void **state)
{
    (void)state;
    struct vrc_file *f =
        parse_text("{\"id\":\"" FID "\",\"versions\":[{\"version\":1,\"status\":\"complete\","
                   "\"file\":{\"sizeInBytes\":9223372036854775807,\"status\":\"complete\"}}]}");
    assert_int_equal(f->versions[0].data[VRC_DATA_FILE].size, VRC_FILE_SIZE_MAX);
    vrc_file_unref(f);
}

static void test_version_numbers_beyond_int_are_never_shown(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text("{\"id\":\"" FID "\",\"versions\":["
                                    "{\"version\":4294967297,\"status\":\"complete\"},"
                                    "{\"version\":-3,\"status\":\"complete\"}]}");
    assert_int_equal(f->nversions, 2);
    assert_int_equal(f->versions[0].version, -1);
    assert_int_equal(f->versions[1].version, -1);
    assert_int_equal(vrc_file_latest(f), 0);
    assert_null(vrc_file_version(f, 1));
    vrc_file_unref(f);
}

/* Hostile: an id the kernel cannot take as a name ('/') or that could climb out of a URL path
 * is refused, so the listing drops that one File and keeps the others. */
static void test_ids_that_are_not_file_ids_are_rejected(void **state)
{
    (void)state;
    assert_rejected_text("{\"id\":\"file_abc/def\"}");
    assert_rejected_text("{\"id\":\"file_../../x\"}");
    assert_rejected_text("{\"id\":\"file_\"}");
    assert_rejected_text("{\"id\":\"avtr_2a7f6e2c-4c5e-4b8e-9d3a-0f1e2d3c4b5a\"}");
    assert_rejected_text("{\"id\":\"file_a b\"}");
    assert_rejected_text("{\"id\":\"file_\u00e9\"}");
    assert_rejected_text("{\"id\":\"file_0123456789012345678901234567890123456789"
                         "01234567890123456789012345678901234567890\"}"); /* 81 after file_ */
    struct vrc_file *f = parse_text("{\"id\":\"file_A-z9\"}");
    assert_string_equal(f->id, "file_A-z9");
    vrc_file_unref(f);
}

/* An id with a \u0000 would be cut short in C and name another File. */
static void test_id_with_a_nul_is_rejected(void **state)
{
    (void)state;
    json_t *obj = json_loads("{\"id\":\"file_abc\\u0000def\"}", JSON_ALLOW_NUL, NULL);
    assert_non_null(obj);
    assert_rejected(obj);
    json_decref(obj);
}

static void test_file_id_ok(void **state)
{
    (void)state;
    assert_true(vrc_file_id_ok(FID, strlen(FID)));
    assert_true(vrc_file_id_ok("file_x/y", 6)); /* only the first len bytes count */
    assert_false(vrc_file_id_ok("file_x/y", 8));
    assert_false(vrc_file_id_ok("file_", 5));
    assert_false(vrc_file_id_ok("File_x", 6));
    assert_false(vrc_file_id_ok(NULL, 0));
}

static void test_statuses(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text("{\"id\":\"" FID "\",\"versions\":["
                                    "{\"version\":1,\"status\":\"complete\"},"
                                    "{\"version\":2,\"status\":\"waiting\"},"
                                    "{\"version\":3,\"status\":\"queued\"},"
                                    "{\"version\":4,\"status\":\"none\"},"
                                    "{\"version\":5,\"status\":\"COMPLETE\"},"
                                    "{\"version\":6}]}");
    assert_int_equal(f->nversions, 6);
    assert_int_equal(f->versions[0].status, VRC_STATUS_COMPLETE);
    assert_int_equal(f->versions[1].status, VRC_STATUS_WAITING);
    assert_int_equal(f->versions[2].status, VRC_STATUS_QUEUED);
    assert_int_equal(f->versions[3].status, VRC_STATUS_OTHER);
    assert_int_equal(f->versions[4].status, VRC_STATUS_OTHER);
    assert_int_equal(f->versions[5].status, VRC_STATUS_OTHER);
    assert_int_equal(vrc_file_latest(f), 1);
    assert_int_equal(vrc_file_newest(f), 6);
    vrc_file_unref(f);
}

static void test_unknown_fields_everywhere_are_ignored(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text(
        "{\"zzz\":1,\"id\":\"" FID "\",\"animationStyle\":\"aura\",\"maskTag\":\"square\","
        "\"frames\":4,\"framesOverTime\":2,\"modifiedThumbnailFileName\":null,"
        "\"new\":{\"deep\":[1,{\"x\":null}]},\"name\":\"n\",\"tags\":[\"gallery\"],"
        "\"versions\":[{\"version\":1,\"status\":\"complete\",\"extra\":[true],"
        "\"created_at\":\"2023-11-19T05:36:41.000Z\",\"unknownKind\":{\"url\":\"u\"},"
        "\"file\":{\"md5\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"sizeInBytes\":3,"
        "\"status\":\"complete\",\"url\":\"u1\",\"etag\":\"e\",\"future\":{\"a\":1}}}],"
        "\"trailing\":\"x\"}");
    assert_string_equal(f->id, FID);
    assert_string_equal(f->name, "n");
    assert_int_equal(f->ntags, 1);
    assert_string_equal(f->tags[0], "gallery");
    const struct vrc_file_version *v = vrc_file_version(f, 1);
    assert_non_null(v);
    assert_int_equal(v->created_at, 1700372201);
    assert_string_equal(v->data[VRC_DATA_FILE].md5, "AAAAAAAAAAAAAAAAAAAAAA==");
    assert_string_equal(v->data[VRC_DATA_FILE].url, "u1");
    assert_int_equal(v->data[VRC_DATA_FILE].size, 3);
    vrc_file_unref(f);
}

/* --- deleted, latest, newest --- */

static void test_deleted_version_is_hidden(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text("{\"id\":\"" FID "\",\"versions\":["
                                    "{\"version\":0,\"status\":\"complete\"},"
                                    "{\"version\":1,\"status\":\"complete\",\"deleted\":true},"
                                    "{\"version\":2,\"status\":\"complete\",\"deleted\":false}]}");
    assert_true(f->versions[1].deleted);
    assert_false(f->versions[2].deleted);
    assert_null(vrc_file_version(f, 1));
    assert_non_null(vrc_file_version(f, 2));
    assert_int_equal(vrc_file_version(f, 2)->version, 2);
    vrc_file_unref(f);
}

static void test_latest_skips_waiting_and_deleted(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text("{\"id\":\"" FID "\",\"versions\":["
                                    "{\"version\":0,\"status\":\"complete\"},"
                                    "{\"version\":1,\"status\":\"complete\"},"
                                    "{\"version\":2,\"status\":\"complete\",\"deleted\":true},"
                                    "{\"version\":3,\"status\":\"waiting\"}]}");
    assert_int_equal(vrc_file_latest(f), 1);
    assert_int_equal(vrc_file_newest(f), 3);
    assert_non_null(vrc_file_version(f, 1));
    assert_null(vrc_file_version(f, 2));
    assert_null(vrc_file_version(f, 3));
    vrc_file_unref(f);
}

static void test_newest_skips_deleted_whatever_the_status(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text("{\"id\":\"" FID "\",\"versions\":["
                                    "{\"version\":0,\"status\":\"complete\"},"
                                    "{\"version\":1,\"status\":\"complete\"},"
                                    "{\"version\":2,\"status\":\"complete\"},"
                                    "{\"version\":3,\"status\":\"waiting\",\"deleted\":true}]}");
    assert_int_equal(vrc_file_latest(f), 2);
    assert_int_equal(vrc_file_newest(f), 2);
    vrc_file_unref(f);
}

static void test_newest_counts_queued(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text("{\"id\":\"" FID "\",\"versions\":["
                                    "{\"version\":0,\"status\":\"complete\"},"
                                    "{\"version\":1,\"status\":\"queued\"}]}");
    assert_int_equal(vrc_file_latest(f), 0);
    assert_int_equal(vrc_file_newest(f), 1);
    vrc_file_unref(f);
}

static void test_all_deleted_gives_zero(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text("{\"id\":\"" FID "\",\"versions\":["
                                    "{\"version\":1,\"status\":\"complete\",\"deleted\":true},"
                                    "{\"version\":2,\"status\":\"waiting\",\"deleted\":true}]}");
    assert_int_equal(vrc_file_latest(f), 0);
    assert_int_equal(vrc_file_newest(f), 0);
    assert_null(vrc_file_version(f, 1));
    assert_null(vrc_file_version(f, 2));
    vrc_file_unref(f);
}

static void test_versions_out_of_order_still_find_the_highest(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text("{\"id\":\"" FID "\",\"versions\":["
                                    "{\"version\":3,\"status\":\"complete\"},"
                                    "{\"version\":5,\"status\":\"waiting\"},"
                                    "{\"version\":1,\"status\":\"complete\"},"
                                    "{\"version\":4,\"status\":\"complete\"},"
                                    "{\"version\":0,\"status\":\"complete\"}]}");
    assert_int_equal(vrc_file_latest(f), 4);
    assert_int_equal(vrc_file_newest(f), 5);
    assert_int_equal(vrc_file_version(f, 3)->version, 3);
    /* Kept in the order the server listed them. */
    assert_int_equal(f->versions[0].version, 3);
    assert_int_equal(f->versions[4].version, 0);
    vrc_file_unref(f);
}

static void test_version_lookup_of_absent_and_negative_numbers(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text("{\"id\":\"" FID "\",\"versions\":["
                                    "{\"version\":1,\"status\":\"complete\"},"
                                    "{\"version\":-1,\"status\":\"complete\"}]}");
    assert_null(vrc_file_version(f, 2));
    assert_null(vrc_file_version(f, -1));
    assert_null(vrc_file_version(f, 0));
    assert_int_equal(vrc_file_latest(f), 1);
    assert_int_equal(vrc_file_newest(f), 1);
    vrc_file_unref(f);
}

static void test_no_versions_gives_zero(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text("{\"id\":\"" FID "\"}");
    assert_int_equal(f->nversions, 0);
    assert_int_equal(vrc_file_latest(f), 0);
    assert_int_equal(vrc_file_newest(f), 0);
    assert_null(vrc_file_version(f, 1));
    vrc_file_unref(f);
}

/* --- bad input --- */

static void test_missing_id_is_rejected(void **state)
{
    (void)state;
    assert_rejected_text("{\"name\":\"x\",\"versions\":[]}");
    assert_rejected_text("{}");
}

static void test_id_not_a_string_is_rejected(void **state)
{
    (void)state;
    assert_rejected_text("{\"id\":42}");
    assert_rejected_text("{\"id\":null}");
    assert_rejected_text("{\"id\":[\"" FID "\"]}");
    assert_rejected_text("{\"id\":{\"id\":\"" FID "\"}}");
    assert_rejected_text("{\"id\":true}");
}

static void test_empty_id_is_rejected(void **state)
{
    (void)state;
    assert_rejected_text("{\"id\":\"\"}");
}

static void test_null_array_and_scalars_are_rejected(void **state)
{
    (void)state;
    assert_rejected_text("null");
    assert_rejected_text("[]");
    assert_rejected_text("[{\"id\":\"" FID "\"}]");
    assert_rejected_text("\"" FID "\"");
    assert_rejected_text("42");
    assert_rejected_text("true");
    assert_rejected(NULL);
}

static void test_wrong_top_level_types_give_defaults(void **state)
{
    (void)state;
    struct vrc_file *f =
        parse_text("{\"id\":\"" FID "\",\"name\":5,\"extension\":[\".x\"],\"mimeType\":{},"
                   "\"ownerId\":null,\"tags\":\"gallery\",\"versions\":{\"version\":1}}");
    assert_string_equal(f->id, FID);
    assert_string_equal(f->name, "");
    assert_string_equal(f->extension, "");
    assert_string_equal(f->mime_type, "application/octet-stream");
    assert_string_equal(f->owner_id, "");
    assert_int_equal(f->ntags, 0);
    assert_int_equal(f->nversions, 0);
    vrc_file_unref(f);
}

static void test_wrong_types_inside_arrays_are_skipped(void **state)
{
    (void)state;
    struct vrc_file *f =
        parse_text("{\"id\":\"" FID "\",\"tags\":[1,\"a\",null,[\"b\"],{},\"c\",true],"
                   "\"versions\":[null,1,\"v\",[],{\"version\":2,\"status\":\"complete\"},false]}");
    assert_int_equal(f->ntags, 2);
    assert_string_equal(f->tags[0], "a");
    assert_string_equal(f->tags[1], "c");
    assert_int_equal(f->nversions, 1);
    assert_int_equal(f->versions[0].version, 2);
    assert_int_equal(vrc_file_latest(f), 2);
    vrc_file_unref(f);
}

static void test_wrong_types_in_a_version_give_defaults(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text(
        "{\"id\":\"" FID "\",\"versions\":[{\"version\":\"3\",\"status\":1,\"deleted\":\"true\","
        "\"created_at\":12345,\"file\":\"x\",\"signature\":[],\"delta\":null}]}");
    assert_int_equal(f->nversions, 1);
    const struct vrc_file_version *v = &f->versions[0];
    assert_int_equal(v->version, 0);
    assert_int_equal(v->status, VRC_STATUS_OTHER);
    assert_false(v->deleted);
    assert_int_equal(v->created_at, 0);
    for (int k = 0; k < VRC_DATA_KINDS; k++)
        assert_false(v->data[k].present);
    vrc_file_unref(f);
}

static void test_wrong_types_in_file_data_give_defaults(void **state)
{
    (void)state;
    struct vrc_file *f =
        parse_text("{\"id\":\"" FID "\",\"versions\":[{\"version\":1,\"status\":\"complete\","
                   "\"file\":{\"category\":1,\"status\":null,\"sizeInBytes\":\"64\",\"md5\":5,"
                   "\"url\":7,\"uploadId\":[]},"
                   "\"signature\":{\"category\":\"multipart\",\"sizeInBytes\":-5,"
                   "\"md5\":\"this md5 is far too long to be a base64 md5 at all\"}}]}");
    const struct vrc_file_data *d = &f->versions[0].data[VRC_DATA_FILE];
    assert_true(d->present);
    assert_false(d->multipart);
    assert_int_equal(d->status, VRC_STATUS_OTHER);
    assert_int_equal(d->size, 0);
    assert_string_equal(d->md5, "");
    assert_non_null(d->url);
    assert_string_equal(d->url, "");
    assert_non_null(d->upload_id);
    assert_string_equal(d->upload_id, "");
    const struct vrc_file_data *s = &f->versions[0].data[VRC_DATA_SIGNATURE];
    assert_true(s->present);
    assert_true(s->multipart);
    assert_int_equal(s->size, 0);
    assert_string_equal(s->md5, "");
    assert_string_equal(s->url, "");
    vrc_file_unref(f);
}

static void test_empty_file_data_object_is_present_with_defaults(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text(
        "{\"id\":\"" FID "\",\"versions\":[{\"version\":1,\"status\":\"complete\",\"file\":{}}]}");
    const struct vrc_file_data *d = &f->versions[0].data[VRC_DATA_FILE];
    assert_true(d->present);
    assert_int_equal(d->size, 0);
    assert_string_equal(d->md5, "");
    assert_string_equal(d->url, "");
    assert_string_equal(d->upload_id, "");
    vrc_file_unref(f);
}

static void test_empty_name_is_kept(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text("{\"id\":\"" FID "\",\"name\":\"\",\"extension\":\".A\"}");
    assert_string_equal(f->name, "");
    assert_string_equal(f->extension, ".A");
    vrc_file_unref(f);
}

/* --- created_at --- */

static void test_parse_time_with_fraction_and_z(void **state)
{
    (void)state;
    assert_int_equal(vrc_parse_time("2024-05-01T12:34:56.789Z"), 1714566896);
    assert_int_equal(vrc_parse_time("2024-05-01T12:34:56Z"), 1714566896);
    assert_int_equal(vrc_parse_time("2024-02-29T23:59:59.000Z"), 1709251199);
    assert_int_equal(vrc_parse_time("1970-01-01T00:00:00.000Z"), 0);
}

static void test_parse_time_after_2038(void **state)
{
    (void)state;
    assert_int_equal(vrc_parse_time("2038-01-19T03:14:08.000Z"), (time_t)2147483648LL);
}

static void test_parse_time_is_utc_whatever_the_local_zone(void **state)
{
    (void)state;
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    setenv("TZ", "America/New_York", 1);
    tzset();
    time_t t = vrc_parse_time("2024-05-01T12:34:56.789Z");
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    time_t t2 = vrc_parse_time("2024-05-01T12:34:56.789Z");
    if (old)
        setenv("TZ", old, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old);
    assert_int_equal(t, 1714566896);
    assert_int_equal(t2, 1714566896);
}

static void test_parse_time_garbage_is_zero(void **state)
{
    (void)state;
    assert_int_equal(vrc_parse_time(NULL), 0);
    assert_int_equal(vrc_parse_time(""), 0);
    assert_int_equal(vrc_parse_time("yesterday"), 0);
    assert_int_equal(vrc_parse_time("2024-05-01"), 0);
    assert_int_equal(vrc_parse_time("2024-13-01T00:00:00Z"), 0);
    assert_int_equal(vrc_parse_time("2024-05-01T25:00:00Z"), 0);
}

/* --- json --- */

static void test_json_is_pretty_and_ends_with_a_newline(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text(file_new_version);
    assert_non_null(f->json);
    assert_int_equal(f->json_len, strlen(f->json));
    assert_true(f->json_len > 2);
    assert_int_equal(f->json[f->json_len - 1], '\n');
    assert_true(f->json[f->json_len - 2] != '\n');
    assert_non_null(strstr(f->json, "\n  \"id\": \"" FID "\""));
    vrc_file_unref(f);
}

static void test_json_is_the_same_object_in_the_same_order(void **state)
{
    (void)state;
    json_t *orig = json_loads(file_new_version, 0, NULL);
    assert_non_null(orig);
    struct vrc_file *f = parse_text(file_new_version);
    json_t *back = json_loads(f->json, 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(orig, back));
    /* The server's key order is kept: id, name, ownerId, ... */
    const char *id = strstr(f->json, "\"id\"");
    const char *name = strstr(f->json, "\"name\"");
    const char *owner = strstr(f->json, "\"ownerId\"");
    const char *versions = strstr(f->json, "\"versions\"");
    assert_true(id && name && owner && versions);
    assert_true(id < name && name < owner && owner < versions);
    json_decref(back);
    json_decref(orig);
    vrc_file_unref(f);
}

static void test_json_keeps_unknown_fields(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text("{\"id\":\"" FID "\",\"futureField\":{\"a\":[1,2]}}");
    assert_non_null(strstr(f->json, "\"futureField\""));
    vrc_file_unref(f);
}

/* --- refcounting --- */

static void test_new_file_has_one_reference(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text(file_v0_only);
    assert_int_equal(atomic_load(&f->refs), 1);
    vrc_file_unref(f);
}

static void test_ref_and_unref_balance(void **state)
{
    (void)state;
    struct vrc_file *f = parse_text(file_new_version);
    assert_ptr_equal(vrc_file_ref(f), f);
    assert_ptr_equal(vrc_file_ref(f), f);
    assert_int_equal(atomic_load(&f->refs), 3);
    vrc_file_unref(f);
    vrc_file_unref(f);
    assert_int_equal(atomic_load(&f->refs), 1);
    /* Still whole after the others let go. */
    assert_string_equal(f->id, FID);
    assert_string_equal(f->versions[1].data[VRC_DATA_FILE].url, API "/file/" FID "/1/file");
    vrc_file_unref(f); /* the last one frees; ASan reports a leak or a double free */
}

static void test_unref_null_is_a_no_op(void **state)
{
    (void)state;
    vrc_file_unref(NULL);
}

static void test_data_kind_names(void **state)
{
    (void)state;
    assert_string_equal(vrc_data_kind_name(VRC_DATA_FILE), "file");
    assert_string_equal(vrc_data_kind_name(VRC_DATA_SIGNATURE), "signature");
    assert_string_equal(vrc_data_kind_name(VRC_DATA_DELTA), "delta");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_with_version_zero_only),
        cmocka_unit_test(test_live_new_version_is_waiting),
        cmocka_unit_test(test_file_data_without_md5_parses_with_empty_md5),
        cmocka_unit_test(test_multipart_category_and_upload_id),
        cmocka_unit_test(test_sizes_above_4_gib_are_kept),
        cmocka_unit_test(test_sizes_beyond_belief_are_cut),
        cmocka_unit_test(test_version_numbers_beyond_int_are_never_shown),
        cmocka_unit_test(test_ids_that_are_not_file_ids_are_rejected),
        cmocka_unit_test(test_id_with_a_nul_is_rejected),
        cmocka_unit_test(test_file_id_ok),
        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_unknown_fields_everywhere_are_ignored),
        cmocka_unit_test(test_deleted_version_is_hidden),
        cmocka_unit_test(test_latest_skips_waiting_and_deleted),
        cmocka_unit_test(test_newest_skips_deleted_whatever_the_status),
        cmocka_unit_test(test_newest_counts_queued),
        cmocka_unit_test(test_all_deleted_gives_zero),
        cmocka_unit_test(test_versions_out_of_order_still_find_the_highest),
        cmocka_unit_test(test_version_lookup_of_absent_and_negative_numbers),
        cmocka_unit_test(test_no_versions_gives_zero),
        cmocka_unit_test(test_missing_id_is_rejected),
        cmocka_unit_test(test_id_not_a_string_is_rejected),
        cmocka_unit_test(test_empty_id_is_rejected),
        cmocka_unit_test(test_null_array_and_scalars_are_rejected),
        cmocka_unit_test(test_wrong_top_level_types_give_defaults),
        cmocka_unit_test(test_wrong_types_inside_arrays_are_skipped),
        cmocka_unit_test(test_wrong_types_in_a_version_give_defaults),
        cmocka_unit_test(test_wrong_types_in_file_data_give_defaults),
        cmocka_unit_test(test_empty_file_data_object_is_present_with_defaults),
        cmocka_unit_test(test_empty_name_is_kept),
        cmocka_unit_test(test_parse_time_with_fraction_and_z),
        cmocka_unit_test(test_parse_time_after_2038),
        cmocka_unit_test(test_parse_time_is_utc_whatever_the_local_zone),
        cmocka_unit_test(test_parse_time_garbage_is_zero),
        cmocka_unit_test(test_json_is_pretty_and_ends_with_a_newline),
        cmocka_unit_test(test_json_is_the_same_object_in_the_same_order),
        cmocka_unit_test(test_json_keeps_unknown_fields),
        cmocka_unit_test(test_new_file_has_one_reference),
        cmocka_unit_test(test_ref_and_unref_balance),
        cmocka_unit_test(test_unref_null_is_a_no_op),
        cmocka_unit_test(test_data_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
