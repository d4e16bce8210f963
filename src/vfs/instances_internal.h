/* instances_internal: the mount's state of /instances, which its three modules share:
 * instances_tree.c (the subtree's ops and the listing), instance_cache.c (what the server said
 * of each instance and short name) and instance_create.c (new names written as requests). */
#ifndef VRCFS_INSTANCES_INTERNAL_H
#define VRCFS_INSTANCES_INTERNAL_H

#include "vfs/vfs_internal.h"

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#define SHORT_KNOWN_MAX 256 /* short names shown in /instances/s */

/* A name written through this mount that became an instance: a symlink until unmount. */
struct created_link {
    char *name;
    char *location;
};

struct request_handle;

/* The subtree's own state (subtree_state). */
struct instances_state {
    pthread_mutex_t lock;         /* everything below */
    pthread_mutex_t refresh_lock; /* one listing refresh at a time; never taken under lock */
    char **listed;                /* the server's part of the last listing: current + recent */
    size_t nlisted;
    double listed_at; /* monotonic; 0 = never */
    time_t listed_wall;
    char **created; /* locations created through this mount, oldest first */
    size_t ncreated;
    char **closed; /* locations removed with rm: hidden from listings */
    size_t nclosed;
    struct created_link *links;
    size_t nlinks;
    struct request_handle **pending; /* names open for writing a request */
    size_t npending;
    char *shorts[SHORT_KNOWN_MAX]; /* short names known to resolve, a ring */
    size_t nshorts, short_next;
};

/* The mount's state of /instances (NULL outside init..destroy). */
struct instances_state *instances_state_of(struct vfs *v);
/* How long anything of /instances stays fresh: cache_ttl, but five seconds at most. */
double instances_ttl(const struct vfs *v);
/* The created link under name, or NULL. Under s->lock. */
struct created_link *instances_find_link(struct instances_state *s, const char *name);

#endif
