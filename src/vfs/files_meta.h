/* files_meta: Files and listings through the metadata cache. A listing puts every File it
 * returns into the cache, so that stat inside /files/<fileId>/ costs no request. */
#ifndef VRCFS_FILES_META_H
#define VRCFS_FILES_META_H

#include "remote/vrc_file.h"
#include "vfs/file_listing.h"
#include "vfs/vfs_internal.h"

/* The File, from the cache or GET /file/{id} (remembered as absent on -ENOENT); callers that
 * miss it while a GET /file of it runs wait for that one instead of sending their own. */
int files_meta_get(struct vfs *v, const char *file_id, struct vrc_file **out);

/* The File as files_meta_get gives it, with every md5 the server has: when a listing left out
 * the md5 of a complete version and no answer gave it before, one GET /file (once: the md5s are
 * remembered, also in <cache_dir>/md5s for later mounts, and callers that come while it runs
 * wait for it), so that file.json's bytes are the same whichever answer brought the File and
 * every byte of its data can be checked. For an open: stat needs only files_meta_get, as
 * file.json's size does not depend on the md5s (vrc_file_json.h). A failed GET /file is the
 * request's reason (log_reason). */
int files_meta_get_whole(struct vfs *v, const char *file_id, struct vrc_file **out);

/* The Files of the untagged listing (tag NULL) or of one tag, from the cache or paged
 * GET /files (?tag=). *out is a new reference. */
int files_meta_list(struct vfs *v, const char *tag, struct file_listing **out);

/* Every File of the account: the untagged listing merged with the listing of each ImagePurpose
 * tag (VRChat leaves tagged Files out of the untagged one), each File once. The parts are the
 * cached listings of files_meta_list, so by-tag/<tag> reuses them within cache_ttl. */
int files_meta_list_all(struct vfs *v, struct file_listing **out);

/* At mount: the Files the last mount of this account kept under cache_dir (meta_persist.h) go
 * into the cache, each fresh for what is left of cache_ttl since it was fetched. */
void files_meta_restore(struct vfs *v);

/* At unmount: the Files of the cache still fresh are kept for the next mount (replacing what
 * was kept before), with the time each was fetched. */
void files_meta_keep(struct vfs *v);

/* The GET /files pages fetched so far, untagged and by tag, and the GET /file asked for md5s
 * (files_meta_get_whole), as stats.json shows them. */
json_t *files_meta_stats(void);

/* Puts a File the server just returned (after an upload, a delete) into the cache, replacing
 * what was there; the listings, ours and the kernel's, are dropped so the next one is fresh. */
void files_meta_learn(struct vfs *v, struct vrc_file *f);

/* Forgets a File (after DELETE) and the listings, ours and the kernel's. */
void files_meta_forget(struct vfs *v, const char *file_id);

#endif
