/* instance_cache: what the server said of instances, kept in the mount's metadata cache and
 * fresh for instances_ttl() (instance data changes by the second, whatever cache_ttl says):
 * each Instance as the pretty JSON its file shows, where each short name leads, and each
 * location's short names. A lookup that is not fresh costs one request; an absence (ENOENT) is
 * remembered as well. Short names that resolved are remembered for the listing of
 * /instances/s. Values are shared: each function that gives one gives a reference. */
#ifndef VRCFS_INSTANCE_CACHE_H
#define VRCFS_INSTANCE_CACHE_H

#include "vfs/instances_internal.h"

#include <jansson.h>
#include <stdatomic.h>

/* The kinds of value, as key prefixes. "in:" is <location>: its shortName (a, may be NULL) and
 * secureName (b). */
#define INSTANCE_CACHE_JSON "i:"   /* <location>: the Instance's pretty JSON (a) */
#define INSTANCE_CACHE_SHORT "is:" /* <shortName>: the location it resolves to (a) */
#define INSTANCE_CACHE_NAMES "in:"

/* A cached value. err -ENOENT remembers absence. Freshness is ours (at), because the cache's
 * TTL is the one of Files. */
struct ival {
    atomic_int refs;
    double at;   /* vfs_mono_now() when learnt */
    time_t wall; /* the same as wall-clock time, for mtimes */
    int err;
    char *a;
    size_t a_len;
    char *b;
};

/* Drops a reference (NULL is fine). Its argument is void * for the cache's ops table. */
void instance_cache_unref(void *iv);

/* A fresh value of kind prefix under name, without a request, or NULL. */
struct ival *instance_cache_fresh(struct vfs *v, const char *prefix, const char *name);
/* Forgets the Instance at loc (closed, and nothing came back). */
void instance_cache_forget(struct vfs *v, const char *loc);

/* Caches an Instance the server just sent (from a GET, a create or a close) under loc, or under
 * its own "location" when loc is NULL, with the short names that point at it. */
void instance_cache_learn(struct vfs *v, json_t *inst, const char *loc);

/* The Instance at loc as pretty JSON (a, a_len), from the cache or one GET. 0 or a negative
 * errno; *out is a new reference. */
int instance_cache_get(struct vfs *v, const char *loc, struct ival **out);
/* The location (a) a shortName or secureName stands for, from the cache or one GET; -ENOENT for
 * a name that cannot be one. The name is remembered for /instances/s. */
int instance_cache_resolve_short(struct vfs *v, const char *name, struct ival **out);
/* shortName (a, NULL when none) and secureName (b) of loc, from the cache or one GET. Both
 * then resolve without a request and show in /instances/s. */
int instance_cache_names(struct vfs *v, const char *loc, struct ival **out);

#endif
