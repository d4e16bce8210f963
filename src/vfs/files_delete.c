/* files_delete: deleting Files and versions by removing the names that are them, and the
 * tombstones that let the rest of an `rm -r` over what was deleted succeed. */
#include "vfs/files_delete.h"

#include "log.h"
#include "remote/files_api.h"
#include "vfs/files_meta.h"
#include "vfs/files_tree.h"
#include "vfs/files_write.h"
#include "vfs/files_write_internal.h"
#include "vfs/tombstones.h"
#include "vfs/vfs_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct tombstones *tombs_of(struct vfs *v)
{
    return files_write_state_of(v)->tombs;
}

/* --- what a subtree holds, taken before it is deleted ------------------------------------------
 */

struct snapshot {
    struct tomb_entry *e;
    size_t n, cap;
    int err;
};

static void snapshot_free(struct snapshot *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free((char *)s->e[i].path);
        free((char *)s->e[i].target);
    }
    free(s->e);
}

static void snapshot_add(struct snapshot *s, const char *path, const struct stat *st,
                         const char *target)
{
    if (s->err)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct tomb_entry *e = realloc(s->e, cap * sizeof *e);
        if (!e) {
            s->err = -ENOMEM;
            return;
        }
        s->e = e;
        s->cap = cap;
    }
    struct tomb_entry *e = &s->e[s->n];
    e->path = strdup(path);
    e->target = target ? strdup(target) : NULL;
    e->st = *st;
    if (!e->path || (target && !e->target)) {
        free((char *)e->path);
        free((char *)e->target);
        s->err = -ENOMEM;
        return;
    }
    s->n++;
}

/* Names of one directory as its fillers give them. */
struct names {
    char **v;
    size_t n, cap;
};

static int names_add(void *arg, const char *name, const struct stat *st, off_t off,
                     enum fuse_fill_dir_flags flags)
{
    (void)st;
    (void)off;
    (void)flags;
    struct names *l = arg;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return 1;
        l->v = v;
        l->cap = cap;
    }
    if ((l->v[l->n] = strdup(name)))
        l->n++;
    return 0;
}

/* The attributes of the name at path (p parsed from it): the mount's local names first, as
 * fs_ops asks. */
static int stat_any(struct vfs *v, const struct vfs_path *p, struct stat *st)
{
    if ((p->kind == VP_FILE_NAME || p->kind == VP_FILES_NAME) && files_write_getattr(v, p, st) == 0)
        return 0;
    return files_tree_getattr(v, p, st);
}

/* Adds path and everything below it to s. */
static void snapshot_walk(struct vfs *v, struct snapshot *s, const char *path, int depth)
{
    struct vfs_path p;
    struct stat st;
    if (vfs_path_parse_files(path, &p) != 0 || stat_any(v, &p, &st) != 0)
        return; /* gone already: nothing to hold */
    char target[64] = "";
    if (S_ISLNK(st.st_mode) && files_tree_readlink(v, &p, target, sizeof target) != 0)
        return;
    snapshot_add(s, path, &st, S_ISLNK(st.st_mode) ? target : NULL);
    if (!S_ISDIR(st.st_mode) || depth > 2)
        return;
    struct names l = {0};
    if (files_tree_readdir(v, &p, &l, names_add) == 0 && p.kind == VP_FILE_DIR)
        files_write_readdir(v, &p, &l, names_add);
    for (size_t i = 0; i < l.n; i++) {
        char *child = NULL;
        if (asprintf(&child, "%s/%s", path, l.v[i]) >= 0) {
            snapshot_walk(v, s, child, depth + 1);
            free(child);
        }
        free(l.v[i]);
    }
    free(l.v);
}

/* What was at root is gone from the server: keep it (but the name removed, which the kernel
 * drops itself) as a tombstone, and have the kernel forget root once the tombstone is gone. */
static void bury(struct vfs *v, struct snapshot *s, const char *root, const char *removed)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->e[i].path, removed) == 0) {
            free((char *)s->e[i].path);
            free((char *)s->e[i].target);
            memmove(&s->e[i], &s->e[i + 1], (--s->n - i) * sizeof *s->e);
            break;
        }
    }
    if (s->err ||
        tombstones_add(tombs_of(v), root, s->e, s->n, vfs_mono_now() + FILES_DELETE_TOMB_S) != 0)
        log_warn("%s: deleted, but out of memory: removing the names left will fail", root);
    char *dir = strdup(root);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash) {
        *slash = '\0';
        vfs_forget_entry(v, dir, slash + 1, FILES_DELETE_TOMB_S + 0.5, false);
    }
    free(dir);
}

/* --- deleting ----------------------------------------------------------------------------------
 */

static int delete_file(struct vfs *v, const struct vfs_path *p, const char *path)
{
    int err = files_write_busy(files_write_state_of(v), p->file_id);
    if (err) {
        log_info("%s: not deleting File %s: it is being written or uploaded (EBUSY)", path,
                 p->file_id);
        return err;
    }
    char root[PATH_MAX];
    snprintf(root, sizeof root, "/files/%s", p->file_id);
    struct snapshot s = {0};
    snapshot_walk(v, &s, root, 0);
    err = files_delete(v->http, p->file_id);
    if (err) {
        log_warn("%s: deleting File %s failed: %s", path, p->file_id, strerror(-err));
    } else {
        files_meta_forget(v, p->file_id);
        files_write_forget_file(files_write_state_of(v), p->file_id);
        log_info("%s: deleted File %s with all its versions", path, p->file_id);
        bury(v, &s, root, path);
    }
    snapshot_free(&s);
    return err;
}

static int delete_version(struct vfs *v, const struct vfs_path *p, const char *path)
{
    struct vrc_file *f = NULL;
    int err = files_meta_get(v, p->file_id, &f);
    if (err)
        return err;
    int newest = vrc_file_newest(f);
    vrc_file_unref(f);
    if (p->version != newest) {
        /* No request: VRChat refuses for sure. */
        log_info("%s: EBUSY: VRChat deletes only the newest version of a File (here %d)", path,
                 newest);
        return -EBUSY;
    }
    if ((err = files_write_busy(files_write_state_of(v), p->file_id)) != 0) {
        log_info("%s: not deleting version %d: File %s is being written or uploaded (EBUSY)", path,
                 p->version, p->file_id);
        return err;
    }
    char root[PATH_MAX];
    snprintf(root, sizeof root, "/files/%s/%d", p->file_id, p->version);
    struct snapshot s = {0};
    snapshot_walk(v, &s, root, 1);
    struct vrc_file *after = NULL;
    err = files_delete_version(v->http, p->file_id, p->version, &after);
    if (err) {
        log_warn("%s: deleting version %d of %s failed: %s", path, p->version, p->file_id,
                 strerror(-err));
    } else {
        if (after) {
            files_meta_learn(v, after);
            vrc_file_unref(after);
        } else {
            files_meta_forget(v, p->file_id);
        }
        log_info("%s: deleted version %d of %s", path, p->version, p->file_id);
        bury(v, &s, root, path);
    }
    snapshot_free(&s);
    return err;
}

/* Removing a name of a live File that is a view of it, not the thing itself. */
static int refuse_view(const struct vfs_path *p, const char *path)
{
    if (p->kind == VP_TAG_LINK)
        log_info("%s: EPERM: by-tag holds links to Files; rm -r /files/%s deletes the File", path,
                 p->file_id);
    else
        log_info("%s: EPERM: a view of File %s; rm /files/%s/file.json (or rm -r the directory) "
                 "deletes the File, rm -r /files/%s/<N> its newest version",
                 path, p->file_id, p->file_id, p->file_id);
    return -EPERM;
}

/* What unlink and rmdir find at path: 0 when the tree has it. A name under something this mount
 * deleted a moment ago is a tombstone (*tombstone): removing it is the answer, as rm -r goes on
 * removing the names it listed before. Else the lookup's error. */
static int delete_lookup(struct vfs *v, const struct vfs_path *p, const char *path, bool *tombstone)
{
    struct stat st;
    int err = files_tree_getattr(v, p, &st);
    *tombstone = err == -ENOENT;
    return *tombstone ? tombstones_remove(tombs_of(v), path, vfs_mono_now()) : err;
}

int files_delete_unlink(struct vfs *v, const struct vfs_path *p, const char *path)
{
    bool tombstone;
    int err = delete_lookup(v, p, path, &tombstone);
    if (tombstone || err)
        return err;
    if (p->kind == VP_FILE_JSON)
        return delete_file(v, p, path);
    if (p->kind == VP_VERSION_DATA) /* any part of a version is the version: rsync --delete
                                       removes signature before file */
        return delete_version(v, p, path);
    return refuse_view(p, path);
}

int files_delete_rmdir(struct vfs *v, const struct vfs_path *p, const char *path)
{
    bool tombstone;
    int err = delete_lookup(v, p, path, &tombstone);
    if (tombstone || err)
        return err;
    if (p->kind == VP_FILE_DIR)
        log_info("%s: ENOTEMPTY: a File's directory always has entries; rm -r deletes the File",
                 path);
    else
        log_info("%s: ENOTEMPTY: a version's directory always has entries; rm -r deletes the "
                 "version (the newest only)",
                 path);
    return -ENOTEMPTY;
}

/* --- what tombstones hold ----------------------------------------------------------------------
 */

int files_delete_getattr(struct vfs *v, const char *path, struct stat *st)
{
    return tombstones_stat(tombs_of(v), path, vfs_mono_now(), st);
}

struct list_arg {
    void *buf;
    fuse_fill_dir_t filler;
};

static void list_one(void *arg, const char *name, const struct stat *st)
{
    struct list_arg *a = arg;
    a->filler(a->buf, name, st, 0, FUSE_FILL_DIR_PLUS);
}

int files_delete_readdir(struct vfs *v, const char *path, void *buf, fuse_fill_dir_t filler)
{
    struct list_arg a = {buf, filler};
    return tombstones_list(tombs_of(v), path, vfs_mono_now(), list_one, &a);
}

int files_delete_readlink(struct vfs *v, const char *path, char *buf, size_t size)
{
    return tombstones_readlink(tombs_of(v), path, vfs_mono_now(), buf, size);
}
