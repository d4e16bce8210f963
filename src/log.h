/* log: one line per message to stderr (or syslog once daemonized), to the log_file when one is
 * set, and into a ring of the last lines at info and above that /.vrcfs/log shows. Never pass a
 * cookie, password or 2FA code to these functions: nothing here can tell a secret from text. */
#ifndef VRCFS_LOG_H
#define VRCFS_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* How many lines the ring keeps. */
#define LOG_RING_LINES 400

/* Messages above level are dropped; the default is LOG_LVL_INFO. */
void log_set_level(enum log_level level);
/* Sends later messages to syslog (after the mount daemonizes). */
void log_use_syslog(void);
/* Also appends every later message, with its time, to path. 0 or a negative errno. */
int log_open_file(const char *path);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* The ring's lines, oldest first, each "TIME LEVEL: message\n", as one malloc'd string (its
 * length in *len), or NULL when out of memory. */
char *log_ring_text(size_t *len);
/* The ring's length in bytes now, what log_ring_text would return. */
size_t log_ring_size(void);

/* Why the request this thread serves fails, for the one line that names its path (inode_ops):
 * log_reason_begin forgets the last reason at the start of a request; log_reason records one
 * without a line of its own; any message at info or above logged on this thread in between
 * is a reason too. log_reason_last is the latest, or NULL. */
void log_reason_begin(void);
void log_reason(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *log_reason_last(void);

#endif
