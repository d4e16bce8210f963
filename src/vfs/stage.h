/* stage: one name written through /files, staged on local disk (docs/SEMANTICS.md, Errors): a data
 * file under <cache_dir>/staging, the librsync signature being built next to it, and a JSON sidecar
 * (staging.h) that says what the data is for, so that a later mount can finish what a killed
 * one left. This module keeps the stages of the mount (the list, their references, the
 * cache_size budget), their files and sidecars, and their content: writes arrive through the
 * digest (MD5 + signature) while they come in order, so that close does not read the file again.
 *
 * Locking: w->lock guards the lists (stages, links, kept leftovers), each stage's reference
 * count and the cache_size budget. s->lock guards a stage's content. A stage's record (its
 * identity: kind, place, target File) changes only with both held, so either is enough to read
 * it. The order is s->lock, then w->lock; never the other way round. An upload runs without
 * either lock held, with s->uploading set so that writers wait for it instead of changing the
 * bytes being sent. All int functions return 0 or a negative errno. */
#ifndef VRCFS_STAGE_H
#define VRCFS_STAGE_H

#include "vfs/files_write_internal.h"
#include "vfs/progress_rate.h"

/* What stats.json says about a stage: written, queued by recovery, its md5 and signature being
 * finished, sending (or waiting for another upload of its File), sent and checked by the
 * server. */
enum phase {
    PHASE_WRITING,
    PHASE_QUEUED,
    PHASE_HASHING,
    PHASE_UPLOADING,
    PHASE_FINISHING,
    PHASE_FAILED,
    PHASE_DONE
};

struct stage {
    /* Under w->lock. */
    struct stage *next;
    char stem[STAGING_STEM_LEN + 1];
    struct staging_record rec; /* identity (kind, dir, name, file_id, ...) and disk state */
    int refs;                  /* handles, uploads and callers holding it */
    int handles;               /* open file handles */
    bool listed;               /* visible under its name (false once unlinked or replaced) */
    bool recover;              /* waiting for the recovery worker */
    bool slot;                 /* holds the one-upload-per-File slot */
    uint64_t accounted;        /* bytes counted in w->space */

    /* Under lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int fd;
    FILE *sig;
    uint64_t size;
    bool needs_base; /* opened without O_TRUNC: the server's data is not fetched yet */
    bool dirty;      /* changed since the last successful upload */
    bool uploading;
    bool deferred; /* a close that would have uploaded nothing but emptiness waits for release */
    int broken;    /* the errno of a write that failed: the content is not what was meant */
    uint64_t gen;  /* bumped by every change of the content */
    struct file_digest *digest;
    struct staging_hash hash;
    time_t mtime;

    /* Read without a lock, for stats.json. */
    atomic_int phase;
    atomic_int last_err;
    atomic_uint_fast64_t done, total;
    struct progress_rate rate; /* wall-clock seconds; its own lock */
};

/* --- the stage's files and sidecar ------------------------------------------------------------ */

/* <staging dir>/<stem>.<ext> as a new string; NULL when out of memory. */
char *stage_path(const struct files_write_state *w, const struct stage *s, const char *ext);
/* The stage's place in the mount, for the log and stats.json. */
void stage_mount_path(const struct staging_record *r, char *out, size_t len);
/* Writes r as s's sidecar atomically (temp file and rename), so a crash leaves the old or the
 * new; a failure is logged. */
int stage_sidecar_write(const struct files_write_state *w, const struct stage *s,
                        const struct staging_record *r);
/* Saves the stage's record with state set. s->lock held. */
void stage_sidecar_save(struct files_write_state *w, struct stage *s, enum staging_state state);
/* Removes the stage's data, signature and sidecar from the disk. */
void stage_remove_files(const struct files_write_state *w, const struct stage *s);

/* --- the list and the references -------------------------------------------------------------- */

/* A new stage, in no list, with no files open; NULL when out of memory. */
struct stage *stage_alloc(void);
/* Opens the data and signature files of a stage (new ones when create). */
int stage_open_files(struct files_write_state *w, struct stage *s, bool create);
/* Frees a stage nobody refers to any more, its bytes leave the budget. w->lock held.
 * keep_data: leave its files on disk (data a later mount must still upload). */
void stage_destroy(struct files_write_state *w, struct stage *s, bool keep_data);
/* Takes s out of the list: its name is gone; the kernel drops its listings of /files soon.
 * w->lock held. */
void stage_unlist(struct files_write_state *w, struct stage *s);
/* The stage visible at dir/name (the newest, should a recovery have left two), or NULL.
 * w->lock held. */
struct stage *stage_find(struct files_write_state *w, const char *dir, const char *name);
/* The stage at r's place, new and empty (or, with needs_base, standing for the server's data
 * of base_size bytes until it is read or written), with a new sidecar; it replaces the local
 * link at that name. Returns it in *out with one reference, or the stage already there (with a
 * reference too, *existed set). */
int stage_get_or_create(struct files_write_state *w, const struct staging_record *r,
                        bool needs_base, uint64_t base_size, struct stage **out, bool *existed);
/* Drops one reference; the last one frees a stage that has nothing left to do: unlinked, or
 * uploaded and closed (a created File's name is its link from then on). A temporary file lives
 * until it is unlinked or renamed; a stage whose upload failed stays (visible, and on disk) for
 * its next close or the next mount. */
void stage_put(struct files_write_state *w, struct stage *s);

/* --- the content (s->lock held for each) ------------------------------------------------------ */

/* Counts the staged file as size bytes against cache_size (making room by forgetting kept
 * leftovers a person deleted); -ENOSPC, logged, when it does not fit. */
int stage_account(struct files_write_state *w, struct stage *s, uint64_t size);
/* A fresh digest for empty data; the signature file starts over. */
void stage_digest_reset(struct stage *s);
/* Feeds len bytes written at off to the digest while writes come in order; else drops it. */
void stage_digest_write(struct stage *s, const void *buf, uint64_t off, size_t len);
/* The md5s and sizes of the staged data and its signature: from the digest fed on the way when
 * every write came in order, else by reading the staged file once. */
int stage_digest_finish(struct stage *s, struct file_digest_result *out);
/* Waits until no upload runs for s. */
void stage_wait_upload(struct stage *s);
/* Marks s changed; the first change after an upload (or a recovery) says so on disk, so that a
 * crash from here on leaves the data reported, never uploaded half-written. */
void stage_mark_dirty(struct files_write_state *w, struct stage *s);
/* Fills st for the staged file: its size now, 0644, its last change (takes s->lock itself). */
void stage_stat(struct files_write_state *w, struct stage *s, struct stat *st);
/* Sets the staged size, after any upload of s ends (takes s->lock itself). */
int stage_truncate(struct files_write_state *w, struct stage *s, uint64_t size);

#endif
