#include "vfs/progress_rate.h"

#include <string.h>

void progress_rate_init(struct progress_rate *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
}

void progress_rate_destroy(struct progress_rate *r)
{
    pthread_mutex_destroy(&r->lock);
}

static void add_locked(struct progress_rate *r, double now, uint64_t done)
{
    int newest = (r->next - 1 + PROGRESS_RATE_SAMPLES) % PROGRESS_RATE_SAMPLES;
    if (r->n > 0 && now - r->samples[newest].at < PROGRESS_RATE_SPACING_S)
        return;
    r->samples[r->next].at = now;
    r->samples[r->next].done = done;
    r->next = (r->next + 1) % PROGRESS_RATE_SAMPLES;
    if (r->n < PROGRESS_RATE_SAMPLES)
        r->n++;
}

void progress_rate_start(struct progress_rate *r, double now)
{
    pthread_mutex_lock(&r->lock);
    r->started_at = now;
    r->n = r->next = 0;
    add_locked(r, now, 0);
    pthread_mutex_unlock(&r->lock);
}

void progress_rate_add(struct progress_rate *r, double now, uint64_t done)
{
    pthread_mutex_lock(&r->lock);
    if (r->started_at > 0)
        add_locked(r, now, done);
    pthread_mutex_unlock(&r->lock);
}

double progress_rate_get(struct progress_rate *r, double now, uint64_t done, double *started_at)
{
    pthread_mutex_lock(&r->lock);
    double rate = 0;
    if (r->started_at > 0 && r->n > 0) {
        /* Oldest first: the first sample old enough is passed over for a newer one that is. */
        int oldest = (r->next - r->n + PROGRESS_RATE_SAMPLES) % PROGRESS_RATE_SAMPLES;
        int from = oldest;
        for (int i = 1; i < r->n; i++) {
            int k = (oldest + i) % PROGRESS_RATE_SAMPLES;
            if (r->samples[k].at <= now - PROGRESS_RATE_WINDOW_S)
                from = k;
        }
        double span = now - r->samples[from].at;
        if (span > 0 && done >= r->samples[from].done)
            rate = (double)(done - r->samples[from].done) / span;
    }
    if (started_at)
        *started_at = r->started_at;
    pthread_mutex_unlock(&r->lock);
    return rate;
}
