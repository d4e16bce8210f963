/* instances_tree: /instances (docs/SEMANTICS.md, The tree and Writing): the Instance JSON files,
 * the recent and created ones in the listing, /instances/s/<shortName> links, new instances written
 * as CreateInstanceRequest JSON, closing by rm, and the user.vrchat.* extended attributes. Its
 * paths are VP_INSTANCES, VP_INSTANCE_JSON, VP_INSTANCE_NAME, VP_SHORT_DIR and VP_SHORT_LINK;
 * anything of /instances stays fresh for cache_ttl, but five seconds at most. */
#ifndef VRCFS_INSTANCES_TREE_H
#define VRCFS_INSTANCES_TREE_H

#include "vfs/subtree.h"

extern const struct subtree_ops instances_subtree;

#endif
