/* file_listing: the fileIds of one listing of /files, in the server's order, shared by
 * reference count between the metadata cache and readers; and the merge that makes /files out
 * of the untagged listing and the one of each ImagePurpose tag. */
#ifndef VRCFS_FILE_LISTING_H
#define VRCFS_FILE_LISTING_H

#include <stdatomic.h>
#include <stddef.h>

struct file_listing {
    atomic_int refs;
    size_t count;
    char **ids;
    size_t cap;
};

/* An empty listing with one reference, or NULL when out of memory. */
struct file_listing *file_listing_new(void);
struct file_listing *file_listing_ref(struct file_listing *l);
void file_listing_unref(struct file_listing *l);

/* Appends a copy of id: 0 or -ENOMEM. */
int file_listing_append(struct file_listing *l, const char *id);

/* A new listing of every id of parts[0..n) (NULL parts are skipped), each once, in the order
 * first seen; linear in the number of ids. NULL when out of memory. */
struct file_listing *file_listing_merge(struct file_listing *const *parts, size_t n);

#endif
