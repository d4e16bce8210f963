/* blob_reader: reading a version's data through the mount (docs/SEMANTICS.md, Reading). Every read
 * is served from the content cache (content_cache.h); what is missing there is fetched with Range
 * requests from the signed URL the download redirect gives (resolved at the first fetch, remembered
 * in the metadata cache for later opens, resolved again once when it has expired) and written into
 * it as it arrives. Windows (the size of one request) grow while a handle reads in order; past
 * STREAM_START a handle's streamer fetches the rest of the version ahead of it.
 *
 * Trust: a version of up to BLOB_VERIFY_FIRST_MAX bytes is fetched whole and its md5 checked
 * before any byte of it is served; a bigger one serves bytes as they arrive, and the read that
 * finds every byte present waits for the md5's verdict. A mismatch is EIO for that read and
 * every later read of every handle open at the time; a new open downloads again. */
#ifndef VRCFS_BLOB_READER_H
#define VRCFS_BLOB_READER_H

#include "remote/vrc_file.h"
#include "vfs/vfs_internal.h"

#define BLOB_WINDOW_MIN (256u * 1024)
#define BLOB_WINDOW_MAX (8u * 1024 * 1024)
#define BLOB_VERIFY_FIRST_MAX (16u * 1024 * 1024)

/* A handle for reading data kind of version `version` of f, opened as path. Sends no request.
 * *verified says whether the data is whole and checked in the cache already (the kernel may then
 * keep its page cache of it). */
int blob_reader_open(struct vfs *v, const struct vrc_file *f, int version, enum vrc_data_kind kind,
                     const char *path, struct vfs_handle **out, bool *verified);

#endif
