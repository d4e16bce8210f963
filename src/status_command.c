#include "status_command.h"

#include "status_format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MOUNTINFO "/proc/self/mountinfo"
#define CLEAR_SCREEN "\033[H\033[2J"

/* The whole of a small file (stats.json, the log, mountinfo) as a string; NULL with errno set. */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            char *more = realloc(text, cap = cap ? cap * 2 : 16384);
            if (!more) {
                free(text);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            text = more;
        }
        size_t n = fread(text + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (err) {
        free(text);
        errno = err;
        return NULL;
    }
    text[len] = '\0';
    return text;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends the status of one mount to out; 0, or -1 after saying on stderr why it cannot. */
static int status_of(const char *mountpoint, bool tty, FILE *out)
{
    char *stats_path = NULL, *log_path = NULL;
    if (asprintf(&stats_path, "%s/.vrcfs/stats.json", mountpoint) < 0)
        return -1;
    if (asprintf(&log_path, "%s/.vrcfs/log", mountpoint) < 0) {
        free(stats_path);
        return -1;
    }
    int rc = -1;
    char *text = read_all(stats_path);
    if (!text) {
        int err = errno;
        if (access(mountpoint, F_OK) != 0 && errno == ENOENT)
            fprintf(stderr, "vrcfs: %s: no such mount point\n", mountpoint);
        else if (err == ENOENT || err == ENOTDIR)
            fprintf(stderr, "vrcfs: %s is not a vrcfs mount (it has no .vrcfs/stats.json)\n",
                    mountpoint);
        else if (err == ENOTCONN)
            fprintf(stderr,
                    "vrcfs: %s: the vrcfs process of this mount has ended; unmount it with "
                    "fusermount3 -u %s\n",
                    mountpoint, mountpoint);
        else
            fprintf(stderr, "vrcfs: cannot read %s: %s\n", stats_path, strerror(err));
        goto out;
    }
    json_error_t jerr;
    json_t *stats = json_loads(text, 0, &jerr);
    free(text);
    if (!stats) {
        fprintf(stderr, "vrcfs: %s is not JSON: %s\n", stats_path, jerr.text);
        goto out;
    }
    /* A mount from before the log existed still has its numbers worth showing. */
    char *log = read_all(log_path);
    char *screen = status_render(mountpoint, stats, log, wall_now(), tty);
    json_decref(stats);
    free(log);
    if (!screen) {
        fprintf(stderr, "vrcfs: out of memory\n");
        goto out;
    }
    fputs(screen, out);
    free(screen);
    rc = 0;
out:
    free(stats_path);
    free(log_path);
    return rc;
}

/* One block: the status of mountpoint, or of every vrcfs mount. Returns the exit code. */
static int status_block(const char *mountpoint, bool tty, FILE *out)
{
    if (mountpoint)
        return status_of(mountpoint, tty, out) == 0 ? 0 : 1;
    char *mountinfo = read_all(MOUNTINFO);
    if (!mountinfo) {
        fprintf(stderr, "vrcfs: cannot read %s: %s\n", MOUNTINFO, strerror(errno));
        return 1;
    }
    char **points = NULL;
    int n = status_parse_mountinfo(mountinfo, &points);
    free(mountinfo);
    if (n < 0) {
        fprintf(stderr, "vrcfs: out of memory\n");
        return 1;
    }
    if (n == 0)
        fprintf(stderr, "vrcfs: no vrcfs mount (none in %s)\n", MOUNTINFO);
    int rc = n == 0;
    for (int i = 0; i < n; i++) {
        if (i > 0)
            fputc('\n', out);
        if (status_of(points[i], tty, out) != 0)
            rc = 1;
        free(points[i]);
    }
    free(points);
    return rc;
}

int command_status(const char *mountpoint, bool watch)
{
    bool tty = isatty(STDOUT_FILENO);
    if (!watch)
        return status_block(mountpoint, tty, stdout);
    for (bool first = true;; first = false) {
        /* Made whole before it is shown, so that a terminal never shows half a screen. */
        char *text = NULL;
        size_t len = 0;
        FILE *block = open_memstream(&text, &len);
        if (!block) {
            fprintf(stderr, "vrcfs: out of memory\n");
            return 1;
        }
        status_block(mountpoint, tty, block);
        if (fclose(block) != 0) {
            free(text);
            return 1;
        }
        if (tty)
            fputs(CLEAR_SCREEN, stdout);
        else if (!first)
            fputc('\n', stdout);
        fputs(text, stdout);
        free(text);
        if (fflush(stdout) != 0)
            return 1; /* the reader went away */
        sleep(1);
    }
}
