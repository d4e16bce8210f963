/* Unit tests for meta_persist: a save and load round trip (ages, the File's JSON, the file's
 * modes, taken at load), expiry at load, Files "fetched in the future", garbage and cut files,
 * another account's file, and the names a user id may give. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfs/meta_persist.h"

#define API "http://127.0.0.1:1/api/1"
#define USER "usr_0a1b2c3d-4e5f-6789-abcd-ef0123456789"
#define NOW 1800000000.0

static char dir[256];
static char *path;

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_meta_persist.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    path = meta_persist_path(dir, USER);
    assert_non_null(path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(path);
    return 0;
}

static struct vrc_file *file_new(const char *id, int versions)
{
    json_t *list = json_array();
    for (int n = 1; n <= versions; n++)
        json_array_append_new(
            list, json_pack("{s:i, s:s, s:{s:s, s:i}}", "version", n, "status", "complete", "file",
                            "md5", "1B2M2Y8AsgTpgAmY7PhCfg==", "sizeInBytes", 300000 + n));
    json_t *obj = json_pack("{s:s, s:s, s:s, s:o}", "id", id, "name", "Some name", "extension",
                            ".png", "versions", list);
    char why[128];
    struct vrc_file *f = vrc_file_parse(obj, why, sizeof why);
    json_decref(obj);
    assert_non_null(f);
    return f;
}

/* What load gave: up to 8 Files with their ages. */
struct loaded {
    struct vrc_file *files[8];
    double ages[8];
    size_t n;
};

static void keep(void *arg, struct vrc_file *f, double age)
{
    struct loaded *l = arg;
    assert_true(l->n < 8);
    l->files[l->n] = f;
    l->ages[l->n++] = age;
}

static void loaded_free(struct loaded *l)
{
    for (size_t i = 0; i < l->n; i++)
        vrc_file_unref(l->files[i]);
    l->n = 0;
}

static size_t load(struct loaded *l, const char *user, double ttl, double now)
{
    size_t n = meta_persist_load(path, API, user, ttl, now, keep, l);
    assert_int_equal(n, l->n);
    return n;
}

/* Saves one File fetched at each of the times given. */
static void save_fetched(const double *fetched, size_t n, const char *user)
{
    struct meta_persist_file files[8];
    struct vrc_file *made[8];
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "file_%zu", i);
        made[i] = file_new(id, 1);
        files[i] = (struct meta_persist_file){made[i], fetched[i]};
    }
    assert_int_equal(meta_persist_save(path, API, user, files, n), 0);
    for (size_t i = 0; i < n; i++)
        vrc_file_unref(made[i]);
}

static void write_text(const char *text, size_t len)
{
    char sub[300];
    snprintf(sub, sizeof sub, "%s/meta", dir);
    mkdir(sub, 0700);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    assert_int_equal(fwrite(text, 1, len, out), len);
    fclose(out);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct vrc_file *a = file_new("file_aaaa-1", 3), *b = file_new("file_bbbb-2", 1);
    struct meta_persist_file files[] = {{a, NOW - 12.5}, {b, NOW - 0.25}};
    assert_int_equal(meta_persist_save(path, API, USER, files, 2), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/meta", dir);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    struct loaded l = {0};
    assert_int_equal(load(&l, USER, 60, NOW), 2);
    assert_string_equal(l.files[0]->id, "file_aaaa-1");
    assert_true(l.ages[0] == 12.5);
    assert_int_equal(l.files[0]->nversions, 3);
    assert_int_equal(l.files[0]->versions[2].data[VRC_DATA_FILE].size, 300003);
    assert_int_equal(l.files[0]->json_len, a->json_len);
    assert_memory_equal(l.files[0]->json, a->json, a->json_len);
    assert_string_equal(l.files[1]->id, "file_bbbb-2");
    assert_true(l.ages[1] == 0.25);
    loaded_free(&l);
    /* Taken: a second load finds nothing, and a mount that then dies leaves nothing behind. */
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(load(&l, USER, 60, NOW), 0);
    vrc_file_unref(a);
    vrc_file_unref(b);
}

static void test_expired_at_load_are_dropped(void **state)
{
    (void)state;
    const double fetched[] = {NOW - 59.5, NOW - 60, NOW - 3600};
    save_fetched(fetched, 3, USER);
    struct loaded l = {0};
    assert_int_equal(load(&l, USER, 60, NOW), 1);
    assert_string_equal(l.files[0]->id, "file_0");
    assert_true(l.ages[0] == 59.5);
    loaded_free(&l);
    /* cache_ttl=0: nothing is ever fresh. */
    save_fetched(fetched, 1, USER);
    assert_int_equal(load(&l, USER, 0, NOW), 0);
}

static void test_fetched_in_the_future_is_dropped(void **state)
{
    (void)state;
    const double fetched[] = {NOW + 0.5, NOW, NOW + 3600};
    save_fetched(fetched, 3, USER);
    struct loaded l = {0};
    assert_int_equal(load(&l, USER, 60, NOW), 1);
    assert_string_equal(l.files[0]->id, "file_1");
    loaded_free(&l);
}

static void test_garbage_gives_nothing(void **state)
{
    (void)state;
    struct loaded l = {0};
    const char *texts[] = {
        "",
        "\x01\x02\xff garbage",
        "[1, 2, 3]",
        "{\"format\": 2, \"api\": \"" API "\", \"user\": \"" USER "\", \"files\": []}",
        "{\"format\": 1, \"api\": \"" API "\", \"user\": \"" USER "\", \"files\": {}}",
        "{\"format\": 1, \"api\": \"" API "\", \"user\": \"" USER "\", \"files\": "
        "[{\"fetched\": \"now\", \"file\": {\"id\": \"file_x\"}}, {\"file\": {\"id\": "
        "\"file_y\"}}, "
        "{\"fetched\": 1800000000, \"file\": {\"id\": \"not a file id\"}}, "
        "{\"fetched\": 1800000000, \"file\": 7}, 3, null]}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        write_text(texts[i], strlen(texts[i]));
        assert_int_equal(load(&l, USER, 60, NOW), 0);
        assert_int_equal(access(path, F_OK), -1);
    }
    /* A file cut short anywhere (a full disk, a hand): never part of it. */
    const double fetched[] = {NOW - 1, NOW - 2, NOW - 3};
    save_fetched(fetched, 3, USER);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char whole[8192];
    size_t len = fread(whole, 1, sizeof whole, in);
    fclose(in);
    assert_true(len > 100 && len < sizeof whole);
    for (size_t cut = 1; cut < len; cut += 7) {
        write_text(whole, cut);
        assert_int_equal(load(&l, USER, 60, NOW), 0);
    }
    write_text(whole, len);
    assert_int_equal(load(&l, USER, 60, NOW), 3);
    loaded_free(&l);
}

static void test_another_accounts_file_gives_nothing(void **state)
{
    (void)state;
    const double fetched[] = {NOW - 1};
    save_fetched(fetched, 1, "usr_someone-else");
    struct loaded l = {0};
    assert_int_equal(load(&l, USER, 60, NOW), 0);
    /* The same user id on another server is another account too. */
    save_fetched(fetched, 1, USER);
    assert_int_equal(meta_persist_load(path, "http://127.0.0.1:2/api/1", USER, 60, NOW, keep, &l),
                     0);
    assert_int_equal(l.n, 0);
}

static void test_saving_nothing_removes_the_file(void **state)
{
    (void)state;
    const double fetched[] = {NOW - 1};
    save_fetched(fetched, 1, USER);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(meta_persist_save(path, API, USER, NULL, 0), 0);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(meta_persist_save(path, API, USER, NULL, 0), 0);
}

static void test_a_temp_file_left_by_a_crash_is_replaced(void **state)
{
    (void)state;
    char sub[300], tmp[400];
    snprintf(sub, sizeof sub, "%s/meta", dir);
    mkdir(sub, 0700);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, 0644), 0);
    assert_int_equal(write(fd, "{\"half", 6), 6);
    close(fd);
    const double fetched[] = {NOW - 1};
    save_fetched(fetched, 1, USER);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(access(tmp, F_OK), -1);
}

static void test_path_only_for_a_plain_user_id(void **state)
{
    (void)state;
    char *p = meta_persist_path("/c", "usr_Ab-9");
    assert_string_equal(p, "/c/meta/usr_Ab-9.json");
    free(p);
    const char *bad[] = {"", "../x", "usr/x", "usr x", "usr.x", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_null(meta_persist_path("/c", bad[i]));
    char longer[120];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_null(meta_persist_path("/c", longer));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_at_load_are_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetched_in_the_future_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_gives_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_another_accounts_file_gives_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saving_nothing_removes_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_temp_file_left_by_a_crash_is_replaced, setup,
                                        teardown),
        cmocka_unit_test(test_path_only_for_a_plain_user_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
