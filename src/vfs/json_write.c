/* json_write: an open file collected in memory for its subtree to send (json_write.h). */
#include "vfs/json_write.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void json_write_init(struct json_write *h, const struct vfs_handle_ops *ops, struct vfs *v,
                     size_t max)
{
    h->base.ops = ops;
    h->v = v;
    h->max = max;
    atomic_init(&h->size, 0);
    pthread_mutex_init(&h->lock, NULL);
}

void json_write_set(struct json_write *h, char *buf, size_t len)
{
    free(h->buf);
    h->buf = buf;
    h->len = len;
    atomic_store(&h->size, len);
}

void json_write_fini(struct json_write *h)
{
    pthread_mutex_destroy(&h->lock);
    free(h->buf);
    h->buf = NULL;
}

/* h->lock held. */
static int resize(struct json_write *h, size_t len)
{
    if (len > h->max)
        return -EFBIG;
    if (len > h->len) {
        char *grown = realloc(h->buf, len);
        if (!grown)
            return -ENOMEM;
        memset(grown + h->len, 0, len - h->len);
        h->buf = grown;
    }
    h->len = len;
    atomic_store(&h->size, len);
    h->dirty = true;
    return 0;
}

int json_write_write(struct vfs_handle *base, const char *buf, size_t size, off_t off)
{
    struct json_write *h = (struct json_write *)base;
    if (off < 0)
        return -EINVAL;
    pthread_mutex_lock(&h->lock);
    int err = 0;
    if (h->done)
        err = -EROFS; /* what it made exists; the name is a link to it now */
    else if ((size_t)off + size > h->len)
        err = resize(h, (size_t)off + size);
    if (!err) {
        memcpy(h->buf + off, buf, size);
        h->dirty = true;
    }
    pthread_mutex_unlock(&h->lock);
    return err ? err : (int)size;
}

int json_write_read(struct vfs_handle *base, char *buf, size_t size, off_t off)
{
    struct json_write *h = (struct json_write *)base;
    pthread_mutex_lock(&h->lock);
    size_t n = 0;
    if (off >= 0 && (size_t)off < h->len) {
        n = h->len - (size_t)off < size ? h->len - (size_t)off : size;
        memcpy(buf, h->buf + off, n);
    }
    pthread_mutex_unlock(&h->lock);
    return (int)n;
}

int json_write_truncate(struct vfs_handle *base, off_t size)
{
    struct json_write *h = (struct json_write *)base;
    if (size < 0)
        return -EINVAL;
    pthread_mutex_lock(&h->lock);
    int err = h->done ? -EROFS : resize(h, (size_t)size);
    pthread_mutex_unlock(&h->lock);
    return err;
}

int json_write_getattr(struct vfs_handle *base, struct stat *st)
{
    struct json_write *h = (struct json_write *)base;
    vfs_stat_file(h->v, st, (off_t)atomic_load(&h->size), 0644, 0);
    return 0;
}

int json_write_flush(struct json_write *h, json_write_send_fn send, bool creates, const char *path)
{
    pthread_mutex_lock(&h->lock);
    if (h->dirty && !h->done) {
        h->dirty = false;
        h->last_err = send(h);
        h->done = h->last_err == 0 && creates;
    }
    int err = h->last_err;
    if (!err && creates && !h->done && h->len == 0) {
        log_info("close %s: EINVAL: nothing was written to it yet, so nothing is sent (a shell's "
                 "redirection closes once before it writes; touch makes nothing)",
                 path);
        err = -EINVAL;
    }
    pthread_mutex_unlock(&h->lock);
    return err;
}
