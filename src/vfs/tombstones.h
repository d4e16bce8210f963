/* tombstones: subtrees this mount deleted on the server a moment ago (a File, a version), kept
 * briefly with the names and attributes they had. `rm -r` and `find -delete` read a directory
 * whole before removing its entries one by one; the first removal deletes everything on the
 * server (docs/SEMANTICS.md, "Deleting"), and the tombstone lets the removals of the rest, which
 * really are gone, succeed instead of failing with ENOENT. Pure bookkeeping, no I/O; every
 * function is thread-safe. Times are seconds on any clock the caller keeps to. */
#ifndef VRCFS_TOMBSTONES_H
#define VRCFS_TOMBSTONES_H

#include <stddef.h>
#include <sys/stat.h>

struct tombstones;

/* One name of a deleted subtree: its absolute path in the mount, attributes, and for a symlink
 * its target (else NULL). */
struct tomb_entry {
    const char *path;
    struct stat st;
    const char *target;
};

struct tombstones *tombstones_new(void);
void tombstones_free(struct tombstones *t);

/* Records the subtree at root (entries[0] should be root itself; every path at or below root)
 * as deleted, kept until `until`. A tombstone with the same root is replaced. 0 or -ENOMEM. */
int tombstones_add(struct tombstones *t, const char *root, const struct tomb_entry *entries,
                   size_t n, double until);

/* The attributes path had when it was deleted: 0, or -ENOENT when no live tombstone holds it. */
int tombstones_stat(struct tombstones *t, const char *path, double now, struct stat *st);

/* The target of a deleted symlink, NUL-terminated in buf (cut to size): 0 or -ENOENT. */
int tombstones_readlink(struct tombstones *t, const char *path, double now, char *buf, size_t size);

/* Calls fn for each name still held directly under directory dir. Returns 0, or -ENOENT when
 * no live tombstone holds dir. */
int tombstones_list(struct tombstones *t, const char *dir, double now,
                    void (*fn)(void *arg, const char *name, const struct stat *st), void *arg);

/* Removes path, and for a directory everything held below it (the server has none of it): 0, or
 * -ENOENT when no live tombstone holds path. A tombstone with nothing left is dropped. */
int tombstones_remove(struct tombstones *t, const char *path, double now);

#endif
