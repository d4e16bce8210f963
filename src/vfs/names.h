/* names: the file names vrcfs derives from VRChat data and the MIME types it sends for them. */
#ifndef VRCFS_NAMES_H
#define VRCFS_NAMES_H

#include <stddef.h>

/* The alias shown in /files/<fileId>/ for a File: name + extension ("Avatar Image" + ".png").
 * '/' and control characters become '_'; an empty name becomes "file"; a name that would be
 * "." or ".." or would collide with "file.json" or "latest" gets a leading '_'; the result is cut
 * to NAME_MAX bytes on a UTF-8 boundary, keeping the extension. Returns a malloc'd string. */
char *names_alias(const char *name, const char *extension);

/* Splits the name of a new File ("photo.png") into its name ("photo") and extension (".png").
 * Returns 0, or -EINVAL when there is no usable extension (no dot, a dot first or last,
 * as in ".hidden" or "x."). *name and *ext are malloc'd. */
int names_split_new(const char *file_name, char **name, char **ext);

/* The MIME type for an extension with its dot (".png" -> "image/png", case-insensitive), from
 * the spec's MIMEType list; "application/octet-stream" when unknown. Never NULL. */
const char *names_mime_for_extension(const char *ext);

/* True for names editors and tools use for temporary files (".x.swp", "x~", ".x.XXXXXX",
 * "#x#", ".goutputstream-*"). Only /files itself needs this: any other name created there is a
 * new File, so these must be told apart to stay local. In a File's directory every name but
 * the File's own is local scratch, and no list is needed. */
int names_is_temporary(const char *name);

/* True when s is well-formed UTF-8 (no overlong forms, surrogates or code points beyond
 * U+10FFFF): what a VRChat name, and the JSON that carries it, can hold. */
int names_is_utf8(const char *s);

/* s for a log line: bytes that are not printable ASCII or UTF-8 become \xNN, cut to fit out
 * (out_len bytes, at least 5). */
void names_printable(const char *s, char *out, size_t out_len);

#endif
