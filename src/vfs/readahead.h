/* readahead: decides how much to fetch for a read, from how the file has been read so far.
 * The window starts at min, doubles on each sequential read up to max, and falls back to min
 * on a seek. Pure arithmetic, no I/O; one per open file handle. */
#ifndef VRCFS_READAHEAD_H
#define VRCFS_READAHEAD_H

#include <stddef.h>
#include <stdint.h>

struct readahead {
    uint64_t next_offset; /* where a sequential read would start */
    size_t window;        /* current window */
    size_t min, max;
};

void readahead_init(struct readahead *ra, size_t min, size_t max);

/* For a read of len bytes at offset of a file of file_size bytes, returns how many bytes to fetch
 * starting at offset: at least len (clipped to the file end), at most max(len, window) clipped to
 * the file end, 0 at or past the end. Updates the state: a read at next_offset is sequential. */
size_t readahead_fetch_size(struct readahead *ra, uint64_t offset, size_t len, uint64_t file_size);

#endif
