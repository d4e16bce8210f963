/* vrc_file_json: file.json, the File as pretty JSON in one normal form, so that an unchanged
 * File gives the same bytes whichever answer brought it (a listing or GET /file), in whatever
 * key order the server wrote, and after a remount (docs/SEMANTICS.md, The tree). */
#ifndef VRCFS_VRC_FILE_JSON_H
#define VRCFS_VRC_FILE_JSON_H

#include "remote/vrc_file.h"

/* The server's object for f with keys sorted at every level, 2-space indent and a final
 * newline, where each version's data carries exactly the md5 that f holds for it (f's md5s may
 * have been filled in from other answers; one f has none of is left out). malloc'd, or NULL. */
char *vrc_file_json_render(const struct vrc_file *f, size_t *len);

#endif
