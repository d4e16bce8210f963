/* sharedcloud_tree: /instances of a sharedcloud.io mount (docs/SEMANTICS.md, sharedcloud.io): each
 * instance as <uuid>.json (pretty JSON, mtime from updated_at), /instances/by-name/<name> links to
 * them, a new instance made by writing a JSON object to a new <name>.json (POST; the name then
 * links to <uuid>.json), an update by writing a JSON object to <uuid>.json (PATCH of exactly the
 * fields written), and delete by rm (DELETE). Its paths are VP_INSTANCES, VP_INSTANCE_JSON
 * (name: the uuid), VP_INSTANCE_NAME, VP_SHORT_DIR (by-name) and VP_SHORT_LINK. */
#ifndef VRCFS_SHAREDCLOUD_TREE_H
#define VRCFS_SHAREDCLOUD_TREE_H

#include "vfs/subtree.h"

extern const struct subtree_ops sharedcloud_subtree;

#endif
