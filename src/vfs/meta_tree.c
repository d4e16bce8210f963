/* meta_tree: /.vrcfs, the mount's own files: stats.json (stats_file.c) and log (log.c). */
#include "vfs/meta_tree.h"

#include "log.h"
#include "vfs/stats_file.h"

#include <errno.h>
#include <stdint.h>
#include <time.h>

/* The log's size now, so that tail finds the end; reads are direct I/O. */
static void stat_log(struct vfs *v, struct stat *st)
{
    vfs_stat_file(v, st, log_ring_size(), 0444, time(NULL));
}

static int meta_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st)
{
    if (p->kind == VP_STATS)
        return stats_file_getattr(v, st);
    if (p->kind == VP_LOG) {
        stat_log(v, st);
        return 0;
    }
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
    stat_log(v, &st);
    filler(buf, "log", &st, 0, FUSE_FILL_DIR_PLUS);
    return 0;
}

/* The log as it is at open. */
static int open_log(struct fuse_file_info *fi)
{
    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EACCES;
    size_t len = 0;
    char *text = log_ring_text(&len);
    struct vfs_handle *h = text ? vfs_buffer_handle_new(text, len) : NULL;
    if (!h)
        return -ENOMEM;
    fi->direct_io = 1;
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

static int meta_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi)
{
    if (p->kind == VP_LOG)
        return open_log(fi);
    return p->kind == VP_STATS ? stats_file_open(v, fi) : -EISDIR;
}

/* The sizes of stats.json and log are those of a rendering made at stat: the kernel asks each
 * time. */
static double meta_kernel_ttl(const struct vfs *v, const struct vfs_path *p)
{
    (void)v;
    return p->kind == VP_STATS || p->kind == VP_LOG ? 0 : VFS_KERNEL_CACHE_S;
}

const struct subtree_ops meta_subtree = {
    .name = ".vrcfs",
    .parse = vfs_path_parse_meta,
    .kernel_ttl = meta_kernel_ttl,
    .getattr = meta_getattr,
    .readdir = meta_readdir,
    .open = meta_open,
};
