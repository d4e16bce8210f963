/* readahead: a per-handle window that grows while reads are sequential and resets on a seek. */
#include "vfs/readahead.h"

void readahead_init(struct readahead *ra, size_t min, size_t max)
{
    /* A zero window would never grow; a max below min would shrink it on the first doubling. */
    ra->min = min > 0 ? min : 1;
    ra->max = max > ra->min ? max : ra->min;
    ra->window = ra->min;
    /* Starting at 0 makes the first read at offset 0 sequential: a file read from its start is
     * the common case, and it should not pay a second small fetch before the window grows. */
    ra->next_offset = 0;
}

static size_t grow(const struct readahead *ra)
{
    if (ra->window > ra->max / 2)
        return ra->max;
    return ra->window * 2;
}

static size_t clip(size_t n, uint64_t offset, uint64_t file_size)
{
    uint64_t left = file_size - offset;
    return (uint64_t)n < left ? n : (size_t)left;
}

size_t readahead_fetch_size(struct readahead *ra, uint64_t offset, size_t len, uint64_t file_size)
{
    /* Nothing to fetch; a read at or past the end says nothing about the access pattern. */
    if (len == 0 || offset >= file_size)
        return 0;
    size_t want;
    if (offset == ra->next_offset) {
        want = len > ra->window ? len : ra->window;
        ra->window = grow(ra);
    } else {
        /* A seek, forward or backward: the pattern is unknown again, start small. */
        ra->window = ra->min;
        want = len > ra->window ? len : ra->window;
    }
    /* The caller's next sequential read starts after what it asked for, not after what we
     * fetched: the extra bytes are readahead it has not read yet. */
    ra->next_offset = offset + clip(len, offset, file_size);
    return clip(want, offset, file_size);
}
