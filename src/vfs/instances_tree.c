/* instances_tree: /instances. Instance data changes by the second (players come and go), so
 * everything fetched here is fresh for INSTANCES_TTL_S at most, whatever cache_ttl says, and
 * the files are read from a snapshot taken at open. A listing costs one GET /auth/user (for
 * presence) and one GET /instances/recent per 100 locations; stat of an instance costs one GET
 * when it is not fresh, because its size is that of the JSON a read would return now. This
 * file holds the subtree's ops, the listing and the mount's state (instances_internal.h); what
 * the server said lives in instance_cache.c, new names written as requests in
 * instance_create.c. */
#include "vfs/instances_tree.h"

#include "log.h"
#include "remote/auth.h"
#include "remote/instances_api.h"
#include "remote/location.h"
#include "vfs/instance_cache.h"
#include "vfs/instance_create.h"
#include "vfs/instance_names.h"
#include "vfs/instances_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INSTANCES_TTL_S 5.0
#define RECENT_PAGES_MAX 10 /* 1000 recent locations is plenty for a listing */

/* ------------------------------------------------------------------------ small helpers */

struct instances_state *instances_state_of(struct vfs *v)
{
    return *subtree_state(v, &instances_subtree);
}

double instances_ttl(const struct vfs *v)
{
    return v->cfg.cache_ttl < INSTANCES_TTL_S ? v->cfg.cache_ttl : INSTANCES_TTL_S;
}

struct created_link *instances_find_link(struct instances_state *s, const char *name)
{
    for (size_t i = 0; i < s->nlinks; i++)
        if (strcmp(s->links[i].name, name) == 0)
            return &s->links[i];
    return NULL;
}

/* ------------------------------------------------------------------------------ listing */

/* Refreshes the server's part of the listing when it is older than the TTL: where the user is
 * (GET /auth/user) and the recent locations (GET /instances/recent, paged). Each source that
 * fails is left out with a log line and the others stay (VRChat answers recent with a "not
 * implemented" 404 at times); only running out of memory fails the listing. */
static int listing_refresh(struct vfs *v)
{
    struct instances_state *s = instances_state_of(v);
    pthread_mutex_lock(&s->refresh_lock);
    pthread_mutex_lock(&s->lock);
    bool fresh = s->listed_at > 0 && vfs_mono_now() - s->listed_at < instances_ttl(v);
    pthread_mutex_unlock(&s->lock);
    if (fresh) {
        pthread_mutex_unlock(&s->refresh_lock);
        return 0;
    }
    json_t *user = NULL;
    char current[LOCATION_MAX];
    int user_err = auth_current_user(v->http, &user);
    bool have_current = !user_err && instance_names_presence(user, current, sizeof current) == 0;
    json_decref(user);
    if (user_err)
        log_warn("instances: /instances leaves out where you are: GET /auth/user failed (%s)",
                 strerror(-user_err));
    char **recent = NULL;
    size_t nrecent = 0;
    int err = 0, recent_err = 0;
    for (int page = 0; !err && page < RECENT_PAGES_MAX; page++) {
        char **locs = NULL;
        size_t nlocs = 0, count = 0;
        recent_err = instances_api_recent_page(v->http, page * INSTANCES_RECENT_PAGE_MAX,
                                               INSTANCES_RECENT_PAGE_MAX, &locs, &nlocs, &count);
        for (size_t i = 0; !err && i < nlocs; i++)
            err = instance_names_list_push(&recent, &nrecent, locs[i]);
        instances_api_free_strings(locs);
        /* Fewer than asked ends the list; more than asked is a server that ignores paging. */
        if (recent_err || count != INSTANCES_RECENT_PAGE_MAX)
            break;
    }
    if (recent_err)
        log_warn("instances: /instances leaves out %s recent instances: GET /instances/recent "
                 "failed (%s)",
                 nrecent ? "the rest of the" : "the", strerror(-recent_err));
    size_t n = 0;
    char **merged = NULL;
    if (!err) {
        merged = instance_names_merge(have_current ? current : NULL, recent, nrecent, NULL, 0, &n);
        if (!merged)
            err = -ENOMEM;
    }
    instances_api_free_strings(recent);
    if (!err) {
        pthread_mutex_lock(&s->lock);
        instances_api_free_strings(s->listed);
        s->listed = merged;
        s->nlisted = n;
        s->listed_at = vfs_mono_now();
        s->listed_wall = time(NULL);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&s->refresh_lock);
    return err;
}

/* ------------------------------------------------------------------------------ the API */

static int instances_init(struct vfs *v)
{
    struct instances_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->refresh_lock, NULL);
    *subtree_state(v, &instances_subtree) = s;
    return 0;
}

static void instances_destroy(struct vfs *v)
{
    struct instances_state *s = instances_state_of(v);
    if (!s)
        return;
    instances_api_free_strings(s->listed);
    instances_api_free_strings(s->created);
    instances_api_free_strings(s->closed);
    for (size_t i = 0; i < s->nlinks; i++) {
        free(s->links[i].name);
        free(s->links[i].location);
    }
    free(s->links);
    /* Handles still open at unmount are released by FUSE before this; any left are leaked
     * rather than freed under a thread that may still use them. */
    free(s->pending);
    for (size_t i = 0; i < s->nshorts; i++)
        free(s->shorts[i]);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->refresh_lock);
    free(s);
    *subtree_state(v, &instances_subtree) = NULL;
}

/* Size and time of an Instance file from a fresh cached copy, without a request. */
static void instance_stat_cached(struct vfs *v, const char *loc, struct stat *st)
{
    struct ival *iv = instance_cache_fresh(v, INSTANCE_CACHE_JSON, loc);
    struct instances_state *s = instances_state_of(v);
    pthread_mutex_lock(&s->lock);
    time_t when = s->listed_wall;
    pthread_mutex_unlock(&s->lock);
    if (iv && !iv->err)
        vfs_stat_file(v, st, (off_t)iv->a_len, 0444, iv->wall);
    else
        vfs_stat_file(v, st, 0, 0444, when);
    instance_cache_unref(iv);
}

static int instances_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st)
{
    struct instances_state *s = instances_state_of(v);
    switch (p->kind) {
    case VP_INSTANCES:
    case VP_SHORT_DIR:
        vfs_stat_dir(v, st, v->mount_time);
        return 0;
    case VP_INSTANCE_JSON: {
        /* The size is that of the JSON a read returns now: cp, rsync and tar copy it whole. */
        struct ival *iv = NULL;
        int err = instance_cache_get(v, p->name, &iv);
        if (err)
            return err;
        vfs_stat_file(v, st, (off_t)iv->a_len, 0444, iv->wall);
        instance_cache_unref(iv);
        return 0;
    }
    case VP_INSTANCE_NAME: {
        pthread_mutex_lock(&s->lock);
        struct created_link *link = instances_find_link(s, p->name);
        struct request_handle *h = link ? NULL : instance_create_find(s, p->name);
        if (link)
            vfs_stat_link(v, st, strlen(link->location) + 5, 0);
        pthread_mutex_unlock(&s->lock);
        if (h) {
            json_write_getattr(&h->jw.base, st);
            instance_create_put(h);
        }
        return link || h ? 0 : -ENOENT;
    }
    case VP_SHORT_LINK: {
        struct ival *iv = NULL;
        int err = instance_cache_resolve_short(v, p->name, &iv);
        if (err)
            return err;
        vfs_stat_link(v, st, 3 + iv->a_len + 5, iv->wall);
        instance_cache_unref(iv);
        return 0;
    }
    default:
        return -ENOENT;
    }
}

static void fill_entry(void *buf, fuse_fill_dir_t filler, const char *name, struct stat *st)
{
    filler(buf, name, st, 0, FUSE_FILL_DIR_PLUS);
}

static int readdir_instances(struct vfs *v, void *buf, fuse_fill_dir_t filler)
{
    struct instances_state *s = instances_state_of(v);
    int err = listing_refresh(v);
    if (err)
        return err;
    struct stat st;
    vfs_stat_dir(v, &st, v->mount_time);
    fill_entry(buf, filler, "s", &st);
    pthread_mutex_lock(&s->lock);
    size_t n = 0;
    char **all = instance_names_merge(NULL, s->listed, s->nlisted, s->created, s->ncreated, &n);
    char **hidden = NULL;
    size_t nhidden = 0;
    for (size_t i = 0; i < s->nclosed && !err; i++)
        err = instance_names_list_push(&hidden, &nhidden, s->closed[i]);
    /* Names are copied out so that filler, which may block on the kernel, runs unlocked. */
    char **names = NULL;
    size_t nnames = 0;
    for (size_t i = 0; i < s->nlinks && !err; i++)
        err = instance_names_list_push(&names, &nnames, s->links[i].name);
    for (size_t i = 0; i < s->npending && !err; i++)
        if (!instances_find_link(s, s->pending[i]->name))
            err = instance_names_list_push(&names, &nnames, s->pending[i]->name);
    pthread_mutex_unlock(&s->lock);
    if (!all)
        err = -ENOMEM;
    for (size_t i = 0; !err && i < n; i++) {
        if (instance_names_list_has(hidden, nhidden, all[i]))
            continue;
        char name[NAME_MAX + 1];
        snprintf(name, sizeof name, "%s.json", all[i]);
        instance_stat_cached(v, all[i], &st);
        fill_entry(buf, filler, name, &st);
    }
    for (size_t i = 0; !err && i < nnames; i++) {
        struct vfs_path np = {.kind = VP_INSTANCE_NAME};
        snprintf(np.name, sizeof np.name, "%s", names[i]);
        if (instances_getattr(v, &np, &st) == 0)
            fill_entry(buf, filler, names[i], &st);
    }
    instances_api_free_strings(all);
    instances_api_free_strings(hidden);
    instances_api_free_strings(names);
    return err;
}

static int readdir_short(struct vfs *v, void *buf, fuse_fill_dir_t filler)
{
    struct instances_state *s = instances_state_of(v);
    char **names = NULL;
    size_t n = 0;
    int err = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nshorts && !err; i++)
        err = instance_names_list_push(&names, &n, s->shorts[i]);
    pthread_mutex_unlock(&s->lock);
    /* Only names whose resolution is still cached: an old one would cost a request each. */
    for (size_t i = 0; !err && i < n; i++) {
        struct ival *iv = instance_cache_fresh(v, INSTANCE_CACHE_SHORT, names[i]);
        if (iv && !iv->err) {
            struct stat st;
            vfs_stat_link(v, &st, 3 + iv->a_len + 5, iv->wall);
            fill_entry(buf, filler, names[i], &st);
        }
        instance_cache_unref(iv);
    }
    instances_api_free_strings(names);
    return err;
}

static int instances_readdir(struct vfs *v, const struct vfs_path *p, void *buf,
                             fuse_fill_dir_t filler)
{
    if (p->kind == VP_INSTANCES)
        return readdir_instances(v, buf, filler);
    if (p->kind == VP_SHORT_DIR)
        return readdir_short(v, buf, filler);
    return -ENOTDIR;
}

/* Copies target into a readlink buffer of size bytes, cut short if needed, NUL-terminated. */
static int copy_link(char *buf, size_t size, const char *target)
{
    if (size == 0)
        return -EINVAL;
    snprintf(buf, size, "%s", target);
    return 0;
}

static int instances_readlink(struct vfs *v, const struct vfs_path *p, char *buf, size_t size)
{
    struct instances_state *s = instances_state_of(v);
    char target[NAME_MAX + 8];
    if (p->kind == VP_SHORT_LINK) {
        struct ival *iv = NULL;
        int err = instance_cache_resolve_short(v, p->name, &iv);
        if (err)
            return err;
        snprintf(target, sizeof target, "../%s.json", iv->a);
        instance_cache_unref(iv);
        return copy_link(buf, size, target);
    }
    if (p->kind != VP_INSTANCE_NAME)
        return -EINVAL;
    pthread_mutex_lock(&s->lock);
    struct created_link *link = instances_find_link(s, p->name);
    if (link)
        snprintf(target, sizeof target, "%s.json", link->location);
    pthread_mutex_unlock(&s->lock);
    return link ? copy_link(buf, size, target) : -EINVAL;
}

static int instances_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi)
{
    struct instances_state *s = instances_state_of(v);
    if (p->kind == VP_INSTANCE_NAME) {
        pthread_mutex_lock(&s->lock);
        struct request_handle *h = instance_create_find(s, p->name);
        bool link = instances_find_link(s, p->name) != NULL;
        pthread_mutex_unlock(&s->lock);
        if (h)
            instance_create_put(h);
        /* One writer per new name: two would race to create two instances. */
        return h ? -EBUSY : link ? -ELOOP : -ENOENT;
    }
    if (p->kind != VP_INSTANCE_JSON)
        return -EISDIR;
    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EACCES;
    struct ival *iv = NULL;
    int err = instance_cache_get(v, p->name, &iv);
    if (err)
        return err;
    char *copy = malloc(iv->a_len + 1);
    if (copy)
        memcpy(copy, iv->a, iv->a_len + 1);
    size_t len = iv->a_len;
    time_t wall = iv->wall;
    instance_cache_unref(iv);
    struct vfs_handle *h = copy ? vfs_buffer_file_new(v, copy, len, wall) : NULL;
    if (!h)
        return -ENOMEM;
    fi->keep_cache = 0;
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

/* DELETE the instance (how NULL: close it now, softly) and keep the answer it gives, or forget
 * what was cached of it when there is none. */
static int close_instance(struct vfs *v, const char *location,
                          const struct instances_api_close *how)
{
    json_t *inst = NULL;
    int err = instances_api_close(v->http, location, how, &inst);
    if (!err && inst) {
        instance_cache_learn(v, inst, location);
    } else {
        instance_cache_forget(v, location);
    }
    json_decref(inst);
    vfs_forget_listings(v, "/instances", 0);
    return err;
}

static int instances_unlink(struct vfs *v, const struct vfs_path *p)
{
    struct instances_state *s = instances_state_of(v);
    if (p->kind == VP_INSTANCE_NAME) {
        /* A created name is only a local link: removing it leaves the instance alone. */
        pthread_mutex_lock(&s->lock);
        struct created_link *link = instances_find_link(s, p->name);
        struct request_handle *h = link ? NULL : instance_create_find(s, p->name);
        if (link) {
            free(link->name);
            free(link->location);
            *link = s->links[--s->nlinks];
        }
        pthread_mutex_unlock(&s->lock);
        if (h)
            instance_create_put(h);
        return link ? 0 : h ? -EBUSY : -ENOENT;
    }
    if (p->kind != VP_INSTANCE_JSON) {
        log_reason(
            "the links in s/ follow the instances; rm /instances/<location>.json closes one");
        return -EPERM;
    }
    int err = close_instance(v, p->name, NULL);
    if (err)
        return err;
    /* The instance still exists (closed) and can be read by name; it leaves the listing. */
    pthread_mutex_lock(&s->lock);
    if (!instance_names_list_has(s->closed, s->nclosed, p->name))
        err = instance_names_list_push(&s->closed, &s->nclosed, p->name);
    pthread_mutex_unlock(&s->lock);
    log_info("instances: closed %s", p->name);
    return err;
}

/* Copies a value into a getxattr buffer: size 0 asks for the length. */
static int xattr_value(const char *val, size_t len, char *out, size_t size)
{
    if (size == 0)
        return (int)len;
    if (size < len)
        return -ERANGE;
    memcpy(out, val, len);
    return (int)len;
}

static int instances_getxattr(struct vfs *v, const struct vfs_path *p, const char *name,
                              char *value, size_t size)
{
    if (p->kind != VP_INSTANCE_JSON)
        return -ENODATA;
    enum instance_xattr x = instance_names_xattr(name);
    if (x == IX_INVITE || x == IX_CLOSE)
        return xattr_value("", 0, value, size); /* controls: set to act, nothing to read */
    if (x != IX_SHORT_NAME && x != IX_SECURE_NAME)
        return -ENODATA;
    struct ival *iv = NULL;
    int err = instance_cache_names(v, p->name, &iv);
    if (err)
        return err;
    const char *val = x == IX_SHORT_NAME ? iv->a : iv->b;
    err = val ? xattr_value(val, strlen(val), value, size) : -ENODATA;
    instance_cache_unref(iv);
    return err;
}

static int instances_setxattr(struct vfs *v, const struct vfs_path *p, const char *name,
                              const char *value, size_t size, int flags)
{
    (void)flags; /* the controls always exist; create/replace make no difference */
    if (p->kind != VP_INSTANCE_JSON)
        return -ENOTSUP;
    enum instance_xattr x = instance_names_xattr(name);
    if (x == IX_SHORT_NAME || x == IX_SECURE_NAME) {
        log_reason("%s is read-only: VRChat chooses it", name);
        return -EPERM;
    }
    if (x == IX_INVITE) {
        int err = instances_api_invite_self(v->http, p->name);
        if (!err)
            log_info("instances: invited you to %s", p->name);
        return err;
    }
    if (x != IX_CLOSE)
        return -ENOTSUP;
    char when[48];
    struct instances_api_close how;
    if (instance_names_close_value(value, size, when, sizeof when, &how) != 0) {
        log_warn("instances: %s: user.vrchat.close takes soft, hard or an ISO 8601 time", p->name);
        return -EINVAL;
    }
    int err = close_instance(v, p->name, &how);
    if (!err)
        log_info("instances: closed %s (%s%s%s)", p->name, how.hard ? "hard" : "soft",
                 how.closed_at ? " at " : "", how.closed_at ? how.closed_at : "");
    return err;
}

static int instances_listxattr(struct vfs *v, const struct vfs_path *p, char *list, size_t size)
{
    (void)v;
    if (p->kind != VP_INSTANCE_JSON)
        return 0;
    return instance_names_xattr_list(list, size);
}

/* The user.vrchat.* attributes are actions and facts of the server: none can be removed. */
static int instances_removexattr(struct vfs *v, const struct vfs_path *p, const char *name)
{
    (void)v;
    (void)name;
    return p->kind == VP_INSTANCE_JSON ? -ENOTSUP : -ENODATA;
}

/* An instance's size is that of what a read returns now: the kernel asks each time. */
static double instances_kernel_ttl(const struct vfs *v, const struct vfs_path *p)
{
    (void)v;
    return p->kind == VP_INSTANCE_JSON ? 0 : VFS_KERNEL_CACHE_S;
}

static double instances_listing_ttl(const struct vfs *v, const struct vfs_path *p)
{
    (void)p;
    return instances_ttl(v);
}

const struct subtree_ops instances_subtree = {
    .name = "instances",
    .parse = vfs_path_parse_instances,
    .init = instances_init,
    .destroy = instances_destroy,
    .kernel_ttl = instances_kernel_ttl,
    .listing_ttl = instances_listing_ttl,
    .getattr = instances_getattr,
    .readdir = instances_readdir,
    .readlink = instances_readlink,
    .open = instances_open,
    .create = instance_create_new,
    .truncate = instance_create_truncate,
    .unlink = instances_unlink,
    .getxattr = instances_getxattr,
    .setxattr = instances_setxattr,
    .listxattr = instances_listxattr,
    .removexattr = instances_removexattr,
};
