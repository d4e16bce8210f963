#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static enum log_level log_level_max = LOG_LVL_INFO;
static int log_to_syslog;

void log_set_level(enum log_level level)
{
    log_level_max = level;
}

void log_use_syslog(void)
{
    openlog("vrcfs", LOG_PID, LOG_DAEMON);
    log_to_syslog = 1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    static const int priorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    if (level > log_level_max)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* File names come from users and servers: keep one message on one line. */
    for (char *c = line; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
    if (log_to_syslog)
        syslog(priorities[level], "%s", line);
    else
        fprintf(stderr, "vrcfs: %s: %s\n", names[level], line);
}
