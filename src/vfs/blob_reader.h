/* blob_reader: reading a version's data through the mount (CONTRACT.md 3). Opening resolves the
 * download once (the redirect to a signed URL, remembered in the cache for later opens); reads
 * then go straight to that URL as Range requests, through a readahead window that grows while
 * reading stays sequential. A whole sequential read is checked against FileData.md5; a
 * mismatch is EIO. An expired URL is resolved again, once. */
#ifndef VRCFS_BLOB_READER_H
#define VRCFS_BLOB_READER_H

#include "remote/vrc_file.h"
#include "vfs/vfs_internal.h"

#define BLOB_WINDOW_MIN (256u * 1024)
#define BLOB_WINDOW_MAX (8u * 1024 * 1024)

/* A handle for reading data kind of version `version` of f. */
int blob_reader_open(struct vfs *v, const struct vrc_file *f, int version, enum vrc_data_kind kind,
                     struct vfs_handle **out);

#endif
