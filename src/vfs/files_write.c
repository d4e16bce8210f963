/* Placeholder until the write side lands (issue 4): the tree is read-only. */
#include "vfs/files_write.h"

#include <errno.h>

int files_write_init(struct vfs *v)
{
    (void)v;
    return 0;
}

void files_write_destroy(struct vfs *v)
{
    (void)v;
}

int files_write_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st)
{
    (void)v, (void)p, (void)st;
    return -ENOENT;
}

void files_write_readdir(struct vfs *v, const struct vfs_path *p, void *buf,
                         fuse_fill_dir_t filler)
{
    (void)v, (void)p, (void)buf, (void)filler;
}

int files_write_readlink(struct vfs *v, const struct vfs_path *p, char *buf, size_t size)
{
    (void)v, (void)p, (void)buf, (void)size;
    return -ENOENT;
}

int files_write_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi)
{
    (void)v, (void)p, (void)fi;
    return -EROFS;
}

int files_write_create(struct vfs *v, const struct vfs_path *p, mode_t mode,
                       struct fuse_file_info *fi)
{
    (void)v, (void)p, (void)mode, (void)fi;
    return -EROFS;
}

int files_write_truncate(struct vfs *v, const struct vfs_path *p, off_t size)
{
    (void)v, (void)p, (void)size;
    return -EROFS;
}

int files_write_unlink(struct vfs *v, const struct vfs_path *p)
{
    (void)v, (void)p;
    return -EROFS;
}

int files_write_rename(struct vfs *v, const struct vfs_path *from, const struct vfs_path *to,
                       unsigned int flags)
{
    (void)v, (void)from, (void)to, (void)flags;
    return -EROFS;
}

int files_write_rmdir(struct vfs *v, const struct vfs_path *p)
{
    (void)v, (void)p;
    return -EROFS;
}

json_t *files_write_stats(struct vfs *v)
{
    (void)v;
    return json_pack("{s:[]}", "uploads");
}
