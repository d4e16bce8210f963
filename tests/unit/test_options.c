#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "options.h"

#define MAX_WORDS 3
#define GIB (1024LL * 1024 * 1024)
#define MIB (1024LL * 1024)

struct parsed {
    int rc;
    struct fuse_args args;
    struct vrcfs_options o;
    char *words[MAX_WORDS];
    int nwords;
};

static void parse_argv(struct parsed *p, int argc, const char *const *argv)
{
    memset(p, 0, sizeof *p);
    p->args = (struct fuse_args)FUSE_ARGS_INIT(argc, (char **)argv);
    p->rc = options_parse(&p->args, &p->o, p->words, MAX_WORDS, &p->nwords);
}

#define PARSE(p, ...)                                                                              \
    do {                                                                                           \
        static const char *const argv_[] = {"vrcfs", __VA_ARGS__};                                 \
        parse_argv((p), (int)(sizeof argv_ / sizeof argv_[0]), argv_);                             \
    } while (0)

static void parsed_free(struct parsed *p)
{
    for (int i = 0; i < p->nwords; i++)
        free(p->words[i]);
    options_free(&p->o);
    fuse_opt_free_args(&p->args);
}

/* The arguments left for FUSE, joined by spaces, without argv[0]. */
static void assert_left_for_fuse(const struct parsed *p, const char *expected)
{
    char joined[512] = "";
    assert_true(p->args.argc >= 1);
    assert_string_equal(p->args.argv[0], "vrcfs");
    for (int i = 1; i < p->args.argc; i++) {
        if (i > 1)
            strcat(joined, " ");
        strcat(joined, p->args.argv[i]);
    }
    assert_string_equal(joined, expected);
}

static long long cache_size_of(const char *opt)
{
    struct parsed p;
    const char *argv[] = {"vrcfs", "-o", opt, "mount"};
    parse_argv(&p, 4, argv);
    long long v = p.rc == 0 ? p.o.cache_size : -1;
    parsed_free(&p);
    return v;
}

static int rc_of(const char *opt)
{
    struct parsed p;
    const char *argv[] = {"vrcfs", "-o", opt, "mount"};
    parse_argv(&p, 4, argv);
    int rc = p.rc;
    parsed_free(&p);
    return rc;
}

/* --- defaults --- */

static void test_defaults(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "login");
    assert_int_equal(p.rc, 0);
    assert_null(p.o.api_url);
    assert_null(p.o.contact);
    assert_null(p.o.session);
    assert_null(p.o.cache_dir);
    assert_true(p.o.cache_ttl == 60.0);
    assert_int_equal(p.o.cache_entries, 20000);
    assert_int_equal(p.o.cache_size, 4 * GIB);
    assert_int_equal(p.o.rate, 60);
    assert_int_equal(p.o.retries, 4);
    assert_int_equal(p.o.multipart_part_mib, 16);
    assert_int_equal(p.o.uid, -1);
    assert_int_equal(p.o.gid, -1);
    assert_int_equal(p.o.umask, 0);
    assert_int_equal(p.o.debug, 0);
    assert_int_equal(p.o.foreground, 0);
    assert_int_equal(p.o.show_help, 0);
    assert_int_equal(p.o.show_version, 0);
    assert_int_equal(p.nwords, 1);
    assert_string_equal(p.words[0], "login");
    assert_left_for_fuse(&p, "");
    parsed_free(&p);
}

static void test_no_arguments_at_all(void **state)
{
    (void)state;
    struct parsed p;
    const char *argv[] = {"vrcfs"};
    parse_argv(&p, 1, argv);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.nwords, 0);
    assert_int_equal(p.o.rate, 60);
    parsed_free(&p);
}

/* --- each -o name=value --- */

static void test_string_options(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "-o", "api_url=http://127.0.0.1:8080/api/1", "-o", "contact=me@example.com", "-o",
          "session=/tmp/s/session.json", "-o", "cache_dir=/var/cache/vrcfs", "/mnt");
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.o.api_url, "http://127.0.0.1:8080/api/1");
    assert_string_equal(p.o.contact, "me@example.com");
    assert_string_equal(p.o.session, "/tmp/s/session.json");
    assert_string_equal(p.o.cache_dir, "/var/cache/vrcfs");
    assert_left_for_fuse(&p, "");
    parsed_free(&p);
}

static void test_numeric_options(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "-o", "cache_ttl=2.5", "-o", "cache_entries=100", "-o", "rate=30", "-o", "retries=7",
          "-o", "part_size_mib=100", "/mnt");
    assert_int_equal(p.rc, 0);
    assert_true(p.o.cache_ttl == 2.5);
    assert_int_equal(p.o.cache_entries, 100);
    assert_int_equal(p.o.rate, 30);
    assert_int_equal(p.o.retries, 7);
    assert_int_equal(p.o.multipart_part_mib, 100);
    parsed_free(&p);
}

static void test_options_in_one_comma_list(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "-o", "rate=10,retries=2,cache_ttl=0,contact=a@b.c,cache_size=1G", "/mnt");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.o.rate, 10);
    assert_int_equal(p.o.retries, 2);
    assert_true(p.o.cache_ttl == 0.0);
    assert_string_equal(p.o.contact, "a@b.c");
    assert_int_equal(p.o.cache_size, GIB);
    assert_left_for_fuse(&p, "");
    parsed_free(&p);
}

static void test_option_glued_to_dash_o(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "-orate=5,session=/x", "/mnt");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.o.rate, 5);
    assert_string_equal(p.o.session, "/x");
    parsed_free(&p);
}

static void test_later_option_wins(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "-o", "rate=10,session=/a", "-o", "rate=20,session=/b", "/mnt");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.o.rate, 20);
    assert_string_equal(p.o.session, "/b");
    parsed_free(&p); /* ASan: the first session string is not leaked */
}

/* --- cache_size --- */

static void test_cache_size_suffixes(void **state)
{
    (void)state;
    assert_int_equal(cache_size_of("cache_size=512M"), 512 * MIB);
    assert_int_equal(cache_size_of("cache_size=2G"), 2 * GIB);
    assert_int_equal(cache_size_of("cache_size=1048576"), 1048576);
    assert_int_equal(cache_size_of("cache_size=64K"), 64 * 1024);
    assert_int_equal(cache_size_of("cache_size=1T"), 1024 * GIB);
    assert_int_equal(cache_size_of("cache_size=0"), 0);
}

static void test_cache_size_lower_case_and_unit_spellings(void **state)
{
    (void)state;
    assert_int_equal(cache_size_of("cache_size=512m"), 512 * MIB);
    assert_int_equal(cache_size_of("cache_size=2g"), 2 * GIB);
    assert_int_equal(cache_size_of("cache_size=512MB"), 512 * MIB);
    assert_int_equal(cache_size_of("cache_size=512MiB"), 512 * MIB);
    assert_int_equal(cache_size_of("cache_size=2GiB"), 2 * GIB);
}

static void test_cache_size_fraction(void **state)
{
    (void)state;
    assert_int_equal(cache_size_of("cache_size=1.5G"), 3 * GIB / 2);
    assert_int_equal(cache_size_of("cache_size=0.5M"), 512 * 1024);
}

static void test_bad_cache_size_fails(void **state)
{
    (void)state;
    assert_int_equal(rc_of("cache_size="), -1);
    assert_int_equal(rc_of("cache_size=abc"), -1);
    assert_int_equal(rc_of("cache_size=12X"), -1);
    assert_int_equal(rc_of("cache_size=G"), -1);
    assert_int_equal(rc_of("cache_size=-1"), -1);
    assert_int_equal(rc_of("cache_size=-2G"), -1);
    assert_int_equal(rc_of("cache_size=2 G"), -1);
    assert_int_equal(rc_of("cache_size=2GX"), -1);
}

static void test_cache_size_failure_leaves_words_to_free(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "src", "-o", "cache_size=lots", "/mnt");
    assert_int_equal(p.rc, -1);
    assert_true(p.nwords <= MAX_WORDS);
    parsed_free(&p); /* ASan: nothing leaks on the error path */
}

/* --- ranges --- */

/* allow_other turns default_permissions on (once), so that other users get only what the modes
 * shown allow; without allow_other nothing is added. */
static void test_allow_other_turns_on_default_permissions(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "/mnt", "-o", "allow_other");
    assert_int_equal(p.rc, 0);
    assert_left_for_fuse(&p, "-o allow_other -odefault_permissions");
    parsed_free(&p);
    PARSE(&p, "/mnt", "-o", "ro");
    assert_int_equal(p.rc, 0);
    assert_left_for_fuse(&p, "-o ro");
    parsed_free(&p);
}

/* uid=, gid= and umask= are vrcfs's own (the low-level FUSE API has none): not left for FUSE. */
static void test_owner_and_umask(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "-o", "uid=4321,gid=0,umask=027,allow_other", "/mnt");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.o.uid, 4321);
    assert_int_equal(p.o.gid, 0);
    assert_int_equal(p.o.umask, 027);
    assert_left_for_fuse(&p, "-o allow_other -odefault_permissions");
    parsed_free(&p);
}

static void test_out_of_range_values_fail(void **state)
{
    (void)state;
    assert_int_equal(rc_of("cache_ttl=-1"), -1);
    assert_int_equal(rc_of("cache_entries=0"), -1);
    assert_int_equal(rc_of("cache_entries=-5"), -1);
    assert_int_equal(rc_of("rate=-1"), -1);
    assert_int_equal(rc_of("retries=-1"), -1);
    assert_int_equal(rc_of("retries=21"), -1);
    assert_int_equal(rc_of("part_size_mib=4"), -1);
    assert_int_equal(rc_of("part_size_mib=0"), -1);
    assert_int_equal(rc_of("uid=-2"), -1);
    assert_int_equal(rc_of("gid=-2"), -1);
    assert_int_equal(rc_of("umask=1000"), -1);
}

static void test_boundary_values_pass(void **state)
{
    (void)state;
    assert_int_equal(rc_of("cache_ttl=0"), 0);
    assert_int_equal(rc_of("cache_entries=1"), 0);
    assert_int_equal(rc_of("rate=0"), 0);
    assert_int_equal(rc_of("retries=0"), 0);
    assert_int_equal(rc_of("retries=20"), 0);
    assert_int_equal(rc_of("part_size_mib=5"), 0);
}

static void test_non_numeric_values_fail(void **state)
{
    (void)state;
    assert_int_equal(rc_of("rate=fast"), -1);
    assert_int_equal(rc_of("retries=x"), -1);
    assert_int_equal(rc_of("cache_entries="), -1);
    assert_int_equal(rc_of("cache_ttl=soon"), -1);
}

/* --- words --- */

static void test_command_word_is_collected(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "logout", "-o", "session=/s");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.nwords, 1);
    assert_string_equal(p.words[0], "logout");
    parsed_free(&p);
}

static void test_mount_fuse3_source_and_mountpoint(void **state)
{
    (void)state;
    /* mount.fuse3 runs: vrcfs <source> <mountpoint> -o <options> */
    struct parsed p;
    PARSE(&p, "vrchat", "/mnt/vrc", "-o", "rw,nosuid,nodev,allow_other,rate=30,cache_size=512M");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.nwords, 2);
    assert_string_equal(p.words[0], "vrchat");
    assert_string_equal(p.words[1], "/mnt/vrc");
    assert_int_equal(p.o.rate, 30);
    assert_int_equal(p.o.cache_size, 512 * MIB);
    assert_left_for_fuse(&p, "-o rw,nosuid,nodev,allow_other -odefault_permissions");
    parsed_free(&p);
}

static void test_words_are_copies(void **state)
{
    (void)state;
    char src[] = "source";
    char mnt[] = "/mnt";
    const char *argv[] = {"vrcfs", src, mnt};
    struct parsed p;
    parse_argv(&p, 3, argv);
    assert_int_equal(p.rc, 0);
    assert_ptr_not_equal(p.words[0], src);
    src[0] = 'X';
    mnt[0] = 'X';
    assert_string_equal(p.words[0], "source");
    assert_string_equal(p.words[1], "/mnt");
    parsed_free(&p);
}

static void test_too_many_words_fail(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "a", "b", "c", "d");
    assert_int_equal(p.rc, -1);
    assert_true(p.nwords <= MAX_WORDS);
    parsed_free(&p);
}

static void test_words_after_double_dash(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "-o", "rate=9", "--", "-odd-name");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.o.rate, 9);
    assert_int_equal(p.nwords, 1);
    assert_string_equal(p.words[0], "-odd-name");
    parsed_free(&p);
}

/* --- what FUSE keeps --- */

static void test_allow_other_is_left_for_fuse(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "/mnt", "-o", "allow_other,rate=5,default_permissions");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.o.rate, 5);
    assert_left_for_fuse(&p, "-o allow_other,default_permissions");
    parsed_free(&p);
}

static void test_dash_f_sets_foreground_and_stays(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "-f", "/mnt");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.o.foreground, 1);
    assert_int_equal(p.o.debug, 0);
    assert_left_for_fuse(&p, "-f");
    parsed_free(&p);
}

static void test_dash_d_sets_debug_and_stays(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "-d", "/mnt");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.o.debug, 1);
    assert_left_for_fuse(&p, "-d");
    parsed_free(&p);
}

static void test_o_debug_sets_debug_and_stays(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "-o", "debug,rate=1", "/mnt");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.o.debug, 1);
    assert_int_equal(p.o.rate, 1);
    assert_left_for_fuse(&p, "-o debug");
    parsed_free(&p);
}

static void test_fuse_and_vrcfs_options_mixed(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "-f", "-d", "-o", "allow_other,api_url=http://127.0.0.1:1/api/1", "-s", "src",
          "/mnt");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.o.foreground, 1);
    assert_int_equal(p.o.debug, 1);
    assert_string_equal(p.o.api_url, "http://127.0.0.1:1/api/1");
    assert_int_equal(p.nwords, 2);
    assert_left_for_fuse(&p, "-o allow_other -f -d -s -odefault_permissions");
    parsed_free(&p);
}

static void test_help_and_version_flags(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "-h");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.o.show_help, 1);
    assert_int_equal(p.o.show_version, 0);
    parsed_free(&p);
    PARSE(&p, "--help");
    assert_int_equal(p.o.show_help, 1);
    parsed_free(&p);
    PARSE(&p, "-V");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.o.show_version, 1);
    assert_int_equal(p.o.show_help, 0);
    parsed_free(&p);
    PARSE(&p, "--version");
    assert_int_equal(p.o.show_version, 1);
    parsed_free(&p);
}

static void test_cache_size_with_doubled_unit_fails(void **state)
{
    (void)state;
    assert_int_equal(rc_of("cache_size=5MBB"), -1);
    assert_int_equal(rc_of("cache_size=5BB"), -1);
    assert_int_equal(rc_of("cache_size=5iB"), -1);
    assert_int_equal(rc_of("cache_size=1e30"), -1);
    assert_int_equal(rc_of("cache_size=inf"), -1);
    assert_int_equal(rc_of("cache_size=nan"), -1);
}

static void test_service_is_vrchat_or_sharedcloud(void **state)
{
    (void)state;
    struct parsed p;
    PARSE(&p, "login", "-o", "service=sharedcloud,api_url=http://127.0.0.1:1");
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.o.service, "sharedcloud");
    assert_string_equal(p.o.api_url, "http://127.0.0.1:1");
    parsed_free(&p);
    PARSE(&p, "-o", "service=vrchat", "/mnt");
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.o.service, "vrchat");
    parsed_free(&p);
    PARSE(&p, "/mnt");
    assert_int_equal(p.rc, 0);
    assert_null(p.o.service); /* the session's service */
    parsed_free(&p);
    PARSE(&p, "-o", "service=dropbox", "/mnt");
    assert_int_equal(p.rc, -1);
    parsed_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_no_arguments_at_all),
        cmocka_unit_test(test_string_options),
        cmocka_unit_test(test_numeric_options),
        cmocka_unit_test(test_owner_and_umask),
        cmocka_unit_test(test_options_in_one_comma_list),
        cmocka_unit_test(test_option_glued_to_dash_o),
        cmocka_unit_test(test_later_option_wins),
        cmocka_unit_test(test_cache_size_suffixes),
        cmocka_unit_test(test_cache_size_lower_case_and_unit_spellings),
        cmocka_unit_test(test_cache_size_fraction),
        cmocka_unit_test(test_bad_cache_size_fails),
        cmocka_unit_test(test_cache_size_failure_leaves_words_to_free),
        cmocka_unit_test(test_out_of_range_values_fail),
        cmocka_unit_test(test_boundary_values_pass),
        cmocka_unit_test(test_non_numeric_values_fail),
        cmocka_unit_test(test_command_word_is_collected),
        cmocka_unit_test(test_mount_fuse3_source_and_mountpoint),
        cmocka_unit_test(test_words_are_copies),
        cmocka_unit_test(test_too_many_words_fail),
        cmocka_unit_test(test_words_after_double_dash),
        cmocka_unit_test(test_allow_other_is_left_for_fuse),
        cmocka_unit_test(test_dash_f_sets_foreground_and_stays),
        cmocka_unit_test(test_dash_d_sets_debug_and_stays),
        cmocka_unit_test(test_o_debug_sets_debug_and_stays),
        cmocka_unit_test(test_fuse_and_vrcfs_options_mixed),
        cmocka_unit_test(test_help_and_version_flags),
        cmocka_unit_test(test_allow_other_turns_on_default_permissions),
        cmocka_unit_test(test_cache_size_with_doubled_unit_fails),
        cmocka_unit_test(test_service_is_vrchat_or_sharedcloud),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
