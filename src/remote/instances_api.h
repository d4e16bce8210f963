/* instances_api: the Instances endpoints (NOTES.md 4 and 5). Each function is one API request
 * (instances_api_recent: one per page), so callers can count what an operation costs.
 * Locations must be ones location_parse() accepts: they go into the URL raw (':' '~' '(' ')'
 * unescaped), as VRChat's own clients send them. Knows nothing of FUSE. */
#ifndef VRCFS_INSTANCES_API_H
#define VRCFS_INSTANCES_API_H

#include "remote/http.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define INSTANCES_RECENT_PAGE_MAX 100
#define INSTANCES_SHORT_NAME_MAX 64 /* longest shortName or secureName vrcfs will look up */

/* How to close an instance: DELETE /instances/{location}?hardClose=&closedAt=. */
struct instances_api_close {
    bool hard;             /* hardClose=true: everyone is removed now */
    const char *closed_at; /* ISO 8601 date-time, or NULL for now */
};

/* The query of the DELETE for how ("?hardClose=false", "?hardClose=true",
 * "?hardClose=false&closedAt=2030-01-01T00:00:00Z"), with closedAt percent-encoded ('+' of a
 * time zone becomes %2B). 0, or -ENAMETOOLONG when out (out_len bytes) is too small. */
int instances_api_close_query(const struct instances_api_close *how, char *out, size_t out_len);

/* True for a name that can go into GET /instances/s/{name}: 1..INSTANCES_SHORT_NAME_MAX of
 * [A-Za-z0-9_-]. Anything else cannot be a shortName or secureName and is never sent. */
bool instances_api_short_name_ok(const char *name);

/* GET /instances/{location}: 0 with the Instance object (a new reference). A literal null body
 * (what VRChat answers for an unknown instance of a known world) and a 404 are -ENOENT; an
 * answer that is not an object is -EIO. */
int instances_api_get(struct http_client *c, const char *location, json_t **out);

/* GET /instances/s/{name} with a shortName or a secureName: as instances_api_get. A name that
 * instances_api_short_name_ok() refuses is -ENOENT without a request. */
int instances_api_get_by_short_name(struct http_client *c, const char *name, json_t **out);

/* GET /instances/{location}/shortName: 0 with *secure_name (never NULL) and *short_name (NULL
 * when the instance has none), both malloc'd. A missing secureName is -EIO. */
int instances_api_short_name(struct http_client *c, const char *location, char **short_name,
                             char **secure_name);

/* POST /instances with request (a checked CreateInstanceRequest). 0 with the new Instance in
 * *out, whose "location" location_parse() accepts (anything else is -EIO). On failure *status
 * is the HTTP status (0 when no answer came) and message (>= 256 bytes) the server's words. */
int instances_api_create(struct http_client *c, json_t *request, json_t **out, long *status,
                         char *message);

/* DELETE /instances/{location} with how (NULL: soft, now). 0 with the Instance as it is now in
 * *out (when out is non-NULL; it may be NULL if the server sent no object). Not the owner or
 * already closed: -EACCES (403). */
int instances_api_close(struct http_client *c, const char *location,
                        const struct instances_api_close *how, json_t **out);

/* POST /invite/myself/to/{location}: asks VRChat to send the user an invite. */
int instances_api_invite_self(struct http_client *c, const char *location);

/* GET /instances/recent?n=&offset= (n at most INSTANCES_RECENT_PAGE_MAX). 0 with *count the
 * number of items the page had (fewer than n: the list is over; more than n: a server that
 * ignores n, logged) and *locs the string items among the first n, in order (*nlocs of them;
 * items that are not strings are left out), a NULL-terminated array to free with
 * instances_api_free_strings. A non-array answer is -EIO. */
int instances_api_recent_page(struct http_client *c, int offset, int n, char ***locs, size_t *nlocs,
                              size_t *count);

void instances_api_free_strings(char **strings);

#endif
