/* subtree: one top-level directory of the mount (/files, /instances, /.vrcfs) as the core sees
 * it: a grammar for the paths under it and one table of operations. The core (fs_ops.c) finds
 * the subtree by the first component of a path (services.c), parses the path with the subtree's
 * parse, and calls its ops with the result; it knows no subtree by name, and a subtree knows of
 * the core only what struct vfs_kernel offers (vfs_internal.h).
 *
 * Every op but parse and getattr may be NULL: the core then answers as for a path that allows
 * nothing, as each line says. Ops are called with paths of their own subtree only, and return
 * 0, a size or a negative errno. */
#ifndef VRCFS_VFS_SUBTREE_H
#define VRCFS_VFS_SUBTREE_H

#include "vfs/vfs_internal.h"

#include <jansson.h>

struct subtree_ops {
    const char *name; /* the directory's name under the root */

    /* Fills *out for path (absolute, its first component is name); 0, -ENOENT or
     * -ENAMETOOLONG, with *out zeroed on an error. */
    int (*parse)(const char *path, struct vfs_path *out);

    /* At mount, in the service's order; the mount fails on an error. */
    int (*init)(struct vfs *v);
    /* At unmount, in the reverse order; also after a failed or skipped init. */
    void (*destroy)(struct vfs *v);
    /* Members added to stats.json's top-level object, as a new object. */
    json_t *(*stats)(struct vfs *v);

    /* How long the kernel may keep the name and attributes of p (NULL: VFS_KERNEL_CACHE_S),
     * and a listing of directory p (NULL: cache_ttl). */
    double (*kernel_ttl)(const struct vfs *v, const struct vfs_path *p);
    double (*listing_ttl)(const struct vfs *v, const struct vfs_path *p);

    int (*getattr)(struct vfs *v, const struct vfs_path *p, struct stat *st);
    /* The entries after "." and "..", which the core fills. NULL: ENOTDIR. */
    int (*readdir)(struct vfs *v, const struct vfs_path *p, void *buf, fuse_fill_dir_t filler);
    /* NULL: EINVAL. */
    int (*readlink)(struct vfs *v, const struct vfs_path *p, char *buf, size_t size);
    /* Sets fi->fh to a struct vfs_handle and the kernel's caching flags. NULL: EISDIR. */
    int (*open)(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi);
    /* As open, for a new name. NULL: EACCES. */
    int (*create)(struct vfs *v, const struct vfs_path *p, mode_t mode, struct fuse_file_info *fi);
    /* By path, without an open file. NULL: EACCES. */
    int (*truncate)(struct vfs *v, const struct vfs_path *p, off_t size);
    /* NULL: EPERM. */
    int (*unlink)(struct vfs *v, const struct vfs_path *p);
    /* NULL: EPERM. */
    int (*rmdir)(struct vfs *v, const struct vfs_path *p);
    /* Both paths in this subtree (across subtrees the core answers EPERM). NULL: EPERM. */
    int (*rename)(struct vfs *v, const struct vfs_path *from, const struct vfs_path *to,
                  unsigned int flags);
    /* As getxattr(2): with size 0 the value's length. NULL: ENODATA. */
    int (*getxattr)(struct vfs *v, const struct vfs_path *p, const char *name, char *value,
                    size_t size);
    /* NULL: ENOTSUP. */
    int (*setxattr)(struct vfs *v, const struct vfs_path *p, const char *name, const char *value,
                    size_t size, int flags);
    /* NULL: no attributes (0). */
    int (*listxattr)(struct vfs *v, const struct vfs_path *p, char *list, size_t size);
    /* NULL: ENODATA. */
    int (*removexattr)(struct vfs *v, const struct vfs_path *p, const char *name);
};

/* Where subtree t (one of the mounted service's) keeps its own state in v: NULL until its init
 * puts something there. */
void **subtree_state(struct vfs *v, const struct subtree_ops *t);

#endif
