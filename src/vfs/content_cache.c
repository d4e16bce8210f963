/* content_cache: entries in a list (most recently used first) under one lock; the I/O (pread,
 * pwrite, fsync, the md5) happens outside it. Lock order: an entry's save_lock, then cc->lock. */
#include "vfs/content_cache.h"

#include "file_replace.h"
#include "log.h"
#include "remote/file_digest.h"
#include "vfs/range_set.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A partial entry's sidecar is rewritten after this many new bytes, so that a kill -9 costs at
 * most this much fetching again. */
#define SAVE_EVERY (16u * 1024 * 1024)
/* How much of the file the md5 reads at a time. */
#define HASH_CHUNK (1024u * 1024)
/* How long the md5 thread waits for more bytes once it has caught up, before it ends. */
#define HASH_LINGER_S 1
/* The md5 thread is woken for this many new bytes in order (or the end), not for each piece. */
#define HASH_BATCH (4u * 1024 * 1024)
#define KEY_MAX 160
#define PATHS_MAX 4

struct claim {
    struct claim *next;
    uint64_t start, stop;
};

/* A read waiting in claim() for bytes that another claim fetches. It is woken once [from, to)
 * is all here, when any claim ends, or when the data is dropped; not for each piece on the way,
 * which cost a sequential read five switches a READ. */
struct claim_waiter {
    uint64_t from, to;
    bool woken; /* and taken off the list */
    pthread_cond_t cond;
    struct claim_waiter *next;
};

struct cc_entry {
    struct content_cache *cc;
    struct cc_entry *prev, *next; /* in cc->entries, most recently used first */
    char key[KEY_MAX];
    uint64_t size;
    char md5_b64[DIGEST_MD5_B64_LEN + 1];
    unsigned char md5_want[16];
    bool has_md5;
    int refs; /* handles, and the md5 thread while it runs */
    int fd;   /* open while refs > 0 */
    struct range_set present;
    uint64_t gen;
    bool verified;
    struct claim *claims; /* in flight, of any generation */
    EVP_MD_CTX *md5;      /* over [0, hashed) of this generation */
    uint64_t hashed;
    bool hashing;
    uint64_t unsaved; /* bytes recorded since the sidecar was written */
    bool dirty;       /* the sidecar is behind */
    bool stale;       /* the data file holds bytes of a dropped generation (reset_data) */
    int64_t used_at;  /* seconds since the epoch */
    char *paths[PATHS_MAX];
    pthread_cond_t cond;          /* verdicts */
    struct claim_waiter *waiters; /* reads waiting for the bytes of another's claim */
    pthread_cond_t hash_cond;     /* the md5 thread: a batch of bytes to hash, or no handle */
    pthread_mutex_t save_lock;
};

struct content_cache {
    pthread_mutex_t lock;
    pthread_cond_t idle; /* an entry's refs reached 0 */
    char *dir;
    struct buf_pool *pool;
    cc_dropped_fn dropped;
    void *dropped_arg;
    struct cc_entry *entries;
    uint64_t limit, reserved, used;
    uint64_t hits, fetched, mismatches, evictions;
    uint64_t claim_waits; /* times a read slept until another claim brought its bytes */
};

/* --- paths and the sidecar ------------------------------------------------------------------ */

static void data_path(const struct cc_entry *e, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", e->cc->dir, e->key);
}

static void sidecar_path(const struct cc_entry *e, char *out, size_t len, bool tmp)
{
    snprintf(out, len, "%s/%s.json%s", e->cc->dir, e->key, tmp ? ".tmp" : "");
}

static json_t *sidecar_json(const struct cc_entry *e, const struct range_set *ranges, bool verified)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < ranges->n; i++)
        json_array_append_new(list, json_pack("[I, I]", (json_int_t)ranges->r[i].start,
                                              (json_int_t)ranges->r[i].end));
    return json_pack("{s:i, s:s, s:I, s:s, s:b, s:I, s:o}", "format", CONTENT_FORMAT, "key", e->key,
                     "size", (json_int_t)e->size, "md5", e->md5_b64, "verified", verified, "used",
                     (json_int_t)e->used_at, "ranges", list ? list : json_array());
}

/* Writes the sidecar: the data first reaches the disk (fdatasync), then the record of it
 * replaces the old one atomically (temp file, fsync, rename). Whatever a crash interrupts, the
 * sidecar on disk names only bytes that are on the disk. */
static int save(struct cc_entry *e)
{
    struct content_cache *cc = e->cc;
    pthread_mutex_lock(&e->save_lock);
    pthread_mutex_lock(&cc->lock);
    if (!e->dirty || e->fd < 0) {
        pthread_mutex_unlock(&cc->lock);
        pthread_mutex_unlock(&e->save_lock);
        return 0;
    }
    struct range_set snap;
    range_set_init(&snap);
    int err = 0;
    for (size_t i = 0; i < e->present.n && !err; i++)
        err = range_set_add(&snap, e->present.r[i].start, e->present.r[i].end);
    bool verified = e->verified;
    json_t *doc = err ? NULL : sidecar_json(e, &snap, verified);
    e->dirty = false;
    e->unsaved = 0;
    int fd = e->fd;
    pthread_mutex_unlock(&cc->lock);
    range_set_free(&snap);
    char tmp[PATH_MAX], final[PATH_MAX];
    sidecar_path(e, tmp, sizeof tmp, true);
    sidecar_path(e, final, sizeof final, false);
    if (!doc)
        err = -ENOMEM;
    if (!err && fdatasync(fd) != 0)
        err = -errno;
    char *text = doc && !err ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!err && !text)
        err = -ENOMEM;
    if (!err)
        err = file_replace(final, tmp, text, strlen(text));
    free(text);
    if (err) {
        /* The old sidecar stays: it names less than is there, never more. */
        log_warn("content cache: cannot record %s: %s", e->key, strerror(-err));
        pthread_mutex_lock(&cc->lock);
        e->dirty = true;
        pthread_mutex_unlock(&cc->lock);
    }
    pthread_mutex_unlock(&e->save_lock);
    return err;
}

/* --- entries ---------------------------------------------------------------------------------- */

static void list_remove(struct content_cache *cc, struct cc_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        cc->entries = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->prev = e->next = NULL;
}

static void list_push_front(struct content_cache *cc, struct cc_entry *e)
{
    e->prev = NULL;
    e->next = cc->entries;
    if (cc->entries)
        cc->entries->prev = e;
    cc->entries = e;
}

static struct cc_entry *entry_new(struct content_cache *cc, const char *key, uint64_t size,
                                  const char *md5_b64)
{
    struct cc_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->cc = cc;
    e->fd = -1;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->size = size;
    snprintf(e->md5_b64, sizeof e->md5_b64, "%s", md5_b64);
    e->has_md5 = md5_b64[0] && digest_md5_from_base64(md5_b64, e->md5_want) == 0;
    range_set_init(&e->present);
    pthread_cond_init(&e->cond, NULL);
    pthread_cond_init(&e->hash_cond, NULL);
    pthread_mutex_init(&e->save_lock, NULL);
    e->used_at = (int64_t)time(NULL);
    return e;
}

static void entry_free(struct cc_entry *e)
{
    range_set_free(&e->present);
    EVP_MD_CTX_free(e->md5);
    for (int i = 0; i < PATHS_MAX; i++)
        free(e->paths[i]);
    while (e->claims) {
        struct claim *c = e->claims;
        e->claims = c->next;
        free(c);
    }
    pthread_cond_destroy(&e->cond);
    pthread_cond_destroy(&e->hash_cond);
    pthread_mutex_destroy(&e->save_lock);
    free(e);
}

/* Counts the entry's present bytes anew in cc->used. Lock held. */
static void account(struct content_cache *cc, uint64_t before, uint64_t after)
{
    cc->used = cc->used - before + after;
}

/* Removes an entry nobody holds, data and sidecar (sidecar first: a crash in between leaves
 * data without a record, which the next mount removes). Lock held. */
static void entry_remove(struct content_cache *cc, struct cc_entry *e)
{
    char path[PATH_MAX];
    sidecar_path(e, path, sizeof path, false);
    unlink(path);
    data_path(e, path, sizeof path);
    unlink(path);
    account(cc, range_set_bytes(&e->present), 0);
    list_remove(cc, e);
    entry_free(e);
}

/* Evicts the least recently used entries that nobody holds until the content fits next to the
 * staging. Lock held. */
static void evict(struct content_cache *cc)
{
    uint64_t room = cc->limit > cc->reserved ? cc->limit - cc->reserved : 0;
    if (cc->used <= room)
        return; /* the usual case, on every store: no walk to the list's end */
    struct cc_entry *last = cc->entries;
    while (last && last->next)
        last = last->next;
    for (struct cc_entry *e = last; e && cc->used > room;) {
        struct cc_entry *prev = e->prev;
        if (e->refs == 0 && range_set_bytes(&e->present) > 0) {
            log_debug("content cache: evicting %s", e->key);
            cc->evictions++;
            entry_remove(cc, e);
        }
        e = prev;
    }
}

/* --- taking up what an earlier mount left ----------------------------------------------------- */

static bool key_ok(const char *key)
{
    return key[0] && key[0] != '.' && !strchr(key, '/') && strlen(key) < KEY_MAX;
}

/* Loads one sidecar; NULL when it or its data cannot be trusted. */
static struct cc_entry *load(struct content_cache *cc, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", cc->dir, name);
    json_t *doc = json_load_file(path, 0, NULL);
    const char *key = json_string_value(json_object_get(doc, "key"));
    const char *md5 = json_string_value(json_object_get(doc, "md5"));
    json_t *size = json_object_get(doc, "size");
    json_t *ranges = json_object_get(doc, "ranges");
    struct cc_entry *e = NULL;
    size_t klen = key ? strlen(key) : 0;
    if (json_integer_value(json_object_get(doc, "format")) == CONTENT_FORMAT && key &&
        key_ok(key) && strncmp(name, key, klen) == 0 && strcmp(name + klen, ".json") == 0 && md5 &&
        strlen(md5) <= DIGEST_MD5_B64_LEN && json_is_integer(size) &&
        json_integer_value(size) >= 0 && json_is_array(ranges))
        e = entry_new(cc, key, (uint64_t)json_integer_value(size), md5);
    bool ok = e != NULL;
    size_t i;
    json_t *r;
    json_array_foreach(ranges, i, r)
    {
        json_int_t a = json_integer_value(json_array_get(r, 0));
        json_int_t b = json_integer_value(json_array_get(r, 1));
        if (!ok || !json_is_array(r) || a < 0 || b <= a || (uint64_t)b > e->size ||
            range_set_add(&e->present, (uint64_t)a, (uint64_t)b) != 0) {
            ok = false;
            break;
        }
    }
    struct stat st;
    if (ok) {
        data_path(e, path, sizeof path);
        uint64_t end = e->present.n ? e->present.r[e->present.n - 1].end : 0;
        /* Data shorter than what the record names was cut (or is not ours): not trusted. */
        ok = stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size >= end;
    }
    if (ok) {
        e->verified = json_is_true(json_object_get(doc, "verified")) &&
                      range_set_complete(&e->present, e->size);
        e->used_at = json_integer_value(json_object_get(doc, "used"));
    } else if (e) {
        entry_free(e);
        e = NULL;
    }
    json_decref(doc);
    return e;
}

/* Removes every file in the directory that no loaded entry owns. */
static void sweep(struct content_cache *cc)
{
    DIR *d = opendir(cc->dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        bool owned = false;
        for (struct cc_entry *e = cc->entries; e && !owned; e = e->next) {
            size_t klen = strlen(e->key);
            owned = strncmp(de->d_name, e->key, klen) == 0 &&
                    (de->d_name[klen] == '\0' || strcmp(de->d_name + klen, ".json") == 0);
        }
        if (!owned) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", cc->dir, de->d_name);
            log_debug("content cache: removing %s (no usable record)", de->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

static int by_use(const void *a, const void *b)
{
    const struct cc_entry *x = *(struct cc_entry *const *)a, *y = *(struct cc_entry *const *)b;
    return x->used_at < y->used_at ? -1 : x->used_at > y->used_at;
}

static void take_up(struct content_cache *cc)
{
    DIR *d = opendir(cc->dir);
    if (!d)
        return;
    size_t n = 0, cap = 0;
    struct cc_entry **found = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        struct cc_entry *e = load(cc, de->d_name);
        if (!e)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct cc_entry **grown = realloc(found, cap * sizeof *grown);
            if (!grown) {
                entry_free(e);
                break;
            }
            found = grown;
        }
        found[n++] = e;
    }
    closedir(d);
    /* Oldest first, each pushed to the front: the list ends up most recent first. */
    if (n) /* found is NULL when nothing was kept: qsort's pointer must not be */
        qsort(found, n, sizeof *found, by_use);
    for (size_t i = 0; i < n; i++) {
        list_push_front(cc, found[i]);
        cc->used += range_set_bytes(&found[i]->present);
    }
    free(found);
    sweep(cc);
    if (n)
        log_info("content cache: %zu versions (%" PRIu64 " bytes) kept from before", n, cc->used);
}

/* mkdir -p with mode 0700: cache_dir's default ($XDG_CACHE_HOME/vrcfs) may not exist yet. */
static int make_path(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

struct content_cache *content_cache_open(const char *cache_dir, uint64_t limit,
                                         struct buf_pool *pool, cc_dropped_fn dropped, void *arg)
{
    struct content_cache *cc = calloc(1, sizeof *cc);
    if (!cc)
        return NULL;
    if (asprintf(&cc->dir, "%s/%s", cache_dir, CONTENT_SUBDIR) < 0) {
        free(cc);
        errno = ENOMEM;
        return NULL;
    }
    if (make_path(cc->dir) != 0) {
        int saved = errno;
        free(cc->dir);
        free(cc);
        errno = saved;
        return NULL;
    }
    pthread_mutex_init(&cc->lock, NULL);
    pthread_cond_init(&cc->idle, NULL);
    cc->pool = pool;
    cc->limit = limit;
    cc->dropped = dropped;
    cc->dropped_arg = arg;
    take_up(cc);
    pthread_mutex_lock(&cc->lock);
    evict(cc);
    pthread_mutex_unlock(&cc->lock);
    return cc;
}

void content_cache_close(struct content_cache *cc)
{
    if (!cc)
        return;
    pthread_mutex_lock(&cc->lock);
    for (;;) {
        bool busy = false;
        for (struct cc_entry *e = cc->entries; e && !busy; e = e->next)
            busy = e->refs > 0;
        if (!busy)
            break;
        pthread_cond_wait(&cc->idle, &cc->lock);
    }
    while (cc->entries) {
        struct cc_entry *e = cc->entries;
        list_remove(cc, e);
        entry_free(e);
    }
    pthread_mutex_unlock(&cc->lock);
    pthread_cond_destroy(&cc->idle);
    pthread_mutex_destroy(&cc->lock);
    free(cc->dir);
    free(cc);
}

void content_cache_set_reserved(struct content_cache *cc, uint64_t bytes)
{
    if (!cc)
        return;
    pthread_mutex_lock(&cc->lock);
    cc->reserved = bytes;
    evict(cc);
    pthread_mutex_unlock(&cc->lock);
}

/* --- holding an entry ------------------------------------------------------------------------- */

static void note_path(struct cc_entry *e, const char *path)
{
    if (!path)
        return;
    for (int i = 0; i < PATHS_MAX; i++) {
        if (e->paths[i] && strcmp(e->paths[i], path) == 0)
            return;
        if (!e->paths[i]) {
            e->paths[i] = strdup(path);
            return;
        }
    }
}

/* Wakes the claim waiters whose bytes are all here now, or all of them. Lock held. */
static void claim_waiters_wake(struct cc_entry *e, bool all)
{
    for (struct claim_waiter **p = &e->waiters; *p;) {
        struct claim_waiter *w = *p;
        if (all || range_set_run_end(&e->present, w->from) >= w->to) {
            *p = w->next;
            w->woken = true;
            pthread_cond_signal(&w->cond);
        } else {
            p = &w->next;
        }
    }
}

/* Empties an entry's data for a fresh start: record first, then data. The data file is cut
 * only when no handle holds the entry (truncate): a reply spliced from it may be in flight, and
 * a file cut under it would make a short reply, which the kernel takes for the end of the file.
 * Until then the bytes there are simply not recorded (stale), so nothing serves them. Lock held. */
static void reset_data(struct content_cache *cc, struct cc_entry *e, bool truncate)
{
    char path[PATH_MAX];
    sidecar_path(e, path, sizeof path, false);
    unlink(path);
    e->stale = !truncate;
    if (truncate && e->fd >= 0 && ftruncate(e->fd, 0) != 0)
        log_debug("content cache: cannot truncate %s: %s", e->key, strerror(errno));
    account(cc, range_set_bytes(&e->present), 0);
    range_set_clear(&e->present);
    e->verified = false;
    e->gen++;
    e->hashed = 0;
    EVP_MD_CTX_free(e->md5);
    e->md5 = NULL;
    e->unsaved = 0;
    e->dirty = false;
    claim_waiters_wake(e, true); /* they find their generation gone */
}

int content_cache_get(struct content_cache *cc, const char *key, uint64_t size, const char *md5_b64,
                      const char *path, struct cc_entry **out, uint64_t *gen)
{
    if (!key_ok(key))
        return -EINVAL;
    pthread_mutex_lock(&cc->lock);
    struct cc_entry *e = cc->entries;
    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    if (e && md5_b64[0] && !e->md5_b64[0]) {
        /* A listing without the md5 made the entry (spec#349); now it is known: check with it. */
        if (e->refs == 0) {
            entry_remove(cc, e);
            e = NULL;
        } else if (e->verified) {
            reset_data(cc, e, false);
        }
        if (e) {
            snprintf(e->md5_b64, sizeof e->md5_b64, "%s", md5_b64);
            e->has_md5 = digest_md5_from_base64(md5_b64, e->md5_want) == 0;
        }
    }
    if (e && (e->size != size || (md5_b64[0] && strcmp(e->md5_b64, md5_b64) != 0))) {
        /* The server describes the version otherwise now: what is here is not it. */
        log_info("content cache: %s changed on the server; starting over", key);
        if (e->refs == 0) {
            entry_remove(cc, e);
            e = NULL;
        } else {
            reset_data(cc, e, false);
            e->size = size;
            snprintf(e->md5_b64, sizeof e->md5_b64, "%s", md5_b64);
            e->has_md5 = md5_b64[0] && digest_md5_from_base64(md5_b64, e->md5_want) == 0;
        }
    }
    bool fresh = !e;
    if (fresh) {
        e = entry_new(cc, key, size, md5_b64);
        if (!e) {
            pthread_mutex_unlock(&cc->lock);
            return -ENOMEM;
        }
        list_push_front(cc, e);
    } else {
        list_remove(cc, e);
        list_push_front(cc, e);
    }
    if (e->fd < 0) {
        char p[PATH_MAX];
        data_path(e, p, sizeof p);
        /* A new entry has no record: whatever a file of that name holds is not trusted. */
        e->fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | (fresh ? O_TRUNC : 0), 0600);
        if (e->fd < 0) {
            int err = -errno;
            log_warn("content cache: cannot open %s: %s", p, strerror(errno));
            if (e->refs == 0)
                entry_remove(cc, e);
            pthread_mutex_unlock(&cc->lock);
            return err;
        }
    }
    e->refs++;
    e->used_at = (int64_t)time(NULL);
    e->dirty = true; /* the sidecar's "used", for eviction after a remount, is rewritten at close */
    note_path(e, path);
    *out = e;
    *gen = e->gen;
    pthread_mutex_unlock(&cc->lock);
    return 0;
}

static void hash_kick(struct cc_entry *e);
static void hash_wake(struct cc_entry *e);

/* Drops one reference (a handle's or the md5 thread's). The last one records what is there
 * while the data file is still open, then closes it and lets eviction see the entry. */
static void release(struct cc_entry *e, bool hasher)
{
    struct content_cache *cc = e->cc;
    pthread_mutex_lock(&cc->lock);
    if (e->refs == 1 && e->stale) /* nothing reads the file now: the dropped bytes go */
        reset_data(cc, e, true);
    if (e->refs == 1 && e->dirty) {
        pthread_mutex_unlock(&cc->lock);
        save(e);
        pthread_mutex_lock(&cc->lock);
    }
    if (hasher) {
        /* Only now: a verdict waits for the md5 thread's end, so that its caller finds the
         * entry as a handle left it (evictable once put). */
        e->hashing = false;
        hash_kick(e); /* bytes that arrived after its last look */
        pthread_cond_broadcast(&e->cond);
    }
    /* An md5 thread waiting for bytes ends with the last handle. */
    pthread_cond_signal(&e->hash_cond);
    if (--e->refs == 0) {
        if (e->fd >= 0)
            close(e->fd);
        e->fd = -1;
        evict(cc);
        pthread_cond_broadcast(&cc->idle);
    }
    pthread_mutex_unlock(&cc->lock);
}

void content_cache_put(struct cc_entry *e)
{
    release(e, false);
}

uint64_t content_cache_size(const struct cc_entry *e)
{
    return e->size;
}

bool content_cache_verified(struct cc_entry *e, uint64_t gen)
{
    pthread_mutex_lock(&e->cc->lock);
    bool v = e->gen == gen && e->verified;
    if (v)
        e->cc->hits++;
    pthread_mutex_unlock(&e->cc->lock);
    return v;
}

bool content_cache_failed(struct cc_entry *e, uint64_t gen)
{
    pthread_mutex_lock(&e->cc->lock);
    bool f = e->gen != gen;
    pthread_mutex_unlock(&e->cc->lock);
    return f;
}

/* --- claims and fills ------------------------------------------------------------------------- */

static struct claim *claim_at(struct cc_entry *e, uint64_t off)
{
    for (struct claim *c = e->claims; c; c = c->next)
        if (off >= c->start && off < c->stop)
            return c;
    return NULL;
}

static int claim(struct cc_entry *e, uint64_t gen, uint64_t off, uint64_t end, uint64_t max,
                 bool wait, uint64_t *start, uint64_t *stop)
{
    struct content_cache *cc = e->cc;
    if (end > e->size)
        end = e->size;
    pthread_mutex_lock(&cc->lock);
    for (;;) {
        if (e->gen != gen) {
            pthread_mutex_unlock(&cc->lock);
            return -EIO;
        }
        uint64_t a, b;
        if (!range_set_first_hole(&e->present, off, end, &a, &b)) {
            pthread_mutex_unlock(&cc->lock);
            return 0;
        }
        if (claim_at(e, a)) {
            if (!wait) {
                pthread_mutex_unlock(&cc->lock);
                return 0;
            }
            struct claim *held = claim_at(e, a);
            struct claim_waiter w = {.from = a, .to = held->stop < end ? held->stop : end};
            pthread_cond_init(&w.cond, NULL);
            w.next = e->waiters;
            e->waiters = &w;
            while (!w.woken) {
                cc->claim_waits++;
                pthread_cond_wait(&w.cond, &cc->lock);
            }
            pthread_cond_destroy(&w.cond);
            continue;
        }
        /* Up to the next claim, the next present byte, or max. */
        if (b - a > max)
            b = a + max;
        for (struct claim *c = e->claims; c; c = c->next)
            if (c->start > a && c->start < b)
                b = c->start;
        struct claim *c = malloc(sizeof *c);
        if (!c) {
            pthread_mutex_unlock(&cc->lock);
            return -ENOMEM;
        }
        c->start = a;
        c->stop = b;
        c->next = e->claims;
        e->claims = c;
        *start = a;
        *stop = b;
        pthread_mutex_unlock(&cc->lock);
        return 1;
    }
}

int content_cache_claim(struct cc_entry *e, uint64_t gen, uint64_t off, uint64_t end, uint64_t max,
                        uint64_t *start, uint64_t *stop)
{
    return claim(e, gen, off, end, max, true, start, stop);
}

int content_cache_claim_next(struct cc_entry *e, uint64_t gen, uint64_t off, uint64_t end,
                             uint64_t max, uint64_t *start, uint64_t *stop)
{
    return claim(e, gen, off, end, max, false, start, stop);
}

static void *hasher_main(void *arg);

/* Starts the md5 over newly contiguous bytes, in a thread of its own so that fetching goes on
 * meanwhile. Lock held. */
static void hash_kick(struct cc_entry *e)
{
    if (e->hashing || e->verified || e->hashed >= e->size ||
        range_set_run_end(&e->present, e->hashed) == e->hashed)
        return;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    e->hashing = true;
    e->refs++;
    if (pthread_create(&t, &attr, hasher_main, e) != 0) {
        /* Not inline: the caller may be a READ whose pages a mismatch would invalidate. The
         * next fill or verdict tries again. */
        e->hashing = false;
        e->refs--;
        log_warn("content cache: cannot start the md5 of %s now", e->key);
    }
    pthread_attr_destroy(&attr);
}

/* Whether a batch of bytes waits for the md5: HASH_BATCH of them in order, or the rest. */
static bool hash_batch_ready(struct cc_entry *e)
{
    uint64_t to = range_set_run_end(&e->present, e->hashed);
    return to - e->hashed >= HASH_BATCH || (to == e->size && to > e->hashed);
}

/* Wakes a running md5 thread that waits for bytes, once a batch of them is there. */
static void hash_wake(struct cc_entry *e)
{
    if (e->hashing && hash_batch_ready(e))
        pthread_cond_signal(&e->hash_cond);
}

static int write_all(int fd, const char *data, size_t len, uint64_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, data, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        data += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int content_cache_store(struct cc_entry *e, uint64_t gen, uint64_t off, const void *data,
                        size_t len)
{
    struct content_cache *cc = e->cc;
    if (content_cache_failed(e, gen))
        return -EIO; /* dropped meanwhile: the bytes belong to no generation of ours */
    int err = write_all(e->fd, data, len, off);
    if (err == -ENOSPC) {
        /* The disk is full: make room from other entries, and try once more. */
        pthread_mutex_lock(&cc->lock);
        uint64_t limit = cc->limit;
        cc->limit = cc->used > len ? cc->used - len : 0;
        evict(cc);
        cc->limit = limit;
        pthread_mutex_unlock(&cc->lock);
        err = write_all(e->fd, data, len, off);
    }
    if (err) {
        log_warn("content cache: cannot store %zu bytes of %s: %s", len, e->key, strerror(-err));
        return err;
    }
    pthread_mutex_lock(&cc->lock);
    bool save_now = false;
    if (e->gen != gen) {
        err = -EIO;
    } else {
        uint64_t before = range_set_bytes(&e->present);
        err = range_set_add(&e->present, off, off + len);
        if (!err) {
            account(cc, before, range_set_bytes(&e->present));
            cc->fetched += len;
            e->unsaved += len;
            e->dirty = true;
            save_now = e->unsaved >= SAVE_EVERY;
            hash_kick(e);
            hash_wake(e);
            evict(cc);
            claim_waiters_wake(e, false);
        }
    }
    pthread_mutex_unlock(&cc->lock);
    if (save_now)
        save(e);
    return err;
}

int content_cache_fill(struct cc_entry *e, uint64_t gen, uint64_t start, uint64_t stop,
                       const void *data, size_t len, int err)
{
    struct content_cache *cc = e->cc;
    if (len > stop - start)
        len = (size_t)(stop - start);
    int stored = !err && len ? content_cache_store(e, gen, start, data, len) : 0;
    pthread_mutex_lock(&cc->lock);
    for (struct claim **c = &e->claims; *c; c = &(*c)->next) {
        if ((*c)->start == start && (*c)->stop == stop) {
            struct claim *done = *c;
            *c = done->next;
            free(done);
            break;
        }
    }
    claim_waiters_wake(e, true); /* a hole may be free to claim now */
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&cc->lock);
    /* A generation dropped meanwhile is not a failure to store: the caller's reads see it. */
    return stored == -EIO && content_cache_failed(e, gen) ? 0 : stored;
}

int content_cache_pread(struct cc_entry *e, void *out, size_t len, uint64_t off)
{
    char *p = out;
    while (len) {
        ssize_t n = pread(e->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? -errno : -EIO;
            log_warn("content cache: cannot read %s: %s", e->key,
                     n < 0 ? strerror(errno) : "short");
            return err;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int content_cache_fd(const struct cc_entry *e)
{
    return e->fd;
}

bool content_cache_complete(struct cc_entry *e, uint64_t gen)
{
    pthread_mutex_lock(&e->cc->lock);
    bool c = e->gen == gen && range_set_complete(&e->present, e->size);
    pthread_mutex_unlock(&e->cc->lock);
    return c;
}

int content_cache_verdict(struct cc_entry *e, uint64_t gen)
{
    struct content_cache *cc = e->cc;
    pthread_mutex_lock(&cc->lock);
    while (e->gen == gen && (!e->verified || e->hashing) &&
           range_set_complete(&e->present, e->size)) {
        hash_kick(e); /* in case no fill could start it */
        pthread_cond_wait(&e->cond, &cc->lock);
    }
    int err = e->gen != gen ? -EIO : 0;
    pthread_mutex_unlock(&cc->lock);
    return err;
}

/* --- the md5 ---------------------------------------------------------------------------------- */

/* The whole data went through the md5 (got), or could not be read back (NULL): verified, or
 * dropped. Called without the lock, never from a thread that holds a request. */
static void settle(struct cc_entry *e, uint64_t gen, const unsigned char *got)
{
    struct content_cache *cc = e->cc;
    bool match = got && (!e->has_md5 || memcmp(got, e->md5_want, 16) == 0);
    if (match) {
        pthread_mutex_lock(&cc->lock);
        if (e->gen == gen) {
            e->verified = true;
            e->dirty = true;
        }
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&cc->lock);
        save(e);
        return;
    }
    /* The kernel is told to drop its pages first: until the reset below, readers of this
     * generation wait for the verdict, so no page is served in between. */
    char *paths[PATHS_MAX] = {0};
    pthread_mutex_lock(&cc->lock);
    for (int i = 0; i < PATHS_MAX && e->gen == gen; i++)
        paths[i] = e->paths[i] ? strdup(e->paths[i]) : NULL;
    pthread_mutex_unlock(&cc->lock);
    if (paths[0])
        log_error("%s: the data does not match its md5 (%s); the cached copy is dropped and "
                  "reads fail with EIO until a new download checks out",
                  paths[0], e->md5_b64);
    for (int i = 0; i < PATHS_MAX && paths[i]; i++) {
        if (cc->dropped)
            cc->dropped(cc->dropped_arg, paths[i]);
        free(paths[i]);
    }
    pthread_mutex_lock(&e->save_lock); /* no save may write the old ranges back */
    pthread_mutex_lock(&cc->lock);
    if (e->gen == gen) {
        cc->mismatches++;
        reset_data(cc, e, false);
    }
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&cc->lock);
    pthread_mutex_unlock(&e->save_lock);
}

static void *hasher_main(void *arg)
{
    struct cc_entry *e = arg;
    struct content_cache *cc = e->cc;
    size_t cap = 0;
    char *buf = buf_pool_get(cc->pool, 64 * 1024, HASH_CHUNK, &cap);
    bool failed = !buf;
    pthread_mutex_lock(&cc->lock);
    while (!failed) {
        uint64_t gen = e->gen;
        uint64_t from = e->hashed;
        uint64_t to = range_set_run_end(&e->present, from);
        if (e->verified)
            break;
        if (!hash_batch_ready(e)) {
            /* A sequential read stores its bytes piece by piece: wait for a batch of them
             * (while a handle holds the entry) instead of a thread, or a waking, for each.
             * Bytes that stop short of a batch are hashed when the wait runs out. */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += HASH_LINGER_S;
            if (e->refs > 1 && pthread_cond_timedwait(&e->hash_cond, &cc->lock, &until) == 0)
                continue;
            if (to <= from)
                break;
        }
        if (!e->md5) {
            e->md5 = EVP_MD_CTX_new();
            if (!e->md5 || !EVP_DigestInit_ex(e->md5, EVP_md5(), NULL)) {
                EVP_MD_CTX_free(e->md5);
                e->md5 = NULL;
                failed = true;
                break;
            }
        }
        EVP_MD_CTX *ctx = e->md5;
        size_t n = to - from < cap ? (size_t)(to - from) : cap;
        /* Recorded bytes never change while recorded, and only this thread moves the md5. */
        pthread_mutex_unlock(&cc->lock);
        int err = content_cache_pread(e, buf, n, from);
        if (!err)
            EVP_DigestUpdate(ctx, buf, n);
        pthread_mutex_lock(&cc->lock);
        if (e->gen != gen)
            continue; /* dropped meanwhile: the next generation hashes afresh */
        if (err) {
            /* The cache file cannot be read back: it cannot be trusted either. */
            pthread_mutex_unlock(&cc->lock);
            settle(e, gen, NULL);
            pthread_mutex_lock(&cc->lock);
            continue;
        }
        e->hashed = from + n;
        if (e->hashed < e->size)
            continue;
        unsigned char got[EVP_MAX_MD_SIZE];
        unsigned int got_len = 0;
        EVP_DigestFinal_ex(ctx, got, &got_len);
        EVP_MD_CTX_free(e->md5);
        e->md5 = NULL;
        pthread_mutex_unlock(&cc->lock);
        settle(e, gen, got);
        pthread_mutex_lock(&cc->lock);
    }
    pthread_mutex_unlock(&cc->lock);
    if (failed)
        log_warn("content cache: cannot check the md5 of %s now (no memory)", e->key);
    buf_pool_put(cc->pool, buf);
    release(e, true);
    return NULL;
}

json_t *content_cache_stats(struct content_cache *cc)
{
    pthread_mutex_lock(&cc->lock);
    size_t entries = 0, verified = 0;
    for (struct cc_entry *e = cc->entries; e; e = e->next) {
        entries++;
        verified += e->verified;
    }
    json_t *j =
        json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "dir", cc->dir,
                  "bytes_used", (json_int_t)cc->used, "bytes_limit", (json_int_t)cc->limit,
                  "bytes_reserved", (json_int_t)cc->reserved, "entries", (json_int_t)entries,
                  "verified", (json_int_t)verified, "hits", (json_int_t)cc->hits, "bytes_fetched",
                  (json_int_t)cc->fetched, "mismatches", (json_int_t)cc->mismatches, "evictions",
                  (json_int_t)cc->evictions, "claim_waits", (json_int_t)cc->claim_waits);
    pthread_mutex_unlock(&cc->lock);
    return j;
}
