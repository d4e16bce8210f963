/* inode_ops: the kernel's requests, by node id, turned into fs_ops calls by path. What the
 * kernel may keep is decided here (see inode_ops.h); the modules behind fs_ops know nothing of
 * node ids. */
#include "vfs/inode_ops.h"

#include "log.h"
#include "vfs/buf_pool.h"
#include "vfs/fs_ops.h"
#include "vfs/meta_cache.h"
#include "vfs/nodes.h"
#include "vfs/vfs_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What the kernel shows as d_ino for an entry it has not looked up. */
#define UNKNOWN_INO 0xffffffffu

/* How often the expiry thread looks for listings to take back. */
#define EXPIRY_TICK_S 0.5

/* The longest vfs_forget_entry waits for the kernel to take the notice. */
#define FORGET_WAIT_S 2

/* One directory being read: the entries as fs_readdir gave them, kept from the READDIR at
 * offset 0 to the one that finds the end, so that the offsets in between stay meaningful. */
struct dir_entry {
    char *name;
    struct stat st;
    bool has_st;
};

struct listing {
    struct listing *next;
    uint64_t ino;
    double until; /* when what it was made from stops being fresh */
    char *path;
    struct dir_entry *e;
    size_t n, cap;
    int err;
};

/* Listings to take back from the kernel later (vfs_forget_listings with a delay), or a name
 * (vfs_forget_entry: name is set). waiter, when set, is told once it is done. */
struct pending_forget {
    struct pending_forget *next;
    char *path;
    char *name;
    double due;
    struct forget_wait *waiter;
    bool data; /* the page cache of the file at path, not names or listings */
};

/* Shared by a waiting vfs_forget_entry and the expiry thread; the last to let go frees it. */
struct forget_wait {
    bool done;
    int refs;
};

/* The kernel's requests, counted for stats.json ("kernel"). */
enum op_kind {
    OP_LOOKUP,
    OP_GETATTR,
    OP_READDIR,
    OP_OPEN,
    OP_READ,
    OP_WRITE,
    OP_XATTR,
    OP_OTHER,
    OP_KINDS
};
static const char *const op_names[OP_KINDS] = {"lookup", "getattr", "readdir", "open",
                                               "read",   "write",   "xattr",   "other"};

struct inode_state {
    _Atomic uint64_t ops[OP_KINDS];
    _Atomic uint64_t listings_dropped; /* listings the kernel was told to drop */
    struct nodes *nodes;
    struct fuse_session *se;
    bool keeps_listings;  /* the kernel caches listings: cache_ttl > 0 and it can skip OPENDIR */
    bool splices_reads;   /* READ replies of cached data are spliced from the cache file */
    pthread_mutex_t lock; /* listings, pending, stop */
    struct listing *listings;
    struct pending_forget *pending;
    pthread_cond_t wake;
    pthread_cond_t forgotten; /* a waited-for vfs_forget_entry is done */
    bool stop, started;
    pthread_t expiry;
};

static struct vfs *vfs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

/* The request this thread serves, for the line that explains a refusal (reply_errno). */
struct current_op {
    const char *op;
    fuse_ino_t ino;
    const char *name;
};
static __thread struct current_op current_op;

/* Counts the request for stats.json and remembers what it is about: op on name under ino (name
 * may be NULL: ino itself). */
static void begin_op(fuse_req_t req, enum op_kind k, const char *op, fuse_ino_t ino,
                     const char *name)
{
    atomic_fetch_add_explicit(&vfs_of(req)->inodes->ops[k], 1, memory_order_relaxed);
    current_op = (struct current_op){op, ino, name};
    log_reason_begin();
}

/* Errors that answer a question ("is there such a name?") rather than refuse something: they
 * go unlogged unless a reason was given, as does a close that failed for no stated reason (a
 * shell closes its copy of a redirected descriptor before anything is written). */
static bool is_answer(int err)
{
    return err == ENOENT || err == ENODATA || err == ERANGE || err == ENOSYS || err == ENOTDIR ||
           err == EISDIR || err == EEXIST || err == ENOTEMPTY || err == ENOTSUP || err == EINTR ||
           err == ENAMETOOLONG || err == ELOOP;
}

/* Every refusal says why (docs/SEMANTICS.md, Errors): one line with the operation, the path, the
 * errno and the reason the module gave or logged while serving this request, unless that line began
 * with the path itself. */
static void reply_errno(fuse_req_t req, int err)
{
    err = err < 0 ? -err : err;
    const char *why = log_reason_last();
    if (err && (why || (!is_answer(err) && strcmp(current_op.op, "close") != 0))) {
        char *path = nodes_path(vfs_of(req)->inodes->nodes, current_op.ino, current_op.name);
        /* A module that logged "path: reason" has said it all already. */
        size_t n = path ? strlen(path) : 0;
        if (!why || !path || strncmp(why, path, n) != 0 || why[n] != ':')
            log_info("%s %s: %s%s%s", current_op.op, path ? path : "(a removed file)",
                     strerror(err), why ? ": " : "", why ? why : "");
        free(path);
    }
    fuse_reply_err(req, err);
}

/* The node's path with name appended (name may be NULL); replies ENOENT and returns NULL when
 * the node has no path any more (it was unlinked or renamed away from under a parent). */
static char *path_or_reply(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    char *path = nodes_path(vfs_of(req)->inodes->nodes, ino, name);
    if (!path)
        fuse_reply_err(req, ENOENT);
    return path;
}

/* Replies to a LOOKUP, MKDIR or CREATE for name under parent whose attributes are in e->attr:
 * counts the kernel's new reference; fi is the CREATE's open file. */
static void reply_entry(fuse_req_t req, fuse_ino_t parent, const char *name, const char *path,
                        struct fuse_entry_param *e, struct fuse_file_info *fi)
{
    struct vfs *v = vfs_of(req);
    e->ino = nodes_lookup_as(v->inodes->nodes, parent, name, e->attr.st_mode & S_IFMT);
    if (!e->ino) {
        if (fi)
            fs_release(fi);
        fuse_reply_err(req, ENOMEM);
        return;
    }
    e->attr.st_ino = e->ino;
    e->attr_timeout = e->entry_timeout = fs_kernel_ttl(v, path);
    int rc = fi ? fuse_reply_create(req, e, fi) : fuse_reply_entry(req, e);
    if (rc == -ENOENT) { /* the caller was interrupted: the kernel holds nothing */
        nodes_forget(v->inodes->nodes, e->ino, 1);
        if (fi)
            fs_release(fi);
    }
}

/* Whether libfuse can splice a whole READ reply: its pipe must hold the largest read, its
 * header and three pages (libfuse's own estimate), or libfuse would copy each reply through a
 * buffer of its own, outside the pool. */
static bool pipe_holds_a_read(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return false;
    bool ok = fcntl(fds[0], F_SETPIPE_SZ, atoi(VFS_READ_MAX) + 3 * getpagesize() + 16) >= 0;
    close(fds[0]);
    close(fds[1]);
    return ok;
}

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
    struct vfs *v = userdata;
    conn->max_readahead = VFS_READAHEAD_KB * 1024;
    conn->max_read = (unsigned)atoi(VFS_READ_MAX); /* as the mount option says (vfs.c) */
    conn->want |= conn->capable & FUSE_CAP_ASYNC_READ;
    if ((conn->capable & FUSE_CAP_SPLICE_WRITE) && pipe_holds_a_read()) {
        conn->want |= FUSE_CAP_SPLICE_WRITE;
        v->inodes->splices_reads = true;
    }
    v->inodes->keeps_listings =
        v->cfg.cache_ttl > 0 && (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT);
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    begin_op(req, OP_LOOKUP, "lookup", parent, name);
    struct vfs *v = vfs_of(req);
    char *path = path_or_reply(req, parent, name);
    if (!path)
        return;
    struct fuse_entry_param e = {0};
    int err = fs_getattr(v, path, &e.attr, NULL);
    if (err == -ENOENT) { /* the kernel remembers that the name does not exist, briefly */
        e.entry_timeout = VFS_KERNEL_CACHE_S;
        fuse_reply_entry(req, &e);
    } else if (err) {
        reply_errno(req, err);
    } else {
        reply_entry(req, parent, name, path, &e, NULL);
    }
    free(path);
}

/* The path the symlink at path names (vrcfs's links are relative), normalized; malloc'd, or
 * NULL. */
static char *link_target(struct vfs *v, const char *path)
{
    char target[PATH_MAX];
    if (fs_readlink(v, path, target, sizeof target) != 0 || target[0] == '/')
        return NULL;
    size_t dir = (size_t)(strrchr(path, '/') - path), len = dir + 1 + strlen(target);
    char *joined = malloc(len + 1), *out = malloc(len + 2);
    if (!joined || !out) {
        free(joined);
        free(out);
        return NULL;
    }
    snprintf(joined, len + 1, "%.*s/%s", (int)dir, path, target);
    size_t n = 0; /* out holds "/a/b" built component by component */
    for (char *save = NULL, *c = strtok_r(joined, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            while (n > 0 && out[--n] != '/')
                ;
            continue;
        }
        n += (size_t)sprintf(out + n, "/%s", c);
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = '\0';
    free(joined);
    return out;
}

/* A created File or instance turns from the regular file the kernel made into a link to what
 * it became. The kernel may still hold the name as that regular file and use it without looking
 * it up: a getattr answered with a link would fail with EIO, an open would find no file. Until
 * it looks the name up again (and takes the link), such a node is answered with what the link
 * names. Given the attributes of path in *st: when ino is such a node, returns the path the link
 * names (malloc'd) and puts its attributes in *st; else NULL, *st untouched. */
static char *stale_target(struct vfs *v, uint64_t ino, const char *path, struct stat *st)
{
    unsigned told = nodes_type(v->inodes->nodes, ino);
    if (!S_ISLNK(st->st_mode) || !told || told == S_IFLNK)
        return NULL;
    char *target = link_target(v, path);
    struct stat ts;
    if (!target || fs_getattr(v, target, &ts, NULL) != 0 || (ts.st_mode & S_IFMT) != told) {
        free(target);
        return NULL;
    }
    *st = ts;
    return target;
}

/* Replies to GETATTR and SETATTR. Attributes answered for a stale node (followed) are not kept:
 * the next stat looks again; those of an open file without a path any more briefly. */
static void reply_attr(fuse_req_t req, fuse_ino_t ino, struct stat *st, const char *path,
                       bool followed)
{
    st->st_ino = ino;
    fuse_reply_attr(req, st,
                    followed ? 0
                    : path   ? fs_kernel_ttl(vfs_of(req), path)
                             : VFS_KERNEL_CACHE_S);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    begin_op(req, OP_GETATTR, "stat", ino, NULL);
    struct vfs *v = vfs_of(req);
    char *path = nodes_path(v->inodes->nodes, ino, NULL);
    struct stat st;
    /* An open file answers for itself, even after it was unlinked. */
    int err = path || fi ? fs_getattr(v, path ? path : "", &st, fi) : -ENOENT;
    char *target = !err && path ? stale_target(v, ino, path, &st) : NULL;
    if (err)
        reply_errno(req, err);
    else
        reply_attr(req, ino, &st, path, target != NULL);
    free(target);
    free(path);
}

/* Times, modes and owners come from the server and cannot be set; accepting the call keeps
 * `cp -p`, `touch` and `rsync -a` working, as s3fs and rclone mount do. Only a size is set. */
static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
    begin_op(req, OP_OTHER, "setattr", ino, NULL);
    struct vfs *v = vfs_of(req);
    char *path = nodes_path(v->inodes->nodes, ino, NULL);
    if (!path && !fi) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct stat st;
    char *target =
        path && !fi && fs_getattr(v, path, &st, NULL) == 0 ? stale_target(v, ino, path, &st) : NULL;
    const char *p = target ? target : path ? path : ""; /* a stale node sets what its link names */
    int err = to_set & FUSE_SET_ATTR_SIZE ? fs_truncate(v, p, attr->st_size, fi) : 0;
    if (!err)
        err = fs_getattr(v, p, &st, fi);
    if (err)
        reply_errno(req, err);
    else
        reply_attr(req, ino, &st, path, target != NULL);
    free(target);
    free(path);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
    begin_op(req, OP_OTHER, "readlink", ino, NULL);
    char *path = path_or_reply(req, ino, NULL);
    if (!path)
        return;
    char target[PATH_MAX + 1];
    int err = fs_readlink(vfs_of(req), path, target, sizeof target);
    if (err)
        reply_errno(req, err);
    else
        fuse_reply_readlink(req, target);
    free(path);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    begin_op(req, OP_OTHER, "mkdir", parent, name);
    (void)mode;
    struct vfs *v = vfs_of(req);
    char *path = path_or_reply(req, parent, name);
    if (!path)
        return;
    struct fuse_entry_param e = {0};
    int err = fs_mkdir(v, path);
    if (!err)
        err = fs_getattr(v, path, &e.attr, NULL);
    if (err)
        reply_errno(req, err);
    else
        reply_entry(req, parent, name, path, &e, NULL);
    free(path);
}

static void remove_name(fuse_req_t req, fuse_ino_t parent, const char *name,
                        int (*op)(struct vfs *, const char *))
{
    struct vfs *v = vfs_of(req);
    char *path = path_or_reply(req, parent, name);
    if (!path)
        return;
    int err = op(v, path);
    if (!err)
        nodes_unlink(v->inodes->nodes, parent, name);
    reply_errno(req, err);
    free(path);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    begin_op(req, OP_OTHER, "unlink", parent, name);
    remove_name(req, parent, name, fs_unlink);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    begin_op(req, OP_OTHER, "rmdir", parent, name);
    remove_name(req, parent, name, fs_rmdir);
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags)
{
    begin_op(req, OP_OTHER, "rename", parent, name);
    struct vfs *v = vfs_of(req);
    char *from = path_or_reply(req, parent, name);
    if (!from)
        return;
    char *to = path_or_reply(req, newparent, newname);
    if (to) {
        int err = fs_rename(v, from, to, flags);
        /* Out of memory here only leaves the kernel looking the new name up afresh. */
        if (!err && nodes_rename(v->inodes->nodes, parent, name, newparent, newname) != 0)
            nodes_unlink(v->inodes->nodes, parent, name);
        reply_errno(req, err);
    }
    free(from);
    free(to);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    begin_op(req, OP_OPEN, "open", ino, NULL);
    struct vfs *v = vfs_of(req);
    char *path = path_or_reply(req, ino, NULL);
    if (!path)
        return;
    int err = fs_open(v, path, fi);
    struct stat st;
    char *target = (err == -ENOENT || err == -ELOOP) && fs_getattr(v, path, &st, NULL) == 0
                       ? stale_target(v, ino, path, &st)
                       : NULL;
    if (target) /* the name turned into a link: open what it names */
        err = fs_open(v, target, fi);
    free(target);
    if (err)
        reply_errno(req, err);
    else if (fuse_reply_open(req, fi) == -ENOENT)
        fs_release(fi); /* the caller was interrupted */
    free(path);
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
    begin_op(req, OP_OPEN, "create", parent, name);
    struct vfs *v = vfs_of(req);
    char *path = path_or_reply(req, parent, name);
    if (!path)
        return;
    struct fuse_entry_param e = {0};
    int err = fs_create(v, path, mode, fi);
    if (!err && (err = fs_getattr(v, path, &e.attr, fi)) != 0)
        fs_release(fi);
    if (err)
        reply_errno(req, err);
    else
        reply_entry(req, parent, name, path, &e, fi);
    free(path);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    begin_op(req, OP_READ, "read", ino, NULL);
    (void)ino;
    if (vfs_of(req)->inodes->splices_reads) {
        /* Data of the content cache goes from the cache file's pages to the kernel with no
         * copy through vrcfs (the file stays whole while the handle is open). */
        int fd = -1;
        int n = fs_read_fd(fi, size, off, &fd);
        if (n != -ENOSYS) {
            if (n < 0) {
                reply_errno(req, n);
            } else if (n == 0) {
                fuse_reply_buf(req, NULL, 0);
            } else {
                struct fuse_bufvec data = FUSE_BUFVEC_INIT((size_t)n);
                data.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
                data.buf[0].fd = fd;
                data.buf[0].pos = off;
                fuse_reply_data(req, &data, 0);
            }
            return;
        }
    }
    /* The reply is built in a buffer of the mount's pool (buf_pool.h), which keeps returned
     * buffers for the next reads and bounds their number. */
    struct buf_pool *pool = vfs_of(req)->pool;
    char *b = buf_pool_get_reply(pool, size);
    if (!b) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    int n = fs_read(fi, b, size, off);
    if (n < 0)
        reply_errno(req, n);
    else
        fuse_reply_buf(req, b, (size_t)n);
    buf_pool_put(pool, b);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    begin_op(req, OP_WRITE, "write", ino, NULL);
    (void)ino;
    int n = fs_write(fi, buf, size, off);
    if (n < 0)
        reply_errno(req, n);
    else
        fuse_reply_write(req, (size_t)n);
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    begin_op(req, OP_OTHER, "close", ino, NULL);
    (void)ino;
    reply_errno(req, fs_flush(fi));
}

static void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    begin_op(req, OP_OTHER, "release", ino, NULL);
    (void)ino;
    fs_release(fi);
    fuse_reply_err(req, 0);
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    begin_op(req, OP_OTHER, "fsync", ino, NULL);
    (void)ino;
    (void)datasync;
    reply_errno(req, fs_fsync(fi));
}

/* --- directories ---------------------------------------------------------------------------- */

/* The kernel keeps listings only when it can do without OPENDIR: ENOSYS says so, once for the
 * whole mount (FUSE_CAP_NO_OPENDIR_SUPPORT). Otherwise every open is answered and nothing is
 * kept. READDIR never needs a handle: listings are kept by node (struct listing). */
static void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    begin_op(req, OP_OPEN, "opendir", ino, NULL);
    (void)ino;
    if (vfs_of(req)->inodes->keeps_listings) {
        fuse_reply_err(req, ENOSYS);
        return;
    }
    fi->fh = 0;
    fuse_reply_open(req, fi);
}

static void listing_free(struct listing *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->e[i].name);
    free(l->e);
    free(l->path);
    free(l);
}

static int listing_add(void *arg, const char *name, const struct stat *st, off_t off,
                       enum fuse_fill_dir_flags flags)
{
    (void)off;
    (void)flags;
    struct listing *l = arg;
    if (l->err)
        return 1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct dir_entry *e = realloc(l->e, cap * sizeof *e);
        if (!e) {
            l->err = -ENOMEM;
            return 1;
        }
        l->e = e;
        l->cap = cap;
    }
    struct dir_entry *e = &l->e[l->n];
    if (!(e->name = strdup(name))) {
        l->err = -ENOMEM;
        return 1;
    }
    e->has_st = st != NULL;
    if (st)
        e->st = *st;
    l->n++;
    return 0;
}

/* Takes the listing of ino out of the list (NULL when there is none). s->lock held. */
static struct listing *listing_take(struct inode_state *s, uint64_t ino)
{
    for (struct listing **p = &s->listings; *p; p = &(*p)->next) {
        if ((*p)->ino == ino) {
            struct listing *l = *p;
            *p = l->next;
            return l;
        }
    }
    return NULL;
}

static bool is_dot(const char *name)
{
    return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

/* Fills out (size bytes) with the entries of l from index off; returns the bytes used. With
 * plus, each entry is a lookup the kernel keeps, counted in the node table (and uncounted when
 * it does not fit). */
static size_t listing_fill(fuse_req_t req, const struct listing *l, uint64_t ino, off_t off,
                           char *out, size_t size, bool plus)
{
    struct vfs *v = vfs_of(req);
    struct nodes *nodes = v->inodes->nodes;
    size_t used = 0;
    for (size_t i = (size_t)off; i < l->n; i++) {
        const struct dir_entry *d = &l->e[i];
        size_t len, room = size - used;
        if (plus) {
            struct fuse_entry_param e = {0};
            if (d->has_st && !is_dot(d->name) &&
                (e.ino = nodes_lookup_as(nodes, ino, d->name, d->st.st_mode & S_IFMT))) {
                e.attr = d->st;
                char path[PATH_MAX]; /* the listing's own path: no walk of the node table */
                snprintf(path, sizeof path, "%s/%s", strcmp(l->path, "/") ? l->path : "", d->name);
                e.attr_timeout = e.entry_timeout = fs_kernel_ttl(v, path);
            } else {
                e.attr.st_mode = d->has_st ? d->st.st_mode : 0; /* 0: DT_UNKNOWN */
            }
            e.attr.st_ino = e.ino ? e.ino : UNKNOWN_INO;
            len = fuse_add_direntry_plus(req, out + used, room, d->name, &e, (off_t)i + 1);
            if (len > room && e.ino)
                nodes_forget(nodes, e.ino, 1);
        } else {
            struct stat st = {.st_mode = d->has_st ? d->st.st_mode : 0};
            uint64_t known = nodes_find(nodes, ino, d->name);
            st.st_ino = known ? known : UNKNOWN_INO;
            len = fuse_add_direntry(req, out + used, room, d->name, &st, (off_t)i + 1);
        }
        if (len > room)
            break;
        used += len;
    }
    return used;
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
    struct vfs *v = vfs_of(req);
    struct inode_state *s = v->inodes;
    pthread_mutex_lock(&s->lock);
    struct listing *l = listing_take(s, ino);
    pthread_mutex_unlock(&s->lock);
    if (off == 0 || !l) { /* a new pass, or a rewind: list again */
        listing_free(l);
        if (!(l = calloc(1, sizeof *l))) {
            fuse_reply_err(req, ENOMEM);
            return;
        }
        l->ino = ino;
        l->path = nodes_path(s->nodes, ino, NULL);
        cache_watch_begin();
        int err = l->path ? fs_readdir(v, l->path, l, listing_add) : -ENOENT;
        l->until = fmin(cache_watch_end(), vfs_mono_now() + fs_listing_ttl(v, l->path));
        if (err || l->err) {
            reply_errno(req, err ? err : l->err);
            listing_free(l);
            return;
        }
    }
    char *out = malloc(size);
    if (!out) {
        fuse_reply_err(req, ENOMEM);
        listing_free(l);
        return;
    }
    size_t used = listing_fill(req, l, ino, off, out, size, plus);
    if (used == 0) {
        /* The end: the kernel now holds the whole listing, until what it was made from is stale. */
        if (s->keeps_listings)
            nodes_set_listed(s->nodes, ino, l->until);
        listing_free(l);
    } else {
        pthread_mutex_lock(&s->lock);
        l->next = s->listings;
        s->listings = l;
        pthread_mutex_unlock(&s->lock);
    }
    fuse_reply_buf(req, out, used);
    free(out);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    begin_op(req, OP_READDIR, "readdir", ino, NULL);
    (void)fi;
    readdir_common(req, ino, size, off, false);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi)
{
    begin_op(req, OP_READDIR, "readdir", ino, NULL);
    (void)fi;
    readdir_common(req, ino, size, off, true);
}

/* A directory the kernel forgot may have left a listing half read. */
static void forget_one(struct inode_state *s, uint64_t ino, uint64_t n)
{
    nodes_forget(s->nodes, ino, n);
    char *path = nodes_path(s->nodes, ino, NULL);
    struct listing *l = NULL;
    if (!path) {
        pthread_mutex_lock(&s->lock);
        l = listing_take(s, ino);
        pthread_mutex_unlock(&s->lock);
    }
    free(path);
    listing_free(l);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    begin_op(req, OP_OTHER, "forget", ino, NULL);
    forget_one(vfs_of(req)->inodes, ino, nlookup);
    fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    begin_op(req, OP_OTHER, "forget", FUSE_ROOT_ID, NULL);
    for (size_t i = 0; i < count; i++)
        forget_one(vfs_of(req)->inodes, forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
}

/* --- the rest ------------------------------------------------------------------------------- */

static void ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
    begin_op(req, OP_OTHER, "statfs", ino, NULL);
    (void)ino;
    struct statvfs st;
    fs_statfs(vfs_of(req), &st);
    fuse_reply_statfs(req, &st);
}

static void ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
    begin_op(req, OP_XATTR, "setxattr", ino, NULL);
    char *path = path_or_reply(req, ino, NULL);
    if (!path)
        return;
    reply_errno(req, fs_setxattr(vfs_of(req), path, name, value, size, flags));
    free(path);
}

/* GETXATTR and LISTXATTR: with size 0 the kernel asks for the length only. */
static void reply_sized(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    char *path = path_or_reply(req, ino, NULL);
    if (!path)
        return;
    struct vfs *v = vfs_of(req);
    char *buf = size ? malloc(size) : NULL;
    int n = size && !buf ? -ENOMEM
            : name       ? fs_getxattr(v, path, name, buf, size)
                         : fs_listxattr(v, path, buf, size);
    if (n < 0)
        reply_errno(req, n);
    else if (size)
        fuse_reply_buf(req, buf, (size_t)n);
    else
        fuse_reply_xattr(req, (size_t)n);
    free(buf);
    free(path);
}

static void ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    begin_op(req, OP_XATTR, "getxattr", ino, NULL);
    reply_sized(req, ino, name, size);
}

static void ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    begin_op(req, OP_XATTR, "listxattr", ino, NULL);
    reply_sized(req, ino, NULL, size);
}

static void ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    begin_op(req, OP_XATTR, "removexattr", ino, NULL);
    char *path = path_or_reply(req, ino, NULL);
    if (!path)
        return;
    reply_errno(req, fs_removexattr(vfs_of(req), path, name));
    free(path);
}

const struct fuse_lowlevel_ops inode_ops = {
    .init = ll_init,
    .lookup = ll_lookup,
    .forget = ll_forget,
    .forget_multi = ll_forget_multi,
    .getattr = ll_getattr,
    .setattr = ll_setattr,
    .readlink = ll_readlink,
    .mkdir = ll_mkdir,
    .unlink = ll_unlink,
    .rmdir = ll_rmdir,
    .rename = ll_rename,
    .open = ll_open,
    .create = ll_create,
    .read = ll_read,
    .write = ll_write,
    .flush = ll_flush,
    .release = ll_release,
    .fsync = ll_fsync,
    .opendir = ll_opendir,
    .readdir = ll_readdir,
    .readdirplus = ll_readdirplus,
    .statfs = ll_statfs,
    .setxattr = ll_setxattr,
    .getxattr = ll_getxattr,
    .listxattr = ll_listxattr,
    .removexattr = ll_removexattr,
};

/* --- taking listings back ------------------------------------------------------------------- */

/* Tells the kernel to drop what it keeps of each directory: its listing and attributes. */
static void invalidate(struct inode_state *s, const uint64_t *ids, size_t n)
{
    atomic_fetch_add_explicit(&s->listings_dropped, n, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        int rc = fuse_lowlevel_notify_inval_inode(s->se, ids[i], 0, 0);
        if (rc != 0 && rc != -ENOENT) /* ENOENT: the kernel had already let it go */
            log_debug("kernel cache: cannot drop node %llu: %s", (unsigned long long)ids[i],
                      strerror(-rc));
    }
}

/* Takes back the listings under `under` (all when NULL) that are stale at `now`. */
static void expire(struct inode_state *s, double now, const char *under)
{
    uint64_t *ids;
    size_t n = nodes_take_listed(s->nodes, now, under, &ids);
    invalidate(s, ids, n);
    free(ids);
}

/* The kernel drops the name dir/name (and what it knows below it) and the listing of dir. */
static void forget_entry(struct inode_state *s, const char *dir, const char *name)
{
    uint64_t id = nodes_resolve(s->nodes, dir);
    if (!id)
        return; /* the kernel holds nothing there */
    int rc = fuse_lowlevel_notify_inval_entry(s->se, id, name, strlen(name));
    if (rc != 0 && rc != -ENOENT)
        log_debug("kernel cache: cannot drop %s/%s: %s", dir, name, strerror(-rc));
    if (s->keeps_listings)
        invalidate(s, &id, 1);
}

/* Queues f to be done by the expiry thread, which is woken when it is due now. */
static void pending_add(struct inode_state *s, struct pending_forget *f)
{
    pthread_mutex_lock(&s->lock);
    f->next = s->pending;
    s->pending = f;
    if (f->due <= vfs_mono_now())
        pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

/* vfs_kernel.forget_listings (vfs_internal.h). */
static void forget_listings(void *ctx, const char *path, double delay_s)
{
    struct inode_state *s = ctx;
    if (!s->keeps_listings)
        return;
    if (delay_s <= 0 && s->se) {
        expire(s, INFINITY, path);
        return;
    }
    struct pending_forget *f = malloc(sizeof *f);
    char *copy = strdup(path);
    if (!f || !copy) { /* without memory the listing expires at cache_ttl as any other */
        free(f);
        free(copy);
        return;
    }
    f->path = copy;
    f->name = NULL;
    f->waiter = NULL;
    f->data = false;
    f->due = vfs_mono_now() + delay_s;
    pending_add(s, f);
}

/* vfs_kernel.forget_entry (vfs_internal.h). */
static void forget_entry_later(void *ctx, const char *dir, const char *name, double delay_s,
                               bool wait)
{
    struct inode_state *s = ctx;
    if (!s->started)
        return;
    struct pending_forget *f = calloc(1, sizeof *f);
    struct forget_wait *w = wait ? calloc(1, sizeof *w) : NULL;
    if (!f || (wait && !w) || !(f->path = strdup(dir)) || !(f->name = strdup(name))) {
        if (f)
            free(f->path);
        free(f);
        free(w);
        return; /* the kernel's entry then lasts its VFS_KERNEL_CACHE_S */
    }
    f->due = vfs_mono_now() + delay_s;
    f->waiter = w;
    if (w)
        w->refs = 2;
    pending_add(s, f);
    if (!w)
        return;
    /* Bounded: should the kernel be slow to take the notice, the caller still returns. */
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += FORGET_WAIT_S;
    pthread_mutex_lock(&s->lock);
    while (!w->done && !s->stop)
        if (pthread_cond_timedwait(&s->forgotten, &s->lock, &until) != 0)
            break;
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last)
        free(w);
}

/* Drops the kernel's page cache of the file at path. Only from the expiry thread: the kernel
 * waits for the locks of pages that a pending READ of that file holds, and this thread holds no
 * request. */
static void forget_data(struct inode_state *s, const char *path)
{
    uint64_t id = nodes_resolve(s->nodes, path);
    int rc = id ? fuse_lowlevel_notify_inval_inode(s->se, id, 0, 0) : 0;
    if (rc != 0 && rc != -ENOENT)
        log_debug("kernel cache: cannot drop the data of %s: %s", path, strerror(-rc));
}

void vfs_forget_data(struct vfs *v, const char *path)
{
    struct inode_state *s = v->inodes;
    struct pending_forget *f = s && s->started ? calloc(1, sizeof *f) : NULL;
    if (!f || !(f->path = strdup(path))) {
        /* Nothing to tell (not mounted), or no memory: the next open drops it anyway. */
        free(f);
        return;
    }
    f->data = true;
    f->due = vfs_mono_now();
    pending_add(s, f);
}

/* Every EXPIRY_TICK_S: the listings that go stale before the next tick (taken a little early
 * rather than kept too long), and the delayed forgets that are due. */
static void *expiry_main(void *arg)
{
    struct vfs *v = arg;
    struct inode_state *s = v->inodes;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        struct pending_forget *due = NULL;
        double now = vfs_mono_now();
        for (struct pending_forget **p = &s->pending; *p;) {
            struct pending_forget *f = *p;
            if (f->due <= now) {
                *p = f->next;
                f->next = due;
                due = f;
            } else {
                p = &f->next;
            }
        }
        pthread_mutex_unlock(&s->lock);
        while (due) {
            struct pending_forget *next = due->next;
            if (due->data)
                forget_data(s, due->path);
            else if (due->name)
                forget_entry(s, due->path, due->name);
            else
                expire(s, INFINITY, due->path);
            if (due->waiter) {
                pthread_mutex_lock(&s->lock);
                due->waiter->done = true;
                bool last = --due->waiter->refs == 0;
                pthread_cond_broadcast(&s->forgotten);
                pthread_mutex_unlock(&s->lock);
                if (last)
                    free(due->waiter);
            }
            free(due->path);
            free(due->name);
            free(due);
            due = next;
        }
        expire(s, now + EXPIRY_TICK_S, NULL);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)(EXPIRY_TICK_S * 1e9);
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&s->lock);
        if (!s->stop)
            pthread_cond_timedwait(&s->wake, &s->lock, &until);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* vfs_kernel.stats (vfs_internal.h). */
static json_t *kernel_stats(void *ctx)
{
    struct inode_state *s = ctx;
    json_t *requests = json_object();
    for (int k = 0; k < OP_KINDS; k++)
        json_object_set_new(requests, op_names[k], json_integer((json_int_t)s->ops[k]));
    return json_pack("{s:o, s:I, s:I, s:b, s:b}", "requests", requests, "nodes",
                     (json_int_t)nodes_count(s->nodes), "listings_dropped",
                     (json_int_t)s->listings_dropped, "keeps_listings", s->keeps_listings,
                     "splices_reads", s->splices_reads);
}

int inode_ops_init(struct vfs *v)
{
    struct inode_state *s = calloc(1, sizeof *s);
    if (!s || !(s->nodes = nodes_new())) {
        free(s);
        return -ENOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_cond_init(&s->forgotten, &ca);
    pthread_condattr_destroy(&ca);
    v->inodes = s;
    v->kernel = (struct vfs_kernel){s, forget_listings, forget_entry_later, kernel_stats};
    return 0;
}

int inode_ops_start(struct vfs *v, struct fuse_session *se)
{
    struct inode_state *s = v->inodes;
    s->se = se;
    int rc = pthread_create(&s->expiry, NULL, expiry_main, v);
    s->started = rc == 0;
    return -rc;
}

void inode_ops_destroy(struct vfs *v)
{
    struct inode_state *s = v->inodes;
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->expiry, NULL);
    }
    while (s->listings) {
        struct listing *l = s->listings;
        s->listings = l->next;
        listing_free(l);
    }
    while (s->pending) {
        struct pending_forget *f = s->pending;
        s->pending = f->next;
        if (f->waiter && --f->waiter->refs == 0)
            free(f->waiter);
        free(f->path);
        free(f->name);
        free(f);
    }
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->forgotten);
    pthread_mutex_destroy(&s->lock);
    nodes_free(s->nodes);
    free(s);
    v->inodes = NULL;
    v->kernel = (struct vfs_kernel){0};
}
