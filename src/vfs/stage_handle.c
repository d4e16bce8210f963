/* stage_handle: an open file of a stage (stage_handle.h). */
#include "vfs/stage_handle.h"

#include "vfs/stage_base.h"
#include "vfs/stage_upload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

struct write_handle {
    struct vfs_handle base;
    struct files_write_state *w;
    struct stage *s;
    bool can_write;
    atomic_bool wrote; /* data went through it (a truncate to 0 does not count) */
};

static int wh_read(struct vfs_handle *h, char *buf, size_t size, off_t off)
{
    struct write_handle *wh = (struct write_handle *)h;
    struct stage *s = wh->s;
    pthread_mutex_lock(&s->lock);
    int err = stage_ensure_base(wh->w, s);
    ssize_t n = err ? err : pread(s->fd, buf, size, off);
    if (n < 0 && !err)
        n = -errno;
    pthread_mutex_unlock(&s->lock);
    return (int)n;
}

static int wh_write(struct vfs_handle *h, const char *buf, size_t size, off_t off)
{
    struct write_handle *wh = (struct write_handle *)h;
    struct stage *s = wh->s;
    if (!wh->can_write)
        return -EBADF;
    if (off < 0)
        return -EINVAL;
    pthread_mutex_lock(&s->lock);
    stage_wait_upload(s);
    int err = stage_ensure_base(wh->w, s);
    if (err) {
        pthread_mutex_unlock(&s->lock);
        return err; /* nothing changed */
    }
    uint64_t end = (uint64_t)off + size;
    if (end > s->accounted)
        err = stage_account(wh->w, s, end);
    ssize_t n = 0;
    if (!err) {
        n = pwrite(s->fd, buf, size, off);
        if (n < 0)
            err = -errno;
    }
    if (err)
        s->broken = err;
    else
        atomic_store(&wh->wrote, true);
    if (!err) {
        stage_digest_write(s, buf, (uint64_t)off, (size_t)n);
        if ((uint64_t)off + (uint64_t)n > s->size)
            s->size = (uint64_t)off + (uint64_t)n;
        stage_mark_dirty(wh->w, s);
    }
    pthread_mutex_unlock(&s->lock);
    return err ? err : (int)n;
}

/* flush comes with every close(2) of every descriptor of the file, dup'd ones included. The
 * shell's `cmd > file` and dd open with O_TRUNC, dup2 the descriptor and close the original
 * before a byte is written: uploading then would publish an empty version before the real
 * one. A flush through a handle that wrote nothing, of a file that is empty, waits instead for
 * the next flush that follows a write, or for the release (`: > file`, `touch`), whose errors
 * only reach the log. */
static int wh_flush(struct vfs_handle *h)
{
    struct write_handle *wh = (struct write_handle *)h;
    struct stage *s = wh->s;
    if (!wh->can_write)
        return 0;
    if (!atomic_load(&wh->wrote)) {
        pthread_mutex_lock(&s->lock);
        bool empty = s->size == 0 && !s->needs_base;
        if (empty && s->dirty)
            s->deferred = true;
        pthread_mutex_unlock(&s->lock);
        if (empty)
            return 0;
    }
    return stage_upload(wh->w, s);
}

static int wh_fsync(struct vfs_handle *h)
{
    struct write_handle *wh = (struct write_handle *)h;
    return wh->can_write ? stage_upload(wh->w, wh->s) : 0;
}

static int wh_truncate(struct vfs_handle *h, off_t size)
{
    struct write_handle *wh = (struct write_handle *)h;
    if (size < 0)
        return -EINVAL;
    int err = stage_truncate(wh->w, wh->s, (uint64_t)size);
    if (!err && size > 0)
        atomic_store(&wh->wrote, true);
    return err;
}

static int wh_getattr(struct vfs_handle *h, struct stat *st)
{
    struct write_handle *wh = (struct write_handle *)h;
    stage_stat(wh->w, wh->s, st);
    return 0;
}

static void wh_release(struct vfs_handle *h)
{
    struct write_handle *wh = (struct write_handle *)h;
    struct stage *s = wh->s;
    pthread_mutex_lock(&wh->w->lock);
    bool last = --s->handles == 0;
    pthread_mutex_unlock(&wh->w->lock);
    pthread_mutex_lock(&s->lock);
    bool deferred = last && s->deferred && s->dirty;
    pthread_mutex_unlock(&s->lock);
    if (deferred)
        stage_upload(wh->w, s); /* nobody waits for this result: it goes to the log */
    stage_put(wh->w, s);
    free(wh);
}

static const struct vfs_handle_ops write_ops = {
    .read = wh_read,
    .write = wh_write,
    .flush = wh_flush,
    .fsync = wh_fsync,
    .truncate = wh_truncate,
    .getattr = wh_getattr,
    .release = wh_release,
};

int stage_handle_new(struct files_write_state *w, struct stage *s, struct fuse_file_info *fi)
{
    struct write_handle *wh = calloc(1, sizeof *wh);
    if (!wh) {
        stage_put(w, s);
        return -ENOMEM;
    }
    wh->base.ops = &write_ops;
    wh->w = w;
    wh->s = s;
    wh->can_write = (fi->flags & O_ACCMODE) != O_RDONLY;
    pthread_mutex_lock(&w->lock);
    s->handles++;
    pthread_mutex_unlock(&w->lock);
    fi->fh = (uint64_t)(uintptr_t)wh;
    fi->direct_io = 0;
    fi->keep_cache = 0;
    return 0;
}

/* --- what fs_ops calls ----------------------------------------------------------------------- */
