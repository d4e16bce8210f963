/* vfs: the mount's life: state, FUSE session, daemon, loop, and the orderly end. */
#include "vfs/vfs.h"

#include "log.h"
#include "notify.h"
#include "vfs/blob_reader.h"
#include "vfs/buf_pool.h"
#include "vfs/content_cache.h"
#include "vfs/inode_ops.h"
#include "vfs/services.h"
#include "vfs/vfs_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Negative entries live shorter than positive ones: a File uploaded elsewhere shows up soon. */
#define NEGATIVE_TTL_MAX 5.0

/* The mount's memory budget for transfer windows and READ replies (buf_pool.h): enough for a
 * few readers' full windows at once; more readers share it. Replies leave the reserve to
 * transfers. */
#define VFS_POOL_BYTES (40u * 1024 * 1024)
#define VFS_POOL_RESERVE (4u * BLOB_WINDOW_MIN)

static void content_dropped(void *arg, const char *path)
{
    vfs_forget_data(arg, path);
}

static struct vfs *vfs_new(const struct vfs_config *cfg, struct http_client *http)
{
    struct vfs *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->http = http;
    v->cfg = *cfg;
    v->uid = cfg->uid >= 0 ? (uid_t)cfg->uid : getuid();
    v->gid = cfg->gid >= 0 ? (gid_t)cfg->gid : getgid();
    v->umask = cfg->umask & 0777;
    v->mount_time = time(NULL);
    v->service = services_find(cfg->service ? cfg->service : "vrchat");
    if (!v->service) {
        free(v);
        return NULL;
    }
    double neg = cfg->cache_ttl < NEGATIVE_TTL_MAX ? cfg->cache_ttl : NEGATIVE_TTL_MAX;
    v->cache = cache_new(cfg->cache_entries, cfg->cache_ttl, neg);
    v->pool = buf_pool_new(VFS_POOL_BYTES, VFS_POOL_RESERVE);
    if (!v->cache || !v->pool || inode_ops_init(v) != 0) {
        buf_pool_free(v->pool);
        cache_free(v->cache);
        free(v);
        return NULL;
    }
    return v;
}

/* The mount's "major:minor" from /proc/self/mountinfo (the topmost mount at mountpoint), or
 * -ENOENT. Asking the mount itself (stat) would wait for this process to answer it. */
static int mount_device(const char *mountpoint, char *dev, size_t len)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -errno;
    int err = -ENOENT;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        /* "36 25 0:39 / /mnt/vrc rw,... - fuse.vrcfs ...": the mount point escapes ' ', '\t',
         * '\n' and '\\' as octal. */
        char majmin[32], path[4096];
        if (sscanf(line, "%*s %*s %31s %*s %4095s", majmin, path) != 2)
            continue;
        char *w = path;
        for (const char *p = path; *p; p++) {
            if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
                p[3] >= '0' && p[3] <= '7') {
                *w++ = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
                p += 3;
            } else {
                *w++ = *p;
            }
        }
        *w = '\0';
        if (strcmp(path, mountpoint) == 0) {
            snprintf(dev, len, "%s", majmin);
            err = 0;
        }
    }
    free(line);
    fclose(f);
    return err;
}

/* The kernel reads ahead of a FUSE file no further than the mount's read_ahead_kb, 128 KiB by
 * default whatever max_readahead says: 8,192 reads per GiB. Only root may raise it; vrcfs does
 * for its own mount (a cold read is about a tenth faster, README Performance) and otherwise
 * leaves it. */
static void raise_readahead(const char *mountpoint)
{
    char dev[32], path[96];
    if (mount_device(mountpoint, dev, sizeof dev) != 0)
        return;
    snprintf(path, sizeof path, "/sys/class/bdi/%s/read_ahead_kb", dev);
    FILE *f = fopen(path, "we");
    if (!f) {
        log_debug("read_ahead_kb stays as it is: %s: %s", path, strerror(errno));
        return;
    }
    fprintf(f, "%d\n", VFS_READAHEAD_KB);
    if (fclose(f) != 0)
        log_debug("read_ahead_kb stays as it is: %s: %s", path, strerror(errno));
}

/* Sets up each subtree's state in the service's order; stops at the first error. */
static int subtrees_init(struct vfs *v)
{
    const struct subtree_ops *const *t = v->service->subtrees;
    for (size_t i = 0; i < SERVICE_SUBTREES_MAX && t[i]; i++) {
        int err = t[i]->init ? t[i]->init(v) : 0;
        if (err)
            return err;
    }
    return 0;
}

/* In the reverse order, every subtree, set up or not. */
static void subtrees_destroy(struct vfs *v)
{
    const struct subtree_ops *const *t = v->service->subtrees;
    size_t n = 0;
    while (n < SERVICE_SUBTREES_MAX && t[n])
        n++;
    while (n-- > 0)
        if (t[n]->destroy)
            t[n]->destroy(v);
}

static void vfs_free(struct vfs *v)
{
    /* The cache first: its md5 threads may still tell inode_ops to drop a file's pages. */
    content_cache_close(v->content);
    inode_ops_destroy(v);
    buf_pool_free(v->pool);
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
    struct fuse_session *se = v && fuse_opt_add_arg(args, "-omax_read=" VFS_READ_MAX) == 0
                                  ? fuse_session_new(args, &inode_ops, sizeof inode_ops, v)
                                  : NULL;
    if (!se)
        goto out;
    v->content = cfg->cache_dir ? content_cache_open(cfg->cache_dir, cfg->cache_size, v->pool,
                                                     content_dropped, v)
                                : NULL;
    if (!v->content) {
        fprintf(stderr, "vrcfs: cannot use the content cache in %s: %s\n",
                cfg->cache_dir ? cfg->cache_dir : "(no cache_dir)", strerror(errno));
        goto out;
    }
    int err = subtrees_init(v);
    if (err) {
        fprintf(stderr, "vrcfs: cannot start: %s\n", strerror(-err));
        goto out_state;
    }
    if (fuse_session_mount(se, opts.mountpoint) != 0)
        goto out_state;
    raise_readahead(opts.mountpoint);
    if (fuse_daemonize(opts.foreground) != 0)
        goto out_unmount;
    if (!opts.foreground)
        log_use_syslog();
    if (fuse_set_signal_handlers(se) != 0)
        goto out_unmount;
    /* Threads do not survive fuse_daemonize's fork: this one starts after it. */
    if ((err = inode_ops_start(v, se)) != 0) {
        log_error("cannot start: %s", strerror(-err));
        goto out_signals;
    }
    log_info("mounted %s at %s", http_client_api_url(http), opts.mountpoint);
    char status[PATH_MAX + 16];
    snprintf(status, sizeof status, "mounted at %s", opts.mountpoint);
    if ((err = notify_ready(status)) != 0)
        log_warn("cannot tell the service manager the mount is ready: %s", strerror(-err));
    struct fuse_loop_config loop = {.clone_fd = 0, .max_idle_threads = 16};
    rc = (opts.singlethread ? fuse_session_loop(se) : fuse_session_loop_mt(se, &loop)) == 0 ? 0 : 1;
out_signals:
    fuse_remove_signal_handlers(se);
out_unmount:
    fuse_session_unmount(se);
out_state:
    subtrees_destroy(v);
out:
    if (se)
        fuse_session_destroy(se);
    if (v)
        vfs_free(v);
    free(opts.mountpoint);
    return rc;
}
