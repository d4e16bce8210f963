/* fs_ops: the table of FUSE operations of the mount. */
#ifndef VRCFS_FS_OPS_H
#define VRCFS_FS_OPS_H

#include "vfs/vfs_internal.h"

extern const struct fuse_operations vfs_fs_ops;

#endif
