/* http: the one libcurl layer. Keeps connections alive across requests and threads, sends the
 * User-Agent VRChat requires, sends the session cookies (or a token's Authorization header) to
 * the API origin and nowhere else, paces API requests, times out every request, retries
 * transient failures a bounded number of times with jittered backoff (honouring Retry-After),
 * and counts everything in api_stats.
 * Redirects are never followed here: callers see the 3xx and its Location. */
#ifndef VRCFS_HTTP_H
#define VRCFS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_config {
    const char *api_url;    /* "https://api.vrchat.cloud/api/1", no trailing slash */
    const char *contact;    /* the contact part of the User-Agent */
    int rate_per_min;       /* API requests per minute; <= 0 unpaced */
    int retries;            /* retries after the first try */
    long connect_timeout_s; /* per connection attempt */
    long low_speed_time_s;  /* abort a transfer slower than 1 KiB/s for this long */
    long api_timeout_s;     /* whole-request limit for API requests (not blob transfers) */
};

/* A request body read from a file: length bytes of fd at offset, read again on a retry. */
struct http_upload {
    int fd;
    uint64_t offset;
    uint64_t length;
    /* Optional: told each time the bytes handed to the connection move, by +n as they are read
     * from fd and by minus what is sent again (a rewind, a retry). Once http_perform returns,
     * the deltas add up to length when it succeeded and to 0 when it failed. */
    void (*moved)(void *arg, int64_t delta);
    void *moved_arg;
};

struct http_request {
    const char *method; /* "GET", "PUT", ... */
    const char *url;    /* absolute, or an API path starting with '/' */
    const char *body;   /* request body, or NULL */
    size_t body_len;
    const char *content_type;   /* of body or upload */
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
    const char *basic_user;     /* with basic_password: HTTP Basic (login only) */
    const char *basic_password;
    const struct http_upload *upload; /* non-NULL: the body comes from a file */
    void *buf;                        /* non-NULL: the response body goes here, at most buf_cap */
    size_t buf_cap;
    /* Non-NULL instead of buf: a 2xx body (at most buf_cap bytes) is handed to sink piece by
     * piece as it arrives, at its offset in the body (an attempt after a retry starts again at
     * 0). A negative errno from sink ends the request with it, not retried. */
    int (*sink)(void *arg, uint64_t at, const void *data, size_t len);
    void *sink_arg;
    bool no_retry;
};

struct http_response {
    long status; /* 0 when no HTTP response came */
    char *body;  /* NUL-terminated; owned unless it is the request's buf */
    size_t body_len;
    char *location;       /* absolute Location of a 3xx */
    char *etag;           /* without quotes */
    char *set_auth;       /* value of a Set-Cookie: auth=... */
    char *set_two_factor; /* value of a Set-Cookie: twoFactorAuth=... */
    char message[256];    /* the server's error message, or the transport error */
    bool owns_body;
};

struct http_client;

/* Copies cfg. NULL on failure. Call curl_global_init first. */
struct http_client *http_client_new(const struct http_config *cfg);
void http_client_free(struct http_client *c);

/* The cookies sent with every API request (either may be NULL). Copied. */
void http_client_set_cookies(struct http_client *c, const char *auth, const char *two_factor);

/* An "Authorization: <scheme> <credentials>" header for every API request (same origin as
 * api_url) and never for another origin; NULL scheme or credentials removes it. Copied. */
void http_client_set_authorization(struct http_client *c, const char *scheme,
                                   const char *credentials);

/* Called after an API request met a 401 with the client's current credentials: true when it
 * put new ones on c (http_client_set_cookies or _set_authorization), and the request is then
 * tried once more. Never a password login: it may only take up credentials made elsewhere. */
typedef bool http_renew_fn(void *arg, struct http_client *c);

/* Lets a 401 ask renew for new credentials (a mount: the session file written by vrcfs login).
 * With a hook, a 401 that finds none logs once "the session has expired: run vrcfs login". */
void http_client_on_unauthorized(struct http_client *c, http_renew_fn *renew, void *arg);

const char *http_client_api_url(const struct http_client *c);

/* Performs req with retries. Returns 0 for a 2xx or 3xx answer, else a negative errno from
 * errmap (status or transport) with resp filled as far as it got. Always free resp after. */
int http_perform(struct http_client *c, const struct http_request *req, struct http_response *resp);

void http_response_free(struct http_response *resp);

/* True when url has the same scheme, host and port as api_url: the only place cookies go. */
bool http_same_origin(const char *api_url, const char *url);

/* The server's message from an error body: {"error":{"message":...}}, {"error":"..."},
 * {"detail":"..."} (Django REST framework), or the first line of a text body; JSON-quoted
 * messages lose their quotes. */
void http_error_message(const char *body, size_t len, char *out, size_t out_len);

#endif
