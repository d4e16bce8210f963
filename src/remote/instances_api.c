#include "remote/instances_api.h"

#include "remote/api_json.h"

#include "log.h"
#include "remote/location.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_LEN 512

/* The Instance answer of a GET: null (VRChat's "no such instance") is ENOENT, and anything else
 * that is not an object is the server's fault. */
static int instance_answer(int err, const char *path, json_t **out)
{
    if (err)
        return err;
    if (json_is_null(*out)) {
        json_decref(*out);
        *out = NULL;
        return -ENOENT;
    }
    if (!json_is_object(*out)) {
        log_warn("GET %s: the answer is not an Instance", path);
        json_decref(*out);
        *out = NULL;
        return -EIO;
    }
    return 0;
}

/* Locations go into paths raw; one that location_parse() refuses could smuggle '/', '?' or
 * '#', so it never gets that far. */
static int location_path(char *path, const char *fmt, const char *location)
{
    if (!location || location_parse(location, NULL) != 0)
        return -ENOENT;
    int n = snprintf(path, PATH_LEN, fmt, location);
    return n < 0 || n >= PATH_LEN ? -ENAMETOOLONG : 0;
}

bool instances_api_short_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > INSTANCES_SHORT_NAME_MAX)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

int instances_api_close_query(const struct instances_api_close *how, char *out, size_t out_len)
{
    static const struct instances_api_close soft = {.hard = false, .closed_at = NULL};
    if (!how)
        how = &soft;
    char *at = NULL;
    if (how->closed_at) {
        at = curl_easy_escape(NULL, how->closed_at, 0);
        if (!at)
            return -ENOMEM;
    }
    int n = snprintf(out, out_len, "?hardClose=%s%s%s", how->hard ? "true" : "false",
                     at ? "&closedAt=" : "", at ? at : "");
    curl_free(at);
    return n < 0 || (size_t)n >= out_len ? -ENAMETOOLONG : 0;
}

int instances_api_get(struct http_client *c, const char *location, json_t **out)
{
    *out = NULL;
    char path[PATH_LEN];
    int err = location_path(path, "/instances/%s", location);
    if (err)
        return err;
    return instance_answer(api_json_call_status(c, "GET", path, NULL, out, NULL, NULL), path, out);
}

int instances_api_get_by_short_name(struct http_client *c, const char *name, json_t **out)
{
    *out = NULL;
    if (!instances_api_short_name_ok(name))
        return -ENOENT;
    char path[PATH_LEN];
    snprintf(path, sizeof path, "/instances/s/%s", name);
    return instance_answer(api_json_call_status(c, "GET", path, NULL, out, NULL, NULL), path, out);
}

int instances_api_short_name(struct http_client *c, const char *location, char **short_name,
                             char **secure_name)
{
    *short_name = NULL;
    *secure_name = NULL;
    char path[PATH_LEN];
    int err = location_path(path, "/instances/%s/shortName", location);
    if (err)
        return err;
    json_t *ans = NULL;
    err = api_json_call_status(c, "GET", path, NULL, &ans, NULL, NULL);
    if (!err && json_is_null(ans))
        err = -ENOENT;
    json_t *secure = json_object_get(ans, "secureName");
    json_t *shrt = json_object_get(ans, "shortName");
    if (!err &&
        (!json_is_string(secure) || (shrt && !json_is_null(shrt) && !json_is_string(shrt)))) {
        log_warn("GET %s: the answer has no usable secureName/shortName", path);
        err = -EIO;
    }
    if (!err) {
        *secure_name = strdup(json_string_value(secure));
        if (json_is_string(shrt) && json_string_length(shrt) > 0)
            *short_name = strdup(json_string_value(shrt));
        if (!*secure_name || (json_is_string(shrt) && json_string_length(shrt) > 0 && !*short_name))
            err = -ENOMEM;
    }
    json_decref(ans);
    if (err) {
        free(*short_name);
        free(*secure_name);
        *short_name = *secure_name = NULL;
    }
    return err;
}

int instances_api_create(struct http_client *c, json_t *request, json_t **out, long *status,
                         char *message)
{
    *out = NULL;
    int err = api_json_call_status(c, "POST", "/instances", request, out, status, message);
    if (err)
        return err;
    const char *loc = json_string_value(json_object_get(*out, "location"));
    if (!json_is_object(*out) || !loc || location_parse(loc, NULL) != 0) {
        log_warn("POST /instances: the answer is not an Instance with a usable location");
        if (message)
            snprintf(message, 256, "the server's answer has no usable location");
        json_decref(*out);
        *out = NULL;
        return -EIO;
    }
    return 0;
}

int instances_api_close(struct http_client *c, const char *location,
                        const struct instances_api_close *how, json_t **out)
{
    if (out)
        *out = NULL;
    char path[PATH_LEN];
    int err = location_path(path, "/instances/%s", location);
    if (err)
        return err;
    size_t used = strlen(path);
    err = instances_api_close_query(how, path + used, sizeof path - used);
    if (err)
        return err;
    json_t *ans = NULL;
    err = api_json_call_status(c, "DELETE", path, NULL, &ans, NULL, NULL);
    if (!err && out && json_is_object(ans)) {
        *out = ans;
        ans = NULL;
    }
    json_decref(ans);
    return err;
}

int instances_api_invite_self(struct http_client *c, const char *location)
{
    char path[PATH_LEN];
    int err = location_path(path, "/invite/myself/to/%s", location);
    if (err)
        return err;
    json_t *ans = NULL;
    err = api_json_call_status(c, "POST", path, NULL, &ans, NULL, NULL);
    json_decref(ans);
    return err;
}

int instances_api_recent_page(struct http_client *c, int offset, int n, char ***locs, size_t *nlocs,
                              size_t *count)
{
    *locs = NULL;
    *nlocs = 0;
    *count = 0;
    if (n < 1 || n > INSTANCES_RECENT_PAGE_MAX || offset < 0)
        return -EINVAL;
    char path[PATH_LEN];
    snprintf(path, sizeof path, "/instances/recent?n=%d&offset=%d", n, offset);
    json_t *list = NULL;
    int err = api_json_call_status(c, "GET", path, NULL, &list, NULL, NULL);
    if (!err && !json_is_array(list)) {
        log_warn("GET /instances/recent: the answer is not a list");
        err = -EIO;
    }
    size_t got = json_array_size(list), take = got > (size_t)n ? (size_t)n : got, k = 0;
    if (!err && got > take)
        log_warn("GET %s: the server sent %zu locations for n=%d; the first %d are used", path, got,
                 n, n);
    char **out = NULL;
    if (!err) {
        out = calloc(take + 1, sizeof *out);
        if (!out)
            err = -ENOMEM;
    }
    for (size_t i = 0; !err && i < take; i++) {
        json_t *item = json_array_get(list, i);
        if (!json_is_string(item)) {
            log_debug("GET /instances/recent: item %zu is not a string, left out", i);
            continue;
        }
        out[k] = strdup(json_string_value(item));
        if (!out[k++])
            err = -ENOMEM;
    }
    if (!err) {
        *locs = out;
        *nlocs = k;
        *count = got;
    } else {
        instances_api_free_strings(out);
    }
    json_decref(list);
    return err;
}

void instances_api_free_strings(char **strings)
{
    if (!strings)
        return;
    for (char **p = strings; *p; p++)
        free(*p);
    free(strings);
}
