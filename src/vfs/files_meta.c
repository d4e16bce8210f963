#include "vfs/files_meta.h"

#include "log.h"
#include "remote/files_api.h"
#include "vfs/md5_memory.h"
#include "vfs/meta_persist.h"
#include "vfs/single_flight.h"
#include "vfs/str_hash.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LISTING_PAGES_MAX 100

static void *file_ref(void *f)
{
    return vrc_file_ref(f);
}

static void file_unref(void *f)
{
    vrc_file_unref(f);
}

/* The pages of GET /files fetched, untagged and by tag, and the GET /file asked only for the
 * md5s a listing left out, for stats.json ("files_listing"). */
static _Atomic uint64_t untagged_pages, tag_pages, md5_gets;

/* The md5s any answer gave, for the life of the process (one mount per process), and what
 * GET /file taught kept in <cache_dir>/md5s for the next mount; the GET /file being sent now,
 * so that no File is fetched twice at once. Made at first use. */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static bool inited;
static struct md5_memory *md5s;
static struct single_flight *fetches;

static void meta_init(struct vfs *v)
{
    pthread_mutex_lock(&init_lock);
    if (!inited) {
        inited = true;
        fetches = single_flight_new();
        md5s = md5_memory_new();
        char *path = NULL;
        if (md5s && v->cfg.cache_dir && asprintf(&path, "%s/md5s", v->cfg.cache_dir) >= 0) {
            int err = md5_memory_keep(md5s, path);
            if (err)
                log_warn("%s: cannot keep the md5s GET /file gives (%s); each mount asks again",
                         path, strerror(-err));
        }
        free(path);
    }
    pthread_mutex_unlock(&init_lock);
}

/* Fills the md5s f lacks from earlier answers and remembers its own; f is not shared yet.
 * asked: f is GET /file's answer. Without memory (out of memory) file.json just lacks them. */
static void remember_md5s(struct vrc_file *f, bool asked)
{
    if (md5s)
        md5_memory_apply(md5s, f, asked);
}

static const struct cache_value_ops file_ops = {file_ref, file_unref};

static void *listing_ref(void *p)
{
    return file_listing_ref(p);
}

static void listing_unref(void *p)
{
    file_listing_unref(p);
}

static const struct cache_value_ops listing_ops = {listing_ref, listing_unref};

static void file_key(char *key, size_t len, const char *file_id)
{
    snprintf(key, len, "f:%s", file_id);
}

static void listing_key(char *key, size_t len, const char *tag)
{
    snprintf(key, len, "l:%s", tag ? tag : "");
}

/* Where each File was last listed, so that one that expired is refreshed with that listing page
 * (up to 100 Files in one request, the way a walk through /files goes on) rather than alone with
 * GET /file. An open-addressing table of fileId -> (listing, page), under its own lock; it only
 * grows, by the Files listed. tag: the index in vfs_path_tags, -1 for the untagged listing. */
struct origin {
    char *id;
    int tag, page;
};
static pthread_mutex_t origins_lock = PTHREAD_MUTEX_INITIALIZER;
static struct origin *origins;
static size_t origins_size, origins_count;
static _Atomic uint64_t page_refreshes;

static struct origin *origin_slot(struct origin *table, size_t size, const char *id)
{
    for (size_t i = (size_t)str_hash(id) & (size - 1);; i = (i + 1) & (size - 1))
        if (!table[i].id || strcmp(table[i].id, id) == 0)
            return &table[i];
}

static int tag_index(const char *tag)
{
    for (int i = 0; tag && vfs_path_tags[i]; i++)
        if (strcmp(vfs_path_tags[i], tag) == 0)
            return i;
    return -1;
}

/* Records that id was on that page. Out of memory: not recorded (it is then asked alone). */
static void origin_note(const char *id, int tag, int page)
{
    pthread_mutex_lock(&origins_lock);
    if ((origins_count + 1) * 2 > origins_size) {
        size_t size = origins_size ? origins_size * 2 : 256;
        struct origin *grown = calloc(size, sizeof *grown);
        if (!grown)
            goto out;
        for (size_t i = 0; i < origins_size; i++)
            if (origins[i].id)
                *origin_slot(grown, size, origins[i].id) = origins[i];
        free(origins);
        origins = grown;
        origins_size = size;
    }
    struct origin *o = origin_slot(origins, origins_size, id);
    if (!o->id) {
        if (!(o->id = strdup(id)))
            goto out;
        origins_count++;
    }
    o->tag = tag;
    o->page = page;
out:
    pthread_mutex_unlock(&origins_lock);
}

static bool origin_of(const char *id, int *tag, int *page)
{
    bool found = false;
    pthread_mutex_lock(&origins_lock);
    if (origins_size) {
        struct origin *o = origin_slot(origins, origins_size, id);
        if ((found = o->id != NULL)) {
            *tag = o->tag;
            *page = o->page;
        }
    }
    pthread_mutex_unlock(&origins_lock);
    return found;
}

/* Caches every File of one page of a listing (tag NULL: untagged), noting where each was; *want,
 * when non-NULL, gets a reference to the File with that id if the page holds it. Appends the
 * ids to l when l is non-NULL. */
static int listing_page(struct vfs *v, const char *tag, int page, struct file_listing *l,
                        const char *want_id, struct vrc_file **want, bool *last)
{
    struct vrc_file **files;
    size_t count;
    int err =
        files_list_page(v->http, tag, page * FILES_PAGE_MAX, FILES_PAGE_MAX, &files, &count, last);
    if (err)
        return err;
    atomic_fetch_add_explicit(tag ? &tag_pages : &untagged_pages, 1, memory_order_relaxed);
    int ti = tag_index(tag);
    for (size_t i = 0; i < count && !err; i++) {
        if (!files[i])
            continue;
        char key[VFS_ID_MAX + 8];
        file_key(key, sizeof key, files[i]->id);
        remember_md5s(files[i], false);
        if (strlen(files[i]->id) < VFS_ID_MAX) {
            cache_insert(v->cache, key, vrc_file_ref(files[i]), &file_ops);
            origin_note(files[i]->id, ti, page);
        }
        if (want && !*want && strcmp(files[i]->id, want_id) == 0)
            *want = vrc_file_ref(files[i]);
        if (l)
            err = file_listing_append(l, files[i]->id);
    }
    files_free_list(files, count);
    return err;
}

/* The File, fresh from the listing page it was last seen on, with the rest of that page; NULL
 * when it was never listed, the page no longer holds it (it moved, or is gone), the fetch failed,
 * or cache_ttl=0 (nothing would be kept for the others). Another thread fetching that page is
 * waited for instead, and the File then looked up in the cache. */
static struct vrc_file *refresh_from_page(struct vfs *v, const char *file_id)
{
    int tag, page;
    if (v->cfg.cache_ttl <= 0 || !fetches || !origin_of(file_id, &tag, &page))
        return NULL;
    char pkey[64], key[VFS_ID_MAX + 8];
    snprintf(pkey, sizeof pkey, "p:%d/%d", tag, page);
    struct vrc_file *f = NULL;
    if (single_flight_begin(fetches, pkey)) {
        bool last;
        atomic_fetch_add_explicit(&page_refreshes, 1, memory_order_relaxed);
        listing_page(v, tag < 0 ? NULL : vfs_path_tags[tag], page, NULL, file_id, &f, &last);
        single_flight_end(fetches, pkey);
        return f;
    }
    void *value;
    file_key(key, sizeof key, file_id);
    return cache_lookup(v->cache, key, &value) == CACHE_HIT ? value : NULL;
}

int files_meta_get(struct vfs *v, const char *file_id, struct vrc_file **out)
{
    char key[VFS_ID_MAX + 8];
    file_key(key, sizeof key, file_id);
    meta_init(v);
    for (;;) {
        void *value;
        switch (cache_lookup(v->cache, key, &value)) {
        case CACHE_HIT:
            *out = value;
            return 0;
        case CACHE_NEGATIVE:
            return -ENOENT;
        case CACHE_MISS:
            break;
        }
        if (!fetches || single_flight_begin(fetches, key))
            break; /* else another thread's GET /file of it ended: its answer may be cached */
    }
    int err = 0;
    if (!(*out = refresh_from_page(v, file_id))) {
        err = files_get(v->http, file_id, out);
        if (!err)
            remember_md5s(*out, true);
        if (err == -ENOENT)
            cache_insert_negative(v->cache, key);
        else if (!err)
            cache_insert(v->cache, key, vrc_file_ref(*out), &file_ops);
    }
    if (fetches)
        single_flight_end(fetches, key);
    return err;
}

int files_meta_get_whole(struct vfs *v, const char *file_id, struct vrc_file **out)
{
    char key[VFS_ID_MAX + 8];
    snprintf(key, sizeof key, "m:%s", file_id);
    bool owner = false;
    for (;;) {
        int err = files_meta_get(v, file_id, out);
        if (err || !md5s || !md5_memory_lacks(md5s, *out)) {
            if (owner)
                single_flight_end(fetches, key);
            return err;
        }
        if (owner || !fetches)
            break;
        /* Owner or not, look once more: a GET /file that ended meanwhile taught the md5s. */
        owner = single_flight_begin(fetches, key);
        vrc_file_unref(*out);
        *out = NULL;
    }
    struct vrc_file *f;
    int err = files_get(v->http, file_id, &f);
    atomic_fetch_add_explicit(&md5_gets, 1, memory_order_relaxed);
    if (err) {
        log_reason("GET /file for the md5s the listing left out failed (%s)", strerror(-err));
        vrc_file_unref(*out);
        *out = NULL;
    } else {
        remember_md5s(f, true);
        char fkey[VFS_ID_MAX + 8];
        file_key(fkey, sizeof fkey, file_id);
        cache_insert(v->cache, fkey, vrc_file_ref(f), &file_ops);
        vrc_file_unref(*out);
        *out = f;
    }
    if (owner)
        single_flight_end(fetches, key);
    return err;
}

/* Pages through GET /files, putting every File into the cache on the way. A server that never
 * ends the list is cut at LISTING_PAGES_MAX pages (10,000 Files), with a log line. */
static int listing_fetch(struct vfs *v, const char *tag, struct file_listing *l)
{
    meta_init(v);
    for (int page = 0;; page++) {
        if (page == LISTING_PAGES_MAX) {
            log_warn("/files%s%s: the listing is cut at %d Files", tag ? "/by-tag/" : "",
                     tag ? tag : "", LISTING_PAGES_MAX * FILES_PAGE_MAX);
            return 0;
        }
        bool last;
        int err = listing_page(v, tag, page, l, NULL, NULL, &last);
        if (err || last)
            return err;
    }
}

int files_meta_list(struct vfs *v, const char *tag, struct file_listing **out)
{
    char key[80];
    listing_key(key, sizeof key, tag);
    void *value;
    if (cache_lookup(v->cache, key, &value) == CACHE_HIT) {
        *out = value;
        return 0;
    }
    struct file_listing *l = file_listing_new();
    if (!l)
        return -ENOMEM;
    int err = listing_fetch(v, tag, l);
    if (err) {
        file_listing_unref(l);
        return err;
    }
    cache_insert(v->cache, key, listing_ref(l), &listing_ops);
    *out = l;
    return 0;
}

int files_meta_list_all(struct vfs *v, struct file_listing **out)
{
    size_t ntags = 0;
    while (vfs_path_tags[ntags])
        ntags++;
    struct file_listing **parts = calloc(ntags + 1, sizeof *parts);
    if (!parts)
        return -ENOMEM;
    int err = files_meta_list(v, NULL, &parts[0]);
    for (size_t i = 0; i < ntags && !err; i++)
        err = files_meta_list(v, vfs_path_tags[i], &parts[i + 1]);
    if (!err && !(*out = file_listing_merge(parts, ntags + 1)))
        err = -ENOMEM;
    for (size_t i = 0; i <= ntags; i++)
        file_listing_unref(parts[i]);
    free(parts);
    return err;
}

void files_meta_learn(struct vfs *v, struct vrc_file *f)
{
    char key[VFS_ID_MAX + 8];
    file_key(key, sizeof key, f->id);
    cache_insert(v->cache, key, vrc_file_ref(f), &file_ops);
    cache_remove_prefix(v->cache, "l:");
    vfs_forget_listings(v, "/files", 0);
}

void files_meta_forget(struct vfs *v, const char *file_id)
{
    char key[VFS_ID_MAX + 8];
    file_key(key, sizeof key, file_id);
    cache_insert_negative(v->cache, key);
    cache_remove_prefix(v->cache, "l:");
    snprintf(key, sizeof key, "u:%s/", file_id);
    cache_remove_prefix(v->cache, key);
    vfs_forget_listings(v, "/files", 0);
}

/* --- kept across mounts (meta_persist.h) ----------------------------------------------------- */

/* The account's kept file, or NULL: no cache_dir, or no user id that can name one. */
static char *kept_path(const struct vfs *v)
{
    return v->cfg.cache_dir ? meta_persist_path(v->cfg.cache_dir, v->cfg.user_id) : NULL;
}

static void restore_one(void *arg, struct vrc_file *f, double age)
{
    struct vfs *v = arg;
    if (strlen(f->id) >= VFS_ID_MAX) {
        vrc_file_unref(f);
        return;
    }
    char key[VFS_ID_MAX + 8];
    file_key(key, sizeof key, f->id);
    remember_md5s(f, false);
    cache_insert_aged(v->cache, key, f, &file_ops, age);
}

void files_meta_restore(struct vfs *v)
{
    meta_init(v);
    char *path = kept_path(v);
    if (!path)
        return;
    size_t n = meta_persist_load(path, http_client_api_url(v->http), v->cfg.user_id,
                                 v->cfg.cache_ttl, vfs_wall_now(), restore_one, v);
    if (n)
        log_info("%zu Files kept from the last mount, each fresh for what is left of its cache_ttl",
                 n);
    free(path);
}

/* The fresh Files of the cache, each with the wall-clock time it was fetched. */
struct fresh_files {
    struct meta_persist_file *files;
    size_t n, cap;
    double now;
    bool short_of_memory;
};

static void collect(void *arg, const char *key, void *value, double age)
{
    (void)key;
    struct fresh_files *ff = arg;
    if (ff->n == ff->cap) {
        size_t cap = ff->cap ? ff->cap * 2 : 256;
        struct meta_persist_file *grown = realloc(ff->files, cap * sizeof *grown);
        if (!grown) {
            ff->short_of_memory = true;
            return;
        }
        ff->files = grown;
        ff->cap = cap;
    }
    ff->files[ff->n].file = vrc_file_ref(value);
    ff->files[ff->n++].fetched = ff->now - age;
}

void files_meta_keep(struct vfs *v)
{
    char *path = kept_path(v);
    if (!path)
        return;
    struct fresh_files ff = {.now = vfs_wall_now()};
    cache_each(v->cache, "f:", collect, &ff);
    int err = ff.short_of_memory ? -ENOMEM
                                 : meta_persist_save(path, http_client_api_url(v->http),
                                                     v->cfg.user_id, ff.files, ff.n);
    if (err)
        log_warn("%s: cannot keep the Files for the next mount (%s); it fetches them again", path,
                 strerror(-err));
    for (size_t i = 0; i < ff.n; i++)
        vrc_file_unref((struct vrc_file *)ff.files[i].file);
    free(ff.files);
    free(path);
}

/* Callers that waited for another's GET /file instead of sending their own. */
static uint64_t fetch_waits(void)
{
    pthread_mutex_lock(&init_lock);
    struct single_flight *sf = fetches;
    pthread_mutex_unlock(&init_lock);
    return sf ? single_flight_waits(sf) : 0;
}

json_t *files_meta_stats(void)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "untagged_pages",
                     (json_int_t)atomic_load(&untagged_pages), "tag_pages",
                     (json_int_t)atomic_load(&tag_pages), "md5_gets",
                     (json_int_t)atomic_load(&md5_gets), "fetch_waits", (json_int_t)fetch_waits());
}
