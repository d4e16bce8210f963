/* files_write: the write side of /files (docs/SEMANTICS.md, Writing and Errors) as the subtree's
 * ops see it: which stage, link or File each name written, truncated, unlinked or renamed is,
 * and the upload list of stats.json (files_write_stats, at the end).
 *
 * Every name written through the mount is a stage (stage.h). flush (close) and fsync upload a
 * stage whose content changed since its last upload (stage_handle.c, stage_upload.c); rename of
 * a temporary name onto a real one uploads too. In a File's directory every name but the File's
 * own is such a temporary (scratch) name; in /files and by-tag/<tag>/ a new name is a new File
 * unless names_is_temporary() says otherwise. The locking is stage.h's. */
#include "vfs/files_write.h"

#include "log.h"
#include "vfs/content_cache.h"
#include "vfs/files_meta.h"
#include "vfs/files_subtree.h"
#include "vfs/files_write_internal.h"
#include "vfs/local_link.h"
#include "vfs/names.h"
#include "vfs/stage.h"
#include "vfs/stage_handle.h"
#include "vfs/stage_upload.h"
#include "vfs/staging.h"
#include "vfs/tombstones.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define STAGING_SUBDIR "staging"

struct files_write_state *files_write_state_of(struct vfs *v)
{
    return *subtree_state(v, &files_subtree);
}

/* What stats.json says about a stage, by enum phase. */
static const char *const phase_names[] = {"staged",    "queued", "hashing", "uploading",
                                          "finishing", "failed", "done"};

/* The directory of p as a staging record names it: a fileId, "by-tag/<tag>", or "" for /files.
 * Uses buf (VFS_ID_MAX bytes). */
static const char *dir_of(const struct vfs_path *p, char *buf)
{
    if (p->kind == VP_FILE_NAME)
        return p->file_id;
    if (p->kind != VP_TAG_NAME)
        return "";
    snprintf(buf, VFS_ID_MAX, TAG_DIR_PREFIX "%s", p->tag);
    return buf;
}

/* A directory where a new name is a new File: /files, or a tag's (whose tag it carries). */
static bool makes_files(const char *dir)
{
    return !*dir || strncmp(dir, TAG_DIR_PREFIX, strlen(TAG_DIR_PREFIX)) == 0;
}

static bool is_top(const struct vfs_path *p)
{
    return p->kind == VP_FILES_NAME || p->kind == VP_TAG_NAME;
}

int files_write_init(struct vfs *v)
{
    struct files_write_state *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->v = v;
    w->space.limit = v->cfg.cache_size;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->slots, NULL);
    int err = v->cfg.cache_dir ? 0 : -EINVAL;
    if (!err && asprintf(&w->dir, "%s/%s", v->cfg.cache_dir, STAGING_SUBDIR) < 0) {
        w->dir = NULL;
        err = -ENOMEM;
    }
    if (!err)
        err = vfs_make_dirs(w->dir, 0700);
    if (!err && !(w->tombs = tombstones_new()))
        err = -ENOMEM;
    if (err) {
        log_error("staging: cannot use %s/%s (%s)", v->cfg.cache_dir ? v->cfg.cache_dir : "?",
                  STAGING_SUBDIR, strerror(-err));
        free(w->dir);
        tombstones_free(w->tombs);
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->slots);
        free(w);
        return err;
    }
    files_recovery_scan(w);
    content_cache_set_reserved(v->content, w->space.used);
    *subtree_state(v, &files_subtree) = w;
    if (v->cfg.foreground)
        files_recovery_ensure_worker(w);
    return 0;
}

void files_write_destroy(struct vfs *v)
{
    struct files_write_state *w = files_write_state_of(v);
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    bool join = w->worker_started && w->worker_pid == getpid();
    pthread_mutex_unlock(&w->lock);
    if (join)
        pthread_join(w->worker, NULL);
    while (w->stages) {
        struct stage *s = w->stages;
        w->stages = s->next;
        char where[PATH_MAX];
        stage_mount_path(&s->rec, where, sizeof where);
        /* Temporary files are gone with the mount; anything not uploaded stays for the next. */
        bool keep = s->rec.kind != STAGING_TEMP && (s->dirty || s->recover);
        if (keep) {
            char *data = stage_path(w, s, "data");
            log_warn("%s: not uploaded; kept at %s for the next mount", where,
                     data ? data : s->stem);
            free(data);
        }
        stage_destroy(w, s, keep);
    }
    local_link_free_all(w);
    while (w->kept) {
        struct kept *k = w->kept;
        w->kept = k->next;
        free(k->path);
        free(k->data_path);
        free(k);
    }
    tombstones_free(w->tombs);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->slots);
    free(w->dir);
    free(w);
    *subtree_state(v, &files_subtree) = NULL;
}

int files_write_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st)
{
    struct files_write_state *w = files_write_state_of(v);
    files_recovery_ensure_worker(w);
    char d[VFS_ID_MAX];
    const char *dir = dir_of(p, d);
    pthread_mutex_lock(&w->lock);
    struct stage *s = stage_find(w, dir, p->name);
    if (local_link_shown(w, s))
        s = NULL;
    if (s)
        s->refs++;
    struct local_link *l = !s && is_top(p) ? local_link_find(w, dir, p->name) : NULL;
    if (l)
        vfs_stat_link(v, st, strlen(l->target), v->mount_time);
    pthread_mutex_unlock(&w->lock);
    if (!s)
        return l ? 0 : -ENOENT;
    stage_stat(w, s, st);
    stage_put(w, s);
    return 0;
}

/* Appends a copy of name to names (n of cap, grown as needed); false when there is no memory
 * for the array (a copy that fails is a NULL entry, skipped by the caller). */
static bool names_add(char ***names, size_t *n, size_t *cap, const char *name)
{
    if (*n == *cap) {
        char **grown = realloc(*names, *cap * 2 * sizeof **names);
        if (!grown)
            return false;
        *names = grown;
        *cap *= 2;
    }
    (*names)[(*n)++] = strdup(name);
    return true;
}

void files_write_readdir(struct vfs *v, const struct vfs_path *p, void *buf, fuse_fill_dir_t filler)
{
    struct files_write_state *w = files_write_state_of(v);
    files_recovery_ensure_worker(w);
    char d[VFS_ID_MAX] = "";
    if (p->kind == VP_TAG_DIR)
        snprintf(d, sizeof d, TAG_DIR_PREFIX "%s", p->tag);
    const char *dir = p->kind == VP_FILE_DIR ? p->file_id : d;
    size_t n = 0, cap = 16;
    char **names = malloc(cap * sizeof *names);
    pthread_mutex_lock(&w->lock);
    for (struct stage *s = w->stages; s && names; s = s->next) {
        /* The alias of a File is listed by the tree already. */
        if (!s->listed || strcmp(s->rec.dir, dir) != 0 || s->rec.kind == STAGING_VERSION)
            continue;
        if (!names_add(&names, &n, &cap, s->rec.name))
            break;
    }
    for (struct local_link *l = w->links; l && names; l = l->next) {
        if (strcmp(l->dir, dir) != 0 || stage_find(w, dir, l->name))
            continue;
        if (!names_add(&names, &n, &cap, l->name))
            break;
    }
    pthread_mutex_unlock(&w->lock);
    for (size_t i = 0; i < n; i++) {
        if (names[i])
            filler(buf, names[i], NULL, 0, 0);
        free(names[i]);
    }
    free(names);
}

int files_write_readlink(struct vfs *v, const struct vfs_path *p, char *buf, size_t size)
{
    struct files_write_state *w = files_write_state_of(v);
    if (!is_top(p) || size == 0)
        return -EINVAL;
    char d[VFS_ID_MAX];
    const char *dir = dir_of(p, d);
    pthread_mutex_lock(&w->lock);
    struct stage *s = stage_find(w, dir, p->name);
    struct local_link *l = s && !local_link_shown(w, s) ? NULL : local_link_find(w, dir, p->name);
    if (l)
        snprintf(buf, size, "%s", l->target);
    pthread_mutex_unlock(&w->lock);
    return l ? 0 : -ENOENT;
}

/* The record of a new version of File f under its alias. */
static void version_record(struct staging_record *r, const struct vrc_file *f, const char *name)
{
    memset(r, 0, sizeof *r);
    r->kind = STAGING_VERSION;
    snprintf(r->dir, sizeof r->dir, "%s", f->id);
    snprintf(r->file_id, sizeof r->file_id, "%s", f->id);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->mime, sizeof r->mime, "%s",
             *f->mime_type ? f->mime_type : names_mime_for_extension(f->extension));
}

static bool is_alias_of(const struct vrc_file *f, const char *name)
{
    char *alias = names_alias(f->name, f->extension);
    bool same = alias && strcmp(alias, name) == 0;
    free(alias);
    return same;
}

int files_write_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi)
{
    struct files_write_state *w = files_write_state_of(v);
    files_recovery_ensure_worker(w);
    bool writing = (fi->flags & O_ACCMODE) != O_RDONLY;
    char d[VFS_ID_MAX];
    pthread_mutex_lock(&w->lock);
    struct stage *s = stage_find(w, dir_of(p, d), p->name);
    if (s)
        s->refs++;
    pthread_mutex_unlock(&w->lock);
    if (!s) {
        /* Only a File's alias exists without a stage; writing it starts from its data. */
        if (p->kind != VP_FILE_NAME)
            return -ENOENT;
        struct vrc_file *f = NULL;
        int err = files_meta_get(v, p->file_id, &f);
        if (err)
            return err;
        if (!is_alias_of(f, p->name)) {
            vrc_file_unref(f);
            return -ENOENT;
        }
        const struct vrc_file_version *ver = vrc_file_version(f, vrc_file_latest(f));
        uint64_t base = ver ? ver->data[VRC_DATA_FILE].size : 0;
        struct staging_record r;
        version_record(&r, f, p->name);
        vrc_file_unref(f);
        bool existed;
        err = stage_get_or_create(w, &r, true, base, &s, &existed);
        if (err)
            return err;
    }
    if (writing && (fi->flags & O_TRUNC)) {
        int err = stage_truncate(w, s, 0);
        if (err) {
            stage_put(w, s);
            return err;
        }
    }
    return stage_handle_new(w, s, fi);
}

/* VRChat names are JSON text: a name that is not UTF-8 could never be sent, nor staged (its
 * record is JSON too). Refused at create with EINVAL, rather than stored under another name,
 * so the name the user asked for never turns into a different one. */
static int refuse_non_utf8(const char *name)
{
    if (names_is_utf8(name))
        return 0;
    char shown[NAME_MAX + 1];
    names_printable(name, shown, sizeof shown);
    log_info("files: %s: the name is not UTF-8, which a VRChat name must be (EINVAL)", shown);
    return -EINVAL;
}

int files_write_create(struct vfs *v, const struct vfs_path *p, mode_t mode,
                       struct fuse_file_info *fi)
{
    (void)mode; /* modes come from the server's side of things (0644) */
    int refused = refuse_non_utf8(p->name);
    if (refused)
        return refused;
    struct files_write_state *w = files_write_state_of(v);
    files_recovery_ensure_worker(w);
    struct staging_record r = {0};
    snprintf(r.name, sizeof r.name, "%s", p->name);
    int err = 0;
    if (is_top(p)) {
        dir_of(p, r.dir);
        pthread_mutex_lock(&w->lock);
        struct stage *staged = stage_find(w, r.dir, p->name);
        bool linked =
            local_link_find(w, r.dir, p->name) && (!staged || local_link_shown(w, staged));
        pthread_mutex_unlock(&w->lock);
        if (linked)
            return -EEXIST; /* open(O_CREAT) of the link follows it; only O_EXCL gets here */
        if (names_is_temporary(p->name)) {
            r.kind = STAGING_TEMP;
        } else {
            char *name = NULL, *ext = NULL;
            err = names_split_new(p->name, &name, &ext);
            if (err)
                return err; /* a new File needs an extension: "photo.png" */
            r.kind = STAGING_NEW;
            snprintf(r.new_name, sizeof r.new_name, "%s", name);
            snprintf(r.extension, sizeof r.extension, "%s", ext);
            snprintf(r.mime, sizeof r.mime, "%s", names_mime_for_extension(ext));
            free(name);
            free(ext);
        }
    } else if (p->kind == VP_FILE_NAME) {
        struct vrc_file *f = NULL;
        err = files_meta_get(v, p->file_id, &f);
        if (err)
            return err;
        if (is_alias_of(f, p->name)) {
            version_record(&r, f, p->name);
        } else { /* any other name is the mount's scratch: an editor's temp file, a probe */
            r.kind = STAGING_TEMP;
            snprintf(r.dir, sizeof r.dir, "%s", f->id);
        }
        vrc_file_unref(f);
        if (err)
            return err;
    } else {
        return -EPERM;
    }
    struct stage *s;
    bool existed;
    err = stage_get_or_create(w, &r, false, 0, &s, &existed);
    if (err)
        return err;
    if (existed && (fi->flags & O_EXCL)) {
        stage_put(w, s);
        return -EEXIST;
    }
    if (existed && (fi->flags & O_TRUNC) && (err = stage_truncate(w, s, 0)) != 0) {
        stage_put(w, s);
        return err;
    }
    if (!existed && r.kind != STAGING_TEMP) {
        /* Creating a name is a change by itself: `touch new.png` makes an empty File. */
        pthread_mutex_lock(&s->lock);
        s->dirty = true;
        s->gen++;
        pthread_mutex_unlock(&s->lock);
    }
    return stage_handle_new(w, s, fi);
}

int files_write_truncate(struct vfs *v, const struct vfs_path *p, off_t size)
{
    struct files_write_state *w = files_write_state_of(v);
    if (size < 0)
        return -EINVAL;
    char d[VFS_ID_MAX];
    pthread_mutex_lock(&w->lock);
    struct stage *s = stage_find(w, dir_of(p, d), p->name);
    if (s)
        s->refs++;
    bool open = s && s->handles > 0;
    pthread_mutex_unlock(&w->lock);
    if (!s) {
        /* truncate(2) of an alias nobody has open: a new version of that size. */
        struct fuse_file_info fi = {.flags = O_WRONLY};
        int err = files_write_open(v, p, &fi);
        if (err)
            return err;
        struct vfs_handle *h = (struct vfs_handle *)(uintptr_t)fi.fh;
        err = h->ops->truncate(h, size);
        int up = h->ops->flush(h);
        h->ops->release(h);
        return err ? err : up;
    }
    int err = stage_truncate(w, s, (uint64_t)size);
    /* With the file open, its close uploads; without, this is the only chance. */
    if (!err && !open && s->rec.kind != STAGING_TEMP)
        err = stage_upload(w, s);
    stage_put(w, s);
    return err;
}

int files_write_unlink(struct vfs *v, const struct vfs_path *p)
{
    struct files_write_state *w = files_write_state_of(v);
    char d[VFS_ID_MAX];
    const char *dir = dir_of(p, d);
    pthread_mutex_lock(&w->lock);
    struct stage *s = stage_find(w, dir, p->name);
    if (s && s->slot) {
        pthread_mutex_unlock(&w->lock);
        log_reason("its upload is running");
        return -EBUSY;
    }
    if (s) {
        char where[PATH_MAX];
        stage_mount_path(&s->rec, where, sizeof where);
        bool temp = s->rec.kind == STAGING_TEMP;
        bool uploaded = !s->dirty && !s->needs_base;
        stage_unlist(w, s);
        if (s->refs == 0)
            stage_destroy(w, s, false);
        /* A created File's name goes as a whole, the link it is about to become included. */
        struct local_link *l = local_link_find(w, dir, p->name);
        if (l)
            local_link_remove(w, l);
        pthread_mutex_unlock(&w->lock);
        if (!temp && !uploaded)
            log_info("%s: staged data removed at the user's request (it was not uploaded)", where);
        return 0;
    }
    struct local_link *l = local_link_find(w, dir, p->name);
    if (l)
        local_link_remove(w, l); /* the File itself stays: rm -r /files/<fileId> deletes it */
    pthread_mutex_unlock(&w->lock);
    return l ? 0 : -ENOENT; /* a File's alias is files_delete.c's */
}

/* Whether to is a name that can receive a temporary file's data, and as what. */
static int rename_target(struct vfs *v, const struct vfs_path *to, struct staging_record *r)
{
    memset(r, 0, sizeof *r);
    int refused = refuse_non_utf8(to->name);
    if (refused)
        return refused;
    snprintf(r->name, sizeof r->name, "%s", to->name);
    if (to->kind == VP_FILE_NAME) {
        struct vrc_file *f = NULL;
        int err = files_meta_get(v, to->file_id, &f);
        if (err)
            return err;
        if (is_alias_of(f, to->name)) {
            version_record(r, f, to->name);
        } else {
            r->kind = STAGING_TEMP;
            snprintf(r->dir, sizeof r->dir, "%s", f->id);
        }
        vrc_file_unref(f);
        return 0;
    }
    dir_of(to, r->dir);
    if (names_is_temporary(to->name)) {
        r->kind = STAGING_TEMP;
        return 0;
    }
    char *name = NULL, *ext = NULL;
    int err = names_split_new(to->name, &name, &ext);
    if (err)
        return err;
    r->kind = STAGING_NEW;
    snprintf(r->new_name, sizeof r->new_name, "%s", name);
    snprintf(r->extension, sizeof r->extension, "%s", ext);
    snprintf(r->mime, sizeof r->mime, "%s", names_mime_for_extension(ext));
    free(name);
    free(ext);
    return 0;
}

/* rename(2) of a File's alias (vim's backup, `mv`): the File keeps its name on the server. */
static int rename_of_alias(struct vfs *v, const struct vfs_path *from)
{
    struct vrc_file *f = NULL;
    int err = files_meta_get(v, from->file_id, &f);
    if (err)
        return err;
    bool alias = is_alias_of(f, from->name);
    vrc_file_unref(f);
    if (!alias)
        return -ENOENT;
    log_info("/files/%s/%s: EPERM: a File's name cannot be changed through the mount; write a "
             "new version onto it instead",
             from->file_id, from->name);
    return -EPERM;
}

int files_write_rename(struct vfs *v, const struct vfs_path *from, const struct vfs_path *to,
                       unsigned int flags)
{
    struct files_write_state *w = files_write_state_of(v);
    if (flags & RENAME_EXCHANGE)
        return -EINVAL;
    char d_from[VFS_ID_MAX], d_to[VFS_ID_MAX];
    const char *dir = dir_of(from, d_from);
    if (strcmp(dir, dir_of(to, d_to)) != 0 || from->kind != to->kind)
        return -EXDEV; /* mv copies instead */
    if (strcmp(from->name, to->name) == 0)
        return 0;

    /* A created File's link moves like any symlink. */
    pthread_mutex_lock(&w->lock);
    struct stage *s = stage_find(w, dir, from->name);
    struct local_link *l = !s && is_top(from) ? local_link_find(w, dir, from->name) : NULL;
    if (l) {
        int err = 0;
        if (stage_find(w, dir, to->name))
            err = -EBUSY;
        else if (local_link_find(w, dir, to->name) && (flags & RENAME_NOREPLACE))
            err = -EEXIST;
        if (!err) {
            struct local_link *old = local_link_find(w, dir, to->name);
            if (old)
                local_link_remove(w, old);
            snprintf(l->name, sizeof l->name, "%s", to->name);
        }
        pthread_mutex_unlock(&w->lock);
        return err;
    }
    if (!s) {
        pthread_mutex_unlock(&w->lock);
        return from->kind == VP_FILE_NAME ? rename_of_alias(v, from) : -ENOENT;
    }
    s->refs++;
    pthread_mutex_unlock(&w->lock);

    /* Only what is still local moves: a temporary file, or a new File not created yet. */
    struct staging_record target;
    int err = rename_target(v, to, &target);
    pthread_mutex_lock(&s->lock);
    stage_wait_upload(s);
    pthread_mutex_lock(&w->lock);
    bool was_temp = s->rec.kind == STAGING_TEMP;
    if (!err && (!s->listed || s->slot))
        err = -EBUSY;
    if (!err && s->rec.kind != STAGING_TEMP && !(s->rec.kind == STAGING_NEW && !*s->rec.file_id))
        err = -EPERM;
    if (!err && target.kind == STAGING_VERSION && s->rec.kind != STAGING_TEMP)
        err = -EPERM;
    struct stage *old = err ? NULL : stage_find(w, dir, to->name);
    struct local_link *old_link =
        err || !makes_files(dir) ? NULL : local_link_find(w, dir, to->name);
    bool server_alias = target.kind == STAGING_VERSION;
    if (!err && (flags & RENAME_NOREPLACE) && (old || old_link || server_alias))
        err = -EEXIST;
    if (!err && old && (old->refs > 0 || old->slot))
        err = -EBUSY; /* open or uploading: replacing it would pull the data from under it */
    if (!err && old_link && target.kind == STAGING_NEW) {
        /* Onto a created File's link: a new version of that File, and the link stays. */
        snprintf(target.file_id, sizeof target.file_id, "%s", old_link->file_id);
    }
    if (!err) {
        if (old) {
            stage_unlist(w, old);
            stage_destroy(w, old, false);
        }
        snprintf(s->rec.name, sizeof s->rec.name, "%s", to->name);
        if (target.kind != STAGING_TEMP) {
            s->rec.kind = target.kind;
            snprintf(s->rec.file_id, sizeof s->rec.file_id, "%s", target.file_id);
            snprintf(s->rec.new_name, sizeof s->rec.new_name, "%s", target.new_name);
            snprintf(s->rec.extension, sizeof s->rec.extension, "%s", target.extension);
            snprintf(s->rec.mime, sizeof s->rec.mime, "%s", target.mime);
        }
    }
    struct staging_record now = s->rec;
    pthread_mutex_unlock(&w->lock);
    bool upload = !err && was_temp && now.kind != STAGING_TEMP;
    if (!err) {
        if (upload) {
            s->dirty = true; /* whatever it held: it is now the content of the real name */
            s->gen++;
        }
        stage_sidecar_write(w, s, &now);
    }
    pthread_mutex_unlock(&s->lock);
    /* rename(2) of a temporary file onto the real name is the end of rsync's and many editors'
     * saves: the upload happens now, and its failure is rename's. */
    if (upload)
        err = stage_upload(w, s);
    stage_put(w, s);
    return err;
}

int files_write_busy(struct files_write_state *w, const char *file_id)
{
    pthread_mutex_lock(&w->lock);
    bool busy = false;
    for (struct stage *s = w->stages; s; s = s->next)
        if (s->listed && strcmp(s->rec.file_id, file_id) == 0 && (s->slot || s->refs))
            busy = true;
    pthread_mutex_unlock(&w->lock);
    return busy ? -EBUSY : 0;
}

void files_write_forget_file(struct files_write_state *w, const char *file_id)
{
    pthread_mutex_lock(&w->lock);
    local_link_forget_file(w, file_id);
    for (struct stage *s = w->stages, *next; s; s = next) {
        next = s->next;
        if (strcmp(s->rec.file_id, file_id) == 0 || strcmp(s->rec.dir, file_id) == 0) {
            stage_unlist(w, s);
            if (s->refs == 0)
                stage_destroy(w, s, false);
        }
    }
    pthread_mutex_unlock(&w->lock);
}

json_t *files_write_stats(struct vfs *v)
{
    struct files_write_state *w = files_write_state_of(v);
    json_t *list = json_array();
    files_recovery_ensure_worker(w);
    pthread_mutex_lock(&w->lock);
    files_recovery_prune_kept(w);
    for (struct stage *s = w->stages; s && list; s = s->next) {
        int phase = atomic_load(&s->phase);
        if (!s->listed || s->rec.kind == STAGING_TEMP || phase == PHASE_DONE)
            continue;
        char where[PATH_MAX];
        stage_mount_path(&s->rec, where, sizeof where);
        char *data = stage_path(w, s, "data");
        uint64_t done = atomic_load(&s->done);
        double started_at = 0;
        double rate = progress_rate_get(&s->rate, vfs_wall_now(), done, &started_at);
        json_t *item = json_pack(
            "{s:s, s:I, s:I, s:s, s:s, s:f, s:f}", "path", where, "bytes_done", (json_int_t)done,
            "bytes_total", (json_int_t)atomic_load(&s->total), "state", phase_names[phase],
            "staged_at", data ? data : "", "rate", rate, "started_at", started_at);
        int err = atomic_load(&s->last_err);
        if (item && phase == PHASE_FAILED && err)
            json_object_set_new(item, "error", json_string(strerror(-err)));
        free(data);
        json_array_append_new(list, item);
    }
    for (struct kept *k = w->kept; k && list; k = k->next)
        json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:s, s:s, s:s}", "path", k->path,
                                              "bytes_done", (json_int_t)0, "bytes_total",
                                              (json_int_t)k->size, "state", "kept", "staged_at",
                                              k->data_path, "error", k->why));
    json_t *out = json_pack("{s:o, s:{s:I, s:I, s:s}}", "uploads", list ? list : json_array(),
                            "staging", "bytes_used", (json_int_t)w->space.used, "bytes_limit",
                            (json_int_t)w->space.limit, "dir", w->dir);
    pthread_mutex_unlock(&w->lock);
    return out;
}
