#include "vfs/stats_file.h"

#include "json_text.h"
#include "remote/api_stats.h"
#include "vfs/buf_pool.h"
#include "vfs/content_cache.h"
#include "vfs/services.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *stats_file_render(struct vfs *v, size_t *len)
{
    struct cache_counters cc;
    cache_get_counters(v->cache, &cc);
    json_t *root = api_stats_json();
    json_object_set_new(root, "cache",
                        json_pack("{s:I, s:I, s:I, s:I, s:I}", "hits", (json_int_t)cc.hits,
                                  "negative_hits", (json_int_t)cc.negative_hits, "misses",
                                  (json_int_t)cc.misses, "evictions", (json_int_t)cc.evictions,
                                  "entries", (json_int_t)cc.entries));
    if (v->kernel.stats)
        json_object_set_new(root, "kernel", v->kernel.stats(v->kernel.ctx));
    for (size_t i = 0; i < SERVICE_SUBTREES_MAX && v->service->subtrees[i]; i++) {
        const struct subtree_ops *t = v->service->subtrees[i];
        json_t *own = t->stats ? t->stats(v) : NULL;
        if (own)
            json_object_update(root, own);
        json_decref(own);
    }
    if (v->content)
        json_object_set_new(root, "content_cache", content_cache_stats(v->content));
    struct buf_pool_stats pool;
    buf_pool_stats(v->pool, &pool);
    json_object_set_new(root, "memory_pool",
                        json_pack("{s:I, s:I, s:I, s:I}", "bytes_budget", (json_int_t)pool.budget,
                                  "bytes_now", (json_int_t)pool.charged, "bytes_peak",
                                  (json_int_t)pool.peak, "waits", (json_int_t)pool.waits));
    char *text = json_text_dump(root, JSON_INDENT(2) | JSON_SORT_KEYS, len);
    json_decref(root);
    return text;
}

/* The last snapshot that stat reported (one mount per process). */
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static char *last_text;
static size_t last_len;
static double last_at;

int stats_file_getattr(struct vfs *v, struct stat *st)
{
    size_t len = 0;
    char *text = stats_file_render(v, &len);
    if (!text)
        return -ENOMEM;
    pthread_mutex_lock(&last_lock);
    free(last_text);
    last_text = text;
    last_len = len;
    last_at = vfs_mono_now();
    pthread_mutex_unlock(&last_lock);
    vfs_stat_file(v, st, (off_t)len, 0444, time(NULL));
    return 0;
}

int stats_file_open(struct vfs *v, struct fuse_file_info *fi)
{
    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EACCES;
    char *text = NULL;
    size_t len = 0;
    pthread_mutex_lock(&last_lock);
    /* The snapshot a stat just reported, so that `stat -c %s` and `cat | wc -c` agree. */
    if (last_text && vfs_mono_now() - last_at < VFS_KERNEL_CACHE_S &&
        (text = malloc(last_len + 1))) {
        memcpy(text, last_text, last_len + 1);
        len = last_len;
    }
    pthread_mutex_unlock(&last_lock);
    if (!text)
        text = stats_file_render(v, &len);
    struct vfs_handle *h = text ? vfs_buffer_file_new(v, text, len, time(NULL)) : NULL;
    if (!h)
        return -ENOMEM;
    fi->direct_io = 0; /* with the right size, cp and rsync read it like any file */
    fi->keep_cache = 0;
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}
