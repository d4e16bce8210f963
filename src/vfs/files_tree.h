/* files_tree: the read side of /files (CONTRACT.md 2 and 3): attributes, listings and links
 * of Files and versions, all answered from the File objects in the metadata cache. */
#ifndef VRCFS_FILES_TREE_H
#define VRCFS_FILES_TREE_H

#include "vfs/vfs_internal.h"

int files_tree_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st);
int files_tree_readdir(struct vfs *v, const struct vfs_path *p, void *buf, fuse_fill_dir_t filler);
int files_tree_readlink(struct vfs *v, const struct vfs_path *p, char *buf, size_t size);
/* Read-only open of file.json, version data or the alias. */
int files_tree_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi);

#endif
