/* meta_tree: /.vrcfs (docs/SEMANTICS.md, The tree), the mount's own files: stats.json. */
#ifndef VRCFS_META_TREE_H
#define VRCFS_META_TREE_H

#include "vfs/subtree.h"

extern const struct subtree_ops meta_subtree;

#endif
