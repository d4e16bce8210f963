/* files_write_internal: the state the modules of the write side of /files share: files_write.c
 * (the subtree's ops), stage.c, stage_base.c, stage_upload.c, stage_handle.c, local_link.c,
 * files_recovery.c (finishing at mount what an earlier run left staged) and files_delete.c.
 * Private to src/vfs. */
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

/* Data a previous run left that this one neither uploads nor throws away. */
struct kept {
    struct kept *next;
    char *path; /* in the mount, as far as known */
    char *data_path;
    uint64_t size;
    const char *why;
};

struct local_link; /* local_link.h */
struct stage;      /* stage.h */

/* A staging record's dir for by-tag/<tag>: "by-tag/" and the tag. */
#define TAG_DIR_PREFIX "by-tag/"

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

/* The surface of files_write.c that files_delete.c uses. */

/* The write side's state of the mount: the files subtree's own (subtree_state), NULL before
 * files_write_init and after files_write_destroy. */
struct files_write_state *files_write_state_of(struct vfs *v);

/* -EBUSY while a stage of the File is open or uploading (deleting it would pull the File from
 * under the upload), else 0. */
int files_write_busy(struct files_write_state *w, const char *file_id);
/* The File was deleted: the links to it and whatever was staged for it or in its directory go
 * (the data can go nowhere: the user deleted the File). */
void files_write_forget_file(struct files_write_state *w, const char *file_id);

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
