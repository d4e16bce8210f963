/* stage: the stages of the mount, their files on disk, their sidecars, the cache_size budget
 * and their content (stage.h). */
#include "vfs/stage.h"

#include "log.h"
#include "vfs/content_cache.h"
#include "vfs/local_link.h"
#include "vfs/stage_base.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *stage_path(const struct files_write_state *w, const struct stage *s, const char *ext)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s.%s", w->dir, s->stem, ext) < 0)
        return NULL;
    return p;
}

void stage_mount_path(const struct staging_record *r, char *out, size_t len)
{
    if (*r->dir)
        snprintf(out, len, "/files/%s/%s", r->dir, r->name);
    else
        snprintf(out, len, "/files/%s", r->name);
}

int stage_sidecar_write(const struct files_write_state *w, const struct stage *s,
                        const struct staging_record *r)
{
    char *path = stage_path(w, s, "json");
    char *tmp = stage_path(w, s, "json.tmp");
    json_t *obj = staging_record_to_json(r);
    int err = path && tmp && obj ? 0 : -ENOMEM;
    if (!err && json_dump_file(obj, tmp, JSON_INDENT(2)) != 0)
        err = -EIO;
    if (!err && rename(tmp, path) != 0)
        err = -errno;
    if (err) {
        log_warn("staging: cannot write %s (%s)", path ? path : s->stem, strerror(-err));
        if (tmp)
            unlink(tmp);
    }
    json_decref(obj);
    free(path);
    free(tmp);
    return err;
}

void stage_sidecar_save(struct files_write_state *w, struct stage *s, enum staging_state state)
{
    pthread_mutex_lock(&w->lock);
    s->rec.state = state;
    s->rec.time = (int64_t)time(NULL);
    struct staging_record r = s->rec;
    pthread_mutex_unlock(&w->lock);
    stage_sidecar_write(w, s, &r);
}

void stage_remove_files(const struct files_write_state *w, const struct stage *s)
{
    const char *exts[] = {"data", "sig", "json", "json.tmp"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        char *p = stage_path(w, s, exts[i]);
        if (p)
            unlink(p);
        free(p);
    }
}

void stage_destroy(struct files_write_state *w, struct stage *s, bool keep_data)
{
    staging_space_resize(&w->space, s->accounted, 0);
    if (s->fd >= 0)
        close(s->fd);
    if (s->sig)
        fclose(s->sig);
    file_digest_abort(s->digest);
    if (!keep_data)
        stage_remove_files(w, s);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    progress_rate_destroy(&s->rate);
    free(s);
}

void stage_unlist(struct files_write_state *w, struct stage *s)
{
    for (struct stage **pp = &w->stages; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    s->next = NULL;
    s->listed = false;
    vfs_forget_listings(w->v, "/files", 0.01); /* by the expiry thread: w->lock is held */
}

struct stage *stage_find(struct files_write_state *w, const char *dir, const char *name)
{
    for (struct stage *s = w->stages; s; s = s->next)
        if (s->listed && strcmp(s->rec.dir, dir) == 0 && strcmp(s->rec.name, name) == 0)
            return s;
    return NULL;
}

void stage_put(struct files_write_state *w, struct stage *s)
{
    pthread_mutex_lock(&w->lock);
    if (--s->refs == 0 && !s->recover &&
        (!s->listed || (s->rec.kind != STAGING_TEMP && (!s->dirty || s->broken)))) {
        /* A write that failed (ENOSPC) left a fragment: never uploaded, not kept. */
        if (s->listed)
            stage_unlist(w, s);
        stage_destroy(w, s, false);
    }
    pthread_mutex_unlock(&w->lock);
}

int stage_account(struct files_write_state *w, struct stage *s, uint64_t size)
{
    pthread_mutex_lock(&w->lock);
    int err = staging_space_resize(&w->space, s->accounted, size);
    if (err && files_recovery_prune_kept(w) > 0)
        err = staging_space_resize(&w->space, s->accounted, size);
    if (!err)
        s->accounted = size;
    uint64_t used = w->space.used, limit = w->space.limit;
    pthread_mutex_unlock(&w->lock);
    /* One budget: cached version data makes way for what is staged (never the other way). */
    content_cache_set_reserved(w->v->content, used);
    if (err)
        log_warn("staging: %" PRIu64 " bytes would pass cache_size (%" PRIu64 " of %" PRIu64
                 " in use): ENOSPC",
                 size - s->accounted, used, limit);
    return err;
}

/* --- the digest ------------------------------------------------------------------------------- */

static void stage_digest_drop(struct stage *s)
{
    file_digest_abort(s->digest);
    s->digest = NULL;
    s->hash.valid = false;
}

void stage_digest_reset(struct stage *s)
{
    file_digest_abort(s->digest);
    s->digest = NULL;
    staging_hash_init(&s->hash);
    if (ftruncate(fileno(s->sig), 0) == 0) {
        rewind(s->sig);
        s->digest = file_digest_new(s->sig);
    }
    if (!s->digest)
        s->hash.valid = false; /* computed from the file at close instead */
}

void stage_digest_write(struct stage *s, const void *buf, uint64_t off, size_t len)
{
    switch (staging_hash_write(&s->hash, off, len)) {
    case STAGING_HASH_FEED:
        if (!s->digest || file_digest_update(s->digest, buf, len) != 0)
            stage_digest_drop(s);
        break;
    case STAGING_HASH_DROP:
        stage_digest_drop(s);
        break;
    default:
        break;
    }
}

int stage_digest_finish(struct stage *s, struct file_digest_result *out)
{
    if (s->digest && s->hash.valid && s->hash.hashed == s->size) {
        int err = file_digest_finish(s->digest, out);
        s->digest = NULL;
        s->hash.valid = false;
        if (!err)
            return 0;
    }
    stage_digest_drop(s);
    if (ftruncate(fileno(s->sig), 0) != 0)
        return -errno;
    rewind(s->sig);
    return file_digest_fd(s->fd, s->sig, out);
}

/* --- stages ----------------------------------------------------------------------------------- */

struct stage *stage_alloc(void)
{
    struct stage *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    atomic_init(&s->phase, PHASE_WRITING);
    atomic_init(&s->last_err, 0);
    atomic_init(&s->done, 0);
    atomic_init(&s->total, 0);
    progress_rate_init(&s->rate);
    return s;
}

int stage_open_files(struct files_write_state *w, struct stage *s, bool create)
{
    char *data = stage_path(w, s, "data");
    char *sig = stage_path(w, s, "sig");
    int err = data && sig ? 0 : -ENOMEM;
    if (!err) {
        s->fd = open(data, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600);
        if (s->fd < 0)
            err = -errno;
    }
    if (!err) {
        s->sig = fopen(sig, "w+e");
        if (!s->sig)
            err = -errno;
    }
    if (err)
        log_error("staging: cannot open %s (%s)", data ? data : s->stem, strerror(-err));
    free(data);
    free(sig);
    return err;
}

int stage_get_or_create(struct files_write_state *w, const struct staging_record *r,
                        bool needs_base, uint64_t base_size, struct stage **out, bool *existed)
{
    *existed = false;
    pthread_mutex_lock(&w->lock);
    struct stage *s = stage_find(w, r->dir, r->name);
    if (s) {
        s->refs++;
        pthread_mutex_unlock(&w->lock);
        *existed = true;
        *out = s;
        return 0;
    }
    s = stage_alloc();
    int err = s ? 0 : -ENOMEM;
    if (!err) {
        staging_new_stem(s->stem);
        s->rec = *r;
        s->rec.state = STAGING_WRITING;
        s->rec.time = (int64_t)time(NULL);
        err = stage_open_files(w, s, true);
    }
    if (!err)
        err = stage_sidecar_write(w, s, &s->rec);
    if (!err) {
        s->digest = file_digest_new(s->sig);
        staging_hash_init(&s->hash);
        if (!s->digest)
            s->hash.valid = false;
        s->needs_base = needs_base;
        s->size = needs_base ? base_size : 0;
        s->mtime = time(NULL);
        s->listed = true;
        s->refs = 1;
        s->next = w->stages;
        w->stages = s;
        /* A new File's name replaces the link an earlier one left under it. */
        struct local_link *l = local_link_find(w, r->dir, r->name);
        if (l)
            local_link_remove(w, l);
    } else if (s) {
        stage_destroy(w, s, false);
        s = NULL;
    }
    pthread_mutex_unlock(&w->lock);
    *out = s;
    return err;
}

void stage_wait_upload(struct stage *s)
{
    while (s->uploading)
        pthread_cond_wait(&s->cond, &s->lock);
}

void stage_mark_dirty(struct files_write_state *w, struct stage *s)
{
    s->gen++;
    s->mtime = time(NULL);
    s->dirty = true;
    atomic_store(&s->phase, PHASE_WRITING);
    atomic_store(&s->done, 0);
    atomic_store(&s->total, s->size);
    if (s->rec.state != STAGING_WRITING)
        stage_sidecar_save(w, s, STAGING_WRITING);
}

/* Sets the staged size; s->lock held, no upload running. */
static int stage_truncate_locked(struct files_write_state *w, struct stage *s, uint64_t size)
{
    int err = 0;
    if (s->needs_base && size == 0) {
        /* open(O_TRUNC) arrives as open and then truncate to 0 (no atomic_o_trunc): the
         * server's data is not needed at all. */
        s->needs_base = false;
        s->size = 0;
    }
    if (s->needs_base && (err = stage_fetch_base(w, s)) != 0)
        return err;
    if (size > s->accounted && (err = stage_account(w, s, size)) != 0)
        return err;
    if (ftruncate(s->fd, (off_t)size) != 0)
        return -errno;
    switch (staging_hash_truncate(&s->hash, size)) {
    case STAGING_HASH_RESET:
        stage_digest_reset(s);
        s->broken = 0; /* emptied: whatever failed before is gone */
        break;
    case STAGING_HASH_DROP:
        stage_digest_drop(s);
        break;
    default:
        break;
    }
    s->size = size;
    stage_account(w, s, size);
    stage_mark_dirty(w, s);
    return 0;
}

int stage_truncate(struct files_write_state *w, struct stage *s, uint64_t size)
{
    pthread_mutex_lock(&s->lock);
    stage_wait_upload(s);
    int err = stage_truncate_locked(w, s, size);
    pthread_mutex_unlock(&s->lock);
    return err;
}

void stage_stat(struct files_write_state *w, struct stage *s, struct stat *st)
{
    pthread_mutex_lock(&s->lock);
    vfs_stat_file(w->v, st, (off_t)s->size, 0644, s->mtime);
    pthread_mutex_unlock(&s->lock);
}
