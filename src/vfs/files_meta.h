/* files_meta: Files and listings through the metadata cache. A listing puts every File it
 * returns into the cache, so that stat inside /files/<fileId>/ costs no request. */
#ifndef VRCFS_FILES_META_H
#define VRCFS_FILES_META_H

#include "remote/vrc_file.h"
#include "vfs/vfs_internal.h"

struct file_listing {
    atomic_int refs;
    size_t count;
    char **ids;
};

/* The File, from the cache or GET /file/{id} (remembered as absent on -ENOENT). */
int files_meta_get(struct vfs *v, const char *file_id, struct vrc_file **out);

/* All Files of /files (tag NULL) or of one tag, from the cache or paged GET /files. */
int files_meta_list(struct vfs *v, const char *tag, struct file_listing **out);
void files_meta_listing_unref(struct file_listing *l);

/* Puts a File the server just returned (after an upload, a delete) into the cache, replacing
 * what was there; the listings, ours and the kernel's, are dropped so the next one is fresh. */
void files_meta_learn(struct vfs *v, struct vrc_file *f);

/* Forgets a File (after DELETE) and the listings, ours and the kernel's. */
void files_meta_forget(struct vfs *v, const char *file_id);

#endif
