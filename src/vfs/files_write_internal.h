/* files_write_internal: what files_write.c (staging, handles, what fs_ops calls) and
 * files_recovery.c (finishing at mount what an earlier run left staged) share: the stage, the
 * write state and the helpers both use. Private to src/vfs: only those two files include it. */
#ifndef VRCFS_FILES_WRITE_INTERNAL_H
#define VRCFS_FILES_WRITE_INTERNAL_H

#include "remote/file_digest.h"
#include "remote/vrc_file.h"
#include "vfs/staging.h"
#include "vfs/vfs_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* What stats.json says about a stage. */
enum phase { PHASE_WRITING, PHASE_QUEUED, PHASE_UPLOADING, PHASE_FAILED, PHASE_DONE };

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
};

/* Data a previous run left that this one neither uploads nor throws away. */
struct kept {
    struct kept *next;
    char *path; /* in the mount, as far as known */
    char *data_path;
    uint64_t size;
    const char *why;
};

struct local_link; /* files_write.c */

struct files_write_state {
    struct vfs *v;
    char *dir; /* <cache_dir>/staging */
    pthread_mutex_t lock;
    pthread_cond_t slots; /* signalled when an upload gives its File slot back */
    struct staging_space space;
    struct stage *stages;
    struct local_link *links;
    struct kept *kept;
    struct tombstones *tombs; /* files_delete.c: what this mount deleted a moment ago */
    /* The recovery worker: started once the process will not fork any more. */
    bool worker_needed;
    bool worker_started;
    pid_t worker_pid;
    pthread_t worker;
};

/* Defined in files_write.c, where each is described. */
int files_write_busy(struct files_write_state *w, const char *file_id);
void files_write_forget_file(struct files_write_state *w, const char *file_id);
char *stage_path(const struct files_write_state *w, const struct stage *s, const char *ext);
void mount_path(const struct staging_record *r, char *out, size_t len);
void sidecar_save(struct files_write_state *w, struct stage *s, enum staging_state state);
void remove_files(const struct files_write_state *w, const struct stage *s);
void stage_destroy(struct files_write_state *w, struct stage *s, bool keep_data);
void stage_put(struct files_write_state *w, struct stage *s);
struct stage *stage_alloc(void);
int stage_open_files(struct files_write_state *w, struct stage *s, bool create);
void add_link(struct files_write_state *w, const char *dir, const char *name,
              const struct vrc_file *f);
int stage_upload(struct files_write_state *w, struct stage *s);

/* The surface of files_recovery.c. */

/* Forgets each kept leftover whose data a person has deleted (rm of the path the log and
 * stats.json name as staged_at), with its sidecar: its bytes stop counting against
 * cache_size. Returns how many bytes that freed. w->lock held. */
uint64_t files_recovery_prune_kept(struct files_write_state *w);

/* At mount, before other threads run: queues for upload what earlier runs left, keeps the rest. */
void files_recovery_scan(struct files_write_state *w);
/* Starts the recovery worker when uploads wait, once per process (after fork); w may be NULL. */
void files_recovery_ensure_worker(struct files_write_state *w);

#endif
