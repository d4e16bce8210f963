/* status_format: the pure parts of `vrcfs status`: which mounts /proc/self/mountinfo lists, and
 * the text printed for one mount, made from its stats.json and the lines of its /.vrcfs/log. No
 * I/O and no clock, so that the unit tests check them. The text is plain lines that grep can
 * read; only when tty is true does it carry terminal codes (bold headings). */
#ifndef VRCFS_STATUS_FORMAT_H
#define VRCFS_STATUS_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How many lines of the log the screen shows under "problems". */
#define STATUS_PROBLEM_LINES 5
/* How many kinds of request it lists, the most frequent first. */
#define STATUS_REQUEST_KINDS 8

/* "0 B", "512 B", "1.5 KiB", "300.0 MiB", "1.20 GiB": binary units, three significant digits. */
void status_format_size(uint64_t bytes, char *out, size_t len);

/* A span of time for a person: "0s", "45s", "3m05s", "2h07m", "3d04h"; "?" when negative or
 * not finite. */
void status_format_duration(double seconds, char *out, size_t len);

/* A progress bar of width characters between brackets, '#' for the part done and '-' for the
 * rest: "[#####---------------]". An unknown total (0) is all '-'. */
void status_format_bar(uint64_t done, uint64_t total, int width, char *out, size_t len);

/* Whether a log line ("TIME LEVEL: message") tells of something that went wrong: a warning or
 * an error, or an info line of a refused request (such lines name an errno by its text, as
 * strerror gives it, or by its symbol, e.g. "EBUSY:"). */
bool status_line_is_problem(const char *line);

/* The mount points of the vrcfs mounts in mountinfo (the text of /proc/self/mountinfo): file
 * system type fuse.vrcfs, or a fuse mount whose source is "vrcfs". Escapes (\040 for a space)
 * are undone. Returns how many, with *points a malloc'd array of malloc'd strings (free each
 * and the array), or -1 when out of memory. */
int status_parse_mountinfo(const char *mountinfo, char ***points);

/* The screen for the mount at mountpoint: its session, API pacing and backoff, uploads with a
 * progress bar, rate and time left, the content cache and staging, requests by kind, and the
 * last STATUS_PROBLEM_LINES problem lines of log (may be NULL). stats is the parsed stats.json;
 * now is the wall-clock time in seconds. malloc'd, or NULL when out of memory. */
char *status_render(const char *mountpoint, json_t *stats, const char *log, double now, bool tty);

#endif
