#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define LOG_LINE_MAX 2048

static enum log_level log_level_max = LOG_LVL_INFO;
static int log_to_syslog;

/* The ring and the log file, under one lock: a line goes to both in the same order. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;
static char *ring[LOG_RING_LINES];
static size_t ring_next, ring_bytes;

static __thread char reason[LOG_LINE_MAX];

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void log_set_level(enum log_level level)
{
    log_level_max = level;
}

void log_use_syslog(void)
{
    openlog("vrcfs", LOG_PID, LOG_DAEMON);
    log_to_syslog = 1;
}

int log_open_file(const char *path)
{
    FILE *f = fopen(path, "ae");
    if (!f)
        return -errno;
    setvbuf(f, NULL, _IOLBF, 0);
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = f;
    pthread_mutex_unlock(&log_lock);
    return 0;
}

/* "2026-11-29T23:58:35Z info: message\n", kept in the ring and written to the log file. */
static void keep_line(enum log_level level, const char *line)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char *text = NULL;
    if (asprintf(&text, "%s %s: %s\n", stamp, level_names[level], line) < 0)
        return;
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fputs(text, log_file);
    if (level <= LOG_LVL_INFO) {
        if (ring[ring_next])
            ring_bytes -= strlen(ring[ring_next]);
        free(ring[ring_next]);
        ring[ring_next] = text;
        ring_bytes += strlen(text);
        ring_next = (ring_next + 1) % LOG_RING_LINES;
        text = NULL;
    }
    pthread_mutex_unlock(&log_lock);
    free(text);
}

/* File names come from users and servers: keep one message on one line. */
static void blank_controls(char *text)
{
    for (char *c = text; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const int priorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    if (level > log_level_max)
        return;
    char line[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    blank_controls(line);
    if (level <= LOG_LVL_INFO)
        memcpy(reason, line, sizeof line);
    keep_line(level, line);
    if (log_to_syslog)
        syslog(priorities[level], "%s", line);
    else
        fprintf(stderr, "vrcfs: %s: %s\n", level_names[level], line);
}

char *log_ring_text(size_t *len)
{
    pthread_mutex_lock(&log_lock);
    char *text = malloc(ring_bytes + 1);
    size_t used = 0;
    for (size_t i = 0; text && i < LOG_RING_LINES; i++) {
        const char *l = ring[(ring_next + i) % LOG_RING_LINES];
        if (l) {
            size_t n = strlen(l);
            memcpy(text + used, l, n);
            used += n;
        }
    }
    pthread_mutex_unlock(&log_lock);
    if (text)
        text[used] = '\0';
    *len = used;
    return text;
}

size_t log_ring_size(void)
{
    pthread_mutex_lock(&log_lock);
    size_t n = ring_bytes;
    pthread_mutex_unlock(&log_lock);
    return n;
}

void log_reason_begin(void)
{
    reason[0] = '\0';
}

void log_reason(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    blank_controls(reason);
}

const char *log_reason_last(void)
{
    return reason[0] ? reason : NULL;
}
