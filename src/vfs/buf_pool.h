/* buf_pool: the one memory budget of a mount for transfer buffers (the pieces that range
 * requests gather in on their way to the content cache, the md5's read buffer) and the buffers
 * that READ replies are built in (docs/SEMANTICS.md, Errors: memory is bounded). Every such buffer
 * is counted against the budget while it is out and while it is kept for reuse; when the budget is
 * spent, takers wait for a buffer to come back, so that many readers share the bandwidth
 * instead of each growing its own buffers.
 *
 * Deadlock freedom: a reply buffer is held by a read that may wait for a transfer, while a
 * transfer never waits for anything but the network and the disk. So replies may not take the
 * last `reserve` bytes of the budget: a transfer can always get at least that much. Thread-safe. */
#ifndef VRCFS_BUF_POOL_H
#define VRCFS_BUF_POOL_H

#include <stddef.h>
#include <stdint.h>

struct buf_pool;

/* A pool of budget bytes of which replies leave reserve untouched (reserve < budget). */
struct buf_pool *buf_pool_new(size_t budget, size_t reserve);
/* Frees the pool and the buffers kept in it; every buffer must have been put back. */
void buf_pool_free(struct buf_pool *p);

/* A transfer buffer of at least min and at most max bytes, as much as the budget allows now;
 * *got says how much. Waits while less than min is free. NULL only when memory ran out. */
void *buf_pool_get(struct buf_pool *p, size_t min, size_t max, size_t *got);
/* A reply buffer of size bytes; waits while it would eat into the reserve. NULL only when
 * memory ran out. */
void *buf_pool_get_reply(struct buf_pool *p, size_t size);
/* Gives a buffer from either get back. */
void buf_pool_put(struct buf_pool *p, void *buf);

struct buf_pool_stats {
    uint64_t budget, charged, peak; /* bytes: the limit, counted now, the most ever counted */
    uint64_t waits;                 /* times a taker had to wait */
};
void buf_pool_stats(struct buf_pool *p, struct buf_pool_stats *out);

#endif
