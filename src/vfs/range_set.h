/* range_set: which byte ranges of a file are present, as sorted, disjoint, non-adjacent
 * half-open intervals [start, end). Adding merges with what overlaps or touches; the questions
 * are whether a range is covered, where the first hole after an offset is, and whether the
 * whole file is there. Pure data, no I/O, no locking: the owner serialises. */
#ifndef VRCFS_RANGE_SET_H
#define VRCFS_RANGE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct range {
    uint64_t start, end; /* [start, end), start < end */
};

struct range_set {
    struct range *r; /* sorted by start; r[i].end < r[i + 1].start */
    size_t n, cap;
};

/* An empty set; free with range_set_free. */
void range_set_init(struct range_set *s);
void range_set_free(struct range_set *s);
/* Empties the set (keeps its memory). */
void range_set_clear(struct range_set *s);

/* Adds [start, end), merging what it overlaps or touches. An empty range changes nothing.
 * Returns 0, or -ENOMEM with the set unchanged. */
int range_set_add(struct range_set *s, uint64_t start, uint64_t end);

/* True when every byte of [start, end) is present (an empty range always is). */
bool range_set_covers(const struct range_set *s, uint64_t start, uint64_t end);

/* The first hole at or after from and before limit: true and [*hole_start, *hole_end) clipped
 * to limit, or false when [from, limit) is covered. */
bool range_set_first_hole(const struct range_set *s, uint64_t from, uint64_t limit,
                          uint64_t *hole_start, uint64_t *hole_end);

/* Where the present run that contains from ends; from itself when from is not present. */
uint64_t range_set_run_end(const struct range_set *s, uint64_t from);

/* Bytes present in all. */
uint64_t range_set_bytes(const struct range_set *s);

/* True when [0, size) is present: the whole file is there (an empty file always is). */
bool range_set_complete(const struct range_set *s, uint64_t size);

#endif
