/* sharedcloud_api: the sharedcloud.io Instances endpoints (docs/SEMANTICS.md, sharedcloud.io)
 * through http.c, so every call is paced, timed out, retried when transient and counted in the
 * stats. Each function is exactly one API request (plus http.c's retries), or none when its
 * arguments are refused first. The client's api_url is the service's origin
 * (SHAREDCLOUD_DEFAULT_ORIGIN, or a test emulator's); paths are SHAREDCLOUD_INSTANCES_PATH under
 * it. Errors go through errmap: 400 -EINVAL with the Django REST framework field errors logged
 * at info as "field: message" lines, 401/403 -EACCES with the server's "detail" logged, 404
 * -ENOENT, 429/503 -EAGAIN, 3xx (a wrong api_url) -EIO. The token is never logged. Knows
 * nothing of FUSE. */
#ifndef VRCFS_SHAREDCLOUD_API_H
#define VRCFS_SHAREDCLOUD_API_H

#include "remote/http.h"
#include "remote/sharedcloud_instance.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SHAREDCLOUD_DEFAULT_ORIGIN "https://sharedcloud.io"
#define SHAREDCLOUD_INSTANCES_PATH "/api/v1/instances/"
#define SHAREDCLOUD_MESSAGE_LEN 512 /* size of every message buffer below */
#define SHAREDCLOUD_TOKEN_MAX 256

/* True for a token that can go into a header: 1 to SHAREDCLOUD_TOKEN_MAX visible ASCII
 * characters (no space, no control character). */
bool sharedcloud_api_token_ok(const char *token);

/* Makes c send "Authorization: Token <token>" with every request to its api_url's origin and
 * with no other (http_client_set_authorization). NULL forgets it. */
void sharedcloud_api_set_token(struct http_client *c, const char *token);

/* GET the list once: 0 when the answer is a JSON array (the token works), -EACCES when the
 * token is refused (message: the server's "detail", e.g. "Invalid token."), -EIO when the
 * answer is not a list, or a transport errno. message may be NULL. */
int sharedcloud_api_check(struct http_client *c, char *message);

/* GET the list: 0 with *out an array of *n parsed instances (free with
 * sharedcloud_api_free_list). Entries that do not parse, and later entries with a uuid seen
 * before, are left out with a warning naming the index and the reason; an answer that is not
 * an array is -EIO. */
int sharedcloud_api_list(struct http_client *c, struct sharedcloud_instance **out, size_t *n);

void sharedcloud_api_free_list(struct sharedcloud_instance *list, size_t n);

/* GET one instance: 0 with *out filled (free with sharedcloud_instance_clear). A uuid that
 * sharedcloud_instance_uuid_ok refuses is -ENOENT without a request; an answer that does not
 * parse is -EIO (logged). */
int sharedcloud_api_get(struct http_client *c, const char *uuid, struct sharedcloud_instance *out);

/* POST (create), PUT (replace) or PATCH (update) with the body
 * sharedcloud_instance_request(fields) gives: exactly the fields given, max_num_parallel_jobs
 * as a string. 0 with the instance the server answered in *out. fields not an object is
 * -EINVAL without a request; a refused uuid -ENOENT without one. On failure message (may be
 * NULL) gets the reason: the 400's field errors joined by "; " ("ask_price: A valid number is
 * required."), or the server's detail. */
int sharedcloud_api_create(struct http_client *c, json_t *fields, struct sharedcloud_instance *out,
                           char *message);
int sharedcloud_api_replace(struct http_client *c, const char *uuid, json_t *fields,
                            struct sharedcloud_instance *out, char *message);
int sharedcloud_api_update(struct http_client *c, const char *uuid, json_t *fields,
                           struct sharedcloud_instance *out, char *message);

/* DELETE one instance: 0, or -ENOENT for an unknown (or refused) uuid, ... */
int sharedcloud_api_delete(struct http_client *c, const char *uuid, char *message);

/* The lines of a Django REST framework error body: {"field": ["message", ...], ...} gives one
 * "field: message" line per message, {"detail": "text"} gives "text", a string value gives
 * "field: text" and any other value "field: <its JSON>". Lines are joined with '\n' into out
 * (out_len bytes, truncated at a line's end when it can be). Returns the number of lines, 0
 * when body is not a JSON object. */
int sharedcloud_api_error_lines(const char *body, size_t len, char *out, size_t out_len);

#endif
