#include "vfs/files_tree.h"

#include "log.h"
#include "remote/vrc_file_json.h"
#include "vfs/blob_reader.h"
#include "vfs/files_meta.h"
#include "vfs/names.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static time_t file_mtime(const struct vrc_file *f)
{
    time_t newest = 0;
    for (size_t i = 0; i < f->nversions; i++)
        if (f->versions[i].created_at > newest)
            newest = f->versions[i].created_at;
    return newest;
}

static bool is_alias(const struct vrc_file *f, const char *name)
{
    char *alias = names_alias(f->name, f->extension);
    bool same = alias && strcmp(alias, name) == 0;
    free(alias);
    return same;
}

/* Attributes of a name inside /files/<fileId>/ or deeper, from the File alone. */
static int stat_in_file(struct vfs *v, const struct vrc_file *f, const struct vfs_path *p,
                        struct stat *st)
{
    const struct vrc_file_version *ver;
    int latest = vrc_file_latest(f);
    char target[16];
    switch (p->kind) {
    case VP_FILE_DIR:
        vfs_stat_dir(v, st, file_mtime(f));
        return 0;
    case VP_FILE_JSON: {
        /* The md5s not known yet take the width they will have: no GET /file for a stat. */
        size_t len = 0;
        char *json = vrc_file_json_render(f, &len);
        if (!json)
            return -ENOMEM;
        free(json);
        /* mtime: the newest version's, which changes only when the File does (rsync). */
        vfs_stat_file(v, st, (off_t)len, 0444, file_mtime(f));
        return 0;
    }
    case VP_FILE_LATEST:
        if (!latest)
            return -ENOENT;
        vfs_stat_link(v, st, (size_t)snprintf(target, sizeof target, "%d", latest),
                      vrc_file_version(f, latest)->created_at);
        return 0;
    case VP_FILE_NAME:
        if (!is_alias(f, p->name))
            return -ENOENT;
        ver = latest ? vrc_file_version(f, latest) : NULL;
        vfs_stat_file(v, st, ver ? (off_t)ver->data[VRC_DATA_FILE].size : 0, 0644,
                      ver ? ver->created_at : file_mtime(f));
        return 0;
    case VP_VERSION_DIR:
        if (!(ver = vrc_file_version(f, p->version)))
            return -ENOENT;
        vfs_stat_dir(v, st, ver->created_at);
        return 0;
    case VP_VERSION_DATA:
        if (!(ver = vrc_file_version(f, p->version)) || !ver->data[p->data_type].present)
            return -ENOENT;
        vfs_stat_file(v, st, (off_t)ver->data[p->data_type].size, 0444, ver->created_at);
        return 0;
    default:
        return -ENOENT;
    }
}

int files_tree_getattr(struct vfs *v, const struct vfs_path *p, struct stat *st)
{
    if (p->kind == VP_TAG_LINK) {
        vfs_stat_link(v, st, strlen("../../") + strlen(p->file_id), v->mount_time);
        return 0;
    }
    if (p->kind == VP_TAG_DIR || p->kind == VP_BY_TAG || p->kind == VP_FILES) {
        vfs_stat_dir(v, st, v->mount_time);
        return 0;
    }
    if (p->kind == VP_FILES_NAME || p->kind == VP_TAG_NAME)
        return -ENOENT;
    struct vrc_file *f;
    int err = files_meta_get(v, p->file_id, &f);
    if (err)
        return err;
    err = stat_in_file(v, f, p, st);
    vrc_file_unref(f);
    return err;
}

static int fill_listing(struct vfs *v, const char *tag, void *buf, fuse_fill_dir_t filler)
{
    struct file_listing *l;
    int err = tag ? files_meta_list(v, tag, &l) : files_meta_list_all(v, &l);
    if (err)
        return err;
    for (size_t i = 0; i < l->count; i++) {
        struct stat st;
        struct vfs_path p = {.kind = tag ? VP_TAG_LINK : VP_FILE_DIR};
        snprintf(p.file_id, sizeof p.file_id, "%s", l->ids[i]);
        if (files_tree_getattr(v, &p, &st) == 0)
            filler(buf, l->ids[i], &st, 0, FUSE_FILL_DIR_PLUS);
    }
    file_listing_unref(l);
    return 0;
}

static void fill_version(struct vfs *v, const struct vrc_file_version *ver, void *buf,
                         fuse_fill_dir_t filler)
{
    for (int k = 0; k < VRC_DATA_KINDS; k++) {
        if (!ver->data[k].present)
            continue;
        struct stat st;
        vfs_stat_file(v, &st, (off_t)ver->data[k].size, 0444, ver->created_at);
        filler(buf, vrc_data_kind_name(k), &st, 0, FUSE_FILL_DIR_PLUS);
    }
}

/* file.json first: removing it deletes the File, so `rm -r` and `find -delete`, which remove in
 * this order, delete the File at once and find the rest already gone (SEMANTICS.md, "Deleting").
 * Versions newest first, so that removing them one by one always removes the newest. */
static void fill_file(struct vfs *v, const struct vrc_file *f, void *buf, fuse_fill_dir_t filler)
{
    struct vfs_path p = {.kind = VP_FILE_JSON};
    struct stat st;
    if (stat_in_file(v, f, &p, &st) == 0)
        filler(buf, "file.json", &st, 0, FUSE_FILL_DIR_PLUS);
    char *alias = names_alias(f->name, f->extension);
    p.kind = VP_FILE_NAME;
    snprintf(p.name, sizeof p.name, "%s", alias ? alias : "");
    if (alias && stat_in_file(v, f, &p, &st) == 0)
        filler(buf, alias, &st, 0, FUSE_FILL_DIR_PLUS);
    free(alias);
    p.kind = VP_FILE_LATEST;
    if (stat_in_file(v, f, &p, &st) == 0)
        filler(buf, "latest", &st, 0, FUSE_FILL_DIR_PLUS);
    for (size_t i = f->nversions; i-- > 0;) {
        const struct vrc_file_version *ver = vrc_file_version(f, f->versions[i].version);
        if (!ver)
            continue;
        char name[16];
        snprintf(name, sizeof name, "%d", ver->version);
        vfs_stat_dir(v, &st, ver->created_at);
        filler(buf, name, &st, 0, FUSE_FILL_DIR_PLUS);
    }
}

int files_tree_readdir(struct vfs *v, const struct vfs_path *p, void *buf, fuse_fill_dir_t filler)
{
    struct stat st;
    switch (p->kind) {
    case VP_FILES:
        vfs_stat_dir(v, &st, v->mount_time);
        filler(buf, "by-tag", &st, 0, FUSE_FILL_DIR_PLUS);
        return fill_listing(v, NULL, buf, filler);
    case VP_BY_TAG:
        vfs_stat_dir(v, &st, v->mount_time);
        for (const char *const *t = vfs_path_tags; *t; t++)
            filler(buf, *t, &st, 0, FUSE_FILL_DIR_PLUS);
        return 0;
    case VP_TAG_DIR:
        return fill_listing(v, p->tag, buf, filler);
    case VP_FILE_DIR:
    case VP_VERSION_DIR:
        break;
    default:
        return -ENOTDIR;
    }
    struct vrc_file *f;
    int err = files_meta_get(v, p->file_id, &f);
    if (err)
        return err;
    if (p->kind == VP_FILE_DIR) {
        fill_file(v, f, buf, filler);
    } else {
        const struct vrc_file_version *ver = vrc_file_version(f, p->version);
        if (ver)
            fill_version(v, ver, buf, filler);
        else
            err = -ENOENT;
    }
    vrc_file_unref(f);
    return err;
}

int files_tree_readlink(struct vfs *v, const struct vfs_path *p, char *buf, size_t size)
{
    if (p->kind == VP_TAG_LINK) {
        snprintf(buf, size, "../../%s", p->file_id);
        return 0;
    }
    if (p->kind != VP_FILE_LATEST)
        return -EINVAL;
    struct vrc_file *f;
    int err = files_meta_get(v, p->file_id, &f);
    if (err)
        return err;
    int latest = vrc_file_latest(f);
    vrc_file_unref(f);
    if (!latest)
        return -ENOENT;
    snprintf(buf, size, "%d", latest);
    return 0;
}

int files_tree_open(struct vfs *v, const struct vfs_path *p, struct fuse_file_info *fi)
{
    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EACCES;
    /* The bytes of file.json carry the md5s, and the data is checked against its md5: both
     * need every md5 the server has (the size at stat did not). */
    struct vrc_file *f;
    int err = files_meta_get_whole(v, p->file_id, &f);
    if (err)
        return err;
    struct vfs_handle *h = NULL;
    const struct vrc_file_version *ver = NULL;
    enum vrc_data_kind kind = VRC_DATA_FILE;
    if (p->kind == VP_FILE_JSON) {
        size_t len = 0;
        char *json = vrc_file_json_render(f, &len);
        h = json ? vfs_buffer_handle_new(json, len) : NULL;
        err = h ? 0 : -ENOMEM;
    } else if (p->kind == VP_VERSION_DATA) {
        ver = vrc_file_version(f, p->version);
        kind = (enum vrc_data_kind)p->data_type;
        err = ver && ver->data[kind].present ? 0 : -ENOENT;
    } else if (p->kind == VP_FILE_NAME && is_alias(f, p->name)) {
        int latest = vrc_file_latest(f);
        ver = latest ? vrc_file_version(f, latest) : NULL;
        if (!ver)
            h = vfs_buffer_handle_new(NULL, 0); /* a File with no data yet reads empty */
        err = ver || h ? 0 : -ENOMEM;
    } else {
        err = -ENOENT;
    }
    if (!err && ver) {
        char path[PATH_MAX];
        if (p->kind == VP_VERSION_DATA)
            snprintf(path, sizeof path, "/files/%s/%d/%s", f->id, ver->version,
                     vrc_data_kind_name(kind));
        else
            snprintf(path, sizeof path, "/files/%s/%s", f->id, p->name);
        bool verified = false;
        err = blob_reader_open(v, f, ver->version, kind, path, &h, &verified);
        /* Version data never changes, but what the kernel keeps of it must have been checked:
         * only a verified version's page cache survives an open (a mismatch drops it too). */
        fi->keep_cache = verified;
    }
    vrc_file_unref(f);
    if (!err)
        fi->fh = (uint64_t)(uintptr_t)h;
    return err;
}

/* The File's own facts, on its directory, so that getfattr -d -R finds Files by name. */
static const char *const file_xattrs[] = {"user.vrchat.name", "user.vrchat.tags",
                                          "user.vrchat.mimeType", "user.vrchat.extension", NULL};

static int file_xattr_index(const char *name)
{
    for (int i = 0; file_xattrs[i]; i++)
        if (strcmp(name, file_xattrs[i]) == 0)
            return i;
    return -1;
}

/* The value of attribute i of f, malloc'd (tags joined with commas), or NULL. */
static char *file_xattr_value(const struct vrc_file *f, int i)
{
    if (i == 0)
        return strdup(f->name);
    if (i == 2)
        return strdup(f->mime_type);
    if (i == 3)
        return strdup(f->extension);
    size_t len = 1;
    for (size_t t = 0; t < f->ntags; t++)
        len += strlen(f->tags[t]) + 1;
    char *joined = malloc(len);
    if (!joined)
        return NULL;
    size_t used = 0;
    for (size_t t = 0; t < f->ntags; t++)
        used += (size_t)sprintf(joined + used, "%s%s", t ? "," : "", f->tags[t]);
    joined[used] = '\0';
    return joined;
}

int files_tree_getxattr(struct vfs *v, const struct vfs_path *p, const char *name, char *value,
                        size_t size)
{
    int i = file_xattr_index(name);
    if (p->kind != VP_FILE_DIR || i < 0)
        return -ENODATA;
    struct vrc_file *f;
    int err = files_meta_get(v, p->file_id, &f);
    if (err)
        return err;
    char *val = file_xattr_value(f, i);
    vrc_file_unref(f);
    if (!val)
        return -ENOMEM;
    size_t len = strlen(val);
    err = size == 0 ? (int)len : size < len ? -ERANGE : (memcpy(value, val, len), (int)len);
    free(val);
    return err;
}

int files_tree_listxattr(struct vfs *v, const struct vfs_path *p, char *list, size_t size)
{
    (void)v;
    if (p->kind != VP_FILE_DIR)
        return 0;
    size_t need = 0;
    for (int i = 0; file_xattrs[i]; i++)
        need += strlen(file_xattrs[i]) + 1;
    if (size == 0)
        return (int)need;
    if (size < need)
        return -ERANGE;
    for (int i = 0; file_xattrs[i]; i++) {
        size_t n = strlen(file_xattrs[i]) + 1;
        memcpy(list, file_xattrs[i], n);
        list += n;
    }
    return (int)need;
}

int files_tree_change_xattr(const struct vfs_path *p, const char *name)
{
    if (file_xattr_index(name) >= 0) {
        log_info("/files/%s: %s is read-only: it is the File's own, set by VRChat", p->file_id,
                 name);
        return -EPERM;
    }
    log_info("/files/%s: cannot set or remove %s: a File's directory has only user.vrchat.* facts",
             p->file_id, name);
    return -ENOTSUP;
}
