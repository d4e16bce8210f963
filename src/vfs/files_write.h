/* files_write: everything that changes Files through the mount (docs/SEMANTICS.md, Writing and
 * Errors): staging written data on local disk, uploading it on close as a new version or a new
 * File, the local names that exist only in this mount (temporary files, the symlinks left by
 * created Files), recovery of uploads interrupted by a crash, and the upload progress shown in
 * stats.json. files_subtree.c calls these for VP_FILES, VP_FILES_NAME, VP_FILE_DIR and VP_FILE_NAME
 * paths (deleting is files_delete.c's). All return 0 or a negative errno. */
#ifndef VRCFS_FILES_WRITE_H
#define VRCFS_FILES_WRITE_H

#include "vfs/vfs_internal.h"

#include <jansson.h>

/* At mount: sets the subtree's state (files_write_state_of), creates cache_dir, and finishes or
 * reports what a previous run left staged. Returns 0 or a negative errno (the mount then fails). */
int files_write_init(struct vfs *v);
/* At unmount: waits for uploads in progress, frees that state. */
void files_write_destroy(struct vfs *v);

/* A name that exists only locally (a staged new File, a temp file, a created File's symlink)
 * in /files or /files/<fileId>: fills st and returns 0, else -ENOENT. Asked before the
 * server-side tree, so a staged alias shows its staged size. */
int files_write_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st);
/* Adds the local names of directory p (VP_FILES or VP_FILE_DIR) with filler. */
void files_write_readdir(struct vfs *v, const struct vfs_path *p, void *buf,
                         fuse_fill_dir_t filler);
/* The target of a local symlink (/files/photo.png -> file_<id>/photo.png); -ENOENT if none. */
int files_write_readlink(struct vfs *v, const struct vfs_path *p, char *buf, size_t size);

/* open() of a VP_FILE_NAME or VP_FILES_NAME with write access (or of a local temp file):
 * sets fi->fh to a handle. Without O_TRUNC the staged copy starts from the current content. */
int files_write_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi);
int files_write_create(struct vfs *v, const struct vfs_path *p, mode_t mode,
                       struct fuse_file_info *fi);
int files_write_truncate(struct vfs *v, const struct vfs_path *p, off_t size);
int files_write_unlink(struct vfs *v, const struct vfs_path *p);
int files_write_rename(struct vfs *v, const struct vfs_path *from, const struct vfs_path *to,
                       unsigned int flags);
/* {"uploads": [{"path":..., "bytes_done":N, "bytes_total":N, "state":"..."}]} as a new
 * object, for stats.json. */
json_t *files_write_stats(struct vfs *v);

#endif
