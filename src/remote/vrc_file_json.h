/* vrc_file_json: file.json, the File as pretty JSON in one normal form, so that an unchanged
 * File gives the same bytes whichever answer brought it (a listing or GET /file), in whatever
 * key order the server wrote, and after a remount (docs/SEMANTICS.md, The tree). */
#ifndef VRCFS_VRC_FILE_JSON_H
#define VRCFS_VRC_FILE_JSON_H

#include "remote/vrc_file.h"

#include <stdbool.h>

/* True when md5 is an MD5 as base64 (24 characters, the canonical spelling of 16 bytes): only
 * such an md5 is shown in file.json and checked against the data. */
bool vrc_file_json_md5_ok(const char *md5);

/* The server's object for f with keys sorted at every level, 2-space indent and a final
 * newline. The data of every complete, not deleted version carries an md5 of one width: the MD5
 * f holds for it, or, where f holds none (or one vrc_file_json_md5_ok refuses), null padded
 * with spaces to the width of a quoted MD5 (JSON allows spaces between tokens). So the size
 * does not depend on which md5s are known yet, only the bytes do. Other data carries the md5 f
 * holds, or none. A caller that serves the bytes first gets into f every md5 the server has
 * (files_meta_get_whole); one that needs only the size need not. malloc'd, or NULL. */
char *vrc_file_json_render(const struct vrc_file *f, size_t *len);

#endif
