/* file_replace: a file replaced whole, so that a crash leaves the old content or the new, never
 * a mix (the session, the content cache's sidecars, the Files kept across mounts). */
#ifndef VRCFS_FILE_REPLACE_H
#define VRCFS_FILE_REPLACE_H

#include <stddef.h>

/* Writes len bytes of text to tmp (made anew, 0600: a temp file a crash left may have another
 * mode), syncs it and renames it over path. On any error tmp is removed and path is as it was.
 * 0 or a negative errno (-EIO for a short write); nothing is logged. */
int file_replace(const char *path, const char *tmp, const char *text, size_t len);

#endif
