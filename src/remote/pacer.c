#include "remote/pacer.h"

#include <time.h>

static double pacer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pacer_init(struct pacer *p, int rate_per_min)
{
    pthread_mutex_init(&p->lock, NULL);
    p->rate_per_s = rate_per_min > 0 ? rate_per_min / 60.0 : 0;
    p->burst = p->rate_per_s * 10 >= 1 ? p->rate_per_s * 10 : 1;
    p->tokens = p->burst;
    p->last = -1;
}

void pacer_destroy(struct pacer *p)
{
    pthread_mutex_destroy(&p->lock);
}

double pacer_reserve(struct pacer *p, double now)
{
    if (p->rate_per_s <= 0)
        return 0;
    pthread_mutex_lock(&p->lock);
    if (p->last >= 0) {
        p->tokens += (now - p->last) * p->rate_per_s;
        if (p->tokens > p->burst)
            p->tokens = p->burst;
    }
    p->last = now;
    p->tokens -= 1;
    double wait = p->tokens >= 0 ? 0 : -p->tokens / p->rate_per_s;
    pthread_mutex_unlock(&p->lock);
    return wait;
}

void pacer_wait(struct pacer *p, pacer_waiting_fn *waiting)
{
    double wait = pacer_reserve(p, pacer_now());
    if (wait <= 0)
        return;
    if (waiting)
        waiting(1);
    struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
    if (waiting)
        waiting(-1);
}
