/* stage_base: the server's current data of a File as the starting point of a stage opened
 * without O_TRUNC (editing a File in place). Fetched only when the stage is first read, written
 * or truncated to a size other than 0. */
#ifndef VRCFS_STAGE_BASE_H
#define VRCFS_STAGE_BASE_H

#include "vfs/stage.h"

/* Fetches the File's newest version into the staged file, through the digest, checking it
 * against the version's md5 (-EIO, logged, on a mismatch); the staged file is empty again on
 * any error. s->lock held. */
int stage_fetch_base(struct files_write_state *w, struct stage *s);
/* stage_fetch_base when s still stands for the server's data, else 0. s->lock held. */
int stage_ensure_base(struct files_write_state *w, struct stage *s);

#endif
