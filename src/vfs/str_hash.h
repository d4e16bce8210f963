/* str_hash: the one string hash of the vfs side's hash tables (the metadata cache, the merged
 * /files listing, the md5 memory). */
#ifndef VRCFS_STR_HASH_H
#define VRCFS_STR_HASH_H

#include <stdint.h>

/* FNV-1a over the bytes of s up to its NUL: fast, and spreads the ids VRChat uses well enough
 * for open addressing with a power-of-two table. */
static inline uint64_t str_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

#endif
