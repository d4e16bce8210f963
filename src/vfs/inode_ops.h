/* inode_ops: the FUSE low-level operations of the mount. The kernel names files by node id;
 * these turn ids into paths (nodes.c), call fs_ops, and decide what the kernel may keep:
 * - names and attributes for VFS_KERNEL_CACHE_S, and those of versions, which never change,
 *   for cache_ttl;
 * - whole directory listings (the kernel's readdir cache, with no OPENDIR or RELEASEDIR round
 *   trips), until cache_ttl has passed or the mount changed the listing itself
 *   (vfs_forget_listings). With cache_ttl=0 the kernel keeps no listing.
 * What the subtrees may ask of this side (dropping listings, the kernel's counters for
 * stats.json) they reach through v->kernel, set by inode_ops_init. */
#ifndef VRCFS_VFS_INODE_OPS_H
#define VRCFS_VFS_INODE_OPS_H

#include "vfs/vfs_internal.h"

#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops inode_ops;

/* The state the operations need (v->inodes, v->kernel); 0 or -ENOMEM. */
int inode_ops_init(struct vfs *v);
/* Starts the thread that takes expired listings back from the kernel; call after the session
 * is mounted and the process has daemonized. 0 or a negative errno. */
int inode_ops_start(struct vfs *v, struct fuse_session *se);
/* Stops that thread (if started) and frees what inode_ops_init made. */
void inode_ops_destroy(struct vfs *v);

#endif
