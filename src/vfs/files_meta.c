#include "vfs/files_meta.h"

#include "remote/files_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *file_ref(void *f)
{
    return vrc_file_ref(f);
}

static void file_unref(void *f)
{
    vrc_file_unref(f);
}

static const struct cache_value_ops file_ops = {file_ref, file_unref};

static void *listing_ref(void *p)
{
    struct file_listing *l = p;
    atomic_fetch_add(&l->refs, 1);
    return l;
}

void files_meta_listing_unref(struct file_listing *l)
{
    if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    for (size_t i = 0; i < l->count; i++)
        free(l->ids[i]);
    free(l->ids);
    free(l);
}

static void listing_unref(void *p)
{
    files_meta_listing_unref(p);
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

int files_meta_get(struct vfs *v, const char *file_id, struct vrc_file **out)
{
    char key[VFS_ID_MAX + 8];
    file_key(key, sizeof key, file_id);
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
    int err = files_get(v->http, file_id, out);
    if (err == -ENOENT)
        cache_insert_negative(v->cache, key);
    else if (!err)
        cache_insert(v->cache, key, vrc_file_ref(*out), &file_ops);
    return err;
}

static int listing_append(struct file_listing *l, size_t *cap, const char *id)
{
    if (l->count == *cap) {
        size_t grown = *cap ? *cap * 2 : 128;
        char **ids = realloc(l->ids, grown * sizeof *ids);
        if (!ids)
            return -ENOMEM;
        l->ids = ids;
        *cap = grown;
    }
    l->ids[l->count] = strdup(id);
    return l->ids[l->count++] ? 0 : -ENOMEM;
}

/* Pages through GET /files, putting every File into the cache on the way. */
static int listing_fetch(struct vfs *v, const char *tag, struct file_listing *l)
{
    size_t cap = 0;
    for (int offset = 0;; offset += FILES_PAGE_MAX) {
        struct vrc_file **files;
        size_t count;
        int err = files_list_page(v->http, tag, offset, FILES_PAGE_MAX, &files, &count);
        if (err)
            return err;
        for (size_t i = 0; i < count && !err; i++) {
            if (!files[i])
                continue;
            char key[VFS_ID_MAX + 8];
            file_key(key, sizeof key, files[i]->id);
            if (strlen(files[i]->id) < VFS_ID_MAX)
                cache_insert(v->cache, key, vrc_file_ref(files[i]), &file_ops);
            err = listing_append(l, &cap, files[i]->id);
        }
        files_free_list(files, count);
        if (err || count < FILES_PAGE_MAX)
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
    struct file_listing *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    atomic_init(&l->refs, 1);
    int err = listing_fetch(v, tag, l);
    if (err) {
        files_meta_listing_unref(l);
        return err;
    }
    cache_insert(v->cache, key, listing_ref(l), &listing_ops);
    *out = l;
    return 0;
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
