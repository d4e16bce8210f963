/* md5_memory: every md5 of a version's data that any answer of the server gave, kept for the
 * life of the mount (a version's data never changes), so that a File brought by a listing that
 * leaves md5s out (VRChat's GET /files sometimes does) shows the same md5s as GET /file gave.
 * Also remembers where GET /file itself had none, so that it is not asked again. What GET /file
 * taught can be kept in a file too, so that the next mount need not ask. Thread-safe. */
#ifndef VRCFS_MD5_MEMORY_H
#define VRCFS_MD5_MEMORY_H

#include "remote/vrc_file.h"

#include <stdbool.h>

struct md5_memory;

struct md5_memory *md5_memory_new(void);
void md5_memory_free(struct md5_memory *m);

/* Takes up what the file at path holds (from an earlier mount), then appends to it every md5 (or
 * "none") that a GET /file answer teaches from now on, one "<fileId>/<N>/<kind> <md5|->" line
 * each. A line that does not parse (one cut short by a crash) is skipped. 0, or -errno when the
 * file cannot be opened: the memory then lasts as long as the mount. */
int md5_memory_keep(struct md5_memory *m, const char *path);

/* Before f is shared: fills each md5 f lacks from what is remembered, then remembers every md5
 * f has. With asked (f came from GET /file, the whole answer), the data of complete versions
 * that still have no md5 are remembered as having none. The data of a complete version whose md5
 * is not an MD5 (vrc_file_json_md5_ok; a hostile server) has none: it is taken out of f and, but
 * for a real one remembered, remembered as none (one info line the first time). Other data's
 * md5s that are not MD5s stay in f and are not remembered. 0 or -ENOMEM. */
int md5_memory_apply(struct md5_memory *m, struct vrc_file *f, bool asked);

/* True when a complete, not deleted version of f has data without an md5 that GET /file might
 * give (nothing is remembered for it, not even that GET /file had none). */
bool md5_memory_lacks(struct md5_memory *m, const struct vrc_file *f);

#endif
