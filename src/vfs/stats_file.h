/* stats_file: /.vrcfs/stats.json (docs/SEMANTICS.md, The tree): API requests by endpoint and
 * status, bytes, retries, 429s, cache hits and misses, the kernel's requests, and what each subtree
 * adds (uploads in progress). Its size in stat is that of a rendering made then, and an open that
 * follows within the kernel's attribute time reads that same rendering, so that stat, cp and
 * cat agree. */
#ifndef VRCFS_STATS_FILE_H
#define VRCFS_STATS_FILE_H

#include "vfs/vfs_internal.h"

/* A fresh snapshot as pretty JSON with a final newline (malloc'd), or NULL. */
char *stats_file_render(struct vfs *v, size_t *len);

/* Attributes of stats.json: renders a snapshot and reports its size. */
int stats_file_getattr(struct vfs *v, struct stat *st);

/* Opens stats.json read-only on the last snapshot if it is fresh, else on a new one. */
int stats_file_open(struct vfs *v, struct fuse_file_info *fi);

#endif
