/* nodes: the mount's inode table. The kernel names files by node id, vrcfs's modules by path; a
 * node is a name under a parent node, made when the kernel learns of it (a lookup, a
 * readdirplus entry, a create) and freed when the kernel has forgotten it and it has no
 * children left. Ids are never reused, so the kernel never confuses an old node with a new one.
 * Every function is thread-safe. */
#ifndef VRCFS_VFS_NODES_H
#define VRCFS_VFS_NODES_H

#include <stddef.h>
#include <stdint.h>

/* The root directory's id, as FUSE defines it. */
#define NODES_ROOT_ID 1

struct nodes;

struct nodes *nodes_new(void);
void nodes_free(struct nodes *t);

/* The node for name under parent, made if needed, its lookup count raised by one (what the
 * kernel holds after a lookup, a create or a readdirplus entry). Returns its id; 0 when parent
 * is unknown or has no path any more, or memory ran out. */
uint64_t nodes_lookup(struct nodes *t, uint64_t parent, const char *name);

/* As nodes_lookup, for a name the kernel is told is of file type `type` (the S_IFMT bits),
 * which the node remembers. When the name's node was told another type, the name gets a new
 * node: under the old id the kernel would find its inode of the old type and fail every file
 * open on it. The old node keeps its path (the kernel may still ask about it) until the kernel
 * forgets it; find, resolve, unlink and rename see only the new one. */
uint64_t nodes_lookup_as(struct nodes *t, uint64_t parent, const char *name, unsigned type);

/* The kernel forgot n lookups of id. A node whose count reaches zero leaves the table once it
 * has no children; the root never does. Unknown ids are ignored. */
void nodes_forget(struct nodes *t, uint64_t id, uint64_t n);

/* The id of name under parent if the table has it, else 0. Counts nothing. */
uint64_t nodes_find(struct nodes *t, uint64_t parent, const char *name);

/* The node's path ("/", "/files/x"), with "/name" appended when name is not NULL. malloc'd;
 * NULL when id is unknown, the node or one of its parents was unlinked, or memory ran out. */
char *nodes_path(struct nodes *t, uint64_t id, const char *name);

/* The id of the node at path ("/files/x") if the table has it, else 0. */
uint64_t nodes_resolve(struct nodes *t, const char *path);

/* name under parent is gone (unlink, rmdir): the node keeps its id until the kernel forgets it,
 * but has no path any more. Nothing happens when the table has no such name. */
void nodes_unlink(struct nodes *t, uint64_t parent, const char *name);

/* name under parent is now newname under newparent; a node that had that name is unlinked.
 * Returns 0, or -ENOMEM (the table is unchanged). Nothing happens when the table has no such
 * name. */
int nodes_rename(struct nodes *t, uint64_t parent, const char *name, uint64_t newparent,
                 const char *newname);

/* Records that the kernel holds a whole listing of directory id, good until `until` (seconds on
 * any clock the caller keeps to). */
void nodes_set_listed(struct nodes *t, uint64_t id, double until);

/* The ids of the directories whose listing the kernel holds good until `now` or earlier (all of
 * them when under is NULL; only those at or below path `under` otherwise); their marks are
 * cleared. *ids is malloc'd (NULL when the count is 0). */
size_t nodes_take_listed(struct nodes *t, double now, const char *under, uint64_t **ids);

/* The file type (the S_IFMT bits) told to the kernel for id (nodes_lookup_as); 0 for an unknown
 * id or a type never told. */
unsigned nodes_type(struct nodes *t, uint64_t id);

/* How many nodes the table holds, the root included. */
size_t nodes_count(struct nodes *t);

#endif
