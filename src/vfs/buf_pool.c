/* buf_pool: malloc'd buffers behind a byte budget, with a short list of returned buffers kept
 * for reuse: replies of the same size come and go on every READ, and a fresh 1 MiB allocation
 * each time would cost page faults. Kept buffers count against the budget too, and are freed
 * when a taker needs their room. */
#include "vfs/buf_pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* Transfers are sized in these steps, so that kept buffers fit the next taker. */
#define POOL_GRAIN (64u * 1024)

struct buf_hdr {
    struct buf_hdr *next; /* in the kept list */
    size_t cap;           /* usable bytes after the header */
    size_t align_pad[2];  /* keeps the data 16-byte aligned */
};

struct buf_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    size_t budget, reserve;
    size_t charged; /* out + kept */
    size_t kept_bytes;
    struct buf_hdr *kept;
    uint64_t peak, waits;
};

struct buf_pool *buf_pool_new(size_t budget, size_t reserve)
{
    struct buf_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    p->budget = budget;
    p->reserve = reserve < budget ? reserve : budget / 2;
    return p;
}

static void drop_kept(struct buf_pool *p, struct buf_hdr *h)
{
    p->kept_bytes -= h->cap;
    p->charged -= h->cap;
    free(h);
}

void buf_pool_free(struct buf_pool *p)
{
    if (!p)
        return;
    while (p->kept) {
        struct buf_hdr *h = p->kept;
        p->kept = h->next;
        drop_kept(p, h);
    }
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* Takes a kept buffer of min..max bytes (the biggest), or NULL. */
static struct buf_hdr *take_kept(struct buf_pool *p, size_t min, size_t max)
{
    struct buf_hdr **best = NULL;
    for (struct buf_hdr **h = &p->kept; *h; h = &(*h)->next)
        if ((*h)->cap >= min && (*h)->cap <= max && (!best || (*h)->cap > (*best)->cap))
            best = h;
    if (!best)
        return NULL;
    struct buf_hdr *got = *best;
    *best = got->next;
    p->kept_bytes -= got->cap;
    return got;
}

/* Gets a buffer of min..max bytes within limit (budget, or budget - reserve). Lock held. */
static void *get_locked(struct buf_pool *p, size_t min, size_t max, size_t limit, size_t *got)
{
    bool waited = false;
    for (;;) {
        struct buf_hdr *h = take_kept(p, min, max);
        if (!h) {
            /* Kept buffers of the wrong size give their room to this one. */
            while (p->kept && p->charged + min > limit) {
                struct buf_hdr *k = p->kept;
                p->kept = k->next;
                drop_kept(p, k);
            }
            if (p->charged + min <= limit) {
                size_t room = limit - p->charged;
                size_t cap = room < max ? room / POOL_GRAIN * POOL_GRAIN : max;
                if (cap < min)
                    cap = min;
                h = malloc(sizeof *h + cap);
                if (!h)
                    return NULL;
                h->cap = cap;
                p->charged += cap;
                if (p->charged > p->peak)
                    p->peak = p->charged;
            }
        }
        if (h) {
            *got = h->cap;
            return h + 1;
        }
        if (!waited)
            p->waits++;
        waited = true;
        pthread_cond_wait(&p->freed, &p->lock);
    }
}

void *buf_pool_get(struct buf_pool *p, size_t min, size_t max, size_t *got)
{
    if (min > p->budget)
        min = p->budget;
    if (max < min)
        max = min;
    pthread_mutex_lock(&p->lock);
    void *b = get_locked(p, min, max, p->budget, got);
    pthread_mutex_unlock(&p->lock);
    return b;
}

void *buf_pool_get_reply(struct buf_pool *p, size_t size)
{
    size_t limit = p->budget - p->reserve;
    if (size > limit)
        return NULL;
    /* Replies come in a few sizes (the kernel's page multiples up to max_read): rounded up to a
     * power of two, a kept one fits the next of its class. */
    size_t cap = POOL_GRAIN;
    while (cap < size)
        cap *= 2;
    size = cap < limit ? cap : limit;
    size_t got;
    pthread_mutex_lock(&p->lock);
    void *b = get_locked(p, size, size, limit, &got);
    pthread_mutex_unlock(&p->lock);
    return b;
}

void buf_pool_put(struct buf_pool *p, void *buf)
{
    if (!buf)
        return;
    struct buf_hdr *h = (struct buf_hdr *)buf - 1;
    pthread_mutex_lock(&p->lock);
    /* Keep up to a quarter of the budget for reuse; give the rest back to the system. */
    if (p->kept_bytes + h->cap <= p->budget / 4) {
        h->next = p->kept;
        p->kept = h;
        p->kept_bytes += h->cap;
    } else {
        p->charged -= h->cap;
        free(h);
    }
    pthread_cond_broadcast(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

void buf_pool_stats(struct buf_pool *p, struct buf_pool_stats *out)
{
    pthread_mutex_lock(&p->lock);
    out->budget = p->budget;
    out->charged = p->charged;
    out->peak = p->peak;
    out->waits = p->waits;
    pthread_mutex_unlock(&p->lock);
}
