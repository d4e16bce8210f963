/* api_json: one API call with a JSON body in and a JSON value out. */
#ifndef VRCFS_API_JSON_H
#define VRCFS_API_JSON_H

#include "remote/http.h"

#include <jansson.h>
#include <stddef.h>

/* Parses a server's JSON answer (any value at the top) the way every caller needs it: a
 * \u0000 inside a string is allowed (a C string stops there; json_string_length() does not),
 * and a number too big for jansson (an integer beyond int64, a real beyond double) does not
 * fail the whole document: such literals, and only those, come back as strings of their digits,
 * so every normal number keeps its exact value. NULL with the reason in *err when the text is
 * not JSON. */
json_t *api_json_parse(const char *text, size_t len, json_error_t *err);

/* Sends method path (an API path) with body (may be NULL) as JSON, dumped with dump_flags
 * (json_dumps flags: JSON_COMPACT, with JSON_REAL_PRECISION(15) where a number typed as 0.09
 * must go as 0.09 rather than 0.089999999999999997), and leaves the answer in *resp for the
 * caller to read and free (http_response_free, after an error too). Returns 0 for a 2xx or
 * 3xx answer, -ENOMEM, or the errno of the failure (http_perform). */
int api_json_send(struct http_client *c, const char *method, const char *path, json_t *body,
                  size_t dump_flags, struct http_response *resp);

/* Sends method path (an API path, "/files?n=100") with body (may be NULL) and parses the answer.
 * Returns 0 with *out a new reference to any JSON value (a literal null is json_null(), an
 * empty body is NULL), -EIO when a 2xx body is not JSON, or the errno of the failure. message,
 * when non-NULL, gets the server's message on failure (at least 256 bytes). */
int api_json_call(struct http_client *c, const char *method, const char *path, json_t *body,
                  json_t **out, char *message);

/* The same, and *status gets the HTTP status (0 when none came), for callers that must tell
 * one refusal from another. */
int api_json_call_status(struct http_client *c, const char *method, const char *path, json_t *body,
                         json_t **out, long *status, char *message);

#endif
