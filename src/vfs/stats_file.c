#include "vfs/stats_file.h"

#include "remote/api_stats.h"
#include "vfs/files_meta.h"
#include "vfs/files_write.h"
#include "vfs/inode_ops.h"

#include <stdlib.h>
#include <string.h>

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
    json_object_set_new(root, "kernel", inode_ops_stats(v));
    json_object_set_new(root, "files_listing", files_meta_stats());
    json_t *writes = files_write_stats(v);
    json_object_update(root, writes);
    json_decref(writes);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (!text)
        return NULL;
    *len = strlen(text);
    char *with_newline = realloc(text, *len + 2);
    if (!with_newline) {
        free(text);
        return NULL;
    }
    with_newline[(*len)++] = '\n';
    with_newline[*len] = '\0';
    return with_newline;
}
