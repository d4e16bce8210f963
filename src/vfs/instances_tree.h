/* instances_tree: /instances (CONTRACT.md 2 and 4): the Instance JSON files, the recent and
 * created ones in the listing, /instances/s/<shortName> links, new instances written as
 * CreateInstanceRequest JSON, closing by rm, and the user.vrchat.* extended attributes.
 * fs_ops.c calls these for VP_INSTANCES, VP_INSTANCE_JSON, VP_INSTANCE_NAME, VP_SHORT_DIR
 * and VP_SHORT_LINK paths. All return 0 (or a size) or a negative errno. */
#ifndef VRCFS_INSTANCES_TREE_H
#define VRCFS_INSTANCES_TREE_H

#include "vfs/vfs_internal.h"

#include <jansson.h>

int instances_init(struct vfs *v); /* sets v->instances */
/* How long anything of /instances stays fresh: cache_ttl, but five seconds at most. */
double instances_ttl(const struct vfs *v);
void instances_destroy(struct vfs *v);

int instances_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st);
int instances_readdir(struct vfs *v, const struct vfs_path *p, void *buf, fuse_fill_dir_t filler);
int instances_readlink(struct vfs *v, const struct vfs_path *p, char *buf, size_t size);
int instances_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi);
int instances_create(struct vfs *v, const struct vfs_path *p, mode_t mode,
                     struct fuse_file_info *fi);
int instances_truncate(struct vfs *v, const struct vfs_path *p, off_t size);
int instances_unlink(struct vfs *v, const struct vfs_path *p);
int instances_getxattr(struct vfs *v, const struct vfs_path *p, const char *name, char *value,
                       size_t size);
int instances_setxattr(struct vfs *v, const struct vfs_path *p, const char *name, const char *value,
                       size_t size, int flags);
int instances_listxattr(struct vfs *v, const struct vfs_path *p, char *list, size_t size);

#endif
