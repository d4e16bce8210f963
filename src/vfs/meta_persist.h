/* meta_persist: the Files of the metadata cache kept from one mount to the next, so that a
 * remount within cache_ttl of a File's fetch looks it up with no request (docs/SEMANTICS.md,
 * Consistency). One file per account, <cache_dir>/meta/<userId>.json, that names its account and
 * holds each File as the server gave it with the wall-clock time it was fetched. It is written
 * whole from the cache's state at unmount and taken (read, then removed) at mount: a File deleted
 * or changed through a mount never comes back from it, and a mount that ends without saving
 * (kill -9) leaves nothing to trust. No state; the caller keeps to one mount at a time. */
#ifndef VRCFS_META_PERSIST_H
#define VRCFS_META_PERSIST_H

#include "remote/vrc_file.h"

#include <stddef.h>

/* The name of the directory under cache_dir. */
#define META_PERSIST_SUBDIR "meta"

struct meta_persist_file {
    const struct vrc_file *file;
    double fetched; /* wall-clock seconds since the epoch */
};

/* <cache_dir>/meta/<user_id>.json, malloc'd; NULL when user_id cannot name a file (empty, longer
 * than 100, or other than [A-Za-z0-9_-]) or out of memory. */
char *meta_persist_path(const char *cache_dir, const char *user_id);

/* Replaces the file at path with files (n of them) kept for the account (api_url, user_id): a
 * temp file beside it, fsync, rename, so that a crash leaves the old file or the new one, whole.
 * The directory is made 0700 if missing, the file is 0600. With n == 0 the file is removed.
 * 0 or a negative errno (nothing is logged). */
int meta_persist_save(const char *path, const char *api_url, const char *user_id,
                      const struct meta_persist_file *files, size_t n);

/* Takes the file at path: reads it, removes it, and calls keep(arg, f, age) with each File it
 * holds that was fetched age seconds before now, 0 <= age < ttl (a File "fetched in the future",
 * after the wall clock went back, is dropped); keep takes over the reference to f. A file that
 * is missing gives nothing; one that does not parse, or was kept for another account, gives
 * nothing with one log line; a File in it that does not parse is skipped. Returns the number of
 * Files given to keep. */
size_t meta_persist_load(const char *path, const char *api_url, const char *user_id, double ttl,
                         double now, void (*keep)(void *arg, struct vrc_file *f, double age),
                         void *arg);

#endif
