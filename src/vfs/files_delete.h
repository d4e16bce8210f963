/* files_delete: deleting Files and versions through the mount (docs/SEMANTICS.md
 * "Deleting"). A File's directory and a version's directory always have entries, so rmdir of
 * them is ENOTEMPTY; what deletes is the removal of an entry that is the thing itself:
 * file.json for the File, any of <N>/file, signature, delta for version N (the newest only, as
 * VRChat allows). The rest
 * of the deleted subtree is then held as a tombstone (tombstones.h) for a short while, so that
 * `rm -r` and `find -delete`, which read the names before removing them, finish cleanly. The
 * other names (latest, the alias, by-tag links) are views: removing one of a
 * live File is refused with a log line saying what to remove instead. files_subtree.c calls these
 * for paths under /files that are not local names of this mount. All return 0 or a negative errno.
 */
#ifndef VRCFS_FILES_DELETE_H
#define VRCFS_FILES_DELETE_H

#include "vfs/vfs_internal.h"

/* How long a deleted subtree stays as a tombstone. */
#define FILES_DELETE_TOMB_S 30.0

/* unlink(2) of p at path: deletes, refuses, or removes a tombstone's name. */
int files_delete_unlink(struct vfs *v, const struct vfs_path *p, const char *path);
/* rmdir(2) of a File's or version's directory: ENOTEMPTY while it exists, else a tombstone's. */
int files_delete_rmdir(struct vfs *v, const struct vfs_path *p, const char *path);

/* What a tombstone holds at path: as getattr, readdir and readlink; -ENOENT when none does. */
int files_delete_getattr(struct vfs *v, const char *path, struct stat *st);
int files_delete_readdir(struct vfs *v, const char *path, void *buf, fuse_fill_dir_t filler);
int files_delete_readlink(struct vfs *v, const char *path, char *buf, size_t size);

#endif
