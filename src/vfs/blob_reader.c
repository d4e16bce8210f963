#include "vfs/blob_reader.h"

#include "log.h"
#include "remote/file_digest.h"
#include "remote/files_api.h"
#include "vfs/readahead.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_SLOTS 3
#define STREAM_START (2u * 1024 * 1024)
#define STREAM_RETAIN (1u * 1024 * 1024) /* how far reads must be past a window to drop it */
/* How far apart the kernel's reads of one sequential reader can arrive: the reads it serves
 * and its readahead (max_readahead 1 MiB; up to 12 requests of up to 1 MiB in flight) go to
 * several threads at once and arrive in any order. A read this close ahead of where the md5
 * stands, or behind the furthest read, is one of those, not a seek. At most one window, so
 * that one fetch from the md5's place covers such a read. */
#define REORDER_MAX BLOB_WINDOW_MAX

enum slot_state { SLOT_FREE, SLOT_FETCHING, SLOT_READY };

struct slot {
    char *buf;
    uint64_t off;
    size_t len;
    enum slot_state state;
};

struct blob_reader {
    struct vfs_handle base;
    struct vfs *v;
    pthread_mutex_t lock;
    char file_id[VFS_ID_MAX];
    int version;
    enum vrc_data_kind kind;
    uint64_t size;
    char *url;
    struct readahead ra;
    char *buf; /* the last window fetched */
    uint64_t buf_offset;
    size_t buf_len;
    /* MD5 of the data fetched in order from offset 0, up to md5_next; NULL once a seek breaks
     * the order or when the server gave no md5 to compare with. */
    EVP_MD_CTX *md5;
    uint64_t md5_next;
    unsigned char md5_want[16];
    bool corrupt;

    /* Streaming: once a handle has read STREAM_START bytes in order, a fetcher thread keeps up
     * to STREAM_SLOTS windows ahead of the reader, and a hasher thread runs the md5 over them in
     * order, so that neither the next fetch nor the digest waits for the reads (or the reads for
     * them). The last window stays around for reads the kernel sends out of order. */
    pthread_cond_t cond;
    bool streaming, stop, fetcher_on, hasher_on;
    pthread_t fetcher, hasher;
    struct slot slots[STREAM_SLOTS];
    uint64_t fetch_next; /* where the fetcher's next window starts */
    uint64_t read_pos;   /* the end of the furthest read served while streaming */
    int stream_err;
};

/* A resolved URL as the cache holds it: reference counted, so a reader can copy it out while
 * another thread replaces or evicts it. */
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

/* The signed URL of the data: from the cache unless fresh is set, else one API request. */
static int resolve_url(struct blob_reader *r, bool fresh)
{
    char key[VFS_ID_MAX + 32];
    url_key(key, sizeof key, r->file_id, r->version, r->kind);
    void *cached;
    if (!fresh && cache_lookup(r->v->cache, key, &cached) == CACHE_HIT) {
        char *copy = strdup(((struct shared_url *)cached)->url);
        url_unref(cached);
        if (!copy)
            return -ENOMEM;
        free(r->url);
        r->url = copy;
        return 0;
    }
    char *url;
    int err = files_resolve_download(r->v->http, r->file_id, r->version, r->kind, &url);
    if (err) {
        log_info("/files/%s/%d/%s: %s", r->file_id, r->version, vrc_data_kind_name(r->kind),
                 err == -ENOENT ? "the version is gone from the server: ENOENT"
                                : "the download cannot be resolved");
        return err;
    }
    free(r->url);
    r->url = url;
    struct shared_url *shared = malloc(sizeof *shared + strlen(url) + 1);
    if (shared) {
        atomic_init(&shared->refs, 1);
        strcpy(shared->url, url);
        cache_insert(r->v->cache, key, shared, &url_ops);
    }
    return 0;
}

/* All the data went through the MD5: compare it with the server's. A mismatch fails this
 * handle's reads from now on. */
static void md5_finish(struct blob_reader *r)
{
    unsigned char got[EVP_MAX_MD_SIZE];
    unsigned int got_len = 0;
    EVP_DigestFinal_ex(r->md5, got, &got_len);
    EVP_MD_CTX_free(r->md5);
    r->md5 = NULL;
    if (got_len != 16 || memcmp(got, r->md5_want, 16) != 0) {
        r->corrupt = true;
        log_error("%s version %d %s: the data does not match its md5; reads fail with EIO",
                  r->file_id, r->version, vrc_data_kind_name(r->kind));
    }
}

static void md5_feed(struct blob_reader *r, const char *data, uint64_t offset, size_t len)
{
    if (!r->md5)
        return;
    if (offset > r->md5_next) {
        /* A gap (a seek, not the kernel's reordering): nothing to verify against. */
        EVP_MD_CTX_free(r->md5);
        r->md5 = NULL;
        return;
    }
    /* Bytes fetched again (a read the kernel sent late) were hashed the first time. */
    if (offset + len <= r->md5_next)
        return;
    data += r->md5_next - offset;
    len -= (size_t)(r->md5_next - offset);
    EVP_DigestUpdate(r->md5, data, len);
    r->md5_next += len;
    if (r->md5_next < r->size)
        return;
    md5_finish(r);
}

/* One Range GET of len bytes at offset into dst. An expired signed URL (or a blob that moved)
 * is resolved again, once. Called with the lock held; with `unlocked` set, the lock is dropped
 * during the transfers (the fetcher's, so reads go on meanwhile). */
static int range_get(struct blob_reader *r, bool unlocked, uint64_t offset, char *dst, size_t len,
                     size_t *got)
{
    for (int attempt = 0;; attempt++) {
        char *url = strdup(r->url);
        if (!url)
            return -ENOMEM;
        if (unlocked)
            pthread_mutex_unlock(&r->lock);
        int err = files_read_range(r->v->http, url, offset, dst, len, got);
        if (unlocked)
            pthread_mutex_lock(&r->lock);
        free(url);
        if (attempt > 0 || (err != -EACCES && err != -ENOENT))
            return err;
        if ((err = resolve_url(r, true)))
            return err;
    }
}

static int fetch(struct blob_reader *r, uint64_t offset, size_t len)
{
    if (!r->buf && !(r->buf = malloc(BLOB_WINDOW_MAX)))
        return -ENOMEM;
    size_t got = 0;
    int err = range_get(r, false, offset, r->buf, len, &got);
    if (!err && got != len)
        err = -EIO;
    if (err) {
        r->buf_len = 0;
        return err;
    }
    r->buf_offset = offset;
    r->buf_len = got;
    md5_feed(r, r->buf, offset, got);
    return r->corrupt ? -EIO : 0;
}

/* A read the kernel sent late, behind the data at hand: fetched on its own into out, leaving the
 * window, the readahead and the stream as they are. */
static int read_late(struct blob_reader *r, char *out, size_t size, uint64_t offset)
{
    size_t len = r->size - offset < size ? (size_t)(r->size - offset) : size;
    size_t got = 0;
    int err = range_get(r, false, offset, out, len, &got);
    if (err)
        return err;
    return got == len ? (int)len : -EIO;
}

static struct slot *slot_at(struct blob_reader *r, uint64_t offset)
{
    for (int i = 0; i < STREAM_SLOTS; i++) {
        struct slot *s = &r->slots[i];
        if (s->state != SLOT_FREE && offset >= s->off && offset < s->off + s->len)
            return s;
    }
    return NULL;
}

/* A slot the fetcher may fill: free, or hashed and left behind by the reads. */
static struct slot *slot_reusable(struct blob_reader *r)
{
    for (int i = 0; i < STREAM_SLOTS; i++) {
        struct slot *s = &r->slots[i];
        if (s->state == SLOT_FREE)
            return s;
        uint64_t end = s->off + s->len;
        if (s->state == SLOT_READY && (!r->md5 || end <= r->md5_next) &&
            end + STREAM_RETAIN <= r->read_pos)
            return s;
    }
    return NULL;
}

/* Whether the fetcher gets a slot without more reads: one is free or will be once hashed. */
static bool slot_will_free(struct blob_reader *r)
{
    for (int i = 0; i < STREAM_SLOTS; i++) {
        struct slot *s = &r->slots[i];
        if (s->state == SLOT_FREE ||
            (s->state == SLOT_READY && s->off + s->len + STREAM_RETAIN <= r->read_pos))
            return true;
    }
    return false;
}

static void *fetcher_main(void *arg)
{
    struct blob_reader *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stop && r->fetch_next < r->size && !r->stream_err) {
        struct slot *s = slot_reusable(r);
        if (!s) {
            pthread_cond_wait(&r->cond, &r->lock);
            continue;
        }
        uint64_t off = r->fetch_next;
        size_t len = r->size - off < BLOB_WINDOW_MAX ? (size_t)(r->size - off) : BLOB_WINDOW_MAX;
        s->state = SLOT_FETCHING;
        s->off = off;
        s->len = len;
        r->fetch_next = off + len;
        size_t got = 0;
        int err = range_get(r, true, off, s->buf, len, &got);
        if (!err && got != len)
            err = -EIO;
        if (err) {
            r->stream_err = err;
            s->state = SLOT_FREE;
        } else {
            s->state = SLOT_READY;
        }
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

static void *hasher_main(void *arg)
{
    struct blob_reader *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stop && r->md5 && r->md5_next < r->size) {
        struct slot *s = slot_at(r, r->md5_next);
        if (!s || s->state != SLOT_READY) {
            if (r->stream_err)
                break;
            pthread_cond_wait(&r->cond, &r->lock);
            continue;
        }
        /* The slot is not reused before md5_next passes its end; no lock needed to read it. */
        uint64_t from = r->md5_next;
        size_t n = (size_t)(s->off + s->len - from);
        const char *data = s->buf + (from - s->off);
        EVP_MD_CTX *ctx = r->md5;
        pthread_mutex_unlock(&r->lock);
        EVP_DigestUpdate(ctx, data, n);
        pthread_mutex_lock(&r->lock);
        r->md5_next = from + n;
        if (r->md5_next >= r->size)
            md5_finish(r);
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Ends streaming (a seek, or the handle's release). Called with the lock held. */
static void stream_stop(struct blob_reader *r)
{
    if (!r->streaming)
        return;
    if (r->stop) {
        /* Another thread is stopping it: wait for that. */
        while (r->streaming)
            pthread_cond_wait(&r->cond, &r->lock);
        return;
    }
    r->stop = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    if (r->fetcher_on)
        pthread_join(r->fetcher, NULL);
    if (r->hasher_on)
        pthread_join(r->hasher, NULL);
    pthread_mutex_lock(&r->lock);
    r->fetcher_on = r->hasher_on = false;
    r->streaming = r->stop = false;
    pthread_cond_broadcast(&r->cond);
    for (int i = 0; i < STREAM_SLOTS; i++)
        r->slots[i].state = SLOT_FREE;
    if (r->md5 && r->md5_next < r->size) {
        /* A seek away from the stream: nothing to verify against for this handle. */
        EVP_MD_CTX_free(r->md5);
        r->md5 = NULL;
    }
}

/* Starts streaming after the window in r->buf, for a reader that got as far as read_end.
 * Called with the lock held. */
static void stream_start(struct blob_reader *r, uint64_t read_end)
{
    uint64_t end = r->buf_offset + r->buf_len;
    if (end >= r->size || r->stream_err)
        return;
    for (int i = 0; i < STREAM_SLOTS; i++) {
        if (!r->slots[i].buf && !(r->slots[i].buf = malloc(BLOB_WINDOW_MAX)))
            return;
        r->slots[i].state = SLOT_FREE;
    }
    r->fetch_next = end;
    r->read_pos = read_end;
    r->streaming = true;
    r->fetcher_on = pthread_create(&r->fetcher, NULL, fetcher_main, r) == 0;
    r->hasher_on =
        r->md5 && r->md5_next == end && pthread_create(&r->hasher, NULL, hasher_main, r) == 0;
    if (r->md5 && !r->hasher_on) {
        EVP_MD_CTX_free(r->md5);
        r->md5 = NULL;
    }
    if (!r->fetcher_on)
        stream_stop(r);
}

/* A read while streaming: > 0 bytes, 0 at the end, < 0 an error, or 1 << 30 for "not here"
 * (a seek away from the stream). Never fewer bytes than asked before the end: the kernel takes
 * a short read for the end of the file. */
#define NOT_STREAMED (1 << 30)

static int stream_read(struct blob_reader *r, char *out, size_t size, uint64_t offset)
{
    size_t done = 0;
    while (done < size && offset + done < r->size) {
        uint64_t at = offset + done;
        if (at >= r->buf_offset && at < r->buf_offset + r->buf_len) {
            size_t n = (size_t)(r->buf_offset + r->buf_len - at);
            n = n < size - done ? n : size - done;
            memcpy(out + done, r->buf + (at - r->buf_offset), n);
            done += n;
            continue;
        }
        struct slot *s = slot_at(r, at);
        if (s && s->state == SLOT_READY) {
            size_t n = (size_t)(s->off + s->len - at);
            n = n < size - done ? n : size - done;
            memcpy(out + done, s->buf + (at - s->off), n);
            done += n;
            continue;
        }
        if (r->stream_err)
            return r->stream_err;
        /* Stopped, by this thread's or another's seek. */
        if (r->stop || !r->streaming)
            return NOT_STREAMED;
        /* Being fetched, or next in line: wait for it. */
        if (s ||
            (at >= r->fetch_next && at < r->fetch_next + BLOB_WINDOW_MAX && slot_will_free(r))) {
            pthread_cond_wait(&r->cond, &r->lock);
            continue;
        }
        /* Its window was reused (and hashed) already: a late read, not a seek. */
        if (at < r->fetch_next && at + REORDER_MAX >= r->read_pos) {
            int n = read_late(r, out + done, size - done, at);
            if (n < 0)
                return n;
            done += (size_t)n;
            continue;
        }
        return NOT_STREAMED;
    }
    if (offset + done > r->read_pos) {
        r->read_pos = offset + done;
        pthread_cond_broadcast(&r->cond);
    }
    /* The read that reaches the end answers only once the md5 had its say. */
    if (offset + done >= r->size) {
        while (r->md5 && r->hasher_on && !r->stream_err && !r->stop)
            pthread_cond_wait(&r->cond, &r->lock);
        if (r->corrupt)
            return -EIO;
    }
    return (int)done;
}

static int blob_read(struct vfs_handle *h, char *out, size_t size, off_t off)
{
    struct blob_reader *r = (struct blob_reader *)h;
    uint64_t offset = (uint64_t)off;
    pthread_mutex_lock(&r->lock);
    int ret = 0;
    if (r->streaming && !r->corrupt) {
        ret = stream_read(r, out, size, offset);
        if (ret != NOT_STREAMED) {
            pthread_mutex_unlock(&r->lock);
            return ret;
        }
        stream_stop(r);
        readahead_init(&r->ra, BLOB_WINDOW_MIN, BLOB_WINDOW_MAX);
        r->ra.next_offset = UINT64_MAX;
        ret = 0;
    }
    if (r->corrupt) {
        pthread_mutex_unlock(&r->lock);
        return -EIO;
    }
    if (offset >= r->size || size == 0) {
        pthread_mutex_unlock(&r->lock);
        return 0;
    }
    uint64_t end = r->buf_offset + r->buf_len;
    size_t need = r->size - offset < size ? (size_t)(r->size - offset) : size;
    bool hit = offset >= r->buf_offset && offset + need <= end;
    size_t want = 0;
    uint64_t from = offset;
    if (hit) {
        /* A read the kernel sent out of order, inside the window: not a seek. */
        if (offset + need > r->ra.next_offset)
            r->ra.next_offset = offset + need;
    } else if (r->buf_len && offset < r->buf_offset && offset + REORDER_MAX >= end) {
        /* Behind the window by no more than the kernel's reordering: a late read. */
        ret = read_late(r, out, size, offset);
        if (ret > 0)
            md5_feed(r, out, offset, (size_t)ret);
        if (r->corrupt)
            ret = -EIO;
        pthread_mutex_unlock(&r->lock);
        return ret;
    } else if (r->md5 && offset >= r->md5_next && offset - r->md5_next + need <= REORDER_MAX) {
        /* Ahead of where the md5 stands by no more than the kernel's reordering: fetch from
         * there, so that every byte goes through the md5 in order. */
        from = r->md5_next;
        r->ra.next_offset = from;
        want = readahead_fetch_size(&r->ra, from, (size_t)(offset - from) + need, r->size);
    } else if (r->buf_len && offset >= end && offset < end + BLOB_WINDOW_MIN) {
        /* Just past the window (the kernel's readahead overtook a read): go on from the
         * window's end, so the fetches stay contiguous and the md5 keeps going. */
        from = end;
        r->ra.next_offset = end;
        want = readahead_fetch_size(&r->ra, from, (size_t)(offset - from) + need, r->size);
    } else {
        want = readahead_fetch_size(&r->ra, offset, size, r->size);
    }
    if (hit || want > 0) {
        if (!hit)
            ret = fetch(r, from, want < BLOB_WINDOW_MAX ? want : BLOB_WINDOW_MAX);
        /* All of it or an error: the kernel takes a short read for the end of the file. */
        if (!ret && offset + need > r->buf_offset + r->buf_len)
            ret = -EIO;
        if (!ret) {
            memcpy(out, r->buf + (offset - r->buf_offset), need);
            ret = (int)need;
            if (!hit && offset + need >= STREAM_START && r->buf_len >= r->ra.max / 2)
                stream_start(r, offset + need);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return ret;
}

static void blob_release(struct vfs_handle *h)
{
    struct blob_reader *r = (struct blob_reader *)h;
    pthread_mutex_lock(&r->lock);
    stream_stop(r);
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; i < STREAM_SLOTS; i++)
        free(r->slots[i].buf);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    EVP_MD_CTX_free(r->md5);
    free(r->buf);
    free(r->url);
    free(r);
}

static const struct vfs_handle_ops blob_ops = {
    .read = blob_read,
    .release = blob_release,
};

int blob_reader_open(struct vfs *v, const struct vrc_file *f, int version, enum vrc_data_kind kind,
                     struct vfs_handle **out)
{
    const struct vrc_file_version *ver = vrc_file_version(f, version);
    if (!ver || !ver->data[kind].present)
        return -ENOENT;
    struct blob_reader *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->base.ops = &blob_ops;
    r->v = v;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    snprintf(r->file_id, sizeof r->file_id, "%s", f->id);
    r->version = version;
    r->kind = kind;
    r->size = ver->data[kind].size;
    readahead_init(&r->ra, BLOB_WINDOW_MIN, BLOB_WINDOW_MAX);
    if (ver->data[kind].md5[0] && digest_md5_from_base64(ver->data[kind].md5, r->md5_want) == 0) {
        r->md5 = EVP_MD_CTX_new();
        if (r->md5)
            EVP_DigestInit_ex(r->md5, EVP_md5(), NULL);
    }
    int err = r->size ? resolve_url(r, false) : 0;
    if (err) {
        blob_release(&r->base);
        return err;
    }
    *out = &r->base;
    return 0;
}
