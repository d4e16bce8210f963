/* stage_handle: an open file of a stage (struct vfs_handle): reads and writes go to the staged
 * data, close (flush) and fsync upload it, fstat shows the staged size. */
#ifndef VRCFS_STAGE_HANDLE_H
#define VRCFS_STAGE_HANDLE_H

#include "vfs/stage.h"

/* Gives the caller's reference on s to a new handle in fi (writable unless fi->flags is
 * O_RDONLY); on -ENOMEM the reference is dropped. */
int stage_handle_new(struct files_write_state *w, struct stage *s, struct fuse_file_info *fi);

#endif
