/* instances_tree: /instances. Instance data changes by the second (players come and go), so
 * everything fetched here is fresh for INSTANCES_TTL_S at most, whatever cache_ttl says, and
 * the files are read from a snapshot taken at open. A listing costs one GET /auth/user (for
 * presence) and one GET /instances/recent per 100 locations; stat of an instance costs one GET
 * when it is not fresh, because its size is that of the JSON a read would return now. */
#include "vfs/instances_tree.h"

#include "log.h"
#include "remote/auth.h"
#include "remote/instance_request.h"
#include "remote/instances_api.h"
#include "remote/location.h"
#include "vfs/instance_names.h"
#include "vfs/json_write.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INSTANCES_TTL_S 5.0
#define RECENT_PAGES_MAX 10        /* 1000 recent locations is plenty for a listing */
#define REQUEST_MAX (64 * 1024)    /* a CreateInstanceRequest is a few hundred bytes */
#define SHORT_KNOWN_MAX 256        /* short names shown in /instances/s */
#define KEY_LEN (NAME_MAX + 1 + 8) /* a prefix and any name */

/* A name written through this mount that became an instance: a symlink until unmount. */
struct created_link {
    char *name;
    char *location;
};

struct request_handle;

struct instances_state {
    pthread_mutex_t lock;         /* everything below */
    pthread_mutex_t refresh_lock; /* one listing refresh at a time; never taken under lock */
    char **listed;                /* the server's part of the last listing: current + recent */
    size_t nlisted;
    double listed_at; /* monotonic; 0 = never */
    time_t listed_wall;
    char **created; /* locations created through this mount, oldest first */
    size_t ncreated;
    char **closed; /* locations removed with rm: hidden from listings */
    size_t nclosed;
    struct created_link *links;
    size_t nlinks;
    struct request_handle **pending; /* names open for writing a request */
    size_t npending;
    char *shorts[SHORT_KNOWN_MAX]; /* short names known to resolve, a ring */
    size_t nshorts, short_next;
};

/* What the metadata cache holds for us: "i:<location>" the pretty Instance JSON,
 * "is:<shortName>" the location it resolves to, "in:<location>" its shortName (a, may be NULL)
 * and secureName (b). err -ENOENT remembers absence. Freshness is ours (at), because the cache's
 * TTL is the one of Files. */
struct ival {
    atomic_int refs;
    double at;
    time_t wall;
    int err;
    char *a;
    size_t a_len;
    char *b;
};

/* ------------------------------------------------------------------------ small helpers */

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double instances_ttl(const struct vfs *v)
{
    return v->cfg.cache_ttl < INSTANCES_TTL_S ? v->cfg.cache_ttl : INSTANCES_TTL_S;
}

static void *ival_ref(void *p)
{
    atomic_fetch_add(&((struct ival *)p)->refs, 1);
    return p;
}

static void ival_unref(void *p)
{
    struct ival *iv = p;
    if (!iv || atomic_fetch_sub(&iv->refs, 1) != 1)
        return;
    free(iv->a);
    free(iv->b);
    free(iv);
}

static const struct cache_value_ops ival_ops = {ival_ref, ival_unref};

/* Takes a and b (malloc'd or NULL). */
static struct ival *ival_new(int err, char *a, size_t a_len, char *b)
{
    struct ival *iv = calloc(1, sizeof *iv);
    if (!iv) {
        free(a);
        free(b);
        return NULL;
    }
    atomic_init(&iv->refs, 1);
    iv->at = mono_now();
    iv->wall = time(NULL);
    iv->err = err;
    iv->a = a;
    iv->a_len = a_len;
    iv->b = b;
    return iv;
}

static void key_of(char *key, const char *prefix, const char *name)
{
    snprintf(key, KEY_LEN, "%s%s", prefix, name);
}

/* A fresh value under key, or NULL. */
static struct ival *ival_lookup(struct vfs *v, const char *key)
{
    void *val = NULL;
    if (cache_lookup(v->cache, key, &val) != CACHE_HIT)
        return NULL;
    struct ival *iv = val;
    if (mono_now() - iv->at >= instances_ttl(v)) {
        ival_unref(iv);
        return NULL;
    }
    cache_watch_note(iv->at + instances_ttl(v)); /* fresher than the cache's own ttl says */
    return iv;
}

/* Stores iv under key (the cache takes the reference). */
static void ival_store(struct vfs *v, const char *key, struct ival *iv)
{
    if (iv)
        cache_insert(v->cache, key, iv, &ival_ops);
}

static bool in_list(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* Appends a copy of s to a growable array; -ENOMEM. */
static int push_string(char ***list, size_t *n, const char *s)
{
    char **grown = realloc(*list, (*n + 2) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    *list = grown;
    grown[*n] = strdup(s);
    if (!grown[*n])
        return -ENOMEM;
    grown[++*n] = NULL;
    return 0;
}

static void remove_string(char **list, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(list[i], s) == 0) {
            free(list[i]);
            memmove(&list[i], &list[i + 1], (*n - i) * sizeof *list); /* with the NULL */
            (*n)--;
            return;
        }
    }
}

static struct created_link *find_link(struct instances_state *s, const char *name)
{
    for (size_t i = 0; i < s->nlinks; i++)
        if (strcmp(s->links[i].name, name) == 0)
            return &s->links[i];
    return NULL;
}

/* Remembers a short name that resolved, for the listing of /instances/s. Under s->lock. */
static void remember_short(struct instances_state *s, const char *name)
{
    for (size_t i = 0; i < s->nshorts; i++)
        if (strcmp(s->shorts[i], name) == 0)
            return;
    char *copy = strdup(name);
    if (!copy)
        return;
    if (s->nshorts < SHORT_KNOWN_MAX) {
        s->shorts[s->nshorts++] = copy;
        return;
    }
    free(s->shorts[s->short_next]);
    s->shorts[s->short_next] = copy;
    s->short_next = (s->short_next + 1) % SHORT_KNOWN_MAX;
}

/* ------------------------------------------------------------------ instances and names */

/* Caches an Instance the server just sent (from a GET, a lookup by short name, a create or a
 * close) under loc, or under its own "location" when loc is NULL, with the short names that
 * point at it. The name that was asked for wins, so the next stat of that name is free even if
 * the server spells the location differently (token order, say). Returns the pretty JSON (a
 * new reference, which stays usable with cache_ttl=0), or NULL when out of memory. */
/* Makes loc's shortName and secureName (either may be NULL) resolve without a request; with
 * show, they are listed in /instances/s too. */
static void store_short_names(struct vfs *v, const char *loc, const char *shrt, const char *secure,
                              bool show)
{
    const char *names[] = {shrt, secure};
    for (size_t i = 0; i < 2; i++) {
        if (!names[i] || !instances_api_short_name_ok(names[i]))
            continue;
        char key[KEY_LEN];
        char *l = strdup(loc);
        key_of(key, "is:", names[i]);
        ival_store(v, key, l ? ival_new(0, l, strlen(l), NULL) : NULL);
        if (show) {
            pthread_mutex_lock(&v->instances->lock);
            remember_short(v->instances, names[i]);
            pthread_mutex_unlock(&v->instances->lock);
        }
    }
}

static struct ival *learn_instance(struct vfs *v, json_t *inst, const char *loc)
{
    if (!loc)
        loc = json_string_value(json_object_get(inst, "location"));
    if (!loc || location_parse(loc, NULL) != 0)
        return NULL;
    char *text = json_dumps(inst, JSON_INDENT(2));
    size_t len = text ? strlen(text) : 0;
    char *full = text ? realloc(text, len + 2) : NULL;
    if (!full) {
        free(text);
        return NULL;
    }
    full[len++] = '\n';
    full[len] = '\0';
    char key[KEY_LEN];
    key_of(key, "i:", loc);
    struct ival *pretty = ival_new(0, full, len, NULL);
    if (pretty)
        ival_store(v, key, ival_ref(pretty));
    store_short_names(v, loc, json_string_value(json_object_get(inst, "shortName")),
                      json_string_value(json_object_get(inst, "secureName")), false);
    return pretty;
}

/* learn_instance() for callers that only want the cache filled. */
static void remember_instance(struct vfs *v, json_t *inst, const char *loc)
{
    ival_unref(learn_instance(v, inst, loc));
}

/* The Instance at loc as pretty JSON, from the cache or one GET. *out is a new reference. */
static int instance_get(struct vfs *v, const char *loc, struct ival **out)
{
    char key[KEY_LEN];
    key_of(key, "i:", loc);
    struct ival *iv = ival_lookup(v, key);
    if (!iv) {
        json_t *inst = NULL;
        int err = instances_api_get(v->http, loc, &inst);
        if (err == -ENOENT)
            ival_store(v, key, ival_new(-ENOENT, NULL, 0, NULL));
        if (err)
            return err;
        iv = learn_instance(v, inst, loc);
        json_decref(inst);
        if (!iv)
            return -ENOMEM;
    }
    int err = iv->err;
    if (err)
        ival_unref(iv);
    else
        *out = iv;
    return err;
}

/* The location a shortName or secureName stands for, from the cache or one GET. */
static int short_resolve(struct vfs *v, const char *name, struct ival **out)
{
    if (!instances_api_short_name_ok(name))
        return -ENOENT;
    char key[KEY_LEN];
    key_of(key, "is:", name);
    struct ival *iv = ival_lookup(v, key);
    if (!iv) {
        json_t *inst = NULL;
        int err = instances_api_get_by_short_name(v->http, name, &inst);
        const char *loc = json_string_value(json_object_get(inst, "location"));
        if (!err && (!loc || location_parse(loc, NULL) != 0)) {
            log_warn("GET /instances/s/%s: the Instance has no usable location", name);
            err = -EIO;
        }
        if (!err) {
            remember_instance(v, inst, NULL);
            char *l = strdup(loc);
            iv = l ? ival_new(0, l, strlen(l), NULL) : NULL;
            if (iv)
                ival_store(v, key, ival_ref(iv));
        } else if (err == -ENOENT) {
            ival_store(v, key, ival_new(-ENOENT, NULL, 0, NULL));
        }
        json_decref(inst);
        if (err)
            return err;
        if (!iv)
            return -ENOMEM;
    }
    if (iv->err) {
        int err = iv->err;
        ival_unref(iv);
        return err;
    }
    pthread_mutex_lock(&v->instances->lock);
    remember_short(v->instances, name);
    pthread_mutex_unlock(&v->instances->lock);
    *out = iv;
    return 0;
}

/* shortName (a, NULL when none) and secureName (b) of loc, from the cache or one GET. */
static int names_get(struct vfs *v, const char *loc, struct ival **out)
{
    char key[KEY_LEN];
    key_of(key, "in:", loc);
    struct ival *iv = ival_lookup(v, key);
    if (!iv) {
        char *shrt = NULL, *secure = NULL;
        int err = instances_api_short_name(v->http, loc, &shrt, &secure);
        if (err == -ENOENT)
            ival_store(v, key, ival_new(-ENOENT, NULL, 0, NULL));
        if (err)
            return err;
        iv = ival_new(0, shrt, shrt ? strlen(shrt) : 0, secure);
        if (!iv)
            return -ENOMEM;
        ival_store(v, key, ival_ref(iv));
        /* Both names now resolve without a request, and show in /instances/s. */
        store_short_names(v, loc, iv->a, iv->b, true);
    }
    if (iv->err) {
        int err = iv->err;
        ival_unref(iv);
        return err;
    }
    *out = iv;
    return 0;
}

/* ------------------------------------------------------------------------------ listing */

/* Refreshes the server's part of the listing when it is older than the TTL: where the user is
 * (GET /auth/user) and the recent locations (GET /instances/recent, paged). Each source that
 * fails is left out with a log line and the others stay (VRChat answers recent with a "not
 * implemented" 404 at times); only running out of memory fails the listing. */
static int listing_refresh(struct vfs *v)
{
    struct instances_state *s = v->instances;
    pthread_mutex_lock(&s->refresh_lock);
    pthread_mutex_lock(&s->lock);
    bool fresh = s->listed_at > 0 && mono_now() - s->listed_at < instances_ttl(v);
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
            err = push_string(&recent, &nrecent, locs[i]);
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
        s->listed_at = mono_now();
        s->listed_wall = time(NULL);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&s->refresh_lock);
    return err;
}

/* ----------------------------------------------------------- writing a new instance */

/* An open new name in /instances collecting a CreateInstanceRequest; flush sends it. */
struct request_handle {
    struct json_write jw; /* first; its lock is taken before s->lock; done: created */
    atomic_int refs;
    char *name;
};

static void request_unref(struct request_handle *h)
{
    if (atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    json_write_fini(&h->jw);
    free(h->name);
    free(h);
}

/* Checks and sends what was written; 0 once the instance exists. Errors: -EINVAL for JSON
 * that is not a usable request (nothing sent) and for a request the server refuses (4xx), else
 * the transport's errno. */
static int request_submit(struct request_handle *h)
{
    struct vfs *v = h->jw.v;
    char why[256];
    json_t *req = instance_request_parse(h->jw.buf ? h->jw.buf : "", h->jw.len, v->cfg.user_id, why,
                                         sizeof why);
    if (!req) {
        log_warn("instances: %s is not a CreateInstanceRequest, nothing sent: %s", h->name, why);
        return -EINVAL;
    }
    json_t *inst = NULL;
    long status = 0;
    char message[256];
    int err = instances_api_create(v->http, req, &inst, &status, message);
    json_decref(req);
    if (err) {
        /* The http layer has logged the server's message; this says which file it was for.
         * A 4xx other than "not logged in", "no such world" (ENOENT, as the errno table says)
         * and "slow down" means the request was refused. */
        if (status >= 400 && status < 500 && status != 401 && status != 404 && status != 429)
            err = -EINVAL;
        log_warn("instances: %s: no instance created (HTTP %ld): %s", h->name, status,
                 strerror(-err));
        return err;
    }
    const char *loc = json_string_value(json_object_get(inst, "location"));
    remember_instance(v, inst, NULL);
    struct instances_state *s = v->instances;
    pthread_mutex_lock(&s->lock);
    struct created_link *link = find_link(s, h->name);
    struct created_link *grown = link ? NULL : realloc(s->links, (s->nlinks + 1) * sizeof *grown);
    char *lname = link ? NULL : strdup(h->name);
    char *lloc = strdup(loc);
    if (link && lloc) {
        free(link->location);
        link->location = lloc;
    } else if (grown && lname && lloc) {
        s->links = grown;
        s->links[s->nlinks++] = (struct created_link){lname, lloc};
    } else {
        if (grown)
            s->links = grown;
        free(lname);
        free(lloc);
        err = -ENOMEM;
    }
    if (!in_list(s->created, s->ncreated, loc) && push_string(&s->created, &s->ncreated, loc))
        err = -ENOMEM;
    remove_string(s->closed, &s->nclosed, loc);
    pthread_mutex_unlock(&s->lock);
    /* The new location, and the name as its link, in the kernel's listing; the name itself is
     * a link by the time close() returns. */
    vfs_forget_listings(v, "/instances", 0);
    vfs_forget_entry(v, "/instances", h->name, 0, true);
    /* The instance exists either way; an error here would only invite a duplicate. */
    if (err)
        log_error("instances: %s became %s, but vrcfs ran out of memory remembering it", h->name,
                  loc);
    else
        log_info("instances: %s created %s", h->name, loc);
    json_decref(inst);
    return 0;
}

/* close() of every descriptor comes here. Only content written since the last flush is sent:
 * a shell closes its own copy of a redirected descriptor before the command writes anything.
 * A file that was never written is no request either (touch): EINVAL, quietly, since that
 * first close of a shell redirection ends here too and is not worth a warning. */
static int request_flush(struct vfs_handle *base)
{
    struct request_handle *h = (struct request_handle *)base;
    pthread_mutex_lock(&h->jw.lock);
    if (h->jw.dirty && !h->jw.done) {
        h->jw.dirty = false;
        h->jw.last_err = request_submit(h);
        h->jw.done = h->jw.last_err == 0;
    }
    int err = h->jw.last_err;
    if (!err && !h->jw.done && h->jw.len == 0) {
        log_debug("instances: %s closed before anything was written, nothing sent", h->name);
        err = -EINVAL;
    }
    pthread_mutex_unlock(&h->jw.lock);
    return err;
}

static void request_release(struct vfs_handle *base)
{
    struct request_handle *h = (struct request_handle *)base;
    struct instances_state *s = h->jw.v->instances;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->npending; i++) {
        if (s->pending[i] == h) {
            memmove(&s->pending[i], &s->pending[i + 1], (s->npending - i - 1) * sizeof h);
            s->npending--;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    request_unref(h);
}

static const struct vfs_handle_ops request_ops = {
    .read = json_write_read,
    .write = json_write_write,
    .flush = request_flush,
    .fsync = request_flush,
    .truncate = json_write_truncate,
    .getattr = json_write_getattr,
    .release = request_release,
};

/* The open request under name, with a reference, or NULL. Under s->lock. */
static struct request_handle *find_pending(struct instances_state *s, const char *name)
{
    for (size_t i = 0; i < s->npending; i++) {
        if (strcmp(s->pending[i]->name, name) == 0) {
            atomic_fetch_add(&s->pending[i]->refs, 1);
            return s->pending[i];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------------ the API */

static int instances_init(struct vfs *v)
{
    struct instances_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->refresh_lock, NULL);
    v->instances = s;
    return 0;
}

static void instances_destroy(struct vfs *v)
{
    struct instances_state *s = v->instances;
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
    v->instances = NULL;
}

/* Size and time of an Instance file from a fresh cached copy, without a request. */
static void instance_stat_cached(struct vfs *v, const char *loc, struct stat *st)
{
    char key[KEY_LEN];
    key_of(key, "i:", loc);
    struct ival *iv = ival_lookup(v, key);
    pthread_mutex_lock(&v->instances->lock);
    time_t when = v->instances->listed_wall;
    pthread_mutex_unlock(&v->instances->lock);
    if (iv && !iv->err)
        vfs_stat_file(v, st, (off_t)iv->a_len, 0444, iv->wall);
    else
        vfs_stat_file(v, st, 0, 0444, when);
    ival_unref(iv);
}

static int instances_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st)
{
    struct instances_state *s = v->instances;
    switch (p->kind) {
    case VP_INSTANCES:
    case VP_SHORT_DIR:
        vfs_stat_dir(v, st, v->mount_time);
        return 0;
    case VP_INSTANCE_JSON: {
        /* The size is that of the JSON a read returns now: cp, rsync and tar copy it whole. */
        struct ival *iv = NULL;
        int err = instance_get(v, p->name, &iv);
        if (err)
            return err;
        vfs_stat_file(v, st, (off_t)iv->a_len, 0444, iv->wall);
        ival_unref(iv);
        return 0;
    }
    case VP_INSTANCE_NAME: {
        pthread_mutex_lock(&s->lock);
        struct created_link *link = find_link(s, p->name);
        struct request_handle *h = link ? NULL : find_pending(s, p->name);
        if (link)
            vfs_stat_link(v, st, strlen(link->location) + 5, 0);
        pthread_mutex_unlock(&s->lock);
        if (h) {
            json_write_getattr(&h->jw.base, st);
            request_unref(h);
        }
        return link || h ? 0 : -ENOENT;
    }
    case VP_SHORT_LINK: {
        struct ival *iv = NULL;
        int err = short_resolve(v, p->name, &iv);
        if (err)
            return err;
        vfs_stat_link(v, st, 3 + iv->a_len + 5, iv->wall);
        ival_unref(iv);
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
    struct instances_state *s = v->instances;
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
        err = push_string(&hidden, &nhidden, s->closed[i]);
    /* Names are copied out so that filler, which may block on the kernel, runs unlocked. */
    char **names = NULL;
    size_t nnames = 0;
    for (size_t i = 0; i < s->nlinks && !err; i++)
        err = push_string(&names, &nnames, s->links[i].name);
    for (size_t i = 0; i < s->npending && !err; i++)
        if (!find_link(s, s->pending[i]->name))
            err = push_string(&names, &nnames, s->pending[i]->name);
    pthread_mutex_unlock(&s->lock);
    if (!all)
        err = -ENOMEM;
    for (size_t i = 0; !err && i < n; i++) {
        if (in_list(hidden, nhidden, all[i]))
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
    struct instances_state *s = v->instances;
    char **names = NULL;
    size_t n = 0;
    int err = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nshorts && !err; i++)
        err = push_string(&names, &n, s->shorts[i]);
    pthread_mutex_unlock(&s->lock);
    /* Only names whose resolution is still cached: an old one would cost a request each. */
    for (size_t i = 0; !err && i < n; i++) {
        char key[KEY_LEN];
        key_of(key, "is:", names[i]);
        struct ival *iv = ival_lookup(v, key);
        if (iv && !iv->err) {
            struct stat st;
            vfs_stat_link(v, &st, 3 + iv->a_len + 5, iv->wall);
            fill_entry(buf, filler, names[i], &st);
        }
        ival_unref(iv);
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
    struct instances_state *s = v->instances;
    char target[NAME_MAX + 8];
    if (p->kind == VP_SHORT_LINK) {
        struct ival *iv = NULL;
        int err = short_resolve(v, p->name, &iv);
        if (err)
            return err;
        snprintf(target, sizeof target, "../%s.json", iv->a);
        ival_unref(iv);
        return copy_link(buf, size, target);
    }
    if (p->kind != VP_INSTANCE_NAME)
        return -EINVAL;
    pthread_mutex_lock(&s->lock);
    struct created_link *link = find_link(s, p->name);
    if (link)
        snprintf(target, sizeof target, "%s.json", link->location);
    pthread_mutex_unlock(&s->lock);
    return link ? copy_link(buf, size, target) : -EINVAL;
}

static int instances_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi)
{
    struct instances_state *s = v->instances;
    if (p->kind == VP_INSTANCE_NAME) {
        pthread_mutex_lock(&s->lock);
        struct request_handle *h = find_pending(s, p->name);
        bool link = find_link(s, p->name) != NULL;
        pthread_mutex_unlock(&s->lock);
        if (h)
            request_unref(h);
        /* One writer per new name: two would race to create two instances. */
        return h ? -EBUSY : link ? -ELOOP : -ENOENT;
    }
    if (p->kind != VP_INSTANCE_JSON)
        return -EISDIR;
    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EACCES;
    struct ival *iv = NULL;
    int err = instance_get(v, p->name, &iv);
    if (err)
        return err;
    char *copy = malloc(iv->a_len + 1);
    if (copy)
        memcpy(copy, iv->a, iv->a_len + 1);
    size_t len = iv->a_len;
    time_t wall = iv->wall;
    ival_unref(iv);
    struct vfs_handle *h = copy ? vfs_buffer_file_new(v, copy, len, wall) : NULL;
    if (!h)
        return -ENOMEM;
    fi->keep_cache = 0;
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

static int instances_create(struct vfs *v, const struct vfs_path *p, mode_t mode,
                            struct fuse_file_info *fi)
{
    (void)mode;
    struct instances_state *s = v->instances;
    if (p->kind != VP_INSTANCE_NAME)
        return -EACCES; /* a location's file is the server's, never written */
    if (!instance_names_is_request_name(p->name)) {
        log_reason("only a new <name>.json makes an instance; nothing else is stored");
        return -EPERM;
    }
    struct request_handle *h = calloc(1, sizeof *h);
    char *name = strdup(p->name);
    if (!h || !name) {
        free(h);
        free(name);
        return -ENOMEM;
    }
    json_write_init(&h->jw, &request_ops, v, REQUEST_MAX);
    atomic_init(&h->refs, 1);
    h->name = name;
    int err = 0;
    pthread_mutex_lock(&s->lock);
    struct request_handle *other = find_pending(s, p->name);
    if (other || find_link(s, p->name)) {
        err = -EEXIST;
    } else {
        struct request_handle **grown = realloc(s->pending, (s->npending + 1) * sizeof *grown);
        if (grown) {
            s->pending = grown;
            s->pending[s->npending++] = h;
        } else {
            err = -ENOMEM;
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (other)
        request_unref(other);
    if (err) {
        request_unref(h);
        return err;
    }
    fi->direct_io = 1;
    fi->fh = (uint64_t)(uintptr_t)&h->jw.base;
    return 0;
}

static int instances_truncate(struct vfs *v, const struct vfs_path *p, off_t size)
{
    struct instances_state *s = v->instances;
    if (p->kind != VP_INSTANCE_NAME)
        return -EACCES;
    pthread_mutex_lock(&s->lock);
    struct request_handle *h = find_pending(s, p->name);
    pthread_mutex_unlock(&s->lock);
    if (!h)
        return -ENOENT;
    int err = json_write_truncate(&h->jw.base, size);
    request_unref(h);
    return err;
}

/* DELETE the instance (how NULL: close it now, softly) and keep the answer it gives, or forget
 * what was cached of it when there is none. */
static int close_instance(struct vfs *v, const char *location,
                          const struct instances_api_close *how)
{
    json_t *inst = NULL;
    int err = instances_api_close(v->http, location, how, &inst);
    if (!err && inst) {
        remember_instance(v, inst, location);
    } else {
        char key[KEY_LEN];
        key_of(key, "i:", location);
        cache_remove(v->cache, key);
    }
    json_decref(inst);
    vfs_forget_listings(v, "/instances", 0);
    return err;
}

static int instances_unlink(struct vfs *v, const struct vfs_path *p)
{
    struct instances_state *s = v->instances;
    if (p->kind == VP_INSTANCE_NAME) {
        /* A created name is only a local link: removing it leaves the instance alone. */
        pthread_mutex_lock(&s->lock);
        struct created_link *link = find_link(s, p->name);
        struct request_handle *h = link ? NULL : find_pending(s, p->name);
        if (link) {
            free(link->name);
            free(link->location);
            *link = s->links[--s->nlinks];
        }
        pthread_mutex_unlock(&s->lock);
        if (h)
            request_unref(h);
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
    if (!in_list(s->closed, s->nclosed, p->name))
        err = push_string(&s->closed, &s->nclosed, p->name);
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
    int err = names_get(v, p->name, &iv);
    if (err)
        return err;
    const char *val = x == IX_SHORT_NAME ? iv->a : iv->b;
    err = val ? xattr_value(val, strlen(val), value, size) : -ENODATA;
    ival_unref(iv);
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
    .create = instances_create,
    .truncate = instances_truncate,
    .unlink = instances_unlink,
    .getxattr = instances_getxattr,
    .setxattr = instances_setxattr,
    .listxattr = instances_listxattr,
    .removexattr = instances_removexattr,
};
