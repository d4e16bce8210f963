/* stage_upload: a stage to the server as a new version (or a new File), one upload per File at
 * a time (stage_upload.h). */
#include "vfs/stage_upload.h"

#include "log.h"
#include "remote/upload.h"
#include "vfs/files_meta.h"
#include "vfs/local_link.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

/* A created File's name turns from the regular file that was written into the symlink to
 * file_<id>/<alias> when its upload succeeds (local_link_shown), and the kernel is told to drop
 * the name before that close() returns (vfs_forget_entry). Should the kernel still use the old
 * node, inode_ops.c answers it with what the link names. */

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
    struct stage *s = arg;
    atomic_store(&s->done, done);
    atomic_store(&s->total, total);
    progress_rate_add(&s->rate, vfs_wall_now(), done);
    /* All sent: what remains is the server's check ("complete"); unless a part is sent again. */
    int was = done >= total ? PHASE_UPLOADING : PHASE_FINISHING;
    atomic_compare_exchange_strong(&s->phase, &was,
                                   done >= total ? PHASE_FINISHING : PHASE_UPLOADING);
}

/* Takes the upload slot of s's File: two stages (an alias and a created File's name, or a
 * recovery and a new write) never upload versions of one File at once, because each would
 * delete the other's waiting version. */
static void slot_take(struct files_write_state *w, struct stage *s)
{
    pthread_mutex_lock(&w->lock);
    for (;;) {
        bool busy = false;
        for (struct stage *o = w->stages; o && *s->rec.file_id; o = o->next)
            if (o != s && o->slot && strcmp(o->rec.file_id, s->rec.file_id) == 0)
                busy = true;
        if (!busy)
            break;
        pthread_cond_wait(&w->slots, &w->lock);
    }
    s->slot = true;
    pthread_mutex_unlock(&w->lock);
}

static void slot_give(struct files_write_state *w, struct stage *s)
{
    pthread_mutex_lock(&w->lock);
    s->slot = false;
    pthread_cond_broadcast(&w->slots);
    pthread_mutex_unlock(&w->lock);
}

/* The upload itself, no lock held: a new File first when there is none yet, then the version. */
static int stage_send(struct files_write_state *w, struct stage *s, const struct staging_record *r,
                      const struct file_digest_result *d, struct vrc_file **out)
{
    struct vfs *v = w->v;
    char file_id[VFS_ID_MAX];
    snprintf(file_id, sizeof file_id, "%s", r->file_id);
    if (!*file_id) {
        struct vrc_file *created = NULL;
        /* Made in by-tag/<tag>/: the File carries the tag. */
        const char *tag = *r->dir ? r->dir + strlen(TAG_DIR_PREFIX) : NULL;
        int err = upload_create_file(v->http, r->new_name, r->extension, r->mime, tag, &created);
        if (err)
            return err;
        files_meta_learn(v, created);
        snprintf(file_id, sizeof file_id, "%s", created->id);
        vrc_file_unref(created);
        /* Remembered at once: a crash from here on uploads into this File, not a second one. */
        pthread_mutex_lock(&s->lock);
        pthread_mutex_lock(&w->lock);
        snprintf(s->rec.file_id, sizeof s->rec.file_id, "%s", file_id);
        struct staging_record now = s->rec;
        pthread_mutex_unlock(&w->lock);
        stage_sidecar_write(w, s, &now);
        pthread_mutex_unlock(&s->lock);
    }
    struct upload_source src = {
        .data_fd = s->fd, .sig_fd = fileno(s->sig), .digest = d, .mime = r->mime};
    struct upload_options opt = {
        .part_size = v->cfg.part_size, .progress = on_progress, .progress_arg = s};
    return upload_new_version(v->http, file_id, &src, &opt, out, NULL);
}

int stage_upload(struct files_write_state *w, struct stage *s)
{
    pthread_mutex_lock(&s->lock);
    stage_wait_upload(s);
    pthread_mutex_lock(&w->lock);
    bool skip = !s->listed || s->rec.kind == STAGING_TEMP;
    pthread_mutex_unlock(&w->lock);
    if (skip || !s->dirty) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    char where[PATH_MAX];
    stage_mount_path(&s->rec, where, sizeof where);
    if (s->broken) {
        int broken = s->broken;
        pthread_mutex_unlock(&s->lock);
        log_error("%s: not uploaded: a write failed (%s), so the data is incomplete", where,
                  strerror(-broken));
        return broken;
    }
    struct file_digest_result d;
    atomic_store(&s->total, s->size);
    atomic_store(&s->phase, PHASE_HASHING); /* a moment, unless the digest must start over */
    int err = stage_digest_finish(s, &d);
    if (!err && fflush(s->sig) != 0)
        err = -EIO;
    if (err) {
        atomic_store(&s->phase, PHASE_WRITING);
        pthread_mutex_unlock(&s->lock);
        log_error("%s: cannot compute its md5 and signature (%s)", where, strerror(-err));
        return err;
    }
    uint64_t gen = s->gen;
    s->uploading = true;
    s->deferred = false;
    atomic_store(&s->done, 0);
    atomic_store(&s->total, d.size + d.sig_size);
    atomic_store(&s->phase, PHASE_UPLOADING);
    progress_rate_start(&s->rate, vfs_wall_now());
    pthread_mutex_lock(&w->lock);
    s->rec.size = d.size;
    snprintf(s->rec.md5, sizeof s->rec.md5, "%s", d.md5_b64);
    pthread_mutex_unlock(&w->lock);
    stage_sidecar_save(w, s, STAGING_CLOSED);
    pthread_mutex_lock(&w->lock);
    struct staging_record r = s->rec;
    pthread_mutex_unlock(&w->lock);
    pthread_mutex_unlock(&s->lock);

    log_info("%s: uploading %" PRIu64 " bytes", where, d.size);
    slot_take(w, s);
    struct vrc_file *f = NULL;
    err = stage_send(w, s, &r, &d, &f);
    slot_give(w, s);

    pthread_mutex_lock(&s->lock);
    s->uploading = false;
    pthread_cond_broadcast(&s->cond);
    atomic_store(&s->last_err, err);
    if (!err) {
        files_meta_learn(w->v, f);
        if (s->gen == gen) {
            s->dirty = false;
            atomic_store(&s->phase, PHASE_DONE);
            stage_sidecar_save(w, s, STAGING_UPLOADED);
        } else {
            atomic_store(&s->phase, PHASE_WRITING);
        }
        if (r.kind == STAGING_NEW)
            local_link_add(w, r.dir, r.name, f);
        log_info("%s: uploaded as a new version of %s", where, f->id);
        vrc_file_unref(f);
    } else {
        atomic_store(&s->phase, PHASE_FAILED);
        char *data = stage_path(w, s, "data");
        log_error("%s: the upload failed (%s); the data is kept at %s and is uploaded again "
                  "at its next close for writing or by the next mount",
                  where, strerror(-err), data ? data : s->stem);
        free(data);
    }
    pthread_mutex_unlock(&s->lock);
    /* The name is the link now (local_link_shown): the kernel must look it up again before close()
     * returns, or `[ -L ]` right after `cp` would still find the regular file it made. */
    if (!err && r.kind == STAGING_NEW) {
        char dir[VFS_ID_MAX + 8];
        snprintf(dir, sizeof dir, "/files%s%s", *r.dir ? "/" : "", r.dir);
        vfs_forget_entry(w->v, dir, r.name, 0, true);
    }
    return err;
}
