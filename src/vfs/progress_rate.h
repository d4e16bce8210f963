/* progress_rate: how fast an upload goes, for stats.json and vrcfs status: bytes per second over
 * the last seconds of its progress. Thread-safe: progress comes from the upload's worker threads
 * while stats.json reads it. */
#ifndef VRCFS_PROGRESS_RATE_H
#define VRCFS_PROGRESS_RATE_H

#include <pthread.h>
#include <stdint.h>

/* How far back the rate looks: over at least this many seconds when the samples reach back. */
#define PROGRESS_RATE_WINDOW_S 20.0
#define PROGRESS_RATE_SAMPLES 16
/* Progress comes as bytes go out, many times a second: a sample is kept only this long after the
 * last one kept, so that the samples held reach back past the window. */
#define PROGRESS_RATE_SPACING_S (PROGRESS_RATE_WINDOW_S / (PROGRESS_RATE_SAMPLES / 2))

struct progress_rate {
    pthread_mutex_t lock;
    double started_at; /* seconds; 0 before progress_rate_start */
    int n, next;       /* samples held, and where the next one goes */
    struct {
        double at;
        uint64_t done;
    } samples[PROGRESS_RATE_SAMPLES];
};

void progress_rate_init(struct progress_rate *r);
void progress_rate_destroy(struct progress_rate *r);

/* A new upload begins sending at time now (seconds, any clock the caller keeps to): forgets the
 * last one's samples. */
void progress_rate_start(struct progress_rate *r, double now);

/* done bytes are sent at time now (kept as a sample when PROGRESS_RATE_SPACING_S has passed
 * since the last one kept). */
void progress_rate_add(struct progress_rate *r, double now, uint64_t done);

/* Bytes per second at time now: from the newest sample at least PROGRESS_RATE_WINDOW_S old (or
 * the oldest one held, or the start) to done at now, so that a stall brings the rate down. 0
 * before the start or when no time has passed; *started_at (may be NULL) gets the start. */
double progress_rate_get(struct progress_rate *r, double now, uint64_t done, double *started_at);

#endif
