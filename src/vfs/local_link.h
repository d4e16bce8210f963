/* local_link: the names in /files and by-tag/<tag>/ that exist only in this mount: the symlink
 * a created File leaves under the name it was written as (photo.png -> file_<id>/photo.png).
 * All functions but local_link_add expect w->lock held. */
#ifndef VRCFS_LOCAL_LINK_H
#define VRCFS_LOCAL_LINK_H

#include "vfs/stage.h"

#include <limits.h>

struct local_link {
    struct local_link *next;
    char dir[VFS_ID_MAX];     /* "" for /files, "by-tag/<tag>" (as a staging record's dir) */
    char name[NAME_MAX + 1];  /* in that directory */
    char file_id[VFS_ID_MAX]; /* the File it names */
    char *target;             /* "file_<id>/<alias>", "../../file_<id>/<alias>" */
};

/* Leaves dir/name as a symlink to where the created File f lives, replacing a link there. Takes
 * w->lock itself. */
void local_link_add(struct files_write_state *w, const char *dir, const char *name,
                    const struct vrc_file *f);
/* The link at dir/name, or NULL. */
struct local_link *local_link_find(struct files_write_state *w, const char *dir, const char *name);
/* Whether s (may be NULL) shows as its link: a created File's name is its link as soon as its
 * upload is done, even while the file is still open (close() flushes before it releases); a
 * write after that makes it the staged file again, whose next close uploads a new version. */
bool local_link_shown(struct files_write_state *w, const struct stage *s);
/* Removes and frees a link of w's list. */
void local_link_remove(struct files_write_state *w, struct local_link *gone);
/* Removes every link to the File file_id. */
void local_link_forget_file(struct files_write_state *w, const char *file_id);
/* Frees every link (at unmount). */
void local_link_free_all(struct files_write_state *w);

#endif
