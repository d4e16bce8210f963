/* upload_plan: how a multipart upload cuts a file into parts (S3 rules: every part but the
 * last at least 5 MiB) and VRChat (at most 1,000 parts: the `maxParts` its status endpoint
 * reports, below S3's own 10,000). Pure arithmetic. */
#ifndef VRCFS_UPLOAD_PLAN_H
#define VRCFS_UPLOAD_PLAN_H

#include <stdint.h>

#define UPLOAD_PART_MIN (5ull * 1024 * 1024)
#define UPLOAD_PARTS_MAX 1000

struct upload_part {
    int number; /* 1-based, as S3 and VRChat count */
    uint64_t offset;
    uint64_t length;
};

/* Plans parts of part_size bytes (raised to UPLOAD_PART_MIN if smaller, and raised further when
 * size would need more than UPLOAD_PARTS_MAX parts); the last part holds the remainder. An empty
 * file is one part of length 0. Returns the number of parts and a malloc'd array in *parts, or
 * -EINVAL (part_size 0 or parts NULL). */
int upload_plan_parts(uint64_t size, uint64_t part_size, struct upload_part **parts);

#endif
