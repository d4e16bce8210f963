/* vfs: the mount's life: state, FUSE session, daemon, loop, and the orderly end. */
#include "vfs/vfs.h"

#include "log.h"
#include "vfs/files_write.h"
#include "vfs/fs_ops.h"
#include "vfs/instances_tree.h"
#include "vfs/vfs_internal.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Negative entries live shorter than positive ones: a File uploaded elsewhere shows up soon. */
#define NEGATIVE_TTL_MAX 5.0

static void *vfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    struct vfs *v = fuse_get_context()->private_data;
    cfg->entry_timeout = VFS_KERNEL_CACHE_S;
    cfg->attr_timeout = VFS_KERNEL_CACHE_S;
    cfg->negative_timeout = VFS_KERNEL_CACHE_S;
    cfg->use_ino = 0;
    cfg->nullpath_ok = 0;
    conn->max_readahead = 1024 * 1024;
    conn->want |= conn->capable & FUSE_CAP_ASYNC_READ;
    return v;
}

static struct vfs *vfs_new(const struct vfs_config *cfg, struct http_client *http)
{
    struct vfs *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->http = http;
    v->cfg = *cfg;
    v->uid = getuid();
    v->gid = getgid();
    v->mount_time = time(NULL);
    double neg = cfg->cache_ttl < NEGATIVE_TTL_MAX ? cfg->cache_ttl : NEGATIVE_TTL_MAX;
    v->cache = cache_new(cfg->cache_entries, cfg->cache_ttl, neg);
    if (!v->cache) {
        free(v);
        return NULL;
    }
    return v;
}

static void vfs_free(struct vfs *v)
{
    cache_free(v->cache);
    free(v);
}

int vfs_run(struct fuse_args *args, const struct vfs_config *cfg, struct http_client *http)
{
    struct fuse_cmdline_opts opts;
    if (fuse_parse_cmdline(args, &opts) != 0)
        return 1;
    if (!opts.mountpoint) {
        fprintf(stderr, "vrcfs: no mountpoint given\n");
        return 1;
    }
    int rc = 1;
    struct vfs *v = vfs_new(cfg, http);
    struct fuse_operations ops = vfs_fs_ops;
    ops.init = vfs_init;
    struct fuse *fuse = v ? fuse_new(args, &ops, sizeof ops, v) : NULL;
    if (!fuse)
        goto out;
    v->fuse = fuse;
    int err = files_write_init(v);
    if (!err)
        err = instances_init(v);
    if (err) {
        fprintf(stderr, "vrcfs: cannot start: %s\n", strerror(-err));
        goto out_fuse;
    }
    if (fuse_mount(fuse, opts.mountpoint) != 0)
        goto out_state;
    if (fuse_daemonize(opts.foreground) != 0)
        goto out_unmount;
    if (!opts.foreground)
        log_use_syslog();
    struct fuse_session *se = fuse_get_session(fuse);
    if (fuse_set_signal_handlers(se) != 0)
        goto out_unmount;
    log_info("mounted %s at %s", http_client_api_url(http), opts.mountpoint);
    struct fuse_loop_config loop = {.clone_fd = 0, .max_idle_threads = 16};
    rc = (opts.singlethread ? fuse_loop(fuse) : fuse_loop_mt(fuse, &loop)) == 0 ? 0 : 1;
    fuse_remove_signal_handlers(se);
out_unmount:
    fuse_unmount(fuse);
out_state:
    instances_destroy(v);
    files_write_destroy(v);
out_fuse:
    fuse_destroy(fuse);
out:
    if (v)
        vfs_free(v);
    free(opts.mountpoint);
    return rc;
}
