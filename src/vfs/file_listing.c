#include "vfs/file_listing.h"
#include "vfs/str_hash.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct file_listing *file_listing_new(void)
{
    struct file_listing *l = calloc(1, sizeof *l);
    if (l)
        atomic_init(&l->refs, 1);
    return l;
}

struct file_listing *file_listing_ref(struct file_listing *l)
{
    atomic_fetch_add(&l->refs, 1);
    return l;
}

void file_listing_unref(struct file_listing *l)
{
    if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    for (size_t i = 0; i < l->count; i++)
        free(l->ids[i]);
    free(l->ids);
    free(l);
}

int file_listing_append(struct file_listing *l, const char *id)
{
    if (l->count == l->cap) {
        size_t grown = l->cap ? l->cap * 2 : 128;
        char **ids = realloc(l->ids, grown * sizeof *ids);
        if (!ids)
            return -ENOMEM;
        l->ids = ids;
        l->cap = grown;
    }
    l->ids[l->count] = strdup(id);
    return l->ids[l->count++] ? 0 : -ENOMEM;
}

/* Open addressing over a power-of-two table at most half full: true when id was new. */
static bool set_add(const char **slots, size_t mask, const char *id)
{
    for (size_t i = (size_t)str_hash(id) & mask;; i = (i + 1) & mask) {
        if (!slots[i]) {
            slots[i] = id;
            return true;
        }
        if (strcmp(slots[i], id) == 0)
            return false;
    }
}

struct file_listing *file_listing_merge(struct file_listing *const *parts, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += parts[i] ? parts[i]->count : 0;
    size_t size = 16;
    while (size < 2 * total)
        size *= 2;
    const char **slots = calloc(size, sizeof *slots);
    struct file_listing *out = file_listing_new();
    int err = slots && out ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && !err; i++)
        for (size_t j = 0; parts[i] && j < parts[i]->count && !err; j++)
            if (set_add(slots, size - 1, parts[i]->ids[j]))
                err = file_listing_append(out, parts[i]->ids[j]);
    free(slots);
    if (err) {
        file_listing_unref(out);
        return NULL;
    }
    return out;
}
