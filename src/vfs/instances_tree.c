/* Placeholder until /instances lands (issue 5): the directory is empty. */
#include "vfs/instances_tree.h"

#include <errno.h>

int instances_init(struct vfs *v)
{
    (void)v;
    return 0;
}

void instances_destroy(struct vfs *v)
{
    (void)v;
}

int instances_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st)
{
    if (p->kind != VP_INSTANCES)
        return -ENOENT;
    vfs_stat_dir(v, st, v->mount_time);
    return 0;
}

int instances_readdir(struct vfs *v, const struct vfs_path *p, void *buf, fuse_fill_dir_t filler)
{
    (void)v, (void)p, (void)buf, (void)filler;
    return 0;
}

int instances_readlink(struct vfs *v, const struct vfs_path *p, char *buf, size_t size)
{
    (void)v, (void)p, (void)buf, (void)size;
    return -ENOENT;
}

int instances_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi)
{
    (void)v, (void)p, (void)fi;
    return -ENOENT;
}

int instances_create(struct vfs *v, const struct vfs_path *p, mode_t mode,
                     struct fuse_file_info *fi)
{
    (void)v, (void)p, (void)mode, (void)fi;
    return -EROFS;
}

int instances_truncate(struct vfs *v, const struct vfs_path *p, off_t size)
{
    (void)v, (void)p, (void)size;
    return -EROFS;
}

int instances_unlink(struct vfs *v, const struct vfs_path *p)
{
    (void)v, (void)p;
    return -EROFS;
}

int instances_getxattr(struct vfs *v, const struct vfs_path *p, const char *name, char *value,
                       size_t size)
{
    (void)v, (void)p, (void)name, (void)value, (void)size;
    return -ENODATA;
}

int instances_setxattr(struct vfs *v, const struct vfs_path *p, const char *name,
                       const char *value, size_t size, int flags)
{
    (void)v, (void)p, (void)name, (void)value, (void)size, (void)flags;
    return -ENOTSUP;
}

int instances_listxattr(struct vfs *v, const struct vfs_path *p, char *list, size_t size)
{
    (void)v, (void)p, (void)list, (void)size;
    return 0;
}
