/* instance_names: the parts of /instances that need no server and no FUSE, so they can be
 * tested alone: the user.vrchat.* extended attribute names and the values they accept, which
 * names a new instance may be written to, where the user is, and the merged directory listing. */
#ifndef VRCFS_INSTANCE_NAMES_H
#define VRCFS_INSTANCE_NAMES_H

#include "remote/instances_api.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define INSTANCE_XATTR_SHORT_NAME "user.vrchat.shortName"
#define INSTANCE_XATTR_SECURE_NAME "user.vrchat.secureName"
#define INSTANCE_XATTR_INVITE "user.vrchat.invite"
#define INSTANCE_XATTR_CLOSE "user.vrchat.close"

enum instance_xattr {
    IX_NONE,       /* not one of ours (security.*, a typo, ...) */
    IX_SHORT_NAME, /* read */
    IX_SECURE_NAME,
    IX_INVITE, /* write */
    IX_CLOSE,
};

/* Which of the four attributes name is, by exact (case-sensitive) name. */
enum instance_xattr instance_names_xattr(const char *name);

/* The listxattr answer: the four names, each NUL-terminated. With size 0, returns the length
 * needed; else copies into list and returns the length, or -ERANGE when size is too small. */
int instance_names_xattr_list(char *list, size_t size);

/* Parses a value set on user.vrchat.close (size bytes, not NUL-terminated, trailing white space
 * and newlines ignored): "soft", "hard" or an ISO 8601 date-time "YYYY-MM-DDTHH:MM[:SS[.frac]]"
 * with an optional "Z" or "+HH:MM"/"-HH:MM" ("T" may be a space; stored with "T"). Fills *out;
 * a time goes into time_buf (time_len bytes, 40 is enough) and out->closed_at points there.
 * Returns 0 or -EINVAL. */
int instance_names_close_value(const char *value, size_t size, char *time_buf, size_t time_len,
                               struct instances_api_close *out);

/* True for a name in /instances that a new instance may be written to: "<something>.json"
 * where <something> is not empty. (Names that are locations never get here.) */
bool instance_names_is_request_name(const char *name);

/* The user's current location from a CurrentUser's presence.world and presence.instance (an
 * instanceId, or a whole location). 0 with the location in out (out_len bytes), or -ENOENT
 * when there is none: "offline", "private", "traveling", empty, missing or malformed. */
int instance_names_presence(json_t *user, char *out, size_t out_len);

/* The locations of the /instances listing, in this order and each once: current (may be NULL),
 * then recent (nrecent), then created (ncreated). Strings location_parse() refuses are left out
 * (the server's sentinels and garbage). Linear in the number of strings (a hash set). Returns a
 * NULL-terminated array of copies (free with instances_api_free_strings) and *count, or NULL
 * when out of memory. */
char **instance_names_merge(const char *current, char *const *recent, size_t nrecent,
                            char *const *created, size_t ncreated, size_t *count);

/* The lists of locations and names above and in instances_tree.c: NULL-terminated arrays of
 * strings with their count n (free with instances_api_free_strings). */
/* Whether s is one of the n strings of list (NULL with n 0 is fine). */
bool instance_names_list_has(char *const *list, size_t n, const char *s);
/* Appends a copy of s; 0 or -ENOMEM (the list stays valid either way). */
int instance_names_list_push(char ***list, size_t *n, const char *s);
/* Removes and frees the first string equal to s, if any. */
void instance_names_list_remove(char **list, size_t *n, const char *s);

#endif
