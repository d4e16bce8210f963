/* json_write: an open file whose content is collected in memory and sent by its subtree at
 * flush (close): a JSON request or object written to a name (instance_create.c's
 * CreateInstanceRequest, sharedcloud_tree.c's create and update). The subtree's handle has a
 * struct json_write as its first member, and its ops table takes read, write, truncate and
 * getattr from here and brings its own flush (the sending) and release. */
#ifndef VRCFS_JSON_WRITE_H
#define VRCFS_JSON_WRITE_H

#include "vfs/vfs_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct json_write {
    struct vfs_handle base; /* first: fi->fh points at it */
    struct vfs *v;
    size_t max;           /* the most bytes it takes; more is EFBIG */
    pthread_mutex_t lock; /* buf, len, dirty, done, last_err; the subtree's flush takes it too */
    char *buf;
    size_t len;
    atomic_size_t size; /* len, for stat without the lock */
    bool dirty;         /* written since the last flush */
    bool done;          /* what was sent made something the name now links to: writes are EROFS */
    int last_err;       /* of the last send, which the next flush returns again */
};

/* Sets up h (zeroed by the caller) for a subtree's ops, empty. */
void json_write_init(struct json_write *h, const struct vfs_handle_ops *ops, struct vfs *v,
                     size_t max);
/* Its content starts as buf (malloc'd, taken over), as a file opened without O_TRUNC. */
void json_write_set(struct json_write *h, char *buf, size_t len);
/* Frees what init and the writes took (not h itself). */
void json_write_fini(struct json_write *h);

/* What a subtree does with what was written at a flush: sends it, 0 or a negative errno. */
typedef int (*json_write_send_fn)(struct json_write *h);

/* The flush (close) of every descriptor: sends what was written since the last flush with send,
 * only that (a shell closes its own copy of a redirected descriptor before the command writes
 * anything). A send that succeeds and creates something (creates) makes h done. A name that
 * creates but was never written is no request either (touch): EINVAL, with a line naming path.
 * Otherwise the last send's result, again at every flush. */
int json_write_flush(struct json_write *h, json_write_send_fn send, bool creates, const char *path);

/* The vfs_handle ops, for a struct json_write *: 0 or bytes, or a negative errno (EINVAL for a
 * negative offset or size, EFBIG past max, EROFS once done). A write or truncate marks it dirty;
 * getattr is a 0644 file of the size written so far. */
int json_write_read(struct vfs_handle *base, char *buf, size_t size, off_t off);
int json_write_write(struct vfs_handle *base, const char *buf, size_t size, off_t off);
int json_write_truncate(struct vfs_handle *base, off_t size);
int json_write_getattr(struct vfs_handle *base, struct stat *st);

#endif
