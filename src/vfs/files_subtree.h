/* files_subtree: /files (docs/SEMANTICS.md, The tree to Errors) as one subtree: its paths go to the
 * read side (files_tree.c, the server's Files and versions) or the write side (files_write.c, what
 * the mount stages, uploads and deletes). */
#ifndef VRCFS_FILES_SUBTREE_H
#define VRCFS_FILES_SUBTREE_H

#include "vfs/subtree.h"

extern const struct subtree_ops files_subtree;

#endif
