/* fs_ops: the filesystem calls on paths, kept thin: each parses the path (vfs_path) and hands the
 * call to the module that owns that part of the tree; calls on open files go through the handle. */
#include "vfs/fs_ops.h"

#include "vfs/files_delete.h"
#include "vfs/files_tree.h"
#include "vfs/files_write.h"
#include "vfs/instances_tree.h"
#include "vfs/stats_file.h"

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

static bool is_files_kind(enum vfs_path_kind k)
{
    return k == VP_FILES || k == VP_FILES_NAME || k == VP_BY_TAG || k == VP_TAG_DIR ||
           k == VP_TAG_LINK || k == VP_TAG_NAME || k == VP_FILE_DIR || k == VP_FILE_JSON ||
           k == VP_FILE_LATEST || k == VP_FILE_NAME || k == VP_VERSION_DIR || k == VP_VERSION_DATA;
}

static bool is_instances_kind(enum vfs_path_kind k)
{
    return k == VP_INSTANCES || k == VP_INSTANCE_JSON || k == VP_INSTANCE_NAME ||
           k == VP_SHORT_DIR || k == VP_SHORT_LINK;
}

/* Names that may exist only in this mount (staged, temporary, created Files' links). */
static bool may_be_local(enum vfs_path_kind k)
{
    return k == VP_FILES_NAME || k == VP_FILE_NAME || k == VP_TAG_NAME;
}

/* A number in a File's directory names a version; one that is no version (vim's "4913" probe)
 * may be a scratch name of this mount, as any other name there. */
static void number_as_name(struct vfs *v, const char *path, struct vfs_path *p)
{
    struct stat st;
    if (p->kind == VP_VERSION_DIR && files_tree_getattr(v, p, &st) == -ENOENT &&
        files_delete_getattr(v, path, &st) == -ENOENT) {
        p->kind = VP_FILE_NAME;
        snprintf(p->name, sizeof p->name, "%d", p->version);
    }
}

int fs_getattr(struct vfs *v, const char *path, struct stat *st, const struct fuse_file_info *fi)
{
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
        return stats_file_getattr(v, st);
    default:
        break;
    }
    number_as_name(v, path, &p);
    if (may_be_local(p.kind) && (err = files_write_getattr(v, &p, st)) != -ENOENT)
        return err;
    if (!is_files_kind(p.kind))
        return instances_getattr(v, &p, st);
    err = files_tree_getattr(v, &p, st);
    return err == -ENOENT ? files_delete_getattr(v, path, st) : err; /* just deleted here */
}

int fs_readdir(struct vfs *v, const char *path, void *buf, fuse_fill_dir_t filler)
{
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
        if (stats_file_getattr(v, &st) == 0)
            filler(buf, "stats.json", &st, 0, FUSE_FILL_DIR_PLUS);
        return 0;
    case VP_FILES:
    case VP_FILE_DIR:
        err = files_tree_readdir(v, &p, buf, filler);
        if (!err)
            files_write_readdir(v, &p, buf, filler);
        else if (err == -ENOENT && p.kind == VP_FILE_DIR)
            err = files_delete_readdir(v, path, buf, filler);
        return err;
    case VP_VERSION_DIR:
        err = files_tree_readdir(v, &p, buf, filler);
        return err == -ENOENT ? files_delete_readdir(v, path, buf, filler) : err;
    case VP_TAG_DIR:
        err = files_tree_readdir(v, &p, buf, filler);
        if (!err)
            files_write_readdir(v, &p, buf, filler);
        return err;
    case VP_BY_TAG:
        return files_tree_readdir(v, &p, buf, filler);
    case VP_INSTANCES:
    case VP_SHORT_DIR:
        return instances_readdir(v, &p, buf, filler);
    default:
        return -ENOTDIR;
    }
}

int fs_readlink(struct vfs *v, const char *path, char *buf, size_t size)
{
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (p.kind == VP_FILES_NAME || p.kind == VP_TAG_NAME)
        return files_write_readlink(v, &p, buf, size);
    if (is_files_kind(p.kind)) {
        err = files_tree_readlink(v, &p, buf, size);
        return err == -ENOENT ? files_delete_readlink(v, path, buf, size) : err;
    }
    if (is_instances_kind(p.kind))
        return instances_readlink(v, &p, buf, size);
    return -EINVAL;
}

int fs_open(struct vfs *v, const char *path, struct fuse_file_info *fi)
{
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    struct stat st;
    number_as_name(v, path, &p);
    switch (p.kind) {
    case VP_STATS:
        return stats_file_open(v, fi);
    case VP_FILE_JSON:
    case VP_VERSION_DATA:
        return files_tree_open(v, &p, fi);
    case VP_FILES_NAME:
    case VP_FILE_NAME:
    case VP_TAG_NAME:
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

int fs_create(struct vfs *v, const char *path, mode_t mode, struct fuse_file_info *fi)
{
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    number_as_name(v, path, &p);
    if (may_be_local(p.kind))
        return files_write_create(v, &p, mode, fi);
    if (p.kind == VP_INSTANCE_NAME || p.kind == VP_INSTANCE_JSON)
        return instances_create(v, &p, mode, fi);
    return -EACCES;
}

int fs_read(const struct fuse_file_info *fi, char *buf, size_t size, off_t off)
{
    struct vfs_handle *h = handle_of(fi);
    return h->ops->read ? h->ops->read(h, buf, size, off) : -EBADF;
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
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    number_as_name(v, path, &p);
    if (may_be_local(p.kind))
        return files_write_truncate(v, &p, size);
    if (p.kind == VP_INSTANCE_NAME)
        return instances_truncate(v, &p, size);
    return -EACCES;
}

int fs_unlink(struct vfs *v, const char *path)
{
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    number_as_name(v, path, &p);
    if (may_be_local(p.kind) &&
        ((err = files_write_unlink(v, &p)) != -ENOENT || p.kind != VP_FILE_NAME))
        return err;
    if (p.kind == VP_INSTANCE_JSON || p.kind == VP_INSTANCE_NAME)
        return instances_unlink(v, &p);
    return is_files_kind(p.kind) ? files_delete_unlink(v, &p, path) : -EPERM;
}

int fs_rmdir(struct vfs *v, const char *path)
{
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (p.kind == VP_FILE_DIR || p.kind == VP_VERSION_DIR)
        return files_delete_rmdir(v, &p, path);
    return -EPERM;
}

int fs_mkdir(struct vfs *v, const char *path)
{
    (void)v;
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    return err ? err : -EPERM; /* Files and versions come from uploads, not from mkdir */
}

int fs_rename(struct vfs *v, const char *from, const char *to, unsigned int flags)
{
    struct vfs_path pf, pt;
    int err = vfs_path_parse(from, &pf);
    if (!err)
        err = vfs_path_parse(to, &pt);
    if (err)
        return err;
    number_as_name(v, from, &pf);
    number_as_name(v, to, &pt);
    if (may_be_local(pf.kind) && may_be_local(pt.kind))
        return files_write_rename(v, &pf, &pt, flags);
    return -EPERM;
}

int fs_getxattr(struct vfs *v, const char *path, const char *name, char *value, size_t size)
{
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (p.kind == VP_INSTANCE_JSON)
        return instances_getxattr(v, &p, name, value, size);
    if (p.kind == VP_FILE_DIR)
        return files_tree_getxattr(v, &p, name, value, size);
    return -ENODATA;
}

int fs_setxattr(struct vfs *v, const char *path, const char *name, const char *value, size_t size,
                int flags)
{
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (p.kind == VP_INSTANCE_JSON)
        return instances_setxattr(v, &p, name, value, size, flags);
    if (p.kind == VP_FILE_DIR)
        return files_tree_change_xattr(&p, name);
    return -ENOTSUP;
}

int fs_listxattr(struct vfs *v, const char *path, char *list, size_t size)
{
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (p.kind == VP_INSTANCE_JSON)
        return instances_listxattr(v, &p, list, size);
    if (p.kind == VP_FILE_DIR)
        return files_tree_listxattr(v, &p, list, size);
    return 0;
}

/* The user.vrchat.* attributes are actions and facts of the server: none can be removed. */
int fs_removexattr(struct vfs *v, const char *path, const char *name)
{
    (void)v;
    struct vfs_path p;
    int err = vfs_path_parse(path, &p);
    if (err)
        return err;
    if (p.kind == VP_FILE_DIR)
        return files_tree_change_xattr(&p, name);
    return p.kind == VP_INSTANCE_JSON ? -ENOTSUP : -ENODATA;
}

void fs_statfs(struct vfs *v, struct statvfs *st)
{
    memset(st, 0, sizeof *st);
    st->f_bsize = st->f_frsize = 4096;
    st->f_blocks = v->cfg.cache_size / 4096;
    st->f_bfree = st->f_bavail = st->f_blocks;
    st->f_namemax = NAME_MAX;
}
