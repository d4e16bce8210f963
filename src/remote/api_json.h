/* api_json: one VRChat API call with a JSON body in and a JSON value out. */
#ifndef VRCFS_API_JSON_H
#define VRCFS_API_JSON_H

#include "remote/http.h"

#include <jansson.h>

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
