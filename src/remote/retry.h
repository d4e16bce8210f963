/* retry: which failures are worth another try, and how long to wait before it. */
#ifndef VRCFS_RETRY_H
#define VRCFS_RETRY_H

#include <curl/curl.h>
#include <stdbool.h>

#define RETRY_BASE_MS 250
#define RETRY_CAP_MS 8000
/* A Retry-After longer than this is not waited out inside a file operation: EAGAIN instead. */
#define RETRY_AFTER_MAX_S 60

/* 429, 502, 503 and 504 are transient. A POST is not idempotent, so it is retried only where the
 * server certainly did not act on it: 429 and 503. */
bool retry_status_is_transient(long status, const char *method);

/* Connection failures, drops and time-outs. A POST is retried only when it never connected. */
bool retry_curl_is_transient(CURLcode code, const char *method);

/* Milliseconds to wait before retry number attempt (0-based): Retry-After when the server gave
 * one (retry_after_s >= 0), else a full-jitter exponential backoff in
 * [d/2, d] with d = min(RETRY_CAP_MS, RETRY_BASE_MS << attempt); jitter in [0,1) from the caller.
 */
long retry_delay_ms(int attempt, long retry_after_s, double jitter);

#endif
