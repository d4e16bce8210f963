/* log: one line per message to stderr (or syslog once daemonized). Never pass a cookie,
 * password or 2FA code to these functions: nothing here can tell a secret from text. */
#ifndef VRCFS_LOG_H
#define VRCFS_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Messages above level are dropped; the default is LOG_LVL_INFO. */
void log_set_level(enum log_level level);
/* Sends later messages to syslog (after the mount daemonizes). */
void log_use_syslog(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
