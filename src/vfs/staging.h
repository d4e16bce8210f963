/* staging: the bookkeeping of data staged on local disk before upload (docs/SEMANTICS.md, Errors:
 * nothing written is lost), without any I/O: the sidecar record that lets a later mount find what a
 * killed one left, what to do with such a leftover, the cache_size budget, and whether writes still
 * arrive in order so that the digest can be computed on the way. files_write.c does the I/O. */
#ifndef VRCFS_STAGING_H
#define VRCFS_STAGING_H

#include "remote/file_digest.h"
#include "vfs/vfs_path.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define STAGING_FORMAT 1
#define STAGING_STEM_LEN 16 /* hex characters of a staging file's name */

enum staging_kind {
    STAGING_VERSION, /* /files/<fileId>/<alias>: a new version of that File */
    STAGING_NEW,     /* /files[/by-tag/<tag>]/<name>.<ext>: a new File (with that tag; file_id set
                        once it is created) */
    STAGING_TEMP,    /* a temporary name: local only, never uploaded by itself */
};

enum staging_state {
    STAGING_WRITING,  /* being written: the data may be incomplete */
    STAGING_CLOSED,   /* complete as of a close or fsync, not (yet) on the server */
    STAGING_UPLOADED, /* on the server */
};

/* What the sidecar JSON next to a staged file says. */
struct staging_record {
    enum staging_kind kind;
    enum staging_state state;
    char dir[VFS_ID_MAX];        /* the fileId of the directory, "" for /files, "by-tag/<tag>" */
    char name[NAME_MAX + 1];     /* the name in that directory */
    char file_id[VFS_ID_MAX];    /* the target File; "" for a new File not created yet */
    char new_name[NAME_MAX + 1]; /* STAGING_NEW: name and extension for POST /file */
    char extension[NAME_MAX + 1];
    char mime[96];
    uint64_t size;                    /* STAGING_CLOSED: the size at close */
    char md5[DIGEST_MD5_B64_LEN + 1]; /* STAGING_CLOSED: its fileMd5, "" when unknown */
    int64_t time;                     /* when the state was last set (seconds since the epoch) */
};

/* The record as a new JSON object (with "format"). */
json_t *staging_record_to_json(const struct staging_record *r);

/* Reads a record back. Returns 0, or -EINVAL for anything a later mount must not act on: not
 * an object, an unknown format, kind or state, a name that is empty or has '/', a fileId that
 * is not one, a STAGING_VERSION without file_id, a STAGING_NEW without new_name/extension. */
int staging_record_from_json(json_t *obj, struct staging_record *r);

enum staging_action {
    STAGING_ACT_UPLOAD,  /* complete data that never reached the server: upload it */
    STAGING_ACT_KEEP,    /* keep it and say so in the log (it may be incomplete) */
    STAGING_ACT_DISCARD, /* nothing of the user's is lost by removing it */
};

/* What a new mount does with a record a previous run left, given whether its data file exists
 * and how big it is: temporary files and uploaded data are discarded, complete data (closed,
 * with the size it had at close) is uploaded, and everything else is kept and reported. */
enum staging_action staging_recovery_action(const struct staging_record *r, bool have_data,
                                            uint64_t data_size);

/* The cache_size budget: bytes of staged data against the limit. */
struct staging_space {
    uint64_t used;
    uint64_t limit;
};

/* A staged file goes from old_size to new_size bytes. Growth that would pass the limit is
 * refused with -ENOSPC (nothing changes); shrinking always succeeds. */
int staging_space_resize(struct staging_space *s, uint64_t old_size, uint64_t new_size);

/* Whether the data can still be digested as it arrives: valid while every write starts where
 * the digested bytes end. */
struct staging_hash {
    bool valid;
    uint64_t hashed; /* bytes fed to the digest so far */
};

enum staging_hash_step {
    STAGING_HASH_FEED,  /* feed these bytes to the digest */
    STAGING_HASH_DROP,  /* the order broke now: drop the digest, redo it at close */
    STAGING_HASH_SKIP,  /* it broke earlier: nothing to do */
    STAGING_HASH_RESET, /* truncated to 0: start a fresh digest */
    STAGING_HASH_KEEP,  /* truncated to exactly the digested length: nothing changes */
};

/* A fresh, empty file: valid with nothing hashed. */
void staging_hash_init(struct staging_hash *h);
/* A write of len bytes at off. */
enum staging_hash_step staging_hash_write(struct staging_hash *h, uint64_t off, uint64_t len);
/* A truncate (or extension) to size. */
enum staging_hash_step staging_hash_truncate(struct staging_hash *h, uint64_t size);

/* A new random stem (STAGING_STEM_LEN hex characters and a NUL) for a staged file's name. */
void staging_new_stem(char out[STAGING_STEM_LEN + 1]);
/* True when s is such a stem. */
bool staging_is_stem(const char *s);

#endif
