/* fs_ops: every filesystem call on a path. Each parses the path in the mounted service's tree
 * (services.c) and hands the call to the subtree that owns it (subtree.h); calls on an open file
 * go through its handle (fi->fh). inode_ops.c turns the kernel's requests into these. All return 0,
 * a byte count or a length, or a negative errno. */
#ifndef VRCFS_FS_OPS_H
#define VRCFS_FS_OPS_H

#include "vfs/vfs_internal.h"

#include <sys/statvfs.h>

/* fi is the open file when the kernel names one (fstat), else NULL. */
int fs_getattr(struct vfs *v, const char *path, struct stat *st, const struct fuse_file_info *fi);
/* Fills a directory's entries, "." and ".." first, in a stable order. */
int fs_readdir(struct vfs *v, const char *path, void *buf, fuse_fill_dir_t filler);
/* The symlink's target, NUL-terminated, in buf of size bytes. */
int fs_readlink(struct vfs *v, const char *path, char *buf, size_t size);
/* Open and create set fi->fh and the kernel's caching flags (direct_io, keep_cache). */
int fs_open(struct vfs *v, const char *path, struct fuse_file_info *fi);
int fs_create(struct vfs *v, const char *path, mode_t mode, struct fuse_file_info *fi);
int fs_read(const struct fuse_file_info *fi, char *buf, size_t size, off_t off);
/* A read whose bytes are at off in *fd (vfs_handle_ops.read_fd): how many, or a negative errno;
 * -ENOSYS when the handle has no such file (fs_read then). */
int fs_read_fd(const struct fuse_file_info *fi, size_t size, off_t off, int *fd);
int fs_write(const struct fuse_file_info *fi, const char *buf, size_t size, off_t off);
int fs_flush(const struct fuse_file_info *fi);
int fs_fsync(const struct fuse_file_info *fi);
void fs_release(const struct fuse_file_info *fi);
/* Through the open file when fi is not NULL (ftruncate), else by path. */
int fs_truncate(struct vfs *v, const char *path, off_t size, const struct fuse_file_info *fi);
int fs_unlink(struct vfs *v, const char *path);
int fs_rmdir(struct vfs *v, const char *path);
int fs_mkdir(struct vfs *v, const char *path);
int fs_rename(struct vfs *v, const char *from, const char *to, unsigned int flags);
/* As getxattr(2): with size 0 the value's length. */
int fs_getxattr(struct vfs *v, const char *path, const char *name, char *value, size_t size);
int fs_setxattr(struct vfs *v, const char *path, const char *name, const char *value, size_t size,
                int flags);
int fs_listxattr(struct vfs *v, const char *path, char *list, size_t size);
int fs_removexattr(struct vfs *v, const char *path, const char *name);
void fs_statfs(struct vfs *v, struct statvfs *st);

/* How long the kernel may keep the name and attributes at path, and a listing of the directory
 * at path made now (path NULL: cache_ttl); each as the path's subtree says. */
double fs_kernel_ttl(const struct vfs *v, const char *path);
double fs_listing_ttl(const struct vfs *v, const char *path);

#endif
