/* json_text: JSON as the text of a file (file.json, stats.json, an instance's file): dumped,
 * and ending with the newline a text file ends with. */
#ifndef VRCFS_JSON_TEXT_H
#define VRCFS_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* json dumped with flags (json_dumps' flags) and a newline, as a new string; its length, the
 * newline included, in *len when len is not NULL. NULL when out of memory. */
char *json_text_dump(const json_t *json, size_t flags, size_t *len);

#endif
