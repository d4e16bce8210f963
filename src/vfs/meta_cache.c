/* meta_cache: chained hash table (FNV-1a) plus an intrusive LRU list, under one mutex.
 * Entries taken out of the cache are collected on a local list and released after unlocking,
 * so that a value's unref may do real work (or even call back into the cache). */
#include "vfs/meta_cache.h"
#include "vfs/str_hash.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIN_BUCKETS 16
#define MAX_BUCKETS ((size_t)1 << 20) /* chains get longer past this; memory stays bounded */

struct entry {
    char *key;
    uint64_t hash;
    void *value; /* NULL for a negative entry */
    const struct cache_value_ops *ops;
    bool negative;
    double expires; /* fresh while now < expires */
    struct entry *hnext;
    struct entry *prev, *next; /* LRU: head.next is the most recently used */
};

struct meta_cache {
    pthread_mutex_t lock;
    struct entry **buckets;
    size_t nbuckets; /* a power of two */
    struct entry head;
    size_t count, max_entries;
    double ttl, neg_ttl;
    double (*now)(void);
    struct cache_counters counters;
};

/* --- helpers that need no lock ----------------------------------------------------------- */

static double monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void release_value(const struct cache_value_ops *ops, void *value)
{
    if (ops != NULL && ops->unref != NULL && value != NULL)
        ops->unref(value);
}

/* Frees a chain of entries linked through hnext; called without the lock. */
static void release_all(struct entry *e)
{
    while (e != NULL) {
        struct entry *next = e->hnext;
        release_value(e->ops, e->value);
        free(e->key);
        free(e);
        e = next;
    }
}

static struct entry *entry_new(const char *key, void *value, const struct cache_value_ops *ops,
                               bool negative)
{
    struct entry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->key = strdup(key);
    if (e->key == NULL) {
        free(e);
        return NULL;
    }
    e->hash = str_hash(key);
    e->value = value;
    e->ops = ops;
    e->negative = negative;
    return e;
}

static size_t bucket_count(size_t max_entries)
{
    size_t n = MIN_BUCKETS;
    while (n < max_entries && n < MAX_BUCKETS)
        n *= 2;
    return n;
}

/* --- list and table operations, called with the lock held -------------------------------- */

static void lru_unlink(struct entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void lru_push_front(struct meta_cache *c, struct entry *e)
{
    e->prev = &c->head;
    e->next = c->head.next;
    c->head.next->prev = e;
    c->head.next = e;
}

static struct entry **bucket_of(struct meta_cache *c, uint64_t hash)
{
    return &c->buckets[hash & (c->nbuckets - 1)];
}

/* The link that points at key's entry, or at the NULL ending its chain. */
static struct entry **find_link(struct meta_cache *c, const char *key, uint64_t hash)
{
    struct entry **link = bucket_of(c, hash);
    while (*link != NULL && ((*link)->hash != hash || strcmp((*link)->key, key) != 0))
        link = &(*link)->hnext;
    return link;
}

/* Takes e out of the table and the list and puts it on *dead for release after unlocking. */
static void detach(struct meta_cache *c, struct entry *e, struct entry **dead)
{
    struct entry **link = find_link(c, e->key, e->hash);
    *link = e->hnext;
    lru_unlink(e);
    c->count--;
    e->hnext = *dead;
    *dead = e;
}

static void attach(struct meta_cache *c, struct entry *e)
{
    struct entry **bucket = bucket_of(c, e->hash);
    e->hnext = *bucket;
    *bucket = e;
    lru_push_front(c, e);
    c->count++;
}

static void evict_lru(struct meta_cache *c, struct entry **dead)
{
    detach(c, c->head.prev, dead);
    c->counters.evictions++;
}

/* Puts e in place of any entry under its key, evicting when full. A stale-on-arrival entry
 * (ttl 0) only removes the old one: storing it would evict something useful for nothing. */
static void store(struct meta_cache *c, struct entry *e, double ttl, struct entry **dead)
{
    struct entry *old = *find_link(c, e->key, e->hash);
    if (old != NULL)
        detach(c, old, dead);
    if (ttl <= 0) {
        e->hnext = *dead;
        *dead = e;
        return;
    }
    if (c->count >= c->max_entries)
        evict_lru(c, dead);
    e->expires = c->now() + ttl;
    attach(c, e);
}

/* --- public API -------------------------------------------------------------------------- */

struct meta_cache *cache_new(size_t max_entries, double ttl, double neg_ttl)
{
    struct meta_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->nbuckets = bucket_count(max_entries);
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    if (c->buckets == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->buckets);
        free(c);
        return NULL;
    }
    c->head.prev = c->head.next = &c->head;
    c->max_entries = max_entries > 0 ? max_entries : 1;
    c->ttl = ttl;
    c->neg_ttl = neg_ttl;
    c->now = monotonic_now;
    return c;
}

void cache_free(struct meta_cache *c)
{
    if (c == NULL)
        return;
    struct entry *dead = NULL;
    while (c->head.next != &c->head)
        detach(c, c->head.next, &dead);
    release_all(dead);
    pthread_mutex_destroy(&c->lock);
    free(c->buckets);
    free(c);
}

void cache_set_clock(struct meta_cache *c, double (*now)(void))
{
    pthread_mutex_lock(&c->lock);
    c->now = now != NULL ? now : monotonic_now;
    pthread_mutex_unlock(&c->lock);
}

/* Stores e, aged age seconds: a negative entry for neg_ttl, a value for what is left of ttl. */
static void insert_entry(struct meta_cache *c, struct entry *e, double age)
{
    struct entry *dead = NULL;
    pthread_mutex_lock(&c->lock);
    store(c, e, (e->negative ? c->neg_ttl : c->ttl) - age, &dead);
    pthread_mutex_unlock(&c->lock);
    release_all(dead);
}

void cache_insert_aged(struct meta_cache *c, const char *key, void *value,
                       const struct cache_value_ops *ops, double age)
{
    struct entry *e = entry_new(key, value, ops, false);
    if (e == NULL) {
        /* Out of memory: not caching is always correct, but the reference was handed over. */
        release_value(ops, value);
        return;
    }
    insert_entry(c, e, age);
}

void cache_insert(struct meta_cache *c, const char *key, void *value,
                  const struct cache_value_ops *ops)
{
    cache_insert_aged(c, key, value, ops, 0);
}

void cache_insert_negative(struct meta_cache *c, const char *key)
{
    struct entry *e = entry_new(key, NULL, NULL, true);
    if (e != NULL)
        insert_entry(c, e, 0);
}

/* cache_watch_begin/end: whether this thread notes what it is handed, and the earliest expiry. */
static _Thread_local bool watching;
static _Thread_local double watch_earliest;

void cache_watch_begin(void)
{
    watching = true;
    watch_earliest = INFINITY;
}

double cache_watch_end(void)
{
    watching = false;
    return watch_earliest;
}

void cache_watch_note(double expires)
{
    if (watching && expires < watch_earliest)
        watch_earliest = expires;
}

/* Classifies a found entry, taking a reference for a hit while the lock still pins it. */
static enum cache_result use_entry(struct meta_cache *c, struct entry *e, void **value)
{
    lru_unlink(e);
    lru_push_front(c, e);
    if (e->negative) {
        c->counters.negative_hits++;
        return CACHE_NEGATIVE;
    }
    c->counters.hits++;
    cache_watch_note(e->expires);
    if (value == NULL)
        return CACHE_HIT;
    bool counted = e->ops != NULL && e->ops->ref != NULL && e->value != NULL;
    *value = counted ? e->ops->ref(e->value) : e->value;
    return CACHE_HIT;
}

enum cache_result cache_lookup(struct meta_cache *c, const char *key, void **value)
{
    struct entry *dead = NULL;
    enum cache_result r = CACHE_MISS;
    uint64_t hash = str_hash(key);
    pthread_mutex_lock(&c->lock);
    struct entry *e = *find_link(c, key, hash);
    if (e != NULL && c->now() >= e->expires)
        detach(c, e, &dead);
    else if (e != NULL)
        r = use_entry(c, e, value);
    if (r == CACHE_MISS)
        c->counters.misses++;
    pthread_mutex_unlock(&c->lock);
    release_all(dead);
    return r;
}

void cache_each(struct meta_cache *c, const char *prefix,
                void (*fn)(void *arg, const char *key, void *value, double age), void *arg)
{
    size_t n = strlen(prefix);
    pthread_mutex_lock(&c->lock);
    double now = c->now();
    for (struct entry *e = c->head.next; e != &c->head; e = e->next)
        if (!e->negative && now < e->expires && strncmp(e->key, prefix, n) == 0)
            fn(arg, e->key, e->value, c->ttl - (e->expires - now));
    pthread_mutex_unlock(&c->lock);
}

void cache_remove(struct meta_cache *c, const char *key)
{
    struct entry *dead = NULL;
    uint64_t hash = str_hash(key);
    pthread_mutex_lock(&c->lock);
    struct entry *e = *find_link(c, key, hash);
    if (e != NULL)
        detach(c, e, &dead);
    pthread_mutex_unlock(&c->lock);
    release_all(dead);
}

void cache_remove_prefix(struct meta_cache *c, const char *prefix)
{
    struct entry *dead = NULL;
    size_t n = strlen(prefix);
    pthread_mutex_lock(&c->lock);
    for (struct entry *e = c->head.next, *next; e != &c->head; e = next) {
        next = e->next;
        if (strncmp(e->key, prefix, n) == 0)
            detach(c, e, &dead);
    }
    pthread_mutex_unlock(&c->lock);
    release_all(dead);
}

void cache_get_counters(struct meta_cache *c, struct cache_counters *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->counters;
    out->entries = c->count;
    pthread_mutex_unlock(&c->lock);
}
