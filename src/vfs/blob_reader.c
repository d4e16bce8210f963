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
    /* MD5 of the data fetched in order from offset 0; NULL once a seek breaks the order or
     * when the server gave no md5 to compare with. */
    EVP_MD_CTX *md5;
    uint64_t md5_next;
    unsigned char md5_want[16];
    bool corrupt;
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
    if (err)
        return err;
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

static void md5_feed(struct blob_reader *r, const char *data, uint64_t offset, size_t len)
{
    if (!r->md5)
        return;
    if (offset != r->md5_next) {
        /* Not read in order: nothing to verify against for this handle. */
        EVP_MD_CTX_free(r->md5);
        r->md5 = NULL;
        return;
    }
    EVP_DigestUpdate(r->md5, data, len);
    r->md5_next += len;
    if (r->md5_next < r->size)
        return;
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

static int fetch(struct blob_reader *r, uint64_t offset, size_t len)
{
    if (!r->buf && !(r->buf = malloc(BLOB_WINDOW_MAX)))
        return -ENOMEM;
    size_t got = 0;
    int err = files_read_range(r->v->http, r->url, offset, r->buf, len, &got);
    if (err == -EACCES || err == -ENOENT) {
        /* The signed URL expired (or the blob moved): resolve it again, once. */
        err = resolve_url(r, true);
        if (!err)
            err = files_read_range(r->v->http, r->url, offset, r->buf, len, &got);
    }
    if (err) {
        r->buf_len = 0;
        return err;
    }
    r->buf_offset = offset;
    r->buf_len = got;
    md5_feed(r, r->buf, offset, got);
    return r->corrupt ? -EIO : 0;
}

static int blob_read(struct vfs_handle *h, char *out, size_t size, off_t off)
{
    struct blob_reader *r = (struct blob_reader *)h;
    uint64_t offset = (uint64_t)off;
    pthread_mutex_lock(&r->lock);
    int ret = 0;
    size_t want = readahead_fetch_size(&r->ra, offset, size, r->size);
    if (r->corrupt) {
        ret = -EIO;
    } else if (want > 0) {
        bool hit = offset >= r->buf_offset &&
                   offset + (size < want ? size : want) <= r->buf_offset + r->buf_len;
        if (!hit)
            ret = fetch(r, offset, want < BLOB_WINDOW_MAX ? want : BLOB_WINDOW_MAX);
        if (!ret) {
            size_t avail = (size_t)(r->buf_offset + r->buf_len - offset);
            size_t n = size < avail ? size : avail;
            memcpy(out, r->buf + (offset - r->buf_offset), n);
            ret = (int)n;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return ret;
}

static void blob_release(struct vfs_handle *h)
{
    struct blob_reader *r = (struct blob_reader *)h;
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
