#include "vfs/blob_reader.h"

#include "log.h"
#include "remote/files_api.h"
#include "vfs/buf_pool.h"
#include "vfs/content_cache.h"
#include "vfs/readahead.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A handle that has read this far in order gets a streamer for the rest. */
#define STREAM_START (2u * 1024 * 1024)
/* A streamer's request: each costs a round trip with no bytes coming, so fewer are better; a
 * close ends one at its next piece. */
#define STREAM_WINDOW (32u * 1024 * 1024)
/* Fetched bytes reach the content cache in pieces of this size. */
#define STORE_PIECE (256u * 1024)

struct blob_reader {
    struct vfs_handle base;
    struct vfs *v;
    char file_id[VFS_ID_MAX];
    int version;
    enum vrc_data_kind kind;
    uint64_t size;
    char *path;
    struct cc_entry *entry; /* NULL for empty data */
    uint64_t gen;           /* the entry's generation at open: reads are good while it holds */
    pthread_mutex_t lock;   /* ra, url, the streamer, failed_logged */
    pthread_mutex_t resolve_lock;
    struct readahead ra;
    char *url; /* the signed URL, NULL until the first fetch */
    bool failed_logged;
    pthread_t streamer;
    bool streaming;
    atomic_bool stop;
    uint64_t stream_from;
};

/* A resolved URL as the metadata cache holds it: reference counted, so a reader can copy it
 * out while another thread replaces or evicts it. */
struct shared_url {
    atomic_int refs;
    char url[];
};

static void *url_ref(void *p)
{
    atomic_fetch_add(&((struct shared_url *)p)->refs, 1);
    return p;
}

static void url_unref(void *p)
{
    if (atomic_fetch_sub(&((struct shared_url *)p)->refs, 1) == 1)
        free(p);
}

static const struct cache_value_ops url_ops = {url_ref, url_unref};

static void url_key(char *key, size_t len, const char *file_id, int version,
                    enum vrc_data_kind kind)
{
    snprintf(key, len, "u:%s/%d/%s", file_id, version, vrc_data_kind_name(kind));
}

/* A copy of the URL to fetch from. With stale set (a URL the blob host refused), a fresh one
 * from the API, unless another thread has replaced stale already. One resolution at a time, so
 * that readers racing for the first fetch cost one request. */
static int url_get(struct blob_reader *r, const char *stale, char **out)
{
    pthread_mutex_lock(&r->resolve_lock);
    pthread_mutex_lock(&r->lock);
    if (r->url && (!stale || strcmp(r->url, stale) != 0)) {
        *out = strdup(r->url);
        pthread_mutex_unlock(&r->lock);
        pthread_mutex_unlock(&r->resolve_lock);
        return *out ? 0 : -ENOMEM;
    }
    pthread_mutex_unlock(&r->lock);
    char key[VFS_ID_MAX + 32];
    url_key(key, sizeof key, r->file_id, r->version, r->kind);
    char *url = NULL;
    void *cached;
    int err = 0;
    if (!stale && cache_lookup(r->v->cache, key, &cached) == CACHE_HIT) {
        url = strdup(((struct shared_url *)cached)->url);
        url_unref(cached);
        err = url ? 0 : -ENOMEM;
    } else {
        err = files_resolve_download(r->v->http, r->file_id, r->version, r->kind, &url);
        if (err) {
            log_info("%s: %s", r->path,
                     err == -ENOENT ? "the version is gone from the server: ENOENT"
                                    : "the download cannot be resolved");
        } else {
            struct shared_url *shared = malloc(sizeof *shared + strlen(url) + 1);
            if (shared) {
                atomic_init(&shared->refs, 1);
                strcpy(shared->url, url);
                cache_insert(r->v->cache, key, shared, &url_ops);
            }
        }
    }
    if (!err) {
        *out = strdup(url);
        if (!*out)
            err = -ENOMEM;
        pthread_mutex_lock(&r->lock);
        free(r->url);
        r->url = url;
        pthread_mutex_unlock(&r->lock);
    }
    pthread_mutex_unlock(&r->resolve_lock);
    return err;
}

/* Where the bytes of one range request go: into the content cache as they arrive, gathered to
 * STORE_PIECE bytes first (curl hands them over 16 KiB at a time; each store is a write, a lock
 * and a wakeup of the md5 thread), so that a reader waiting for the first of them goes on
 * before the rest has come, and no buffer holds a whole window. */
struct store_to {
    struct blob_reader *r;
    const atomic_bool *stop; /* set: the transfer ends at the next piece (the handle closes) */
    uint64_t start;          /* of the range */
    char *buf;               /* STORE_PIECE bytes from the mount's pool */
    size_t cap, len;         /* buf holds len bytes of the range from at */
    uint64_t at;
};

static int store_flush(struct store_to *to)
{
    int err = to->len ? content_cache_store(to->r->entry, to->r->gen, to->start + to->at, to->buf,
                                            to->len)
                      : 0;
    to->at += to->len;
    to->len = 0;
    return err;
}

static int store_piece(void *arg, uint64_t at, const void *data, size_t len)
{
    struct store_to *to = arg;
    if (to->stop && atomic_load(to->stop))
        return -ECANCELED;
    if (at != to->at + to->len) { /* a retry starts the body again */
        to->at = at;
        to->len = 0;
    }
    const char *p = data;
    while (len) {
        size_t n = to->cap - to->len < len ? to->cap - to->len : len;
        memcpy(to->buf + to->len, p, n);
        to->len += n;
        p += n;
        len -= n;
        int err = to->len == to->cap ? store_flush(to) : 0;
        if (err)
            return err;
    }
    return 0;
}

/* One Range GET of len bytes at offset into the content cache. An expired signed URL (or a
 * blob that moved) is resolved again, once. */
static int range_get(struct blob_reader *r, uint64_t offset, size_t len, const atomic_bool *stop,
                     size_t *got)
{
    struct store_to to = {.r = r, .stop = stop, .start = offset};
    to.buf = buf_pool_get(r->v->pool, len < STORE_PIECE ? len : STORE_PIECE, STORE_PIECE, &to.cap);
    if (!to.buf)
        return -ENOMEM;
    char *url = NULL;
    int err = url_get(r, NULL, &url);
    for (int attempt = 0; !err; attempt++) {
        err = files_read_range_to(r->v->http, url, offset, len, store_piece, &to, got);
        if (attempt > 0 || (err != -EACCES && err != -ENOENT))
            break;
        char *stale = url;
        url = NULL;
        err = url_get(r, stale, &url);
        free(stale);
    }
    if (!err)
        err = store_flush(&to);
    free(url);
    buf_pool_put(r->v->pool, to.buf);
    return err;
}

/* Makes [off, end) present in the cache, fetching the missing parts in windows of up to max
 * bytes (the first missing byte starts each), sharing the work with every other handle of the
 * version. Stops early (0) when stop is set. A streamer (stop given) claims its next window
 * before it fetches the current one: the kernel's reads just ahead of it then wait for its
 * bytes, where they would otherwise claim the start of its next window with requests of their
 * own and keep it waiting for them. */
static int fetch(struct blob_reader *r, uint64_t off, uint64_t end, uint64_t max,
                 const atomic_bool *stop)
{
    uint64_t a = 0, b = 0, na = 0, nb = 0;
    bool next = false;
    for (;;) {
        if (!next) {
            if (stop && atomic_load(stop))
                return 0;
            int rc = content_cache_claim(r->entry, r->gen, off, end, max, &a, &b);
            if (rc <= 0)
                return rc;
        }
        next = stop && !atomic_load(stop) && b < end &&
               content_cache_claim_next(r->entry, r->gen, b, end, max, &na, &nb) == 1;
        size_t len = (size_t)(b - a), got = 0;
        int err = range_get(r, a, len, stop, &got);
        if (!err && got != len) {
            log_warn("%s: the server sent %zu bytes of a %zu-byte range", r->path, got, len);
            err = -EIO;
        }
        /* What came is stored already; this ends the claim (the rest, if any, stays missing). */
        int stored = content_cache_fill(r->entry, r->gen, a, b, NULL, 0, err);
        if (err || stored || (next && stop && atomic_load(stop))) {
            if (next) /* given back unfetched */
                content_cache_fill(r->entry, r->gen, na, nb, NULL, 0, -ECANCELED);
            return err ? err : stored;
        }
        a = na;
        b = nb;
    }
}

static void *streamer_main(void *arg)
{
    struct blob_reader *r = arg;
    int err = fetch(r, r->stream_from, r->size, STREAM_WINDOW, &r->stop);
    if (err && err != -EIO && err != -ECANCELED)
        log_debug("%s: streaming ahead stopped: %s", r->path, strerror(-err));
    return NULL;
}

/* How far past offset to fetch for a read of need bytes: the handle's readahead window. Starts
 * the streamer once the handle has read STREAM_START bytes in order. */
static uint64_t window_for(struct blob_reader *r, uint64_t offset, size_t need)
{
    pthread_mutex_lock(&r->lock);
    size_t want = readahead_fetch_size(&r->ra, offset, need, r->size);
    if (!r->streaming && offset + need >= STREAM_START && r->ra.window >= r->ra.max &&
        offset + need < r->size) {
        r->stream_from = offset + need;
        atomic_store(&r->stop, false);
        r->streaming = pthread_create(&r->streamer, NULL, streamer_main, r) == 0;
    }
    pthread_mutex_unlock(&r->lock);
    return want > BLOB_WINDOW_MIN ? want : BLOB_WINDOW_MIN;
}

/* A read fails: says why once per handle. */
static int failed(struct blob_reader *r, int err)
{
    pthread_mutex_lock(&r->lock);
    bool say = !r->failed_logged;
    r->failed_logged = true;
    pthread_mutex_unlock(&r->lock);
    if (say && err == -EIO && content_cache_failed(r->entry, r->gen))
        log_info("%s: EIO: the data did not match its md5 while this file was open", r->path);
    else if (say && err != -ENOENT)
        log_info("%s: read failed: %s", r->path, strerror(-err));
    return err;
}

/* Makes the bytes of a read of size at off present (and, where the trust rules want it,
 * checked) in the content cache: how many there are to serve, or a negative errno. */
static int blob_prepare(struct blob_reader *r, size_t size, off_t off)
{
    uint64_t offset = (uint64_t)off;
    if (offset >= r->size || size == 0)
        return 0;
    size_t need = r->size - offset < size ? (size_t)(r->size - offset) : size;
    if (content_cache_failed(r->entry, r->gen))
        return failed(r, -EIO);
    if (!content_cache_verified(r->entry, r->gen)) {
        int err;
        if (r->size <= BLOB_VERIFY_FIRST_MAX) {
            /* Small: fetched whole and checked before a byte of it is served. */
            err = fetch(r, 0, r->size, BLOB_WINDOW_MAX, NULL);
            if (!err)
                err = content_cache_verdict(r->entry, r->gen);
        } else {
            uint64_t window = window_for(r, offset, need);
            err = fetch(r, offset, offset + need, window, NULL);
            /* The read that finds the version whole answers only once the md5 had its say. */
            if (!err && content_cache_complete(r->entry, r->gen))
                err = content_cache_verdict(r->entry, r->gen);
        }
        if (err)
            return failed(r, err);
    }
    return (int)need;
}

static int blob_read(struct vfs_handle *h, char *out, size_t size, off_t off)
{
    struct blob_reader *r = (struct blob_reader *)h;
    int n = blob_prepare(r, size, off);
    int err = n > 0 ? content_cache_pread(r->entry, out, (size_t)n, (uint64_t)off) : 0;
    return err ? failed(r, err) : n;
}

static int blob_read_fd(struct vfs_handle *h, size_t size, off_t off, int *fd)
{
    struct blob_reader *r = (struct blob_reader *)h;
    int n = blob_prepare(r, size, off);
    if (n > 0)
        *fd = content_cache_fd(r->entry);
    return n;
}

static void blob_release(struct vfs_handle *h)
{
    struct blob_reader *r = (struct blob_reader *)h;
    pthread_mutex_lock(&r->lock);
    bool join = r->streaming;
    r->streaming = false;
    pthread_mutex_unlock(&r->lock);
    if (join) {
        atomic_store(&r->stop, true);
        pthread_join(r->streamer, NULL);
    }
    if (r->entry)
        content_cache_put(r->entry);
    pthread_mutex_destroy(&r->resolve_lock);
    pthread_mutex_destroy(&r->lock);
    free(r->url);
    free(r->path);
    free(r);
}

static int empty_read(struct vfs_handle *h, char *out, size_t size, off_t off)
{
    (void)h;
    (void)out;
    (void)size;
    (void)off;
    return 0;
}

static const struct vfs_handle_ops blob_ops = {
    .read = blob_read,
    .read_fd = blob_read_fd,
    .release = blob_release,
};

static const struct vfs_handle_ops empty_ops = {
    .read = empty_read,
    .release = blob_release,
};

int blob_reader_open(struct vfs *v, const struct vrc_file *f, int version, enum vrc_data_kind kind,
                     const char *path, struct vfs_handle **out, bool *verified)
{
    const struct vrc_file_version *ver = vrc_file_version(f, version);
    if (!ver || !ver->data[kind].present)
        return -ENOENT;
    struct blob_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return -ENOMEM;
    }
    r->base.ops = ver->data[kind].size ? &blob_ops : &empty_ops;
    r->v = v;
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->resolve_lock, NULL);
    snprintf(r->file_id, sizeof r->file_id, "%s", f->id);
    r->version = version;
    r->kind = kind;
    r->size = ver->data[kind].size;
    readahead_init(&r->ra, BLOB_WINDOW_MIN, BLOB_WINDOW_MAX);
    *verified = r->size == 0;
    if (r->size) {
        char key[VFS_ID_MAX + 32];
        snprintf(key, sizeof key, "%s.%d.%s", f->id, version, vrc_data_kind_name(kind));
        int err = content_cache_get(v->content, key, r->size, ver->data[kind].md5, path, &r->entry,
                                    &r->gen);
        if (err) {
            blob_release(&r->base);
            return err;
        }
        *verified = content_cache_verified(r->entry, r->gen);
    }
    *out = &r->base;
    return 0;
}
