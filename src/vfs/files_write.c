/* files_write: the write side of /files (CONTRACT.md 4 and 5).
 *
 * Every name written through the mount is a "stage": a data file under <cache_dir>/staging,
 * the librsync signature being built next to it, and a small JSON sidecar (staging.h) that says
 * what the data is for, so that a later mount can finish what a killed one left. Writes go to
 * the staged file and, while they arrive in order, through the digest (MD5 + signature), so that
 * close does not read the file again. flush (close) and fsync upload a stage whose content
 * changed since its last upload; rename of a temporary name onto a real one uploads too. In a
 * File's directory every name but the File's own is such a temporary (scratch) name; in /files
 * and by-tag/<tag>/ a new name is a new File unless names_is_temporary() says otherwise.
 *
 * Locking: w->lock guards the lists (stages, links, kept leftovers), each stage's reference
 * count and the cache_size budget. s->lock guards a stage's content. A stage's record (its
 * identity: kind, place, target File) changes only with both held, so either is enough to read
 * it. The order is s->lock, then w->lock; never the other way round. An upload runs without either
 * lock held, with s->uploading set so that writers wait for it instead of changing the bytes being
 * sent. */
#include "vfs/files_write.h"

#include "log.h"
#include "remote/file_digest.h"
#include "remote/files_api.h"
#include "remote/upload.h"
#include "vfs/content_cache.h"
#include "vfs/files_meta.h"
#include "vfs/files_write_internal.h"
#include "vfs/names.h"
#include "vfs/staging.h"
#include "vfs/tombstones.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define STAGING_SUBDIR "staging"
#define DOWNLOAD_CHUNK (4u << 20)
/* A created File's name turns from the regular file that was written into the symlink to
 * file_<id>/<alias> when its upload succeeds (shows_link), and the kernel is told to drop the name
 * before that close() returns (vfs_forget_entry). Should the kernel still use the old node,
 * inode_ops.c answers it with what the link names. */

/* What stats.json says about a stage, by enum phase. */
static const char *const phase_names[] = {"staged", "queued", "uploading", "failed", "done"};

struct local_link {
    struct local_link *next;
    char dir[VFS_ID_MAX];     /* "" for /files, "by-tag/<tag>" (as a staging record's dir) */
    char name[NAME_MAX + 1];  /* in that directory */
    char file_id[VFS_ID_MAX]; /* the File it names */
    char *target;             /* "file_<id>/<alias>", "../../file_<id>/<alias>" */
};

struct write_handle {
    struct vfs_handle base;
    struct files_write_state *w;
    struct stage *s;
    bool can_write;
    atomic_bool wrote; /* data went through it (a truncate to 0 does not count) */
};

/* --- small helpers ---------------------------------------------------------------------------- */

char *stage_path(const struct files_write_state *w, const struct stage *s, const char *ext)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s.%s", w->dir, s->stem, ext) < 0)
        return NULL;
    return p;
}

/* The stage's place in the mount, for the log and stats.json. */
void mount_path(const struct staging_record *r, char *out, size_t len)
{
    if (*r->dir)
        snprintf(out, len, "/files/%s/%s", r->dir, r->name);
    else
        snprintf(out, len, "/files/%s", r->name);
}

#define TAG_DIR_PREFIX "by-tag/"

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

/* Writes the sidecar atomically (temp file and rename), so a crash leaves the old or the new. */
static int sidecar_write(const struct files_write_state *w, const struct stage *s,
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

/* Saves the stage's record with state set. Called with s->lock held. */
void sidecar_save(struct files_write_state *w, struct stage *s, enum staging_state state)
{
    pthread_mutex_lock(&w->lock);
    s->rec.state = state;
    s->rec.time = (int64_t)time(NULL);
    struct staging_record r = s->rec;
    pthread_mutex_unlock(&w->lock);
    sidecar_write(w, s, &r);
}

void remove_files(const struct files_write_state *w, const struct stage *s)
{
    const char *exts[] = {"data", "sig", "json", "json.tmp"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        char *p = stage_path(w, s, exts[i]);
        if (p)
            unlink(p);
        free(p);
    }
}

/* Frees a stage nobody refers to any more. Called with w->lock held. keep_data: leave its files
 * on disk (data a later mount must still upload). */
void stage_destroy(struct files_write_state *w, struct stage *s, bool keep_data)
{
    staging_space_resize(&w->space, s->accounted, 0);
    if (s->fd >= 0)
        close(s->fd);
    if (s->sig)
        fclose(s->sig);
    file_digest_abort(s->digest);
    if (!keep_data)
        remove_files(w, s);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

static void unlist(struct files_write_state *w, struct stage *s)
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

/* The stage visible at dir/name (the newest, should a recovery have left two). w->lock held. */
static struct stage *find_stage(struct files_write_state *w, const char *dir, const char *name)
{
    for (struct stage *s = w->stages; s; s = s->next)
        if (s->listed && strcmp(s->rec.dir, dir) == 0 && strcmp(s->rec.name, name) == 0)
            return s;
    return NULL;
}

static struct local_link *find_link(struct files_write_state *w, const char *dir, const char *name)
{
    for (struct local_link *l = w->links; l; l = l->next)
        if (strcmp(l->dir, dir) == 0 && strcmp(l->name, name) == 0)
            return l;
    return NULL;
}

/* A created File's name is its link as soon as its upload is done, even while the file is still
 * open (close() flushes before it releases): a write after that makes it the staged file again,
 * whose next close uploads a new version. w->lock held. */
static bool shows_link(struct files_write_state *w, const struct stage *s)
{
    return s && s->rec.kind == STAGING_NEW && atomic_load(&s->phase) == PHASE_DONE &&
           find_link(w, s->rec.dir, s->rec.name);
}

static void remove_link(struct files_write_state *w, struct local_link *gone)
{
    for (struct local_link **pp = &w->links; *pp; pp = &(*pp)->next) {
        if (*pp == gone) {
            *pp = gone->next;
            free(gone->target);
            free(gone);
            return;
        }
    }
}

/* Drops one reference; the last one frees a stage that has nothing left to do: unlinked, or
 * uploaded and closed (a created File's name is its link from then on). A temporary file lives
 * until it is unlinked or renamed; a stage whose upload failed stays (visible, and on disk) for
 * its next close or the next mount. */
void stage_put(struct files_write_state *w, struct stage *s)
{
    pthread_mutex_lock(&w->lock);
    if (--s->refs == 0 && !s->recover &&
        (!s->listed || (s->rec.kind != STAGING_TEMP && (!s->dirty || s->broken)))) {
        /* A write that failed (ENOSPC) left a fragment: never uploaded, not kept. */
        if (s->listed)
            unlist(w, s);
        stage_destroy(w, s, false);
    }
    pthread_mutex_unlock(&w->lock);
}

/* Counts the staged file as size bytes against cache_size. s->lock held. */
static int account(struct files_write_state *w, struct stage *s, uint64_t size)
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

static void digest_drop(struct stage *s)
{
    file_digest_abort(s->digest);
    s->digest = NULL;
    s->hash.valid = false;
}

/* A fresh digest for empty data; the signature file starts over. */
static void digest_reset(struct stage *s)
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

static void digest_write(struct stage *s, const void *buf, uint64_t off, size_t len)
{
    switch (staging_hash_write(&s->hash, off, len)) {
    case STAGING_HASH_FEED:
        if (!s->digest || file_digest_update(s->digest, buf, len) != 0)
            digest_drop(s);
        break;
    case STAGING_HASH_DROP:
        digest_drop(s);
        break;
    default:
        break;
    }
}

/* The md5s and sizes of the staged data and its signature: from the digest fed on the way when
 * every write came in order, else by reading the staged file once. s->lock held. */
static int digest_finish(struct stage *s, struct file_digest_result *out)
{
    if (s->digest && s->hash.valid && s->hash.hashed == s->size) {
        int err = file_digest_finish(s->digest, out);
        s->digest = NULL;
        s->hash.valid = false;
        if (!err)
            return 0;
    }
    digest_drop(s);
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
    return s;
}

/* Opens the data and signature files of a stage (new ones when create). */
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

/* The stage at r's place, new and empty (or, with needs_base, standing for the server's data
 * of base_size bytes until it is read or written). Returns it with one reference, or the stage
 * already there (with a reference too, *existed set). */
static int stage_get_or_create(struct files_write_state *w, const struct staging_record *r,
                               bool needs_base, uint64_t base_size, struct stage **out,
                               bool *existed)
{
    *existed = false;
    pthread_mutex_lock(&w->lock);
    struct stage *s = find_stage(w, r->dir, r->name);
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
        err = sidecar_write(w, s, &s->rec);
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
        struct local_link *l = find_link(w, r->dir, r->name);
        if (l)
            remove_link(w, l);
    } else if (s) {
        stage_destroy(w, s, false);
        s = NULL;
    }
    pthread_mutex_unlock(&w->lock);
    *out = s;
    return err;
}

/* Waits until no upload runs for s; s->lock held. */
static void wait_upload(struct stage *s)
{
    while (s->uploading)
        pthread_cond_wait(&s->cond, &s->lock);
}

/* Marks s changed; the first change after an upload (or a recovery) says so on disk, so that a
 * crash from here on leaves the data reported, never uploaded half-written. s->lock held. */
static void mark_dirty(struct files_write_state *w, struct stage *s)
{
    s->gen++;
    s->mtime = time(NULL);
    s->dirty = true;
    atomic_store(&s->phase, PHASE_WRITING);
    atomic_store(&s->done, 0);
    atomic_store(&s->total, s->size);
    if (s->rec.state != STAGING_WRITING)
        sidecar_save(w, s, STAGING_WRITING);
}

/* Fetches the server's current data of the File into the staged file (opened without O_TRUNC),
 * through the digest, checking it against the version's md5. s->lock held. */
static int fetch_base(struct files_write_state *w, struct stage *s)
{
    struct vfs *v = w->v;
    struct vrc_file *f = NULL;
    int err = files_meta_get(v, s->rec.file_id, &f);
    if (err)
        return err;
    int n = vrc_file_latest(f);
    const struct vrc_file_version *ver = n ? vrc_file_version(f, n) : NULL;
    uint64_t total = ver ? ver->data[VRC_DATA_FILE].size : 0;
    char want_md5[sizeof ver->data[0].md5] = "";
    if (ver)
        memcpy(want_md5, ver->data[VRC_DATA_FILE].md5, sizeof want_md5);
    vrc_file_unref(f);
    digest_reset(s);
    if (ftruncate(s->fd, 0) != 0)
        return -errno;
    if (!total) {
        s->size = 0;
        s->needs_base = false;
        return 0;
    }
    err = account(w, s, total);
    if (err)
        return err;
    char *url = NULL;
    char *buf = malloc(DOWNLOAD_CHUNK);
    EVP_MD_CTX *md5 = EVP_MD_CTX_new();
    err = buf && md5 && EVP_DigestInit_ex(md5, EVP_md5(), NULL) ? 0 : -ENOMEM;
    if (!err)
        err = files_resolve_download(v->http, s->rec.file_id, n, VRC_DATA_FILE, &url);
    bool renewed = false;
    for (uint64_t off = 0; !err && off < total;) {
        size_t want = total - off < DOWNLOAD_CHUNK ? (size_t)(total - off) : DOWNLOAD_CHUNK;
        size_t got = 0;
        err = files_read_range(v->http, url, off, buf, want, &got);
        if (err == -EACCES && !renewed) { /* the signed URL expired: one fresh one */
            renewed = true;
            free(url);
            url = NULL;
            err = files_resolve_download(v->http, s->rec.file_id, n, VRC_DATA_FILE, &url);
            continue;
        }
        if (!err && got == 0)
            err = -EIO; /* shorter than the File says */
        if (!err && pwrite(s->fd, buf, got, (off_t)off) != (ssize_t)got)
            err = -EIO;
        if (!err) {
            EVP_DigestUpdate(md5, buf, got);
            digest_write(s, buf, off, got);
            off += got;
        }
    }
    if (!err && *want_md5) {
        unsigned char raw[16];
        char b64[DIGEST_MD5_B64_LEN + 1];
        EVP_DigestFinal_ex(md5, raw, NULL);
        EVP_EncodeBlock((unsigned char *)b64, raw, 16);
        if (strcmp(b64, want_md5) != 0) {
            log_error("%s: the current data of %s does not match its md5: not editing it",
                      s->rec.name, s->rec.file_id);
            err = -EIO;
        }
    }
    EVP_MD_CTX_free(md5);
    free(buf);
    free(url);
    if (err) {
        if (ftruncate(s->fd, 0) != 0)
            log_warn("staging: cannot empty %s", s->stem);
        account(w, s, 0);
        digest_reset(s);
        return err;
    }
    s->size = total;
    s->needs_base = false;
    return 0;
}

static int ensure_base(struct files_write_state *w, struct stage *s)
{
    return s->needs_base ? fetch_base(w, s) : 0;
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
    if (s->needs_base && (err = fetch_base(w, s)) != 0)
        return err;
    if (size > s->accounted && (err = account(w, s, size)) != 0)
        return err;
    if (ftruncate(s->fd, (off_t)size) != 0)
        return -errno;
    switch (staging_hash_truncate(&s->hash, size)) {
    case STAGING_HASH_RESET:
        digest_reset(s);
        s->broken = 0; /* emptied: whatever failed before is gone */
        break;
    case STAGING_HASH_DROP:
        digest_drop(s);
        break;
    default:
        break;
    }
    s->size = size;
    account(w, s, size);
    mark_dirty(w, s);
    return 0;
}

static int stage_truncate(struct files_write_state *w, struct stage *s, uint64_t size)
{
    pthread_mutex_lock(&s->lock);
    wait_upload(s);
    int err = stage_truncate_locked(w, s, size);
    pthread_mutex_unlock(&s->lock);
    return err;
}

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
    struct stage *s = arg;
    atomic_store(&s->done, done);
    atomic_store(&s->total, total);
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

/* Leaves /files/<name> (or by-tag/<tag>/<name>) as a symlink to where the created File lives. */
void add_link(struct files_write_state *w, const char *dir, const char *name,
              const struct vrc_file *f)
{
    char *alias = names_alias(f->name, f->extension);
    char *target = NULL;
    if (!alias || asprintf(&target, "%s%s/%s", *dir ? "../../" : "", f->id, alias) < 0)
        target = NULL;
    free(alias);
    struct local_link *l = target ? calloc(1, sizeof *l) : NULL;
    if (!l) {
        free(target);
        return;
    }
    snprintf(l->dir, sizeof l->dir, "%s", dir);
    snprintf(l->name, sizeof l->name, "%s", name);
    snprintf(l->file_id, sizeof l->file_id, "%s", f->id);
    l->target = target;
    pthread_mutex_lock(&w->lock);
    struct local_link *old = find_link(w, dir, name);
    if (old)
        remove_link(w, old);
    l->next = w->links;
    w->links = l;
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
        sidecar_write(w, s, &now);
        pthread_mutex_unlock(&s->lock);
    }
    struct upload_source src = {
        .data_fd = s->fd, .sig_fd = fileno(s->sig), .digest = d, .mime = r->mime};
    struct upload_options opt = {
        .part_size = v->cfg.part_size, .progress = on_progress, .progress_arg = s};
    return upload_new_version(v->http, file_id, &src, &opt, out, NULL);
}

/* Uploads s if its content changed since the last upload; 0 when there was nothing to do. The
 * result is what close() and fsync() return. */
int stage_upload(struct files_write_state *w, struct stage *s)
{
    pthread_mutex_lock(&s->lock);
    wait_upload(s);
    pthread_mutex_lock(&w->lock);
    bool skip = !s->listed || s->rec.kind == STAGING_TEMP;
    pthread_mutex_unlock(&w->lock);
    if (skip || !s->dirty) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    char where[PATH_MAX];
    mount_path(&s->rec, where, sizeof where);
    if (s->broken) {
        int broken = s->broken;
        pthread_mutex_unlock(&s->lock);
        log_error("%s: not uploaded: a write failed (%s), so the data is incomplete", where,
                  strerror(-broken));
        return broken;
    }
    struct file_digest_result d;
    int err = digest_finish(s, &d);
    if (!err && fflush(s->sig) != 0)
        err = -EIO;
    if (err) {
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
    pthread_mutex_lock(&w->lock);
    s->rec.size = d.size;
    snprintf(s->rec.md5, sizeof s->rec.md5, "%s", d.md5_b64);
    pthread_mutex_unlock(&w->lock);
    sidecar_save(w, s, STAGING_CLOSED);
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
            sidecar_save(w, s, STAGING_UPLOADED);
        } else {
            atomic_store(&s->phase, PHASE_WRITING);
        }
        if (r.kind == STAGING_NEW)
            add_link(w, r.dir, r.name, f);
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
    /* The name is the link now (shows_link): the kernel must look it up again before close()
     * returns, or `[ -L ]` right after `cp` would still find the regular file it made. */
    if (!err && r.kind == STAGING_NEW) {
        char dir[VFS_ID_MAX + 8];
        snprintf(dir, sizeof dir, "/files%s%s", *r.dir ? "/" : "", r.dir);
        vfs_forget_entry(w->v, dir, r.name, 0, true);
    }
    return err;
}

/* mkdir -p with mode for the directories it makes. */
static int make_dirs(const char *path, mode_t mode)
{
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    int err = 0;
    for (char *c = p + 1; !err; c++) {
        bool end = *c == '\0';
        if (*c != '/' && !end)
            continue;
        *c = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST)
            err = -errno;
        if (end)
            break;
        *c = '/';
    }
    free(p);
    return err;
}

/* --- handles ---------------------------------------------------------------------------------- */

static int wh_read(struct vfs_handle *h, char *buf, size_t size, off_t off)
{
    struct write_handle *wh = (struct write_handle *)h;
    struct stage *s = wh->s;
    pthread_mutex_lock(&s->lock);
    int err = ensure_base(wh->w, s);
    ssize_t n = err ? err : pread(s->fd, buf, size, off);
    if (n < 0 && !err)
        n = -errno;
    pthread_mutex_unlock(&s->lock);
    return (int)n;
}

static int wh_write(struct vfs_handle *h, const char *buf, size_t size, off_t off)
{
    struct write_handle *wh = (struct write_handle *)h;
    struct stage *s = wh->s;
    if (!wh->can_write)
        return -EBADF;
    if (off < 0)
        return -EINVAL;
    pthread_mutex_lock(&s->lock);
    wait_upload(s);
    int err = ensure_base(wh->w, s);
    if (err) {
        pthread_mutex_unlock(&s->lock);
        return err; /* nothing changed */
    }
    uint64_t end = (uint64_t)off + size;
    if (end > s->accounted)
        err = account(wh->w, s, end);
    ssize_t n = 0;
    if (!err) {
        n = pwrite(s->fd, buf, size, off);
        if (n < 0)
            err = -errno;
    }
    if (err)
        s->broken = err;
    else
        atomic_store(&wh->wrote, true);
    if (!err) {
        digest_write(s, buf, (uint64_t)off, (size_t)n);
        if ((uint64_t)off + (uint64_t)n > s->size)
            s->size = (uint64_t)off + (uint64_t)n;
        mark_dirty(wh->w, s);
    }
    pthread_mutex_unlock(&s->lock);
    return err ? err : (int)n;
}

/* flush comes with every close(2) of every descriptor of the file, dup'd ones included. The
 * shell's `cmd > file` and dd open with O_TRUNC, dup2 the descriptor and close the original
 * before a byte is written: uploading then would publish an empty version before the real
 * one. A flush through a handle that wrote nothing, of a file that is empty, waits instead for
 * the next flush that follows a write, or for the release (`: > file`, `touch`), whose errors
 * only reach the log. */
static int wh_flush(struct vfs_handle *h)
{
    struct write_handle *wh = (struct write_handle *)h;
    struct stage *s = wh->s;
    if (!wh->can_write)
        return 0;
    if (!atomic_load(&wh->wrote)) {
        pthread_mutex_lock(&s->lock);
        bool empty = s->size == 0 && !s->needs_base;
        if (empty && s->dirty)
            s->deferred = true;
        pthread_mutex_unlock(&s->lock);
        if (empty)
            return 0;
    }
    return stage_upload(wh->w, s);
}

static int wh_fsync(struct vfs_handle *h)
{
    struct write_handle *wh = (struct write_handle *)h;
    return wh->can_write ? stage_upload(wh->w, wh->s) : 0;
}

static int wh_truncate(struct vfs_handle *h, off_t size)
{
    struct write_handle *wh = (struct write_handle *)h;
    if (size < 0)
        return -EINVAL;
    int err = stage_truncate(wh->w, wh->s, (uint64_t)size);
    if (!err && size > 0)
        atomic_store(&wh->wrote, true);
    return err;
}

static void stat_stage(struct files_write_state *w, struct stage *s, struct stat *st)
{
    pthread_mutex_lock(&s->lock);
    vfs_stat_file(w->v, st, (off_t)s->size, 0644, s->mtime);
    pthread_mutex_unlock(&s->lock);
}

static int wh_getattr(struct vfs_handle *h, struct stat *st)
{
    struct write_handle *wh = (struct write_handle *)h;
    stat_stage(wh->w, wh->s, st);
    return 0;
}

static void wh_release(struct vfs_handle *h)
{
    struct write_handle *wh = (struct write_handle *)h;
    struct stage *s = wh->s;
    pthread_mutex_lock(&wh->w->lock);
    bool last = --s->handles == 0;
    pthread_mutex_unlock(&wh->w->lock);
    pthread_mutex_lock(&s->lock);
    bool deferred = last && s->deferred && s->dirty;
    pthread_mutex_unlock(&s->lock);
    if (deferred)
        stage_upload(wh->w, s); /* nobody waits for this result: it goes to the log */
    stage_put(wh->w, s);
    free(wh);
}

static const struct vfs_handle_ops write_ops = {
    .read = wh_read,
    .write = wh_write,
    .flush = wh_flush,
    .fsync = wh_fsync,
    .truncate = wh_truncate,
    .getattr = wh_getattr,
    .release = wh_release,
};

/* Gives the caller's reference on s to a new handle in fi. */
static int handle_new(struct files_write_state *w, struct stage *s, struct fuse_file_info *fi)
{
    struct write_handle *wh = calloc(1, sizeof *wh);
    if (!wh) {
        stage_put(w, s);
        return -ENOMEM;
    }
    wh->base.ops = &write_ops;
    wh->w = w;
    wh->s = s;
    wh->can_write = (fi->flags & O_ACCMODE) != O_RDONLY;
    pthread_mutex_lock(&w->lock);
    s->handles++;
    pthread_mutex_unlock(&w->lock);
    fi->fh = (uint64_t)(uintptr_t)wh;
    fi->direct_io = 0;
    fi->keep_cache = 0;
    return 0;
}

/* --- what fs_ops calls ----------------------------------------------------------------------- */

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
        err = make_dirs(w->dir, 0700);
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
    v->writes = w;
    if (v->cfg.foreground)
        files_recovery_ensure_worker(w);
    return 0;
}

void files_write_destroy(struct vfs *v)
{
    struct files_write_state *w = v->writes;
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
        mount_path(&s->rec, where, sizeof where);
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
    while (w->links) {
        struct local_link *l = w->links;
        w->links = l->next;
        free(l->target);
        free(l);
    }
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
    v->writes = NULL;
}

int files_write_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st)
{
    struct files_write_state *w = v->writes;
    files_recovery_ensure_worker(w);
    char d[VFS_ID_MAX];
    const char *dir = dir_of(p, d);
    pthread_mutex_lock(&w->lock);
    struct stage *s = find_stage(w, dir, p->name);
    if (shows_link(w, s))
        s = NULL;
    if (s)
        s->refs++;
    struct local_link *l = !s && is_top(p) ? find_link(w, dir, p->name) : NULL;
    if (l)
        vfs_stat_link(v, st, strlen(l->target), v->mount_time);
    pthread_mutex_unlock(&w->lock);
    if (!s)
        return l ? 0 : -ENOENT;
    stat_stage(w, s, st);
    stage_put(w, s);
    return 0;
}

void files_write_readdir(struct vfs *v, const struct vfs_path *p, void *buf, fuse_fill_dir_t filler)
{
    struct files_write_state *w = v->writes;
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
        if (n == cap) {
            char **grown = realloc(names, (cap *= 2) * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        names[n++] = strdup(s->rec.name);
    }
    for (struct local_link *l = w->links; l && names; l = l->next) {
        if (strcmp(l->dir, dir) != 0 || find_stage(w, dir, l->name))
            continue;
        if (n == cap) {
            char **grown = realloc(names, (cap *= 2) * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        names[n++] = strdup(l->name);
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
    struct files_write_state *w = v->writes;
    if (!is_top(p) || size == 0)
        return -EINVAL;
    char d[VFS_ID_MAX];
    const char *dir = dir_of(p, d);
    pthread_mutex_lock(&w->lock);
    struct stage *s = find_stage(w, dir, p->name);
    struct local_link *l = s && !shows_link(w, s) ? NULL : find_link(w, dir, p->name);
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
    struct files_write_state *w = v->writes;
    files_recovery_ensure_worker(w);
    bool writing = (fi->flags & O_ACCMODE) != O_RDONLY;
    char d[VFS_ID_MAX];
    pthread_mutex_lock(&w->lock);
    struct stage *s = find_stage(w, dir_of(p, d), p->name);
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
    return handle_new(w, s, fi);
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
    struct files_write_state *w = v->writes;
    files_recovery_ensure_worker(w);
    struct staging_record r = {0};
    snprintf(r.name, sizeof r.name, "%s", p->name);
    int err = 0;
    if (is_top(p)) {
        dir_of(p, r.dir);
        pthread_mutex_lock(&w->lock);
        struct stage *staged = find_stage(w, r.dir, p->name);
        bool linked = find_link(w, r.dir, p->name) && (!staged || shows_link(w, staged));
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
    return handle_new(w, s, fi);
}

int files_write_truncate(struct vfs *v, const struct vfs_path *p, off_t size)
{
    struct files_write_state *w = v->writes;
    if (size < 0)
        return -EINVAL;
    char d[VFS_ID_MAX];
    pthread_mutex_lock(&w->lock);
    struct stage *s = find_stage(w, dir_of(p, d), p->name);
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
        struct write_handle *wh = (struct write_handle *)(uintptr_t)fi.fh;
        err = stage_truncate(w, wh->s, (uint64_t)size);
        int up = wh_flush(&wh->base);
        wh_release(&wh->base);
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
    struct files_write_state *w = v->writes;
    char d[VFS_ID_MAX];
    const char *dir = dir_of(p, d);
    pthread_mutex_lock(&w->lock);
    struct stage *s = find_stage(w, dir, p->name);
    if (s && s->slot) {
        pthread_mutex_unlock(&w->lock);
        log_reason("its upload is running");
        return -EBUSY;
    }
    if (s) {
        char where[PATH_MAX];
        mount_path(&s->rec, where, sizeof where);
        bool temp = s->rec.kind == STAGING_TEMP;
        bool uploaded = !s->dirty && !s->needs_base;
        unlist(w, s);
        if (s->refs == 0)
            stage_destroy(w, s, false);
        /* A created File's name goes as a whole, the link it is about to become included. */
        struct local_link *l = find_link(w, dir, p->name);
        if (l)
            remove_link(w, l);
        pthread_mutex_unlock(&w->lock);
        if (!temp && !uploaded)
            log_info("%s: staged data removed at the user's request (it was not uploaded)", where);
        return 0;
    }
    struct local_link *l = find_link(w, dir, p->name);
    if (l)
        remove_link(w, l); /* the File itself stays: rm -r /files/<fileId> deletes it */
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
    struct files_write_state *w = v->writes;
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
    struct stage *s = find_stage(w, dir, from->name);
    struct local_link *l = !s && is_top(from) ? find_link(w, dir, from->name) : NULL;
    if (l) {
        int err = 0;
        if (find_stage(w, dir, to->name))
            err = -EBUSY;
        else if (find_link(w, dir, to->name) && (flags & RENAME_NOREPLACE))
            err = -EEXIST;
        if (!err) {
            struct local_link *old = find_link(w, dir, to->name);
            if (old)
                remove_link(w, old);
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
    wait_upload(s);
    pthread_mutex_lock(&w->lock);
    bool was_temp = s->rec.kind == STAGING_TEMP;
    if (!err && (!s->listed || s->slot))
        err = -EBUSY;
    if (!err && s->rec.kind != STAGING_TEMP && !(s->rec.kind == STAGING_NEW && !*s->rec.file_id))
        err = -EPERM;
    if (!err && target.kind == STAGING_VERSION && s->rec.kind != STAGING_TEMP)
        err = -EPERM;
    struct stage *old = err ? NULL : find_stage(w, dir, to->name);
    struct local_link *old_link = err || !makes_files(dir) ? NULL : find_link(w, dir, to->name);
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
            unlist(w, old);
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
        sidecar_write(w, s, &now);
    }
    pthread_mutex_unlock(&s->lock);
    /* rename(2) of a temporary file onto the real name is the end of rsync's and many editors'
     * saves: the upload happens now, and its failure is rename's. */
    if (upload)
        err = stage_upload(w, s);
    stage_put(w, s);
    return err;
}

/* -EBUSY while a stage of the File is open or uploading (deleting it would pull the File from
 * under the upload), else 0. */
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

/* The File was deleted: the links to it and whatever was staged for it or in its directory go
 * (the data can go nowhere: the user deleted the File). */
void files_write_forget_file(struct files_write_state *w, const char *file_id)
{
    pthread_mutex_lock(&w->lock);
    for (struct local_link **pp = &w->links; *pp;) {
        if (strcmp((*pp)->file_id, file_id) == 0) {
            struct local_link *gone = *pp;
            *pp = gone->next;
            free(gone->target);
            free(gone);
        } else {
            pp = &(*pp)->next;
        }
    }
    for (struct stage *s = w->stages, *next; s; s = next) {
        next = s->next;
        if (strcmp(s->rec.file_id, file_id) == 0 || strcmp(s->rec.dir, file_id) == 0) {
            unlist(w, s);
            if (s->refs == 0)
                stage_destroy(w, s, false);
        }
    }
    pthread_mutex_unlock(&w->lock);
}

json_t *files_write_stats(struct vfs *v)
{
    struct files_write_state *w = v->writes;
    json_t *list = json_array();
    files_recovery_ensure_worker(w);
    pthread_mutex_lock(&w->lock);
    files_recovery_prune_kept(w);
    for (struct stage *s = w->stages; s && list; s = s->next) {
        int phase = atomic_load(&s->phase);
        if (!s->listed || s->rec.kind == STAGING_TEMP || phase == PHASE_DONE)
            continue;
        char where[PATH_MAX];
        mount_path(&s->rec, where, sizeof where);
        char *data = stage_path(w, s, "data");
        json_t *item = json_pack("{s:s, s:I, s:I, s:s, s:s}", "path", where, "bytes_done",
                                 (json_int_t)atomic_load(&s->done), "bytes_total",
                                 (json_int_t)atomic_load(&s->total), "state", phase_names[phase],
                                 "staged_at", data ? data : "");
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
