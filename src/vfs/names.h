/* names: the file names vrcfs derives from VRChat data and the MIME types it sends for them. */
#ifndef VRCFS_NAMES_H
#define VRCFS_NAMES_H

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
 * "#x#", ".goutputstream-*"), which vrcfs keeps local and never uploads by themselves. */
int names_is_temporary(const char *name);

#endif
