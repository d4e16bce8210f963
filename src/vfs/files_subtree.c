/* files_subtree: which side of /files answers each call. A name that may exist only in this
 * mount (staged, temporary, a created File's link) is asked of the write side first, so that a
 * staged alias shows its staged size; the rest is the read side's, and what was just deleted
 * through the mount is the delete side's (files_delete.c) for the rest of an `rm -r`. */
#include "vfs/files_subtree.h"

#include "log.h"
#include "vfs/files_delete.h"
#include "vfs/files_meta.h"
#include "vfs/files_tree.h"
#include "vfs/files_write.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

/* Names that may exist only in this mount (staged, temporary, created Files' links). */
static bool may_be_local(enum vfs_path_kind k)
{
    return k == VP_FILES_NAME || k == VP_FILE_NAME || k == VP_TAG_NAME;
}

/* A number in a File's directory names a version; one that is no version (vim's "4913" probe)
 * may be a scratch name of this mount, as any other name there. */
static struct vfs_path number_as_name(struct vfs *v, const struct vfs_path *p)
{
    struct vfs_path q = *p;
    struct stat st;
    if (q.kind == VP_VERSION_DIR && files_tree_getattr(v, &q, &st) == -ENOENT &&
        files_delete_getattr(v, q.path, &st) == -ENOENT) {
        q.kind = VP_FILE_NAME;
        snprintf(q.name, sizeof q.name, "%d", q.version);
    }
    return q;
}

/* Versions never change: the kernel may keep them as long as the metadata cache would. */
static double files_kernel_ttl(const struct vfs *v, const struct vfs_path *p)
{
    if (v->cfg.cache_ttl > VFS_KERNEL_CACHE_S &&
        (p->kind == VP_VERSION_DIR || p->kind == VP_VERSION_DATA))
        return v->cfg.cache_ttl;
    return VFS_KERNEL_CACHE_S;
}

/* The uploads in progress, and the listing pages fetched ("files_listing"). */
static json_t *files_stats(struct vfs *v)
{
    json_t *own = files_write_stats(v);
    if (own)
        json_object_set_new(own, "files_listing", files_meta_stats());
    return own;
}

static int files_getattr(struct vfs *v, const struct vfs_path *path, struct stat *st)
{
    struct vfs_path p = number_as_name(v, path);
    int err;
    if (may_be_local(p.kind) && (err = files_write_getattr(v, &p, st)) != -ENOENT)
        return err;
    err = files_tree_getattr(v, &p, st);
    return err == -ENOENT ? files_delete_getattr(v, p.path, st) : err; /* just deleted here */
}

static int files_readdir(struct vfs *v, const struct vfs_path *p, void *buf, fuse_fill_dir_t filler)
{
    int err;
    switch (p->kind) {
    case VP_FILES:
    case VP_FILE_DIR:
        err = files_tree_readdir(v, p, buf, filler);
        if (!err)
            files_write_readdir(v, p, buf, filler);
        else if (err == -ENOENT && p->kind == VP_FILE_DIR)
            err = files_delete_readdir(v, p->path, buf, filler);
        return err;
    case VP_VERSION_DIR:
        err = files_tree_readdir(v, p, buf, filler);
        return err == -ENOENT ? files_delete_readdir(v, p->path, buf, filler) : err;
    case VP_TAG_DIR:
        err = files_tree_readdir(v, p, buf, filler);
        if (!err)
            files_write_readdir(v, p, buf, filler);
        return err;
    case VP_BY_TAG:
        return files_tree_readdir(v, p, buf, filler);
    default:
        return -ENOTDIR;
    }
}

static int files_readlink(struct vfs *v, const struct vfs_path *p, char *buf, size_t size)
{
    if (p->kind == VP_FILES_NAME || p->kind == VP_TAG_NAME)
        return files_write_readlink(v, p, buf, size);
    int err = files_tree_readlink(v, p, buf, size);
    return err == -ENOENT ? files_delete_readlink(v, p->path, buf, size) : err;
}

static int files_open(struct vfs *v, const struct vfs_path *path, struct fuse_file_info *fi)
{
    struct vfs_path p = number_as_name(v, path);
    struct stat st;
    switch (p.kind) {
    case VP_FILE_JSON:
    case VP_VERSION_DATA:
        return files_tree_open(v, &p, fi);
    case VP_FILES_NAME:
    case VP_FILE_NAME:
    case VP_TAG_NAME:
        if ((fi->flags & O_ACCMODE) != O_RDONLY || files_write_getattr(v, &p, &st) == 0)
            return files_write_open(v, &p, fi);
        return files_tree_open(v, &p, fi);
    default:
        return -EISDIR;
    }
}

static int files_create(struct vfs *v, const struct vfs_path *path, mode_t mode,
                        struct fuse_file_info *fi)
{
    struct vfs_path p = number_as_name(v, path);
    return may_be_local(p.kind) ? files_write_create(v, &p, mode, fi) : -EACCES;
}

static int files_truncate(struct vfs *v, const struct vfs_path *path, off_t size)
{
    struct vfs_path p = number_as_name(v, path);
    return may_be_local(p.kind) ? files_write_truncate(v, &p, size) : -EACCES;
}

static int files_unlink(struct vfs *v, const struct vfs_path *path)
{
    struct vfs_path p = number_as_name(v, path);
    int err;
    if (may_be_local(p.kind) &&
        ((err = files_write_unlink(v, &p)) != -ENOENT || p.kind != VP_FILE_NAME))
        return err;
    return files_delete_unlink(v, &p, p.path);
}

static int files_rmdir(struct vfs *v, const struct vfs_path *p)
{
    if (p->kind == VP_FILE_DIR || p->kind == VP_VERSION_DIR)
        return files_delete_rmdir(v, p, p->path);
    log_reason("the mount's own directory, which lists Files, is never removed; rm -r "
               "/files/<fileId> deletes a File");
    return -EPERM;
}

static int files_rename(struct vfs *v, const struct vfs_path *from, const struct vfs_path *to,
                        unsigned int flags)
{
    struct vfs_path pf = number_as_name(v, from), pt = number_as_name(v, to);
    if (may_be_local(pf.kind) && may_be_local(pt.kind))
        return files_write_rename(v, &pf, &pt, flags);
    log_reason("only a name written through this mount (scratch, a new File not uploaded yet) "
               "is renamed; what the server holds keeps its name");
    return -EPERM;
}

/* The xattrs are those of a File's directory (files_tree.c); nothing else has any. */
static int files_getxattr(struct vfs *v, const struct vfs_path *p, const char *name, char *value,
                          size_t size)
{
    return p->kind == VP_FILE_DIR ? files_tree_getxattr(v, p, name, value, size) : -ENODATA;
}

static int files_setxattr(struct vfs *v, const struct vfs_path *p, const char *name,
                          const char *value, size_t size, int flags)
{
    (void)v;
    (void)value;
    (void)size;
    (void)flags;
    return p->kind == VP_FILE_DIR ? files_tree_change_xattr(p, name) : -ENOTSUP;
}

static int files_listxattr(struct vfs *v, const struct vfs_path *p, char *list, size_t size)
{
    return p->kind == VP_FILE_DIR ? files_tree_listxattr(v, p, list, size) : 0;
}

static int files_removexattr(struct vfs *v, const struct vfs_path *p, const char *name)
{
    (void)v;
    return p->kind == VP_FILE_DIR ? files_tree_change_xattr(p, name) : -ENODATA;
}

/* The Files kept from the last mount come first, so that nothing is fetched that they hold. */
static int files_init(struct vfs *v)
{
    files_meta_restore(v);
    return files_write_init(v);
}

/* After the uploads' end, whose answers the cache takes in. */
static void files_destroy(struct vfs *v)
{
    files_write_destroy(v);
    files_meta_keep(v);
}

const struct subtree_ops files_subtree = {
    .name = "files",
    .parse = vfs_path_parse_files,
    .init = files_init,
    .destroy = files_destroy,
    .stats = files_stats,
    .kernel_ttl = files_kernel_ttl,
    .getattr = files_getattr,
    .readdir = files_readdir,
    .readlink = files_readlink,
    .open = files_open,
    .create = files_create,
    .truncate = files_truncate,
    .unlink = files_unlink,
    .rmdir = files_rmdir,
    .rename = files_rename,
    .getxattr = files_getxattr,
    .setxattr = files_setxattr,
    .listxattr = files_listxattr,
    .removexattr = files_removexattr,
};
