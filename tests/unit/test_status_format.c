#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "status_format.h"

#define MIB (1024ULL * 1024)
#define NOW 2000000000.0 /* 2033-05-18T03:33:20Z */

/* --- sizes, durations, bars --- */

static const char *size(uint64_t bytes)
{
    static char out[32];
    status_format_size(bytes, out, sizeof out);
    return out;
}

static void test_sizes_in_binary_units(void **state)
{
    (void)state;
    assert_string_equal(size(0), "0 B");
    assert_string_equal(size(1023), "1023 B");
    assert_string_equal(size(1536), "1.50 KiB");
    assert_string_equal(size(300 * MIB), "300.0 MiB");
    assert_string_equal(size(12 * MIB + 300 * 1024), "12.3 MiB");
    assert_string_equal(size(4ULL << 30), "4.00 GiB");
    assert_string_equal(size(UINT64_MAX), "16384.0 PiB");
}

static const char *duration(double s)
{
    static char out[16];
    status_format_duration(s, out, sizeof out);
    return out;
}

static void test_durations_for_a_person(void **state)
{
    (void)state;
    assert_string_equal(duration(0), "0s");
    assert_string_equal(duration(44.6), "45s");
    assert_string_equal(duration(185), "3m05s");
    assert_string_equal(duration(2 * 3600 + 7 * 60 + 10), "2h07m");
    assert_string_equal(duration(3 * 86400 + 4 * 3600), "3d04h");
    assert_string_equal(duration(-1), "?");
    assert_string_equal(duration(1.0 / 0.0), "?");
    assert_string_equal(duration(0.0 / 0.0), "?");
}

static void test_bar_fills_in_proportion(void **state)
{
    (void)state;
    char bar[32];
    status_format_bar(0, 100, 10, bar, sizeof bar);
    assert_string_equal(bar, "[----------]");
    status_format_bar(52, 100, 10, bar, sizeof bar);
    assert_string_equal(bar, "[#####-----]");
    status_format_bar(100, 100, 10, bar, sizeof bar);
    assert_string_equal(bar, "[##########]");
    status_format_bar(200, 100, 10, bar, sizeof bar); /* more than the total: full, no overrun */
    assert_string_equal(bar, "[##########]");
    status_format_bar(5, 0, 4, bar, sizeof bar); /* total unknown */
    assert_string_equal(bar, "[----]");
    status_format_bar(1, 2, 10, bar, 8); /* too small a buffer: empty, not cut */
    assert_string_equal(bar, "");
}

/* --- problem lines --- */

static void test_problem_lines(void **state)
{
    (void)state;
    assert_true(status_line_is_problem("2026-11-30T03:00:00Z warning: the session has expired: run "
                                       "vrcfs login"));
    assert_true(status_line_is_problem("2026-11-30T03:00:00Z error: /files/a.bin: the upload "
                                       "failed (Input/output error)"));
    /* Refusals at info: by errno text, by symbol, and a request that failed. */
    assert_true(status_line_is_problem("2026-11-30T03:00:00Z info: rmdir /files/f/1: Device or "
                                       "resource busy: VRChat deletes only the newest version"));
    assert_true(status_line_is_problem("2026-11-30T03:00:00Z info: /files/f/1/file: EBUSY: "
                                       "VRChat deletes only the newest version of a File"));
    assert_true(status_line_is_problem("2026-11-30T03:00:00Z info: GET /files: 401 Missing "
                                       "Credentials"));
    assert_true(status_line_is_problem("2026-11-30T03:00:00Z info: PUT <blob>: 0 Timeout was "
                                       "reached"));
    /* The ordinary course of things is no problem. */
    assert_false(
        status_line_is_problem("2026-11-30T03:00:00Z info: mounted http://127.0.0.1:1/api/1 "
                               "at /mnt"));
    assert_false(status_line_is_problem("2026-11-30T03:00:00Z info: /files/a.bin: uploading "
                                        "314572800 bytes"));
    assert_false(status_line_is_problem("2026-11-30T03:00:00Z info: GET /files: 200 OK"));
    assert_false(status_line_is_problem("2026-11-30T03:00:00Z info: EXAMPLE words: ENOUGH"));
    assert_false(status_line_is_problem(""));
    assert_false(status_line_is_problem("no level at all"));
}

/* --- the screen --- */

static json_t *stats_fixture(void)
{
    json_error_t err;
    json_t *j = json_loads(
        "{\"requests\": {\"GET /files\": {\"200\": 12},"
        "                \"GET /file/{fileId}\": {\"200\": 40, \"404\": 2, \"0\": 1},"
        "                \"PUT <blob>\": {\"200\": 19}},"
        " \"requests_total\": 74, \"retries\": 3, \"rate_limited\": 1,"
        " \"api\": {\"pacing\": 2, \"backoff_until\": 2000000004.0, \"backoff_status\": 503},"
        " \"session\": {\"state\": \"ok\", \"since\": 0.0},"
        " \"uploads\": [{\"path\": \"/files/big\\u001b[31m.bin\", \"state\": \"uploading\","
        "               \"bytes_done\": 157286400, \"bytes_total\": 314572800,"
        "               \"rate\": 10485760.0, \"started_at\": 1999999985.0},"
        "              {\"path\": \"/files/new.png\", \"state\": \"staged\","
        "               \"bytes_done\": 0, \"bytes_total\": 2048},"
        "              {\"path\": \"/files/old.bin\", \"state\": \"kept\", \"bytes_done\": 0,"
        "               \"bytes_total\": 10, \"error\": \"its File is gone\","
        "               \"staged_at\": \"/cache/staging/x.data\"}],"
        " \"staging\": {\"bytes_used\": 314572800, \"bytes_limit\": 4294967296},"
        " \"content_cache\": {\"bytes_used\": 1048576, \"bytes_limit\": 4294967296,"
        "                     \"entries\": 3}}",
        0, &err);
    assert_non_null(j);
    return j;
}

static const char *LOG =
    "2026-11-30T03:00:00Z info: mounted http://127.0.0.1:1/api/1 at /mnt\n"
    "2026-11-30T03:00:01Z info: rmdir /files/f/1: Device or resource busy: VRChat deletes only "
    "the newest version\n"
    "2026-11-30T03:00:02Z warning: a warning with \x1b]0;title\x07 in it\n"
    "2026-11-30T03:00:03Z info: /files/a.bin: uploading 300 bytes\n";

static char *render(json_t *stats, const char *log, bool tty)
{
    char *text = status_render("/mnt", stats, log, NOW, tty);
    assert_non_null(text);
    return text;
}

static void test_screen_shows_each_part(void **state)
{
    (void)state;
    json_t *stats = stats_fixture();
    char *text = render(stats, LOG, false);
    assert_non_null(strstr(text, "vrcfs at /mnt\n"));
    assert_non_null(strstr(text, "session: ok\n"));
    /* Pacing and backoff, with the backoff's end in UTC as the log writes times. */
    assert_non_null(strstr(text, "pacing: 2 requests wait for the rate limit"));
    assert_non_null(strstr(text, "backing off after HTTP 503 until 03:33:24Z (in 4s)"));
    /* The upload: bar, percentage, bytes, rate, time left, time so far. */
    assert_non_null(strstr(text, "uploads: 3\n"));
    assert_non_null(strstr(text, "uploading [############------------]  50% 150.0 MiB of 300.0 "
                                 "MiB, 10.0 MiB/s, 15s left, for 15s\n"));
    assert_non_null(strstr(text, "/files/new.png\n    staged: written here, uploaded at its "
                                 "close, 2.00 KiB\n"));
    assert_non_null(strstr(text, "kept, not uploaded, 10 B: its File is gone; the data is at "
                                 "/cache/staging/x.data\n"));
    assert_non_null(strstr(text, "content cache: 1.00 MiB used of 4.00 GiB (-o cache_size), 3 "
                                 "versions kept\n"));
    assert_non_null(strstr(text, "staging: 300.0 MiB used of 4.00 GiB"));
    /* Requests by kind, the most frequent first, with what did not succeed. */
    assert_non_null(strstr(text, "requests: 74 in all, 3 retried, 1 rate limited (429)\n"));
    char *file = strstr(text, "GET /file/{fileId}  (404: 2, no answer: 1)\n");
    char *blob = strstr(text, "PUT <blob>\n");
    char *files = strstr(text, "GET /files\n");
    assert_non_null(file);
    assert_non_null(blob);
    assert_non_null(files);
    assert_true(file < blob && blob < files);
    /* Problems: the refusal and the warning, not the ordinary lines. */
    assert_non_null(strstr(text, "problems: the last 2 in /.vrcfs/log\n"));
    assert_non_null(strstr(text, "  2026-11-30T03:00:01Z info: rmdir /files/f/1: Device or "
                                 "resource busy"));
    assert_null(strstr(text, "uploading 300 bytes"));
    assert_null(strstr(text, "mounted http"));
    free(text);
    json_decref(stats);
}

static void test_no_terminal_codes_unless_a_tty(void **state)
{
    (void)state;
    json_t *stats = stats_fixture();
    /* The fixture's path and log carry ESC and BEL: they come out as '?'. */
    char *plain = render(stats, LOG, false);
    for (const char *p = plain; *p; p++)
        assert_true((unsigned char)*p >= 0x20 || *p == '\n');
    assert_non_null(strstr(plain, "/files/big?[31m.bin"));
    assert_non_null(strstr(plain, "a warning with ?]0;title? in it"));
    char *tty = render(stats, LOG, true);
    assert_non_null(strstr(tty, "\033[1msession:\033[0m ok\n"));
    free(plain);
    free(tty);
    json_decref(stats);
}

static void test_expired_session_and_quiet_api(void **state)
{
    (void)state;
    json_t *stats =
        json_pack("{s:{s:s, s:f}, s:{s:i, s:f, s:i}}", "session", "state", "expired", "since",
                  NOW - 185, "api", "pacing", 0, "backoff_until", NOW - 1, "backoff_status", 429);
    char *text = render(stats, NULL, false);
    assert_non_null(strstr(text, "session: expired since 03:30:15Z (3m05s ago): run vrcfs login"));
    assert_non_null(strstr(text, "api: ok, no request held back\n")); /* the backoff is over */
    assert_non_null(strstr(text, "uploads: none\n"));
    assert_non_null(strstr(text, "problems: none in /.vrcfs/log\n"));
    assert_null(strstr(text, "staging:")); /* not in this stats.json: not shown */
    free(text);
    json_decref(stats);
}

static void test_only_the_last_problems_are_shown(void **state)
{
    (void)state;
    char log[4096] = "";
    for (int i = 0; i < STATUS_PROBLEM_LINES + 3; i++) {
        char line[128];
        snprintf(line, sizeof line, "2026-11-30T03:00:%02dZ warning: problem number %d\n", i, i);
        strcat(log, line);
    }
    json_t *stats = json_object();
    char *text = render(stats, log, false);
    assert_null(strstr(text, "problem number 2\n"));
    assert_non_null(strstr(text, "problem number 3\n"));
    char last[64];
    snprintf(last, sizeof last, "problem number %d\n", STATUS_PROBLEM_LINES + 2);
    assert_non_null(strstr(text, last));
    assert_true(strstr(text, "problem number 3\n") < strstr(text, last)); /* oldest first */
    free(text);
    json_decref(stats);
}

static void test_upload_without_rate_has_no_time_left(void **state)
{
    (void)state;
    json_t *stats =
        json_pack("{s:[{s:s, s:s, s:I, s:I}]}", "uploads", "path", "/files/a", "state", "finishing",
                  "bytes_done", (json_int_t)100, "bytes_total", (json_int_t)100);
    char *text = render(stats, "", false);
    assert_non_null(strstr(text, "finishing: sent, the server checks it [########################]"
                                 " 100% 100 B of 100 B\n"));
    assert_null(strstr(text, "left"));
    free(text);
    json_decref(stats);
}

/* --- mountinfo --- */

static void test_mountinfo_lists_vrcfs_mounts_only(void **state)
{
    (void)state;
    const char *info =
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        "41 26 0:38 / /tmp/a/mnt rw,nosuid,nodev,relatime - fuse.vrcfs vrcfs rw,user_id=0\n"
        "42 26 0:39 / /home/me/VR\\040Chat rw,nosuid shared:7 master:2 - fuse vrcfs rw\n"
        "43 26 0:40 / /mnt/other rw - fuse.sshfs me@host: rw\n"
        "44 26 0:41 / /mnt/fuseblk rw - fuseblk /dev/sdb rw\n"
        "45 26 0:42 / /mnt/broken rw\n"; /* no separator: not understood, skipped */
    char **points = NULL;
    int n = status_parse_mountinfo(info, &points);
    assert_int_equal(n, 2);
    assert_string_equal(points[0], "/tmp/a/mnt");
    assert_string_equal(points[1], "/home/me/VR Chat");
    for (int i = 0; i < n; i++)
        free(points[i]);
    free(points);
    assert_int_equal(status_parse_mountinfo("", &points), 0);
    assert_null(points);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_in_binary_units),
        cmocka_unit_test(test_durations_for_a_person),
        cmocka_unit_test(test_bar_fills_in_proportion),
        cmocka_unit_test(test_problem_lines),
        cmocka_unit_test(test_screen_shows_each_part),
        cmocka_unit_test(test_no_terminal_codes_unless_a_tty),
        cmocka_unit_test(test_expired_session_and_quiet_api),
        cmocka_unit_test(test_only_the_last_problems_are_shown),
        cmocka_unit_test(test_upload_without_rate_has_no_time_left),
        cmocka_unit_test(test_mountinfo_lists_vrcfs_mounts_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
