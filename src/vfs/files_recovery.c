/* files_recovery: at mount, finishes what an earlier run left in the staging directory (after a
 * crash, or an upload that failed at close): complete data is uploaded by a worker thread, data
 * that may be incomplete or cannot be placed is kept and reported, temporary files are removed. */
#include "vfs/files_write_internal.h"
#include "vfs/local_link.h"
#include "vfs/stage.h"
#include "vfs/stage_upload.h"

#include "log.h"
#include "remote/files_api.h"
#include "vfs/files_meta.h"
#include "vfs/staging.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* True when the File's newest complete version already holds what r describes (vrcfs was killed
 * after the upload finished and before it noted so). */
static bool already_uploaded(struct files_write_state *w, const struct staging_record *r)
{
    if (!*r->file_id || !*r->md5)
        return false;
    struct vrc_file *f = NULL;
    if (files_get(w->v->http, r->file_id, &f) != 0)
        return false;
    const struct vrc_file_version *ver = vrc_file_version(f, vrc_file_latest(f));
    bool same = ver && ver->data[VRC_DATA_FILE].size == r->size &&
                strcmp(ver->data[VRC_DATA_FILE].md5, r->md5) == 0;
    if (same) {
        files_meta_learn(w->v, f);
        if (r->kind == STAGING_NEW)
            local_link_add(w, r->dir, r->name, f);
    }
    vrc_file_unref(f);
    return same;
}

/* Takes the oldest stage waiting for recovery, with a reference. */
static struct stage *next_recovery(struct files_write_state *w)
{
    struct stage *pick = NULL;
    pthread_mutex_lock(&w->lock);
    for (struct stage *s = w->stages; s; s = s->next)
        if (s->recover && (!pick || s->rec.time < pick->rec.time))
            pick = s;
    if (pick) {
        pick->recover = false;
        pick->refs++;
    } else {
        w->worker_needed = false;
    }
    pthread_mutex_unlock(&w->lock);
    return pick;
}

static void *recovery_worker(void *arg)
{
    struct files_write_state *w = arg;
    struct stage *s;
    while ((s = next_recovery(w))) {
        char where[PATH_MAX];
        stage_mount_path(&s->rec, where, sizeof where);
        if (already_uploaded(w, &s->rec)) {
            log_info("%s: left staged by an earlier run, and already on the server", where);
            pthread_mutex_lock(&s->lock);
            s->dirty = false;
            atomic_store(&s->phase, PHASE_DONE);
            stage_sidecar_save(w, s, STAGING_UPLOADED);
            pthread_mutex_unlock(&s->lock);
        } else {
            log_info("%s: uploading what an earlier run left staged", where);
            stage_upload(w, s);
        }
        stage_put(w, s);
    }
    return NULL;
}

/* Starts the recovery worker once: at init in the foreground, else from the first call after
 * the daemon forked (a thread started before fork would not exist in the daemon). */
void files_recovery_ensure_worker(struct files_write_state *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    if (w->worker_needed && (!w->worker_started || w->worker_pid != getpid())) {
        if (pthread_create(&w->worker, NULL, recovery_worker, w) == 0) {
            w->worker_started = true;
            w->worker_pid = getpid();
        } else {
            log_error("staging: cannot start the recovery of staged uploads");
        }
    }
    pthread_mutex_unlock(&w->lock);
}

static void keep_leftover(struct files_write_state *w, const char *path, const char *data_path,
                          uint64_t size, const char *why)
{
    struct kept *k = calloc(1, sizeof *k);
    if (!k)
        return;
    k->path = strdup(path);
    k->data_path = strdup(data_path);
    k->size = size;
    k->why = why;
    k->next = w->kept;
    w->kept = k;
    /* It still takes disk space, over the limit or not (new writes then get ENOSPC). */
    w->space.used += size;
    log_warn("%s: %s; its data (%" PRIu64 " bytes) is kept at %s and is not uploaded (rm it "
             "there to free its space)",
             path, why, size, data_path);
}

uint64_t files_recovery_prune_kept(struct files_write_state *w)
{
    uint64_t freed = 0;
    for (struct kept **kp = &w->kept; *kp;) {
        struct kept *k = *kp;
        if (access(k->data_path, F_OK) == 0 || errno != ENOENT) {
            kp = &k->next;
            continue;
        }
        /* Its sidecar and signature (<stem>.json, <stem>.sig next to <stem>.data) go too. */
        size_t n = strlen(k->data_path);
        static const char *const siblings[] = {"json", "sig"};
        for (size_t i = 0; n > 5 && strcmp(k->data_path + n - 5, ".data") == 0 && i < 2; i++) {
            char *sibling = NULL;
            if (asprintf(&sibling, "%.*s.%s", (int)(n - 5), k->data_path, siblings[i]) >= 0)
                unlink(sibling);
            free(sibling);
        }
        staging_space_resize(&w->space, k->size, 0);
        freed += k->size;
        log_info("%s: its kept data %s was deleted; %" PRIu64
                 " bytes no longer count against cache_size",
                 k->path, k->data_path, k->size);
        *kp = k->next;
        free(k->path);
        free(k->data_path);
        free(k);
    }
    return freed;
}

/* Looks at one sidecar a previous run left. */
static void recover_one(struct files_write_state *w, const char *stem)
{
    struct stage probe = {0};
    snprintf(probe.stem, sizeof probe.stem, "%s", stem);
    char *json_path = stage_path(w, &probe, "json");
    char *data_path = stage_path(w, &probe, "data");
    if (!json_path || !data_path)
        goto out;
    json_t *obj = json_load_file(json_path, 0, NULL);
    struct staging_record r;
    int bad = staging_record_from_json(obj, &r);
    json_decref(obj);
    struct stat st;
    bool have = stat(data_path, &st) == 0 && S_ISREG(st.st_mode);
    uint64_t size = have ? (uint64_t)st.st_size : 0;
    char where[PATH_MAX];
    if (bad) {
        if (have)
            keep_leftover(w, "(unknown)", data_path, size,
                          "its sidecar is unreadable, so vrcfs cannot tell where it belongs");
        goto out;
    }
    stage_mount_path(&r, where, sizeof where);
    switch (staging_recovery_action(&r, have, size)) {
    case STAGING_ACT_DISCARD:
        if (r.kind == STAGING_TEMP && have)
            log_info("%s: removing a temporary file an earlier run left", where);
        stage_remove_files(w, &probe);
        break;
    case STAGING_ACT_KEEP:
        keep_leftover(w, where, data_path, size,
                      "vrcfs stopped while it was being written, so it may be incomplete");
        break;
    case STAGING_ACT_UPLOAD: {
        struct stage *s = stage_alloc();
        if (!s)
            break;
        memcpy(s->stem, probe.stem, sizeof s->stem);
        s->rec = r;
        if (stage_open_files(w, s, false) != 0) {
            stage_destroy(w, s, true);
            keep_leftover(w, where, data_path, size, "it cannot be opened");
            break;
        }
        s->hash.valid = false; /* the signature is made again from the data */
        s->size = size;
        s->accounted = size;
        w->space.used += size; /* counted even over the limit: it is on the disk */
        s->dirty = true;
        s->mtime = (time_t)r.time;
        s->listed = true;
        s->recover = true;
        atomic_store(&s->phase, PHASE_QUEUED);
        s->next = w->stages;
        w->stages = s;
        w->worker_needed = true;
        log_info("%s: an earlier run left it staged (%s); it will be uploaded", where, data_path);
        break;
    }
    }
out:
    free(json_path);
    free(data_path);
}

/* Finds what earlier runs left in the staging directory. Called before any other thread runs. */
void files_recovery_scan(struct files_write_state *w)
{
    DIR *d = opendir(w->dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char stem[STAGING_STEM_LEN + 1];
        const char *dot = strchr(e->d_name, '.');
        if (!dot || (size_t)(dot - e->d_name) != STAGING_STEM_LEN)
            continue;
        snprintf(stem, sizeof stem, "%.*s", STAGING_STEM_LEN, e->d_name);
        if (!staging_is_stem(stem))
            continue;
        if (strcmp(dot, ".json") == 0) {
            recover_one(w, stem);
        } else if (strcmp(dot, ".json.tmp") == 0) {
            char *tmp = NULL; /* a sidecar being replaced when vrcfs stopped: the old one stands */
            if (asprintf(&tmp, "%s/%s", w->dir, e->d_name) >= 0)
                unlink(tmp);
            free(tmp);
        } else if (strcmp(dot, ".data") == 0) {
            char *json = NULL;
            if (asprintf(&json, "%s/%s.json", w->dir, stem) >= 0 && access(json, F_OK) != 0) {
                char *data = NULL;
                struct stat st;
                if (asprintf(&data, "%s/%s", w->dir, e->d_name) >= 0 && stat(data, &st) == 0)
                    keep_leftover(w, "(unknown)", data, (uint64_t)st.st_size,
                                  "it has no sidecar, so vrcfs cannot tell where it belongs");
                free(data);
            }
            free(json);
        }
    }
    closedir(d);
}
