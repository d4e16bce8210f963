/* single_flight: at most one fetch of a key at a time. The first caller of a key owns its fetch;
 * one that comes while it runs waits for its end and then looks in the cache again, so that
 * several threads missing the same File at once send one request, not one each. Thread-safe. */
#ifndef VRCFS_SINGLE_FLIGHT_H
#define VRCFS_SINGLE_FLIGHT_H

#include <stdbool.h>
#include <stdint.h>

struct single_flight;

struct single_flight *single_flight_new(void);
/* No fetch may be running. */
void single_flight_free(struct single_flight *sf);

/* true: the caller owns the fetch of key and must call single_flight_end(key) when its answer
 * is where the others look (the cache). false: another caller's fetch of key was running and
 * has ended now, so the caller looks again. Out of memory: true (the caller fetches alone). */
bool single_flight_begin(struct single_flight *sf, const char *key);

/* Ends the fetch of key the caller owns and wakes those waiting for it. */
void single_flight_end(struct single_flight *sf, const char *key);

/* How many callers have waited for another's fetch instead of fetching (stats.json). */
uint64_t single_flight_waits(struct single_flight *sf);

#endif
