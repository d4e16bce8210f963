#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote/session.h"

struct fixture {
    char dir[64];
    char path[256];
    mode_t old_umask;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/vrcfs-test-session-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/vrcfs/session.json", f->dir);
    f->old_umask = umask(022);
    umask(f->old_umask);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    umask(f->old_umask);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
    char *copy = strdup(path);
    char *slash = strrchr(copy, '/');
    *slash = '\0';
    mkdir(copy, 0700);
    free(copy);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static const struct session full = {
    .api_url = "https://api.vrchat.cloud/api/1",
    .auth = "authcookie_0b4e6a2c-1f3d-4e5a-8b7c-9d0e1f2a3b4c",
    .two_factor = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOiJ1c3JfMSJ9.c2lnbmF0dXJl",
    .user_id = "usr_c1644b5b-3ca4-45b4-97c6-a2a0de70d469",
    .display_name = "Tüpfelchen \"quoted\" name",
};

static void assert_modes(const struct fixture *f, mode_t dir_mode, mode_t file_mode)
{
    struct stat st;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/vrcfs", f->dir);
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, dir_mode);
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, file_mode);
}

static void test_save_with_umask_022_makes_dir_0700_and_file_0600(void **state)
{
    struct fixture *f = *state;
    umask(022);
    assert_int_equal(session_save(f->path, &full), 0);
    assert_modes(f, 0700, 0600);
}

static void test_save_with_umask_000_makes_dir_0700_and_file_0600(void **state)
{
    struct fixture *f = *state;
    umask(0);
    assert_int_equal(session_save(f->path, &full), 0);
    assert_modes(f, 0700, 0600);
}

static void test_save_with_umask_077_makes_dir_0700_and_file_0600(void **state)
{
    struct fixture *f = *state;
    umask(077);
    assert_int_equal(session_save(f->path, &full), 0);
    assert_modes(f, 0700, 0600);
}

static void test_save_tightens_an_existing_open_dir_and_file(void **state)
{
    struct fixture *f = *state;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/vrcfs", f->dir);
    umask(0);
    assert_int_equal(mkdir(dir, 0777), 0);
    int fd = open(f->path, O_WRONLY | O_CREAT, 0666);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(session_save(f->path, &full), 0);
    assert_modes(f, 0700, 0600);
}

static void test_save_creates_a_missing_parent_of_the_dir(void **state)
{
    struct fixture *f = *state;
    /* $HOME/.config may be missing on a fresh machine. */
    char path[256];
    snprintf(path, sizeof path, "%s/.config/vrcfs/session.json", f->dir);
    umask(022);
    assert_int_equal(session_save(path, &full), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/.config/vrcfs", f->dir);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
}

static void test_save_leaves_no_temporary_file(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(session_save(f->path, &full), 0);
    assert_int_equal(session_save(f->path, &full), 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s/vrcfs')\" = session.json", f->dir);
    assert_int_equal(system(cmd), 0);
}

static void test_load_round_trips_every_field(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(session_save(f->path, &full), 0);
    struct session s;
    assert_int_equal(session_load(f->path, &s), 0);
    assert_string_equal(s.api_url, full.api_url);
    assert_string_equal(s.auth, full.auth);
    assert_string_equal(s.two_factor, full.two_factor);
    assert_string_equal(s.user_id, full.user_id);
    assert_string_equal(s.display_name, full.display_name);
    session_clear(&s);
    assert_null(s.api_url);
    assert_null(s.auth);
}

static void test_load_round_trips_without_optional_fields(void **state)
{
    struct fixture *f = *state;
    const struct session minimal = {.api_url = "http://127.0.0.1:8080/api/1",
                                    .auth = "authcookie_x"};
    assert_int_equal(session_save(f->path, &minimal), 0);
    struct session s;
    assert_int_equal(session_load(f->path, &s), 0);
    assert_string_equal(s.api_url, minimal.api_url);
    assert_string_equal(s.auth, minimal.auth);
    assert_null(s.two_factor);
    assert_null(s.user_id);
    assert_null(s.display_name);
    session_clear(&s);
}

static void test_save_replaces_the_previous_session(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(session_save(f->path, &full), 0);
    const struct session next = {.api_url = "https://api.vrchat.cloud/api/1", .auth = "second"};
    assert_int_equal(session_save(f->path, &next), 0);
    struct session s;
    assert_int_equal(session_load(f->path, &s), 0);
    assert_string_equal(s.auth, "second");
    assert_null(s.two_factor);
    session_clear(&s);
}

static void test_missing_file_is_enoent(void **state)
{
    struct fixture *f = *state;
    struct session s;
    memset(&s, 0x5a, sizeof s);
    assert_int_equal(session_load(f->path, &s), -ENOENT);
    assert_null(s.api_url);
    assert_null(s.auth);
}

static void assert_load_einval(const struct fixture *f, const char *text)
{
    write_file(f->path, text);
    struct session s;
    memset(&s, 0x5a, sizeof s);
    assert_int_equal(session_load(f->path, &s), -EINVAL);
    /* Nothing is handed back on failure. */
    assert_null(s.api_url);
    assert_null(s.auth);
    assert_null(s.two_factor);
    assert_null(s.user_id);
    assert_null(s.display_name);
    assert_null(s.service);
    assert_null(s.token);
}

static void test_malformed_file_is_einval(void **state)
{
    struct fixture *f = *state;
    assert_load_einval(f, "{\"api_url\": \"https://api.vrchat.cloud/api/1\", \"auth\": ");
    assert_load_einval(f, "not json at all");
    assert_load_einval(f, "");
    assert_load_einval(f, "null");
    assert_load_einval(f, "[\"https://api.vrchat.cloud/api/1\", \"authcookie_x\"]");
}

static void test_file_without_auth_is_einval(void **state)
{
    struct fixture *f = *state;
    assert_load_einval(f, "{\"api_url\": \"https://api.vrchat.cloud/api/1\","
                          " \"twoFactorAuth\": \"t\", \"user_id\": \"usr_1\"}");
}

static void test_file_without_api_url_is_einval(void **state)
{
    struct fixture *f = *state;
    assert_load_einval(f, "{\"auth\": \"authcookie_x\", \"user_id\": \"usr_1\"}");
}

static void test_empty_or_mistyped_required_fields_are_einval(void **state)
{
    struct fixture *f = *state;
    assert_load_einval(f, "{\"api_url\": \"https://api.vrchat.cloud/api/1\", \"auth\": \"\"}");
    assert_load_einval(f, "{\"api_url\": \"https://api.vrchat.cloud/api/1\", \"auth\": 42}");
    assert_load_einval(f, "{\"api_url\": null, \"auth\": \"authcookie_x\"}");
    assert_load_einval(f, "{\"api_url\": [\"x\"], \"auth\": \"authcookie_x\"}");
}

static void test_unknown_and_mistyped_optional_fields_are_ignored(void **state)
{
    struct fixture *f = *state;
    write_file(f->path, "{\"api_url\": \"http://h/api/1\", \"auth\": \"a\", \"user_id\": 7,"
                        " \"display_name\": null, \"extra\": {\"x\": 1}}");
    struct session s;
    assert_int_equal(session_load(f->path, &s), 0);
    assert_string_equal(s.api_url, "http://h/api/1");
    assert_string_equal(s.auth, "a");
    assert_null(s.user_id);
    assert_null(s.display_name);
    session_clear(&s);
}

static void test_session_clear_on_a_zeroed_session_is_safe(void **state)
{
    (void)state;
    struct session s = {0};
    session_clear(&s);
    session_clear(&s);
    assert_null(s.auth);
}

static void test_default_path_uses_xdg_config_home(void **state)
{
    struct fixture *f = *state;
    char *old_xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
    assert_int_equal(setenv("XDG_CONFIG_HOME", f->dir, 1), 0);
    char *path = session_default_path();
    char expected[256];
    snprintf(expected, sizeof expected, "%s/vrcfs/session.json", f->dir);
    assert_non_null(path);
    assert_string_equal(path, expected);
    free(path);
    if (old_xdg)
        setenv("XDG_CONFIG_HOME", old_xdg, 1);
    else
        unsetenv("XDG_CONFIG_HOME");
    free(old_xdg);
}

static void test_default_path_without_xdg_uses_home_config(void **state)
{
    struct fixture *f = *state;
    char *old_xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    assert_int_equal(unsetenv("XDG_CONFIG_HOME"), 0);
    assert_int_equal(setenv("HOME", f->dir, 1), 0);
    char *path = session_default_path();
    char expected[256];
    snprintf(expected, sizeof expected, "%s/.config/vrcfs/session.json", f->dir);
    assert_non_null(path);
    assert_string_equal(path, expected);
    free(path);

    /* An empty XDG_CONFIG_HOME counts as unset (XDG Base Directory spec). */
    assert_int_equal(setenv("XDG_CONFIG_HOME", "", 1), 0);
    path = session_default_path();
    assert_non_null(path);
    assert_string_equal(path, expected);
    free(path);

    if (old_home)
        setenv("HOME", old_home, 1);
    if (old_xdg)
        setenv("XDG_CONFIG_HOME", old_xdg, 1);
    else
        unsetenv("XDG_CONFIG_HOME");
    free(old_home);
    free(old_xdg);
}

static void test_default_path_is_usable_by_save_and_load(void **state)
{
    struct fixture *f = *state;
    char *old_xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
    assert_int_equal(setenv("XDG_CONFIG_HOME", f->dir, 1), 0);
    char *path = session_default_path();
    assert_non_null(path);
    assert_int_equal(session_save(path, &full), 0);
    assert_modes(f, 0700, 0600);
    struct session s;
    assert_int_equal(session_load(path, &s), 0);
    assert_string_equal(s.auth, full.auth);
    session_clear(&s);
    free(path);
    if (old_xdg)
        setenv("XDG_CONFIG_HOME", old_xdg, 1);
    else
        unsetenv("XDG_CONFIG_HOME");
    free(old_xdg);
}

static void test_a_file_without_service_is_vrchats(void **state)
{
    struct fixture *f = *state;
    /* What vrcfs wrote before sharedcloud: still a VRChat session. */
    write_file(f->path, "{\"api_url\": \"https://api.vrchat.cloud/api/1\", \"auth\": \"a\"}");
    struct session s;
    assert_int_equal(session_load(f->path, &s), 0);
    assert_string_equal(s.service, SESSION_SERVICE_VRCHAT);
    assert_string_equal(s.auth, "a");
    assert_null(s.token);
    session_clear(&s);
}

static void test_sharedcloud_session_round_trips(void **state)
{
    struct fixture *f = *state;
    const struct session sc = {.service = SESSION_SERVICE_SHAREDCLOUD,
                               .api_url = "https://sharedcloud.io",
                               .token = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"};
    assert_int_equal(session_save(f->path, &sc), 0);
    assert_modes(f, 0700, 0600);
    struct session s;
    assert_int_equal(session_load(f->path, &s), 0);
    assert_string_equal(s.service, SESSION_SERVICE_SHAREDCLOUD);
    assert_string_equal(s.api_url, sc.api_url);
    assert_string_equal(s.token, sc.token);
    assert_null(s.auth);
    session_clear(&s);
    assert_null(s.token);
    assert_null(s.service);
}

static void test_sharedcloud_without_token_or_unknown_service_is_einval(void **state)
{
    struct fixture *f = *state;
    assert_load_einval(f,
                       "{\"service\": \"sharedcloud\", \"api_url\": \"https://sharedcloud.io\"}");
    assert_load_einval(f, "{\"service\": \"sharedcloud\", \"api_url\": \"https://sharedcloud.io\","
                          " \"token\": \"\", \"auth\": \"a\"}");
    assert_load_einval(f, "{\"service\": \"dropbox\", \"api_url\": \"https://x\", \"auth\": \"a\","
                          " \"token\": \"t\"}");
    /* A VRChat session still needs its cookie, token or not. */
    assert_load_einval(f,
                       "{\"service\": \"vrchat\", \"api_url\": \"https://x\", \"token\": \"t\"}");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_save_with_umask_022_makes_dir_0700_and_file_0600),
        T(test_save_with_umask_000_makes_dir_0700_and_file_0600),
        T(test_save_with_umask_077_makes_dir_0700_and_file_0600),
        T(test_save_tightens_an_existing_open_dir_and_file),
        T(test_save_creates_a_missing_parent_of_the_dir),
        T(test_save_leaves_no_temporary_file),
        T(test_load_round_trips_every_field),
        T(test_load_round_trips_without_optional_fields),
        T(test_save_replaces_the_previous_session),
        T(test_missing_file_is_enoent),
        T(test_malformed_file_is_einval),
        T(test_file_without_auth_is_einval),
        T(test_file_without_api_url_is_einval),
        T(test_empty_or_mistyped_required_fields_are_einval),
        T(test_unknown_and_mistyped_optional_fields_are_ignored),
        T(test_session_clear_on_a_zeroed_session_is_safe),
        T(test_default_path_uses_xdg_config_home),
        T(test_default_path_without_xdg_uses_home_config),
        T(test_default_path_is_usable_by_save_and_load),
        T(test_a_file_without_service_is_vrchats),
        T(test_sharedcloud_session_round_trips),
        T(test_sharedcloud_without_token_or_unknown_service_is_einval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
