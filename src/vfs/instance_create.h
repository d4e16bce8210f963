/* instance_create: new instances made by writing a CreateInstanceRequest (JSON) to a new
 * /instances/<name>.json. The open name is a pending request (one writer per name); close
 * sends it, and the name then stays as a symlink to the new location's file until unmount.
 * A request the server refuses is EINVAL at close, with its message in the log. */
#ifndef VRCFS_INSTANCE_CREATE_H
#define VRCFS_INSTANCE_CREATE_H

#include "vfs/instances_internal.h"
#include "vfs/json_write.h"

#include <stdatomic.h>

/* An open new name in /instances collecting a CreateInstanceRequest; flush sends it. */
struct request_handle {
    struct json_write jw; /* first; its lock is taken before s->lock; done: created */
    atomic_int refs;
    char *name;
};

/* The subtree's create op, for a VP_INSTANCE_NAME: -EPERM for a name that is not <name>.json,
 * -EEXIST when a request or a link has it already. */
int instance_create_new(struct vfs *v, const struct vfs_path *p, mode_t mode,
                        struct fuse_file_info *fi);
/* The subtree's truncate op: of a pending request's content; -ENOENT without one. */
int instance_create_truncate(struct vfs *v, const struct vfs_path *p, off_t size);

/* The pending request under name, with a reference, or NULL. Under s->lock. */
struct request_handle *instance_create_find(struct instances_state *s, const char *name);
/* Drops a reference taken by instance_create_find. */
void instance_create_put(struct request_handle *h);

#endif
