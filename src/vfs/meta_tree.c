/* meta_tree: /.vrcfs, the mount's own files (stats_file.c). */
#include "vfs/meta_tree.h"

#include "vfs/stats_file.h"

#include <errno.h>

static int meta_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st)
{
    if (p->kind == VP_STATS)
        return stats_file_getattr(v, st);
    vfs_stat_dir(v, st, v->mount_time);
    return 0;
}

static int meta_readdir(struct vfs *v, const struct vfs_path *p, void *buf, fuse_fill_dir_t filler)
{
    if (p->kind != VP_META_DIR)
        return -ENOTDIR;
    struct stat st;
    if (stats_file_getattr(v, &st) == 0)
        filler(buf, "stats.json", &st, 0, FUSE_FILL_DIR_PLUS);
    return 0;
}

static int meta_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi)
{
    return p->kind == VP_STATS ? stats_file_open(v, fi) : -EISDIR;
}

/* The size of stats.json is that of a rendering made at stat: the kernel asks each time. */
static double meta_kernel_ttl(const struct vfs *v, const struct vfs_path *p)
{
    (void)v;
    return p->kind == VP_STATS ? 0 : VFS_KERNEL_CACHE_S;
}

const struct subtree_ops meta_subtree = {
    .name = ".vrcfs",
    .parse = vfs_path_parse_meta,
    .kernel_ttl = meta_kernel_ttl,
    .getattr = meta_getattr,
    .readdir = meta_readdir,
    .open = meta_open,
};
