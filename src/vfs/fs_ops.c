/* fs_ops: the filesystem calls on paths, kept thin: each parses the path in the mounted
 * service's tree (services.c) and hands the call to the subtree that owns it (subtree.h); the
 * root, which no subtree owns, is answered here. Calls on open files go through the handle. */
#include "vfs/fs_ops.h"

#include "log.h"
#include "vfs/services.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

static struct vfs_handle *handle_of(const struct fuse_file_info *fi)
{
    return fi ? (struct vfs_handle *)(uintptr_t)fi->fh : NULL;
}

/* EPERM with its reason, for the one line that explains a refusal (inode_ops.c). */
static int refuse(const char *why)
{
    log_reason("%s", why);
    return -EPERM;
}

/* Parses path; *t is its subtree, NULL for the root. */
static int resolve(const struct vfs *v, const char *path, struct vfs_path *p,
                   const struct subtree_ops **t)
{
    return services_parse(v->service, path, p, t);
}

double fs_kernel_ttl(const struct vfs *v, const char *path)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    if (resolve(v, path, &p, &t) == 0 && t && t->kernel_ttl)
        return t->kernel_ttl(v, &p);
    return VFS_KERNEL_CACHE_S;
}

double fs_listing_ttl(const struct vfs *v, const char *path)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    if (path && resolve(v, path, &p, &t) == 0 && t && t->listing_ttl)
        return t->listing_ttl(v, &p);
    return v->cfg.cache_ttl;
}

int fs_getattr(struct vfs *v, const char *path, struct stat *st, const struct fuse_file_info *fi)
{
    struct vfs_handle *h = handle_of(fi);
    if (h && h->ops->getattr)
        return h->ops->getattr(h, st);
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    if (err)
        return err;
    if (!t) {
        vfs_stat_dir(v, st, v->mount_time);
        return 0;
    }
    return t->getattr(v, &p, st);
}

int fs_readdir(struct vfs *v, const char *path, void *buf, fuse_fill_dir_t filler)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    if (err)
        return err;
    struct stat st;
    vfs_stat_dir(v, &st, v->mount_time);
    filler(buf, ".", &st, 0, 0);
    filler(buf, "..", NULL, 0, 0);
    if (!t) {
        for (size_t i = 0; i < SERVICE_SUBTREES_MAX && v->service->subtrees[i]; i++)
            filler(buf, v->service->subtrees[i]->name, &st, 0, FUSE_FILL_DIR_PLUS);
        return 0;
    }
    return t->readdir ? t->readdir(v, &p, buf, filler) : -ENOTDIR;
}

int fs_readlink(struct vfs *v, const char *path, char *buf, size_t size)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    if (err)
        return err;
    return t && t->readlink ? t->readlink(v, &p, buf, size) : -EINVAL;
}

int fs_open(struct vfs *v, const char *path, struct fuse_file_info *fi)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    if (err)
        return err;
    return t && t->open ? t->open(v, &p, fi) : -EISDIR;
}

int fs_create(struct vfs *v, const char *path, mode_t mode, struct fuse_file_info *fi)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    if (err)
        return err;
    return t && t->create ? t->create(v, &p, mode, fi) : -EACCES;
}

int fs_read(const struct fuse_file_info *fi, char *buf, size_t size, off_t off)
{
    struct vfs_handle *h = handle_of(fi);
    return h->ops->read ? h->ops->read(h, buf, size, off) : -EBADF;
}

int fs_read_fd(const struct fuse_file_info *fi, size_t size, off_t off, int *fd)
{
    struct vfs_handle *h = handle_of(fi);
    return h->ops->read_fd ? h->ops->read_fd(h, size, off, fd) : -ENOSYS;
}

int fs_write(const struct fuse_file_info *fi, const char *buf, size_t size, off_t off)
{
    struct vfs_handle *h = handle_of(fi);
    return h->ops->write ? h->ops->write(h, buf, size, off) : -EBADF;
}

int fs_flush(const struct fuse_file_info *fi)
{
    struct vfs_handle *h = handle_of(fi);
    return h->ops->flush ? h->ops->flush(h) : 0;
}

int fs_fsync(const struct fuse_file_info *fi)
{
    struct vfs_handle *h = handle_of(fi);
    return h->ops->fsync ? h->ops->fsync(h) : 0;
}

void fs_release(const struct fuse_file_info *fi)
{
    struct vfs_handle *h = handle_of(fi);
    h->ops->release(h);
}

int fs_truncate(struct vfs *v, const char *path, off_t size, const struct fuse_file_info *fi)
{
    struct vfs_handle *h = handle_of(fi);
    if (h)
        return h->ops->truncate ? h->ops->truncate(h, size) : -EACCES;
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    if (err)
        return err;
    return t && t->truncate ? t->truncate(v, &p, size) : -EACCES;
}

int fs_unlink(struct vfs *v, const char *path)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    if (err)
        return err;
    return t && t->unlink ? t->unlink(v, &p) : refuse("nothing here is removed through the mount");
}

int fs_rmdir(struct vfs *v, const char *path)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    if (err)
        return err;
    return t && t->rmdir ? t->rmdir(v, &p) : refuse("the mount's own directory is never removed");
}

/* No subtree makes directories: Files and versions come from uploads, not from mkdir. */
int fs_mkdir(struct vfs *v, const char *path)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    return err ? err
               : refuse("mkdir makes nothing: a File comes from writing a file in /files, a "
                        "version from writing the File's name");
}

int fs_rename(struct vfs *v, const char *from, const char *to, unsigned int flags)
{
    struct vfs_path pf, pt;
    const struct subtree_ops *tf, *tt;
    int err = resolve(v, from, &pf, &tf);
    if (!err)
        err = resolve(v, to, &pt, &tt);
    if (err)
        return err;
    if (!tf || tf != tt)
        return refuse("a name moves only within its own top-level directory");
    return tf->rename ? tf->rename(v, &pf, &pt, flags) : refuse("nothing here is renamed");
}

int fs_getxattr(struct vfs *v, const char *path, const char *name, char *value, size_t size)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    if (err)
        return err;
    return t && t->getxattr ? t->getxattr(v, &p, name, value, size) : -ENODATA;
}

int fs_setxattr(struct vfs *v, const char *path, const char *name, const char *value, size_t size,
                int flags)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    if (err)
        return err;
    return t && t->setxattr ? t->setxattr(v, &p, name, value, size, flags) : -ENOTSUP;
}

int fs_listxattr(struct vfs *v, const char *path, char *list, size_t size)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    if (err)
        return err;
    return t && t->listxattr ? t->listxattr(v, &p, list, size) : 0;
}

int fs_removexattr(struct vfs *v, const char *path, const char *name)
{
    struct vfs_path p;
    const struct subtree_ops *t;
    int err = resolve(v, path, &p, &t);
    if (err)
        return err;
    return t && t->removexattr ? t->removexattr(v, &p, name) : -ENODATA;
}

void fs_statfs(struct vfs *v, struct statvfs *st)
{
    memset(st, 0, sizeof *st);
    st->f_bsize = st->f_frsize = 4096;
    st->f_blocks = v->cfg.cache_size / 4096;
    st->f_bfree = st->f_bavail = st->f_blocks;
    st->f_namemax = NAME_MAX;
}
