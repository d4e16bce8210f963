/* range_set: a sorted array of intervals; versions are read in few runs, so n stays small and a
 * binary search plus a memmove is all it needs. */
#include "vfs/range_set.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void range_set_init(struct range_set *s)
{
    s->r = NULL;
    s->n = s->cap = 0;
}

void range_set_free(struct range_set *s)
{
    free(s->r);
    range_set_init(s);
}

void range_set_clear(struct range_set *s)
{
    s->n = 0;
}

/* The index of the first range whose end is >= off (it holds or follows off), or n. */
static size_t first_ending_at_or_after(const struct range_set *s, uint64_t off)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->r[mid].end < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int range_set_add(struct range_set *s, uint64_t start, uint64_t end)
{
    if (start >= end)
        return 0;
    /* Every range from i to j - 1 overlaps or touches [start, end): they become one. */
    size_t i = first_ending_at_or_after(s, start);
    size_t j = i;
    while (j < s->n && s->r[j].start <= end)
        j++;
    if (i == j) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 8;
            struct range *grown = realloc(s->r, cap * sizeof *grown);
            if (!grown)
                return -ENOMEM;
            s->r = grown;
            s->cap = cap;
        }
        memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof *s->r);
        s->r[i] = (struct range){start, end};
        s->n++;
        return 0;
    }
    struct range merged = {start < s->r[i].start ? start : s->r[i].start,
                           end > s->r[j - 1].end ? end : s->r[j - 1].end};
    s->r[i] = merged;
    memmove(&s->r[i + 1], &s->r[j], (s->n - j) * sizeof *s->r);
    s->n -= j - i - 1;
    return 0;
}

bool range_set_covers(const struct range_set *s, uint64_t start, uint64_t end)
{
    if (start >= end)
        return true;
    size_t i = first_ending_at_or_after(s, start + 1);
    return i < s->n && s->r[i].start <= start && s->r[i].end >= end;
}

bool range_set_first_hole(const struct range_set *s, uint64_t from, uint64_t limit,
                          uint64_t *hole_start, uint64_t *hole_end)
{
    if (from >= limit)
        return false;
    size_t i = first_ending_at_or_after(s, from + 1);
    if (i < s->n && s->r[i].start <= from) {
        from = s->r[i].end; /* from is present: the hole starts where its run ends */
        i++;
    }
    if (from >= limit)
        return false;
    *hole_start = from;
    *hole_end = i < s->n && s->r[i].start < limit ? s->r[i].start : limit;
    return true;
}

uint64_t range_set_run_end(const struct range_set *s, uint64_t from)
{
    size_t i = first_ending_at_or_after(s, from + 1);
    return i < s->n && s->r[i].start <= from ? s->r[i].end : from;
}

uint64_t range_set_bytes(const struct range_set *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->r[i].end - s->r[i].start;
    return n;
}

bool range_set_complete(const struct range_set *s, uint64_t size)
{
    return range_set_covers(s, 0, size);
}
