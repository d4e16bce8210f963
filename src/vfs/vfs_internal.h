/* vfs_internal: what the modules of src/vfs share: the mount's state, what the core offers the
 * subtrees (struct vfs_kernel) and the open-file handle protocol. inode_ops.c turns the kernel's
 * requests into paths; fs_ops.c dispatches each call by path to the subtree that owns it
 * (subtree.h, services.c), and calls on an open file through the handle's ops. */
#ifndef VRCFS_VFS_INTERNAL_H
#define VRCFS_VFS_INTERNAL_H

#include "remote/http.h"
#include "vfs/meta_cache.h"
#include "vfs/vfs.h"
#include "vfs/vfs_path.h"

#include <fuse.h>
#include <stdbool.h>
#include <jansson.h>
#include <sys/stat.h>

/* How long the kernel may keep a name or its attributes (entry and attribute timeouts, and
 * that of a name that does not exist). The metadata cache decides freshness; this only lets
 * `find` and `ls -lR` skip repeated lookups. Versions, which never change, are kept for
 * cache_ttl (inode_ops.c). */
#define VFS_KERNEL_CACHE_S 1.0

/* How far ahead the kernel reads a file that is read in order (max_readahead, and the mount's
 * read_ahead_kb where vrcfs may set it). */
#define VFS_READAHEAD_KB 1024

/* The largest READ (the max_read mount option): a reply and its header must fit the 1 MiB pipe
 * any user may have (/proc/sys/fs/pipe-max-size) for libfuse to splice it from the content cache
 * (inode_ops.c) instead of copying it; 1 MiB less a few pages would cut every 1 MiB of the
 * kernel's readahead into two READs anyway, one of them 16 KiB. */
#define VFS_READ_MAX "524288"

/* The most top-level directories a service may have. */
#define VFS_SUBTREES_MAX 8

struct inode_state;
struct service;

/* What the core (inode_ops.c) offers the subtrees: the kernel's side of the mount. Its
 * functions take ctx; all are NULL until inode_ops_init (and after inode_ops_destroy). */
struct vfs_kernel {
    void *ctx;
    /* See vfs_forget_listings and vfs_forget_entry. */
    void (*forget_listings)(void *ctx, const char *path, double delay_s);
    void (*forget_entry)(void *ctx, const char *dir, const char *name, double delay_s, bool wait);
    /* For stats.json, as a new object: the kernel's requests by kind, the nodes it holds, the
     * listings it was told to drop, and whether it keeps listings at all. */
    json_t *(*stats)(void *ctx);
};
struct buf_pool;
struct content_cache;

struct vfs {
    struct http_client *http;
    struct meta_cache *cache;
    struct vfs_config cfg;
    uid_t uid;
    gid_t gid;
    mode_t umask;
    time_t mount_time;
    const struct service *service;  /* services.c: the top-level directories */
    struct vfs_kernel kernel;       /* inode_ops.c, for the subtrees */
    struct inode_state *inodes;     /* inode_ops.c: the node table and the kernel's caches */
    struct buf_pool *pool;          /* transfer windows and READ replies: the memory budget */
    struct content_cache *content;  /* version data on disk (blob_reader.c) */
    void *states[VFS_SUBTREES_MAX]; /* each subtree's own, set by its init (subtree_state) */
};

/* The kernel drops the listings it keeps of the directory at path and of those below it, now
 * or after delay_s seconds, so that the next readdir asks again. For changes the kernel did not
 * make itself (create, unlink, rename and rmdir through the mount it sees): an upload that adds
 * a version or a File, a created name that turns into a symlink, an instance made or closed.
 * Through v->kernel; nothing happens before the core is set up. */
void vfs_forget_listings(struct vfs *v, const char *path, double delay_s);

/* The kernel drops the name dir/name (with what it knows below it) and the listing of dir, after
 * delay_s seconds, so that the next use looks the name up again: a created name that is now a
 * symlink, a deleted subtree. Sent by another thread than the caller's (a notice sent while
 * answering a request on that directory could wait on the kernel forever); with wait, returns
 * once the kernel has taken it (at most a few seconds). Through v->kernel, as above. */
void vfs_forget_entry(struct vfs *v, const char *dir, const char *name, double delay_s, bool wait);

/* The kernel drops its page cache of the file at path (data that failed its md5). Queued to a
 * thread of inode_ops: callable from anywhere, also while a request on that file is pending. */
void vfs_forget_data(struct vfs *v, const char *path);

struct vfs_handle;

/* What can be done with an open file. Any op may be NULL: read -> EBADF, write -> EBADF,
 * flush/fsync -> 0. release frees the handle. Return 0/bytes or a negative errno. */
struct vfs_handle_ops {
    int (*read)(struct vfs_handle *h, char *buf, size_t size, off_t off);
    /* Optional, instead of read: the bytes a read would copy are at off in *fd (open while the
     * handle is), so that the reply is spliced from there; returns how many, or read's errors. */
    int (*read_fd)(struct vfs_handle *h, size_t size, off_t off, int *fd);
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

/* The same for a read-only (0444) file whose content is made at open and changes from one open
 * to the next (instance JSON, stats.json): fstat answers with this content's size, so that the
 * kernel, which asks again when a read passes the size it knows, reads exactly these bytes. */
struct vfs_handle *vfs_buffer_file_new(const struct vfs *v, char *data, size_t len, time_t mtime);

/* Fills st for a directory, a read-only file, a writable file or a symlink, owned by the
 * mounting user (or uid=, gid=), with mtime. umask= masks the modes of directories and files. */
void vfs_stat_dir(const struct vfs *v, struct stat *st, time_t mtime);
void vfs_stat_file(const struct vfs *v, struct stat *st, off_t size, mode_t mode, time_t mtime);
void vfs_stat_link(const struct vfs *v, struct stat *st, size_t target_len, time_t mtime);

/* mkdir -p: makes path and the directories above it that are missing, with mode. 0 or a
 * negative errno (the first mkdir that failed for another reason than EEXIST). */
int vfs_make_dirs(const char *path, mode_t mode);

/* Seconds on the monotonic clock, for freshness. */
double vfs_mono_now(void);
/* Seconds since the epoch (Unix time), for what outlives a mount and what stats.json reports. */
double vfs_wall_now(void);

#endif
