/* vfs_internal: what the modules of src/vfs share: the mount's state and the open-file handle
 * protocol. fs_ops.c dispatches each FUSE call by path (vfs_path) to the module that owns that
 * part of the tree, and calls on an open file through the handle's ops. */
#ifndef VRCFS_VFS_INTERNAL_H
#define VRCFS_VFS_INTERNAL_H

#include "remote/http.h"
#include "vfs/meta_cache.h"
#include "vfs/vfs.h"
#include "vfs/vfs_path.h"

#include <fuse.h>
#include <sys/stat.h>

/* How long the kernel may keep a name or its attributes (entry_timeout, attr_timeout,
 * negative_timeout). The metadata cache decides freshness; this only lets `find` and `ls -lR`
 * skip repeated lookups. */
#define VFS_KERNEL_CACHE_S 1.0

/* A name written through the mount that turns into a symlink afterwards (a created File or
 * instance) keeps looking like the regular file the kernel created for this long, longer than
 * the kernel may still hold it as one: a symlink answer for that inode would be EIO. */
#define VFS_NAME_LINGER_S (2 * VFS_KERNEL_CACHE_S)

struct files_write_state;
struct instances_state;

struct vfs {
    struct http_client *http;
    struct meta_cache *cache;
    struct vfs_config cfg;
    uid_t uid;
    gid_t gid;
    time_t mount_time;
    struct fuse *fuse;                 /* for fuse_invalidate_path */
    struct files_write_state *writes;  /* files_write.c */
    struct instances_state *instances; /* instances_tree.c */
};

/* The mount's state, from inside a FUSE call. */
struct vfs *vfs_current(void);

struct vfs_handle;

/* What can be done with an open file. Any op may be NULL: read -> EBADF, write -> EBADF,
 * flush/fsync -> 0. release frees the handle. Return 0/bytes or a negative errno. */
struct vfs_handle_ops {
    int (*read)(struct vfs_handle *h, char *buf, size_t size, off_t off);
    int (*write)(struct vfs_handle *h, const char *buf, size_t size, off_t off);
    int (*flush)(struct vfs_handle *h);
    int (*fsync)(struct vfs_handle *h);
    int (*truncate)(struct vfs_handle *h, off_t size);
    int (*getattr)(struct vfs_handle *h, struct stat *st); /* fstat of an open file */
    void (*release)(struct vfs_handle *h);
};

/* The first member of every module's handle struct; fi->fh points at it. */
struct vfs_handle {
    const struct vfs_handle_ops *ops;
};

/* A read-only handle over bytes held in memory (file.json, stats.json, instance JSON). Takes
 * ownership of data (malloc'd). */
struct vfs_handle *vfs_buffer_handle_new(char *data, size_t len);

/* Fills st for a directory, a read-only file, a writable file or a symlink, owned by the
 * mounting user, with mtime. */
void vfs_stat_dir(const struct vfs *v, struct stat *st, time_t mtime);
void vfs_stat_file(const struct vfs *v, struct stat *st, off_t size, mode_t mode, time_t mtime);
void vfs_stat_link(const struct vfs *v, struct stat *st, size_t target_len, time_t mtime);

#endif
