/* meta_cache: a thread-safe LRU of reference-counted values under string keys, with a time
 * to live, a cap on entries, and short-lived negative entries ("this name does not exist").
 * It knows nothing of what it stores; each value comes with the ops that ref and unref it. */
#ifndef VRCFS_META_CACHE_H
#define VRCFS_META_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct cache_value_ops {
    void *(*ref)(void *value);  /* takes a reference, returns value */
    void (*unref)(void *value); /* drops one */
};

enum cache_result { CACHE_MISS, CACHE_HIT, CACHE_NEGATIVE };

struct meta_cache;

/* max_entries >= 1; ttl and neg_ttl in seconds (0 means entries are never fresh). */
struct meta_cache *cache_new(size_t max_entries, double ttl, double neg_ttl);
void cache_free(struct meta_cache *c);

/* Replaces the test clock (seconds, monotonic). NULL restores CLOCK_MONOTONIC. */
void cache_set_clock(struct meta_cache *c, double (*now)(void));

/* Stores value under key (the key is copied). The cache takes over the caller's reference.
 * Replaces an older entry (positive or negative) under the same key; evicts the least
 * recently used entry when the cap is reached. */
void cache_insert(struct meta_cache *c, const char *key, void *value,
                  const struct cache_value_ops *ops);

/* As cache_insert, for a value fetched age seconds ago (kept from an earlier mount): fresh for
 * what is left of the ttl, not stored (the reference dropped) when nothing is left. */
void cache_insert_aged(struct meta_cache *c, const char *key, void *value,
                       const struct cache_value_ops *ops, double age);

/* Remembers that key names nothing, for neg_ttl seconds. */
void cache_insert_negative(struct meta_cache *c, const char *key);

/* CACHE_HIT: *value gets a new reference the caller must drop with the ops it was stored with.
 * CACHE_NEGATIVE: a fresh negative entry. CACHE_MISS: absent or stale (a stale entry is removed).
 * A hit or negative hit makes the entry most recently used. Counts hits and misses. */
enum cache_result cache_lookup(struct meta_cache *c, const char *key, void **value);

/* What a call rests on: after cache_watch_begin(), the hits of this thread's cache_lookup note
 * the earliest time one of the values handed out stops being fresh (on the cache's clock);
 * cache_watch_end() stops noting and returns it, INFINITY when nothing was handed out. */
void cache_watch_begin(void);
double cache_watch_end(void);
/* For a caller that keeps values fresh for less than the cache's ttl: notes that what it hands
 * out stops being fresh at `expires` (on the cache's clock), when this thread is watching. */
void cache_watch_note(double expires);

/* Calls fn with each fresh positive entry whose key starts with prefix, most recently used
 * first: its key, its value (lent: fn takes a reference with the entry's ops to keep it) and its
 * age, the seconds since it was stored. Under the cache's lock: fn must not use the cache. */
void cache_each(struct meta_cache *c, const char *prefix,
                void (*fn)(void *arg, const char *key, void *value, double age), void *arg);

/* Removes key if present. */
void cache_remove(struct meta_cache *c, const char *key);

/* Removes every key that starts with prefix. */
void cache_remove_prefix(struct meta_cache *c, const char *prefix);

struct cache_counters {
    uint64_t hits, negative_hits, misses, evictions;
    size_t entries;
};
void cache_get_counters(struct meta_cache *c, struct cache_counters *out);

#endif
