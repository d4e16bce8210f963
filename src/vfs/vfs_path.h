/* vfs_path: maps a path under the mount to what it names, without any I/O: the kinds of path
 * of every subtree, and the grammars of VRChat's. The tree is described in
 * docs/SEMANTICS.md, The tree. */
#ifndef VRCFS_VFS_PATH_H
#define VRCFS_VFS_PATH_H

#include <limits.h>

enum vfs_path_kind {
    VP_ROOT,         /* /                                   */
    VP_FILES,        /* /files                              */
    VP_FILES_NAME,   /* /files/<name> where name is not a fileId nor "by-tag" (new File or its
                        symlink) */
    VP_BY_TAG,       /* /files/by-tag                       */
    VP_TAG_DIR,      /* /files/by-tag/<tag>                 */
    VP_TAG_LINK,     /* /files/by-tag/<tag>/<fileId>        */
    VP_TAG_NAME,     /* /files/by-tag/<tag>/<name> where name is not a fileId (a new File with
                        that tag, or its symlink) */
    VP_FILE_DIR,     /* /files/<fileId>                     */
    VP_FILE_JSON,    /* /files/<fileId>/file.json           */
    VP_FILE_LATEST,  /* /files/<fileId>/latest              */
    VP_FILE_NAME,    /* /files/<fileId>/<other name>: the alias or a temp file */
    VP_VERSION_DIR,  /* /files/<fileId>/<N>                 */
    VP_VERSION_DATA, /* /files/<fileId>/<N>/{file,signature,delta} */
    /* /instances of either service: VRChat's (instances_tree.c) or sharedcloud's
     * (sharedcloud_tree.c), whose parse chooses these kinds the same way. */
    VP_INSTANCES,     /* /instances                          */
    VP_INSTANCE_JSON, /* /instances/<id>.json: a valid location (VRChat), a uuid (sharedcloud) */
    VP_INSTANCE_NAME, /* /instances/<name>: anything else (a new instance request or its symlink) */
    VP_SHORT_DIR,     /* the links by another name: /instances/s (VRChat), /instances/by-name */
    VP_SHORT_LINK,    /* /instances/s/<shortName>, /instances/by-name/<name> */
    VP_META_DIR,      /* /.vrcfs                             */
    VP_STATS,         /* /.vrcfs/stats.json                  */
    VP_LOG,           /* /.vrcfs/log                         */
};

enum vfs_data_type { VD_FILE, VD_SIGNATURE, VD_DELTA };

#define VFS_ID_MAX 96

struct vfs_path {
    enum vfs_path_kind kind;
    char file_id[VFS_ID_MAX];     /* VP_FILE_*, VP_VERSION_*, VP_TAG_LINK */
    int version;                  /* VP_VERSION_*: N >= 1 */
    enum vfs_data_type data_type; /* VP_VERSION_DATA */
    char tag[64];                 /* VP_TAG_DIR, VP_TAG_LINK, VP_TAG_NAME */
    char name[NAME_MAX + 1];      /* VP_FILES_NAME, VP_FILE_NAME, VP_TAG_NAME, VP_INSTANCE_NAME,
                                     VP_SHORT_LINK;
                                     VP_INSTANCE_JSON: the location or uuid (without ".json") */
    const char *path;             /* the path parsed, as the caller gave it (services_parse) */
};

/* The grammars of the subtrees /files, /instances and /.vrcfs (their subtree_ops parse): each
 * parses an absolute path as FUSE passes it ("/files/file_x/1/file") whose first component names
 * its subtree (not checked: services_parse chose the subtree by it). Returns 0 and fills *out,
 * -ENOENT for a path that can name nothing (too deep, version "0", "01", "..", unknown tag,
 * unknown data type, empty component), or -ENAMETOOLONG for a component longer than NAME_MAX.
 * A fileId is "file_" followed by 1..80 of [0-9a-zA-Z-]. */
int vfs_path_parse_files(const char *path, struct vfs_path *out);
int vfs_path_parse_instances(const char *path, struct vfs_path *out);
int vfs_path_parse_meta(const char *path, struct vfs_path *out);

/* True when s looks like a fileId (see above). */
int vfs_path_is_file_id(const char *s);

/* The ImagePurpose tags listed under /files/by-tag, NULL-terminated. */
extern const char *const vfs_path_tags[];

#endif
