/* vfs_common: the small pieces every module of src/vfs uses: attributes, in-memory files, and
 * the calls into the core's side of the kernel. */
#include "vfs/vfs_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void stat_common(const struct vfs *v, struct stat *st, time_t mtime)
{
    memset(st, 0, sizeof *st);
    st->st_uid = v->uid;
    st->st_gid = v->gid;
    st->st_mtime = st->st_ctime = st->st_atime = mtime ? mtime : v->mount_time;
    st->st_blksize = 128 * 1024;
}

void vfs_stat_dir(const struct vfs *v, struct stat *st, time_t mtime)
{
    stat_common(v, st, mtime);
    st->st_mode = S_IFDIR | (0755 & ~v->umask);
    st->st_nlink = 2;
}

void vfs_stat_file(const struct vfs *v, struct stat *st, off_t size, mode_t mode, time_t mtime)
{
    stat_common(v, st, mtime);
    st->st_mode = S_IFREG | (mode & ~v->umask);
    st->st_nlink = 1;
    /* size is the server's: rounding it up must not overflow even at OFF_MAX. */
    st->st_size = size > 0 ? size : 0;
    st->st_blocks = st->st_size / 512 + (st->st_size % 512 != 0);
}

void vfs_stat_link(const struct vfs *v, struct stat *st, size_t target_len, time_t mtime)
{
    stat_common(v, st, mtime);
    st->st_mode = S_IFLNK | 0777;
    st->st_nlink = 1;
    st->st_size = (off_t)target_len;
}

void vfs_forget_listings(struct vfs *v, const char *path, double delay_s)
{
    if (v->kernel.forget_listings)
        v->kernel.forget_listings(v->kernel.ctx, path, delay_s);
}

void vfs_forget_entry(struct vfs *v, const char *dir, const char *name, double delay_s, bool wait)
{
    if (v->kernel.forget_entry)
        v->kernel.forget_entry(v->kernel.ctx, dir, name, delay_s, wait);
}

struct buffer_handle {
    struct vfs_handle base;
    char *data;
    size_t len;
    struct stat st; /* fstat's answer; st_mode 0 when it has none */
};

static int buffer_read(struct vfs_handle *h, char *buf, size_t size, off_t off)
{
    struct buffer_handle *b = (struct buffer_handle *)h;
    if (off < 0 || (size_t)off >= b->len)
        return 0;
    size_t n = b->len - (size_t)off < size ? b->len - (size_t)off : size;
    memcpy(buf, b->data + off, n);
    return (int)n;
}

static int buffer_getattr(struct vfs_handle *h, struct stat *st)
{
    struct buffer_handle *b = (struct buffer_handle *)h;
    *st = b->st;
    return 0;
}

static void buffer_release(struct vfs_handle *h)
{
    struct buffer_handle *b = (struct buffer_handle *)h;
    free(b->data);
    free(b);
}

static const struct vfs_handle_ops buffer_ops = {
    .read = buffer_read,
    .release = buffer_release,
};

static const struct vfs_handle_ops buffer_file_ops = {
    .read = buffer_read,
    .getattr = buffer_getattr,
    .release = buffer_release,
};

struct vfs_handle *vfs_buffer_handle_new(char *data, size_t len)
{
    struct buffer_handle *b = calloc(1, sizeof *b);
    if (!b) {
        free(data);
        return NULL;
    }
    b->base.ops = &buffer_ops;
    b->data = data;
    b->len = len;
    return &b->base;
}

struct vfs_handle *vfs_buffer_file_new(const struct vfs *v, char *data, size_t len, time_t mtime)
{
    struct buffer_handle *b = (struct buffer_handle *)vfs_buffer_handle_new(data, len);
    if (!b)
        return NULL;
    b->base.ops = &buffer_file_ops;
    vfs_stat_file(v, &b->st, (off_t)len, 0444, mtime);
    return &b->base;
}

double vfs_mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double vfs_wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int vfs_make_dirs(const char *path, mode_t mode)
{
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    int err = 0;
    for (char *c = p + 1; !err; c++) {
        bool end = *c == '\0';
        if (*c != '/' && !end)
            continue;
        *c = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST)
            err = -errno;
        if (end)
            break;
        *c = '/';
    }
    free(p);
    return err;
}
