/* stats_file: the content of /.vrcfs/stats.json (CONTRACT.md 2): API requests by endpoint and
 * status, bytes, retries, 429s, cache hits and misses, uploads in progress. */
#ifndef VRCFS_STATS_FILE_H
#define VRCFS_STATS_FILE_H

#include "vfs/vfs_internal.h"

/* A fresh snapshot as pretty JSON with a final newline (malloc'd), or NULL. */
char *stats_file_render(struct vfs *v, size_t *len);

#endif
