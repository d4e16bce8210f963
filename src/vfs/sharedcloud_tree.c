/* sharedcloud_tree: /instances of a sharedcloud.io mount (docs/SEMANTICS.md, sharedcloud.io).
 * Everything is answered from one list of the account's instances, fetched once per listing and
 * kept for cache_ttl, so that no entry costs a request of its own; a file whose list has gone stale
 * is fetched alone. A write is collected in memory and sent when the file is closed: to a new
 * <name>.json it is a POST, to <uuid>.json a PATCH of exactly the fields written. What could not be
 * sent is kept on disk under cache_dir and its path logged. */
#include "vfs/sharedcloud_tree.h"

#include "log.h"
#include "remote/sharedcloud_api.h"
#include "vfs/json_write.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SC_WRITE_MAX (1024 * 1024) /* a JSON object to send; more is EFBIG */
#define JSON_SUFFIX ".json"
#define UNSENT_DIR "sharedcloud-unsent" /* under cache_dir */

/* One instance as its file shows it. */
struct sc_entry {
    char uuid[SHAREDCLOUD_UUID_LEN + 1];
    char *name; /* the instance's own name, NULL for none */
    char *text; /* sharedcloud_instance_render */
    size_t len;
    time_t mtime;
    double at; /* when it was fetched (monotonic) */
};

/* A name a new instance was written to, now a link to <uuid>.json. */
struct sc_link {
    char *name;
    char uuid[SHAREDCLOUD_UUID_LEN + 1];
};

struct sc_write;

struct sc_state {
    pthread_mutex_t lock;         /* everything below */
    pthread_mutex_t refresh_lock; /* one list request at a time */
    struct sc_entry *e;
    size_t n;
    double listed_at; /* monotonic time of the last list; 0: never */
    struct sc_link *links;
    size_t nlinks;
    struct sc_write **pending; /* open new names */
    size_t npending;
};

/* Instances change by their owner's hand, not by the minute as VRChat's do: cache_ttl. */
static double sc_ttl(const struct vfs *v)
{
    return v->cfg.cache_ttl;
}

static struct sc_state *state_of(struct vfs *v)
{
    return *subtree_state(v, &sharedcloud_subtree);
}

/* ------------------------------------------------------------------------------ the list */

static void entry_clear(struct sc_entry *e)
{
    free(e->name);
    free(e->text);
    memset(e, 0, sizeof *e);
}

/* Fills *e from a parsed instance; 0 or -ENOMEM. */
static int entry_set(struct sc_entry *e, const struct sharedcloud_instance *in, double at)
{
    char *text = sharedcloud_instance_render(in);
    char *name = in->name ? strdup(in->name) : NULL;
    if (!text || (in->name && !name)) {
        free(text);
        free(name);
        return -ENOMEM;
    }
    memcpy(e->uuid, in->uuid, sizeof e->uuid);
    e->name = name;
    e->text = text;
    e->len = strlen(text);
    e->mtime = sharedcloud_instance_mtime(in);
    e->at = at;
    return 0;
}

/* The entry of uuid, or NULL. Under s->lock. */
static struct sc_entry *find_entry(struct sc_state *s, const char *uuid)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->e[i].uuid, uuid) == 0)
            return &s->e[i];
    }
    return NULL;
}

/* Puts what the server answered for one instance into the list (replacing its entry, or
 * adding one). Under s->lock. 0 or -ENOMEM. */
static int keep_instance(struct sc_state *s, const struct sharedcloud_instance *in)
{
    struct sc_entry fresh;
    if (entry_set(&fresh, in, vfs_mono_now()) != 0)
        return -ENOMEM;
    struct sc_entry *old = find_entry(s, in->uuid);
    if (old) {
        entry_clear(old);
        *old = fresh;
        return 0;
    }
    struct sc_entry *grown = realloc(s->e, (s->n + 1) * sizeof *grown);
    if (!grown) {
        entry_clear(&fresh);
        return -ENOMEM;
    }
    s->e = grown;
    s->e[s->n++] = fresh;
    return 0;
}

static void forget_entry(struct sc_state *s, const char *uuid)
{
    struct sc_entry *e = find_entry(s, uuid);
    if (e) {
        entry_clear(e);
        *e = s->e[--s->n];
    }
}

static bool list_fresh(struct vfs *v, struct sc_state *s)
{
    return s->listed_at > 0 && vfs_mono_now() - s->listed_at < sc_ttl(v);
}

/* Makes the list fresh: one GET of the list when it is stale. */
static int list_refresh(struct vfs *v)
{
    struct sc_state *s = state_of(v);
    pthread_mutex_lock(&s->refresh_lock);
    pthread_mutex_lock(&s->lock);
    bool fresh = list_fresh(v, s);
    pthread_mutex_unlock(&s->lock);
    int err = 0;
    if (!fresh) {
        struct sharedcloud_instance *list = NULL;
        size_t n = 0;
        double at = vfs_mono_now();
        err = sharedcloud_api_list(v->http, &list, &n);
        struct sc_entry *e = err ? NULL : calloc(n ? n : 1, sizeof *e);
        if (!err && !e)
            err = -ENOMEM;
        for (size_t i = 0; !err && i < n; i++)
            err = entry_set(&e[i], &list[i], at);
        if (!err) {
            pthread_mutex_lock(&s->lock);
            for (size_t i = 0; i < s->n; i++)
                entry_clear(&s->e[i]);
            free(s->e);
            s->e = e;
            s->n = n;
            s->listed_at = at;
            pthread_mutex_unlock(&s->lock);
        } else if (e) {
            for (size_t i = 0; i < n; i++)
                entry_clear(&e[i]);
            free(e);
        }
        sharedcloud_api_free_list(list, n);
        if (err)
            log_warn("sharedcloud: /instances: cannot list the instances: %s", strerror(-err));
    }
    pthread_mutex_unlock(&s->refresh_lock);
    return err;
}

/* Copies uuid's entry into *out (its name and text malloc'd, free with entry_clear): from the
 * list when the list is fresh (-ENOENT when it is not there) or the entry itself is, else
 * with one GET of the instance. */
static int entry_get(struct vfs *v, const char *uuid, struct sc_entry *out)
{
    struct sc_state *s = state_of(v);
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->lock);
    struct sc_entry *e = find_entry(s, uuid);
    bool fresh = list_fresh(v, s);
    int err = 0;
    if (e && (fresh || vfs_mono_now() - e->at < sc_ttl(v))) {
        *out = *e;
        out->name = e->name ? strdup(e->name) : NULL;
        out->text = strdup(e->text);
        err = !out->text || (e->name && !out->name) ? -ENOMEM : 0;
    } else if (fresh) {
        err = -ENOENT;
    } else {
        err = -EAGAIN; /* ask the server */
    }
    pthread_mutex_unlock(&s->lock);
    if (err != -EAGAIN) {
        if (err)
            entry_clear(out);
        return err;
    }
    struct sharedcloud_instance in;
    err = sharedcloud_api_get(v->http, uuid, &in);
    if (err == -ENOENT) {
        pthread_mutex_lock(&s->lock);
        forget_entry(s, uuid);
        pthread_mutex_unlock(&s->lock);
        return err;
    }
    if (err)
        return err;
    err = entry_set(out, &in, vfs_mono_now());
    pthread_mutex_lock(&s->lock);
    if (!err)
        keep_instance(s, &in); /* without memory it is only asked again */
    pthread_mutex_unlock(&s->lock);
    sharedcloud_instance_clear(&in);
    return err;
}

/* The uuid of the instance called name in the list (the first, when several share it). */
static bool uuid_by_name(struct sc_state *s, const char *name, char *uuid)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->e[i].name && strcmp(s->e[i].name, name) == 0) {
            memcpy(uuid, s->e[i].uuid, SHAREDCLOUD_UUID_LEN + 1);
            return true;
        }
    }
    return false;
}

/* A name that can be a directory entry: not empty, ".", "..", with no '/', NAME_MAX at most. */
static bool entry_name_ok(const char *name)
{
    return name && *name && strcmp(name, ".") && strcmp(name, "..") && !strchr(name, '/') &&
           strlen(name) <= NAME_MAX;
}

static struct sc_link *find_link(struct sc_state *s, const char *name)
{
    for (size_t i = 0; i < s->nlinks; i++) {
        if (strcmp(s->links[i].name, name) == 0)
            return &s->links[i];
    }
    return NULL;
}

/* ----------------------------------------------------------------- what could not be sent */

/* Keeps text under cache_dir/UNSENT_DIR as <base>.XXXXXX.json and logs where, so that nothing
 * written is lost when the server refused it or could not be reached. */
static void keep_unsent(struct vfs *v, const char *path, const char *base, const char *text,
                        size_t len)
{
    char dir[PATH_MAX], file[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", v->cfg.cache_dir ? v->cfg.cache_dir : "/tmp", UNSENT_DIR);
    int n = snprintf(file, sizeof file, "%s/%s.XXXXXX.json", dir, base);
    int fd = -1;
    int made = n > 0 && (size_t)n < sizeof file ? vfs_make_dirs(dir, 0700) : -ENAMETOOLONG;
    if (made == 0)
        fd = mkstemps(file, (int)strlen(JSON_SUFFIX));
    else
        errno = -made;
    bool ok = fd >= 0;
    for (size_t done = 0; ok && done < len;) {
        ssize_t w = write(fd, text + done, len - done);
        ok = w > 0;
        done += w > 0 ? (size_t)w : 0;
    }
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok) {
        log_warn("sharedcloud: %s: what was written is kept in %s", path, file);
    } else {
        if (fd >= 0)
            unlink(file);
        log_error("sharedcloud: %s: cannot keep what was written under %s: %s", path, dir,
                  strerror(errno));
    }
}

/* ------------------------------------------------------------------------- written files */

/* An open file collecting a JSON object: a new name (create) or an instance (update). */
struct sc_write {
    struct json_write jw;                /* first; done: a new name's instance exists */
    char name[NAME_MAX + 1];             /* the file's name */
    char uuid[SHAREDCLOUD_UUID_LEN + 1]; /* the instance updated; "" for a new name */
};

/* The JSON object written, or NULL with the reason logged. */
static json_t *written_object(struct sc_write *h, const char *path)
{
    json_error_t jerr;
    json_t *obj = json_loadb(h->jw.buf ? h->jw.buf : "", h->jw.len, 0, &jerr);
    if (!json_is_object(obj)) {
        log_warn("sharedcloud: %s: not a JSON object, nothing sent: %s", path,
                 obj ? "another JSON value" : jerr.text);
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* Sends what a new name received as a POST; the name then links to the new <uuid>.json. */
static int write_create(struct sc_write *h, const char *path, json_t *fields)
{
    struct vfs *v = h->jw.v;
    struct sc_state *s = state_of(v);
    if (!json_object_get(fields, "name")) {
        char base[NAME_MAX + 1];
        snprintf(base, sizeof base, "%.*s", (int)(strlen(h->name) - strlen(JSON_SUFFIX)), h->name);
        json_object_set_new(fields, "name", json_string(base));
    }
    struct sharedcloud_instance in;
    char message[SHAREDCLOUD_MESSAGE_LEN] = "";
    int err = sharedcloud_api_create(v->http, fields, &in, message);
    if (err) {
        log_warn("sharedcloud: %s: no instance created: %s%s%s", path, strerror(-err),
                 *message ? ": " : "", message);
        return err;
    }
    pthread_mutex_lock(&s->lock);
    int kept = keep_instance(s, &in);
    struct sc_link *link = find_link(s, h->name);
    struct sc_link *grown = link ? NULL : realloc(s->links, (s->nlinks + 1) * sizeof *grown);
    char *lname = link ? NULL : strdup(h->name);
    if (link) {
        memcpy(link->uuid, in.uuid, sizeof link->uuid);
    } else if (grown && lname) {
        s->links = grown;
        s->links[s->nlinks] = (struct sc_link){.name = lname};
        memcpy(s->links[s->nlinks++].uuid, in.uuid, sizeof in.uuid);
    } else {
        if (grown)
            s->links = grown;
        free(lname);
        kept = -ENOMEM;
    }
    pthread_mutex_unlock(&s->lock);
    /* The instance exists either way; an error here would only invite a duplicate. */
    if (kept)
        log_error("sharedcloud: %s became %s.json, but vrcfs ran out of memory remembering it",
                  path, in.uuid);
    else
        log_info("sharedcloud: %s created %s.json", path, in.uuid);
    sharedcloud_instance_clear(&in);
    vfs_forget_listings(v, "/instances", 0);
    return 0;
}

/* Sends what <uuid>.json received as a PATCH of exactly those fields. */
static int write_update(struct sc_write *h, const char *path, json_t *fields)
{
    struct vfs *v = h->jw.v;
    struct sc_state *s = state_of(v);
    struct sharedcloud_instance in;
    char message[SHAREDCLOUD_MESSAGE_LEN] = "";
    int err = sharedcloud_api_update(v->http, h->uuid, fields, &in, message);
    if (err) {
        log_warn("sharedcloud: %s: not updated: %s%s%s", path, strerror(-err), *message ? ": " : "",
                 message);
        return err;
    }
    pthread_mutex_lock(&s->lock);
    keep_instance(s, &in); /* without memory it is only asked again */
    pthread_mutex_unlock(&s->lock);
    log_info("sharedcloud: %s updated", path);
    sharedcloud_instance_clear(&in);
    vfs_forget_listings(v, "/instances", 0);
    return 0;
}

/* Checks and sends what was written; 0 once the server took it. -EINVAL for what is not a
 * JSON object (nothing sent) and for what the server refused (400), else the request's errno.
 * On any error what was written is kept on disk. A json_write_send_fn. */
static int write_submit(struct json_write *jw)
{
    struct sc_write *h = (struct sc_write *)jw;
    char path[NAME_MAX + 16];
    snprintf(path, sizeof path, "/instances/%s", h->name);
    json_t *fields = written_object(h, path);
    int err = !fields      ? -EINVAL
              : h->uuid[0] ? write_update(h, path, fields)
                           : write_create(h, path, fields);
    json_decref(fields);
    if (err)
        keep_unsent(h->jw.v, path, h->uuid[0] ? h->uuid : h->name, h->jw.buf ? h->jw.buf : "",
                    h->jw.len);
    return err;
}

/* A new name creates an instance; a written instance's file is an update, sent at each flush. */
static int write_flush(struct vfs_handle *base)
{
    struct sc_write *h = (struct sc_write *)base;
    char path[NAME_MAX + 16];
    snprintf(path, sizeof path, "/instances/%s", h->name);
    return json_write_flush(&h->jw, write_submit, !h->uuid[0], path);
}

static void write_release(struct vfs_handle *base)
{
    struct sc_write *h = (struct sc_write *)base;
    struct sc_state *s = state_of(h->jw.v);
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->npending; i++) {
        if (s->pending[i] == h) {
            s->pending[i] = s->pending[--s->npending];
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    json_write_fini(&h->jw);
    free(h);
}

static const struct vfs_handle_ops write_ops = {
    .read = json_write_read,
    .write = json_write_write,
    .flush = write_flush,
    .fsync = write_flush,
    .truncate = json_write_truncate,
    .getattr = json_write_getattr,
    .release = write_release,
};

static struct sc_write *write_new(struct vfs *v, const char *name, const char *uuid)
{
    struct sc_write *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    json_write_init(&h->jw, &write_ops, v, SC_WRITE_MAX);
    snprintf(h->name, sizeof h->name, "%s", name);
    snprintf(h->uuid, sizeof h->uuid, "%s", uuid ? uuid : "");
    return h;
}

/* The open new name, or NULL. Under s->lock. */
static struct sc_write *find_pending(struct sc_state *s, const char *name)
{
    for (size_t i = 0; i < s->npending; i++) {
        if (strcmp(s->pending[i]->name, name) == 0)
            return s->pending[i];
    }
    return NULL;
}

/* ------------------------------------------------------------------------------ the paths */

/* /instances, /instances/<uuid>.json (a lowercase uuid: VP_INSTANCE_JSON, name the uuid),
 * /instances/by-name (VP_SHORT_DIR), /instances/by-name/<name> (VP_SHORT_LINK) and any other
 * /instances/<name> (VP_INSTANCE_NAME). */
static int sc_parse(const char *path, struct vfs_path *out)
{
    memset(out, 0, sizeof *out);
    const char *c[3];
    size_t len[3];
    int n = 0;
    for (const char *p = path; *p == '/';) {
        const char *start = p + 1, *end = strchr(start, '/');
        size_t l = end ? (size_t)(end - start) : strlen(start);
        if (n == 3 || l == 0 || (l == 1 && start[0] == '.') ||
            (l == 2 && start[0] == '.' && start[1] == '.'))
            return -ENOENT;
        if (l > NAME_MAX)
            return -ENAMETOOLONG;
        c[n] = start;
        len[n++] = l;
        p = start + l;
    }
    if (n == 0)
        return -ENOENT;
    if (n == 1) {
        out->kind = VP_INSTANCES;
        return 0;
    }
    bool by_name = len[1] == 7 && memcmp(c[1], "by-name", 7) == 0;
    if (n == 3 && !by_name)
        return -ENOENT;
    if (by_name) {
        out->kind = n == 2 ? VP_SHORT_DIR : VP_SHORT_LINK;
        if (n == 3)
            snprintf(out->name, sizeof out->name, "%.*s", (int)len[2], c[2]);
        return 0;
    }
    snprintf(out->name, sizeof out->name, "%.*s", (int)len[1], c[1]);
    out->kind = VP_INSTANCE_NAME;
    size_t slen = strlen(JSON_SUFFIX);
    if (len[1] == SHAREDCLOUD_UUID_LEN + slen &&
        strcmp(out->name + SHAREDCLOUD_UUID_LEN, JSON_SUFFIX) == 0) {
        char uuid[SHAREDCLOUD_UUID_LEN + 1];
        snprintf(uuid, sizeof uuid, "%.*s", SHAREDCLOUD_UUID_LEN, out->name);
        bool lower = true;
        for (const char *p = uuid; *p; p++)
            lower = lower && !(*p >= 'A' && *p <= 'F');
        if (lower && sharedcloud_instance_uuid_ok(uuid)) {
            memcpy(out->name, uuid, sizeof uuid);
            out->kind = VP_INSTANCE_JSON;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------ the ops */

static int sc_init(struct vfs *v)
{
    struct sc_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->refresh_lock, NULL);
    *subtree_state(v, &sharedcloud_subtree) = s;
    return 0;
}

static void sc_destroy(struct vfs *v)
{
    struct sc_state *s = state_of(v);
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        entry_clear(&s->e[i]);
    free(s->e);
    for (size_t i = 0; i < s->nlinks; i++)
        free(s->links[i].name);
    free(s->links);
    /* Handles still open at unmount are released by FUSE before this. */
    free(s->pending);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->refresh_lock);
    free(s);
    *subtree_state(v, &sharedcloud_subtree) = NULL;
}

static double sc_listing_ttl(const struct vfs *v, const struct vfs_path *p)
{
    (void)p;
    return sc_ttl(v);
}

static int sc_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st)
{
    struct sc_state *s = state_of(v);
    switch (p->kind) {
    case VP_INSTANCES:
    case VP_SHORT_DIR:
        vfs_stat_dir(v, st, v->mount_time);
        return 0;
    case VP_INSTANCE_JSON: {
        struct sc_entry e;
        int err = entry_get(v, p->name, &e);
        if (!err)
            vfs_stat_file(v, st, (off_t)e.len, 0644, e.mtime);
        else if (err != -ENOENT)
            log_warn("sharedcloud: /instances/%s.json: %s", p->name, strerror(-err));
        entry_clear(&e);
        return err;
    }
    case VP_INSTANCE_NAME: {
        pthread_mutex_lock(&s->lock);
        struct sc_link *link = find_link(s, p->name);
        struct sc_write *h = link ? NULL : find_pending(s, p->name);
        if (link)
            vfs_stat_link(v, st, SHAREDCLOUD_UUID_LEN + strlen(JSON_SUFFIX), 0);
        else if (h)
            json_write_getattr(&h->jw.base, st);
        pthread_mutex_unlock(&s->lock);
        return link || h ? 0 : -ENOENT;
    }
    case VP_SHORT_LINK: {
        int err = list_refresh(v);
        if (err)
            return err;
        char uuid[SHAREDCLOUD_UUID_LEN + 1];
        pthread_mutex_lock(&s->lock);
        bool found = uuid_by_name(s, p->name, uuid);
        struct sc_entry *e = found ? find_entry(s, uuid) : NULL;
        if (e)
            vfs_stat_link(v, st, 3 + SHAREDCLOUD_UUID_LEN + strlen(JSON_SUFFIX), e->mtime);
        pthread_mutex_unlock(&s->lock);
        return e ? 0 : -ENOENT;
    }
    default:
        return -ENOENT;
    }
}

/* The names to list, copied out so that filler, which may block on the kernel, runs
 * unlocked. */
struct listed {
    char name[NAME_MAX + 1];
    struct stat st;
};

static int sc_readdir(struct vfs *v, const struct vfs_path *p, void *buf, fuse_fill_dir_t filler)
{
    if (p->kind != VP_INSTANCES && p->kind != VP_SHORT_DIR)
        return -ENOTDIR;
    struct sc_state *s = state_of(v);
    int err = list_refresh(v);
    if (err)
        return err;
    struct stat st;
    if (p->kind == VP_INSTANCES) {
        vfs_stat_dir(v, &st, v->mount_time);
        filler(buf, "by-name", &st, 0, FUSE_FILL_DIR_PLUS);
    }
    pthread_mutex_lock(&s->lock);
    struct listed *l = calloc(s->n + s->nlinks + s->npending + 1, sizeof *l);
    size_t n = 0;
    for (size_t i = 0; l && i < s->n; i++) {
        const struct sc_entry *e = &s->e[i];
        if (p->kind == VP_INSTANCES) {
            snprintf(l[n].name, sizeof l[n].name, "%s%s", e->uuid, JSON_SUFFIX);
            vfs_stat_file(v, &l[n++].st, (off_t)e->len, 0644, e->mtime);
        } else if (entry_name_ok(e->name)) {
            char first[SHAREDCLOUD_UUID_LEN + 1];
            if (uuid_by_name(s, e->name, first) && strcmp(first, e->uuid) != 0)
                continue; /* a name shared by several instances names the first */
            snprintf(l[n].name, sizeof l[n].name, "%s", e->name);
            vfs_stat_link(v, &l[n++].st, 3 + SHAREDCLOUD_UUID_LEN + strlen(JSON_SUFFIX), e->mtime);
        }
    }
    for (size_t i = 0; l && p->kind == VP_INSTANCES && i < s->nlinks; i++) {
        snprintf(l[n].name, sizeof l[n].name, "%s", s->links[i].name);
        vfs_stat_link(v, &l[n++].st, SHAREDCLOUD_UUID_LEN + strlen(JSON_SUFFIX), 0);
    }
    for (size_t i = 0; l && p->kind == VP_INSTANCES && i < s->npending; i++) {
        if (find_link(s, s->pending[i]->name))
            continue;
        snprintf(l[n].name, sizeof l[n].name, "%s", s->pending[i]->name);
        json_write_getattr(&s->pending[i]->jw.base, &l[n++].st);
    }
    pthread_mutex_unlock(&s->lock);
    if (!l)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        filler(buf, l[i].name, &l[i].st, 0, FUSE_FILL_DIR_PLUS);
    free(l);
    return 0;
}

static int sc_readlink(struct vfs *v, const struct vfs_path *p, char *buf, size_t size)
{
    struct sc_state *s = state_of(v);
    char uuid[SHAREDCLOUD_UUID_LEN + 1];
    bool found = false;
    if (p->kind == VP_SHORT_LINK) {
        int err = list_refresh(v);
        if (err)
            return err;
        pthread_mutex_lock(&s->lock);
        found = uuid_by_name(s, p->name, uuid);
        pthread_mutex_unlock(&s->lock);
        if (!found)
            return -ENOENT;
    } else if (p->kind == VP_INSTANCE_NAME) {
        pthread_mutex_lock(&s->lock);
        struct sc_link *link = find_link(s, p->name);
        if (link)
            memcpy(uuid, link->uuid, sizeof uuid);
        pthread_mutex_unlock(&s->lock);
        if (!link)
            return -EINVAL;
    } else {
        return -EINVAL;
    }
    if (size == 0)
        return -EINVAL;
    snprintf(buf, size, "%s%s%s", p->kind == VP_SHORT_LINK ? "../" : "", uuid, JSON_SUFFIX);
    return 0;
}

static int sc_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi)
{
    struct sc_state *s = state_of(v);
    if (p->kind == VP_INSTANCE_NAME) {
        pthread_mutex_lock(&s->lock);
        bool pending = find_pending(s, p->name) != NULL;
        bool link = find_link(s, p->name) != NULL;
        pthread_mutex_unlock(&s->lock);
        /* One writer per new name: two would race to create two instances. */
        return pending ? -EBUSY : link ? -ELOOP : -ENOENT;
    }
    if (p->kind != VP_INSTANCE_JSON)
        return -EISDIR;
    struct sc_entry e;
    int err = entry_get(v, p->name, &e);
    if (err) {
        if (err != -ENOENT)
            log_warn("sharedcloud: /instances/%s.json: %s", p->name, strerror(-err));
        return err;
    }
    struct vfs_handle *h;
    if ((fi->flags & O_ACCMODE) == O_RDONLY) {
        h = vfs_buffer_handle_new(e.text, e.len);
        e.text = NULL;
    } else {
        char file[NAME_MAX + 1];
        snprintf(file, sizeof file, "%.*s%s", SHAREDCLOUD_UUID_LEN, p->name, JSON_SUFFIX);
        struct sc_write *w = write_new(v, file, p->name);
        /* Without O_TRUNC the file starts as it is, as any file would. */
        if (w && !(fi->flags & O_TRUNC)) {
            json_write_set(&w->jw, e.text, e.len);
            e.text = NULL;
        }
        h = w ? &w->jw.base : NULL;
    }
    entry_clear(&e);
    if (!h)
        return -ENOMEM;
    fi->direct_io = 1;
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

static bool ends_with_json(const char *name)
{
    size_t n = strlen(name), slen = strlen(JSON_SUFFIX);
    return n > slen && strcmp(name + n - slen, JSON_SUFFIX) == 0;
}

static int sc_create(struct vfs *v, const struct vfs_path *p, mode_t mode,
                     struct fuse_file_info *fi)
{
    (void)mode;
    struct sc_state *s = state_of(v);
    if (p->kind != VP_INSTANCE_NAME)
        return -EACCES; /* an instance's file is the server's: it is updated, never made */
    if (!ends_with_json(p->name)) {
        log_info("sharedcloud: /instances/%s: only a new <name>.json makes an instance", p->name);
        return -EPERM;
    }
    struct sc_write *h = write_new(v, p->name, NULL);
    if (!h)
        return -ENOMEM;
    int err = 0;
    pthread_mutex_lock(&s->lock);
    if (find_pending(s, p->name) || find_link(s, p->name)) {
        err = -EEXIST;
    } else {
        struct sc_write **grown = realloc(s->pending, (s->npending + 1) * sizeof *grown);
        if (grown) {
            s->pending = grown;
            s->pending[s->npending++] = h;
        } else {
            err = -ENOMEM;
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (err) {
        json_write_fini(&h->jw);
        free(h);
        return err;
    }
    fi->direct_io = 1;
    fi->fh = (uint64_t)(uintptr_t)&h->jw.base;
    return 0;
}

/* By path, without an open file (truncate(1); through an open file the handle truncates). */
static int sc_truncate(struct vfs *v, const struct vfs_path *p, off_t size)
{
    (void)size;
    struct sc_state *s = state_of(v);
    if (p->kind != VP_INSTANCE_NAME)
        return -EACCES; /* an instance changes by what is written to it, not by its size */
    pthread_mutex_lock(&s->lock);
    bool pending = find_pending(s, p->name) != NULL;
    pthread_mutex_unlock(&s->lock);
    return pending ? -EBUSY : -ENOENT; /* one writer per new name, as in open */
}

static int sc_unlink(struct vfs *v, const struct vfs_path *p)
{
    struct sc_state *s = state_of(v);
    if (p->kind == VP_INSTANCE_NAME) {
        /* A created name is only a local link: removing it leaves the instance alone. */
        pthread_mutex_lock(&s->lock);
        struct sc_link *link = find_link(s, p->name);
        bool pending = !link && find_pending(s, p->name);
        if (link) {
            free(link->name);
            *link = s->links[--s->nlinks];
        }
        pthread_mutex_unlock(&s->lock);
        return link ? 0 : pending ? -EBUSY : -ENOENT;
    }
    if (p->kind != VP_INSTANCE_JSON) {
        log_reason("the links in by-name/ follow the instances; rm /instances/<uuid>.json deletes "
                   "one");
        return -EPERM;
    }
    char message[SHAREDCLOUD_MESSAGE_LEN] = "";
    int err = sharedcloud_api_delete(v->http, p->name, message);
    if (err && err != -ENOENT) {
        log_warn("sharedcloud: /instances/%s.json: not deleted: %s%s%s", p->name, strerror(-err),
                 *message ? ": " : "", message);
        return err;
    }
    pthread_mutex_lock(&s->lock);
    forget_entry(s, p->name);
    pthread_mutex_unlock(&s->lock);
    vfs_forget_listings(v, "/instances", 0);
    if (err)
        log_info("sharedcloud: /instances/%s.json: no such instance", p->name);
    else
        log_info("sharedcloud: deleted /instances/%s.json", p->name);
    return err;
}

const struct subtree_ops sharedcloud_subtree = {
    .name = "instances",
    .parse = sc_parse,
    .init = sc_init,
    .destroy = sc_destroy,
    .listing_ttl = sc_listing_ttl,
    .getattr = sc_getattr,
    .readdir = sc_readdir,
    .readlink = sc_readlink,
    .open = sc_open,
    .create = sc_create,
    .truncate = sc_truncate,
    .unlink = sc_unlink,
};
