/* pacer: a token bucket that keeps API requests at or under `rate` per minute, with a burst of
 * ten seconds' worth (at least one), so that a listing of a few pages is not slowed down. */
#ifndef VRCFS_PACER_H
#define VRCFS_PACER_H

#include <pthread.h>

struct pacer {
    pthread_mutex_t lock;
    double rate_per_s; /* <= 0: unlimited */
    double burst;
    double tokens;
    double last; /* seconds, monotonic */
};

void pacer_init(struct pacer *p, int rate_per_min);
void pacer_destroy(struct pacer *p);

/* Takes one token at time now and returns how many seconds the caller must wait before
 * sending (0 when a token was available). Tokens may go negative: waiting callers queue. */
double pacer_reserve(struct pacer *p, double now);

/* Told +1 before pacer_wait sleeps and -1 after, so that someone can count the waiting. */
typedef void pacer_waiting_fn(int delta);

/* pacer_reserve at the current time, then sleeps as long as it says; waiting (may be NULL) is
 * told around the sleep, and only when there is one. */
void pacer_wait(struct pacer *p, pacer_waiting_fn *waiting);

#endif
