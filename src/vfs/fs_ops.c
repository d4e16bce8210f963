/* fs_ops: the FUSE operations, kept thin: each parses the path (vfs_path) and hands the call to
 * the module that owns that part of the tree; calls on open files go through the handle. */
#include "vfs/fs_ops.h"

#include "vfs/files_tree.h"
#include "vfs/files_write.h"
#include "vfs/instances_tree.h"
#include "vfs/stats_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

static struct vfs_handle *handle_of(const struct fuse_file_info *fi)
{
    return fi ? (struct vfs_handle *)(uintptr_t)fi->fh : NULL;
}

static bool is_files_kind(enum vfs_path_kind k)
{
    return k == VP_FILES || k == VP_FILES_NAME || k == VP_BY_TAG || k == VP_TAG_DIR ||
           k == VP_TAG_LINK || k == VP_FILE_DIR || k == VP_FILE_JSON || k == VP_FILE_LATEST ||
           k == VP_FILE_NAME || k == VP_VERSION_DIR || k == VP_VERSION_DATA;
}

static bool is_instances_kind(enum vfs_path_kind k)
{
    return k == VP_INSTANCES || k == VP_INSTANCE_JSON || k == VP_INSTANCE_NAME ||
           k == VP_SHORT_DIR || k == VP_SHORT_LINK;
}

/* Names that may exist only in this mount (staged, temporary, created Files' links). */
static bool may_be_local(enum vfs_path_kind k)
{
    return k == VP_FILES_NAME || k == VP_FILE_NAME;
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    struct vfs *v = vfs_current();
    struct vfs_handle *h = handle_of(fi);
    if (h && h->ops->getattr)
        return h->ops->getattr(h, st);
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    switch (p.kind) {
    case VP_ROOT:
    case VP_META_DIR:
        vfs_stat_dir(v, st, v->mount_time);
        return 0;
    case VP_STATS:
        vfs_stat_file(v, st, 0, 0444, v->mount_time); /* direct I/O: the size is unknown */
        return 0;
    default:
        break;
    }
    if (may_be_local(p.kind) && (err = files_write_getattr(v, &p, st)) != -ENOENT)
        return err;
    if (is_files_kind(p.kind))
        return files_tree_getattr(v, &p, st);
    return instances_getattr(v, &p, st);
}

/* A directory is listed once per opendir (or rewind) into a snapshot, which readdir hands to
 * libfuse with each entry's position as its offset. With offset 0 the high-level library sends
 * readdirplus entries without a node id, which the kernel ignores: every name is then looked up
 * again, one LOOKUP round trip each. With offsets it looks the entries up while filling, and the
 * kernel keeps them with their attributes. The snapshot keeps the listing to one pass over the
 * module (and one set of API requests) however many readdir calls the kernel makes. */
struct dir_entry {
    char *name;
    struct stat st;
    bool has_st;
    enum fuse_fill_dir_flags flags;
};

struct dir_snapshot {
    struct dir_entry *e;
    size_t n, cap;
    bool filled;
    int err;
};

static void snapshot_clear(struct dir_snapshot *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->e[i].name);
    d->n = 0;
    d->filled = false;
    d->err = 0;
}

static int snapshot_add(void *arg, const char *name, const struct stat *st, off_t off,
                        enum fuse_fill_dir_flags flags)
{
    (void)off;
    struct dir_snapshot *d = arg;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct dir_entry *e = realloc(d->e, cap * sizeof *e);
        if (!e) {
            d->err = -ENOMEM;
            return 1;
        }
        d->e = e;
        d->cap = cap;
    }
    struct dir_entry *e = &d->e[d->n];
    if (!(e->name = strdup(name))) {
        d->err = -ENOMEM;
        return 1;
    }
    e->has_st = st != NULL;
    if (st)
        e->st = *st;
    e->flags = flags;
    d->n++;
    return 0;
}

static int readdir_at(const char *path, void *buf, fuse_fill_dir_t filler,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags);

static int op_opendir(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    struct dir_snapshot *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    fi->fh = (uint64_t)(uintptr_t)d;
    return 0;
}

static int op_releasedir(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    struct dir_snapshot *d = (struct dir_snapshot *)(uintptr_t)fi->fh;
    if (d) {
        snapshot_clear(d);
        free(d->e);
        free(d);
    }
    return 0;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    struct dir_snapshot *d = (struct dir_snapshot *)(uintptr_t)fi->fh;
    if (!d)
        return -EBADF;
    if (off == 0 || !d->filled) {
        snapshot_clear(d);
        int err = readdir_at(path, d, snapshot_add, fi, flags);
        if (!err)
            err = d->err;
        if (err) {
            snapshot_clear(d);
            return err;
        }
        d->filled = true;
    }
    for (size_t i = (size_t)off; i < d->n; i++) {
        const struct dir_entry *e = &d->e[i];
        if (filler(buf, e->name, e->has_st ? &e->st : NULL, (off_t)(i + 1), e->flags) != 0)
            break;
    }
    return 0;
}

static int readdir_at(const char *path, void *buf, fuse_fill_dir_t filler,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)fi;
    (void)flags;
    struct vfs *v = vfs_current();
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    struct stat st;
    vfs_stat_dir(v, &st, v->mount_time);
    filler(buf, ".", &st, 0, 0);
    filler(buf, "..", NULL, 0, 0);
    switch (p.kind) {
    case VP_ROOT:
        filler(buf, "files", &st, 0, FUSE_FILL_DIR_PLUS);
        filler(buf, "instances", &st, 0, FUSE_FILL_DIR_PLUS);
        filler(buf, ".vrcfs", &st, 0, FUSE_FILL_DIR_PLUS);
        return 0;
    case VP_META_DIR:
        vfs_stat_file(v, &st, 0, 0444, v->mount_time);
        filler(buf, "stats.json", &st, 0, FUSE_FILL_DIR_PLUS);
        return 0;
    case VP_FILES:
    case VP_FILE_DIR:
        err = files_tree_readdir(v, &p, buf, filler);
        if (!err)
            files_write_readdir(v, &p, buf, filler);
        return err;
    case VP_BY_TAG:
    case VP_TAG_DIR:
    case VP_VERSION_DIR:
        return files_tree_readdir(v, &p, buf, filler);
    case VP_INSTANCES:
    case VP_SHORT_DIR:
        return instances_readdir(v, &p, buf, filler);
    default:
        return -ENOTDIR;
    }
}

static int op_readlink(const char *path, char *buf, size_t size)
{
    struct vfs *v = vfs_current();
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (p.kind == VP_FILES_NAME)
        return files_write_readlink(v, &p, buf, size);
    if (is_files_kind(p.kind))
        return files_tree_readlink(v, &p, buf, size);
    if (is_instances_kind(p.kind))
        return instances_readlink(v, &p, buf, size);
    return -EINVAL;
}

static int open_stats(struct vfs *v, struct fuse_file_info *fi)
{
    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EACCES;
    size_t len = 0;
    char *text = stats_file_render(v, &len);
    struct vfs_handle *h = text ? vfs_buffer_handle_new(text, len) : NULL;
    if (!h)
        return -ENOMEM;
    fi->direct_io = 1;
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
    struct vfs *v = vfs_current();
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    struct stat st;
    switch (p.kind) {
    case VP_STATS:
        return open_stats(v, fi);
    case VP_FILE_JSON:
    case VP_VERSION_DATA:
        return files_tree_open(v, &p, fi);
    case VP_FILES_NAME:
    case VP_FILE_NAME:
        if ((fi->flags & O_ACCMODE) != O_RDONLY || files_write_getattr(v, &p, &st) == 0)
            return files_write_open(v, &p, fi);
        return files_tree_open(v, &p, fi);
    case VP_INSTANCE_JSON:
    case VP_INSTANCE_NAME:
        return instances_open(v, &p, fi);
    default:
        return -EISDIR;
    }
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    struct vfs *v = vfs_current();
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (may_be_local(p.kind))
        return files_write_create(v, &p, mode, fi);
    if (p.kind == VP_INSTANCE_NAME || p.kind == VP_INSTANCE_JSON)
        return instances_create(v, &p, mode, fi);
    return -EACCES;
}

static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    struct vfs_handle *h = handle_of(fi);
    return h->ops->read ? h->ops->read(h, buf, size, off) : -EBADF;
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)path;
    struct vfs_handle *h = handle_of(fi);
    return h->ops->write ? h->ops->write(h, buf, size, off) : -EBADF;
}

static int op_flush(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    struct vfs_handle *h = handle_of(fi);
    return h->ops->flush ? h->ops->flush(h) : 0;
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)path;
    (void)datasync;
    struct vfs_handle *h = handle_of(fi);
    return h->ops->fsync ? h->ops->fsync(h) : 0;
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    struct vfs_handle *h = handle_of(fi);
    h->ops->release(h);
    return 0;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    struct vfs_handle *h = handle_of(fi);
    if (h)
        return h->ops->truncate ? h->ops->truncate(h, size) : -EACCES;
    struct vfs *v = vfs_current();
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (may_be_local(p.kind))
        return files_write_truncate(v, &p, size);
    if (p.kind == VP_INSTANCE_NAME)
        return instances_truncate(v, &p, size);
    return -EACCES;
}

static int op_unlink(const char *path)
{
    struct vfs *v = vfs_current();
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (may_be_local(p.kind))
        return files_write_unlink(v, &p);
    if (p.kind == VP_INSTANCE_JSON || p.kind == VP_INSTANCE_NAME)
        return instances_unlink(v, &p);
    return -EPERM;
}

static int op_rmdir(const char *path)
{
    struct vfs *v = vfs_current();
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (p.kind == VP_FILE_DIR || p.kind == VP_VERSION_DIR)
        return files_write_rmdir(v, &p);
    return -EPERM;
}

static int op_mkdir(const char *path, mode_t mode)
{
    (void)mode;
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    return err ? err : -EPERM; /* Files and versions come from uploads, not from mkdir */
}

static int op_rename(const char *from, const char *to, unsigned int flags)
{
    struct vfs *v = vfs_current();
    struct vfs_path pf, pt;
    int err = vfs_path_parse(from, &pf);
    if (!err)
        err = vfs_path_parse(to, &pt);
    if (err)
        return err;
    if (may_be_local(pf.kind) && may_be_local(pt.kind))
        return files_write_rename(v, &pf, &pt, flags);
    return -EPERM;
}

/* Times, modes and owners come from the server and cannot be set; accepting the call keeps
 * `cp -p`, `touch` and `rsync -a` working, as s3fs and rclone mount do. */
static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    (void)tv;
    struct stat st;
    return op_getattr(path, &st, fi);
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    (void)mode;
    struct stat st;
    return op_getattr(path, &st, fi);
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    (void)uid;
    (void)gid;
    struct stat st;
    return op_getattr(path, &st, fi);
}

static int op_getxattr(const char *path, const char *name, char *value, size_t size)
{
    struct vfs *v = vfs_current();
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (p.kind == VP_INSTANCE_JSON)
        return instances_getxattr(v, &p, name, value, size);
    return -ENODATA;
}

static int op_setxattr(const char *path, const char *name, const char *value, size_t size,
                       int flags)
{
    struct vfs *v = vfs_current();
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (p.kind == VP_INSTANCE_JSON)
        return instances_setxattr(v, &p, name, value, size, flags);
    return -ENOTSUP;
}

static int op_listxattr(const char *path, char *list, size_t size)
{
    struct vfs *v = vfs_current();
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (p.kind == VP_INSTANCE_JSON)
        return instances_listxattr(v, &p, list, size);
    return 0;
}

/* The user.vrchat.* attributes are actions and facts of the server: none can be removed. */
static int op_removexattr(const char *path, const char *name)
{
    (void)name;
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    return p.kind == VP_INSTANCE_JSON ? -ENOTSUP : -ENODATA;
}

static int op_statfs(const char *path, struct statvfs *st)
{
    (void)path;
    struct vfs *v = vfs_current();
    memset(st, 0, sizeof *st);
    st->f_bsize = st->f_frsize = 4096;
    st->f_blocks = v->cfg.cache_size / 4096;
    st->f_bfree = st->f_bavail = st->f_blocks;
    st->f_namemax = NAME_MAX;
    return 0;
}

const struct fuse_operations vfs_fs_ops = {
    .getattr = op_getattr,
    .readlink = op_readlink,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .rename = op_rename,
    .chmod = op_chmod,
    .chown = op_chown,
    .truncate = op_truncate,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .statfs = op_statfs,
    .flush = op_flush,
    .release = op_release,
    .fsync = op_fsync,
    .setxattr = op_setxattr,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .removexattr = op_removexattr,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_releasedir,
    .create = op_create,
    .utimens = op_utimens,
};
