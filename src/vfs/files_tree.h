/* files_tree: the read side of /files (docs/SEMANTICS.md, The tree and Reading): attributes,
 * listings and links of Files and versions, all answered from the File objects in the metadata
 * cache. */
#ifndef VRCFS_FILES_TREE_H
#define VRCFS_FILES_TREE_H

#include "vfs/vfs_internal.h"

int files_tree_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st);
int files_tree_readdir(struct vfs *v, const struct vfs_path *p, void *buf, fuse_fill_dir_t filler);
int files_tree_readlink(struct vfs *v, const struct vfs_path *p, char *buf, size_t size);
/* Read-only open of file.json, version data or the alias. */
int files_tree_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi);

/* xattrs of a File's directory: user.vrchat.name, .tags (comma-separated), .mimeType and
 * .extension, read-only. files_tree_change_xattr answers a set or remove (EPERM for these,
 * ENOTSUP for any other name) and logs why. */
int files_tree_getxattr(struct vfs *v, const struct vfs_path *p, const char *name, char *value,
                        size_t size);
int files_tree_listxattr(struct vfs *v, const struct vfs_path *p, char *list, size_t size);
int files_tree_change_xattr(const struct vfs_path *p, const char *name);

#endif
