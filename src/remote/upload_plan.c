/* upload_plan: cuts a file into multipart-upload parts. The server picks simple or multipart;
 * when it says multipart, S3's limits decide what a valid cut is, whatever part size the
 * caller would like. */
#include "remote/upload_plan.h"

#include <errno.h>
#include <stdlib.h>

/* ceil(size / part_size), written so that it cannot overflow for any size. */
static uint64_t parts_needed(uint64_t size, uint64_t part_size)
{
    return size == 0 ? 1 : (size - 1) / part_size + 1;
}

/* The smallest legal part size at least as large as the one asked for. */
static uint64_t effective_part_size(uint64_t size, uint64_t part_size)
{
    if (part_size < UPLOAD_PART_MIN)
        part_size = UPLOAD_PART_MIN;
    /* Too many parts: spread the file evenly over the maximum count instead. */
    if (parts_needed(size, part_size) > UPLOAD_PARTS_MAX)
        part_size = parts_needed(size, UPLOAD_PARTS_MAX);
    return part_size;
}

int upload_plan_parts(uint64_t size, uint64_t part_size, struct upload_part **parts)
{
    struct upload_part *p;
    uint64_t n;

    if (part_size == 0 || !parts)
        return -EINVAL;
    part_size = effective_part_size(size, part_size);
    n = parts_needed(size, part_size);
    p = calloc(n, sizeof(*p));
    if (!p)
        return -ENOMEM;
    for (uint64_t i = 0; i < n; i++) {
        p[i].number = (int)(i + 1);
        p[i].offset = i * part_size;
        p[i].length = i + 1 < n ? part_size : size - p[i].offset;
    }
    *parts = p;
    return (int)n;
}
