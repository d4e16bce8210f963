/* services: which top-level directories each service's mount has (the one table of services
 * and subtrees), and the parse of a path in a service's tree. */
#ifndef VRCFS_VFS_SERVICES_H
#define VRCFS_VFS_SERVICES_H

#include "vfs/subtree.h"

#define SERVICE_SUBTREES_MAX VFS_SUBTREES_MAX

struct service {
    const char *name;
    /* The root's directories, in the order the root lists them; NULL after the last. */
    const struct subtree_ops *subtrees[SERVICE_SUBTREES_MAX];
};

/* The service called name ("vrchat"), or NULL. */
const struct service *services_find(const char *name);

/* Parses path in the tree of service s: 0 with *out filled (out->path is path) and *tree set
 * to the subtree the path is in (NULL for the root, kind VP_ROOT); -ENOENT for a path no subtree of
 * s owns or that its subtree's grammar rejects, -ENAMETOOLONG for a component over NAME_MAX. */
int services_parse(const struct service *s, const char *path, struct vfs_path *out,
                   const struct subtree_ops **tree);

#endif
