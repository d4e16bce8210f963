/* vfs: the mounted filesystem. Runs the FUSE session until unmount. */
#ifndef VRCFS_VFS_H
#define VRCFS_VFS_H

#include "remote/http.h"

#include <fuse_lowlevel.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>

struct vfs_config {
    double cache_ttl;      /* seconds a listing or File stays fresh */
    size_t cache_entries;  /* metadata LRU cap */
    const char *cache_dir; /* the content cache and the staging of uploads */
    uint64_t cache_size;   /* bytes the two may hold together */
    uint64_t part_size;    /* multipart part size */
    const char *service;   /* services.c's name ("vrchat", "sharedcloud"); NULL: vrchat */
    const char *user_id;   /* the logged-in user */
    long uid, gid;         /* owner shown for everything; -1: the mounting user */
    mode_t umask;          /* masks the modes shown */
    bool foreground;
};

/* Mounts with args (FUSE options and the mountpoint), serves until unmounted, and returns the
 * process exit code. http carries a checked session. */
int vfs_run(struct fuse_args *args, const struct vfs_config *cfg, struct http_client *http);

#endif
