#include "remote/api_json.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int api_json_call(struct http_client *c, const char *method, const char *path, json_t *body,
                  json_t **out, char *message)
{
    return api_json_call_status(c, method, path, body, out, NULL, message);
}

int api_json_call_status(struct http_client *c, const char *method, const char *path, json_t *body,
                         json_t **out, long *status, char *message)
{
    *out = NULL;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text)
        return -ENOMEM;
    struct http_request req = {
        .method = method,
        .url = path,
        .body = text,
        .body_len = text ? strlen(text) : 0,
        .content_type = text ? "application/json" : NULL,
    };
    struct http_response resp;
    int err = http_perform(c, &req, &resp);
    free(text);
    if (!err && resp.body_len > 0) {
        json_error_t jerr;
        *out = json_loadb(resp.body, resp.body_len, JSON_DECODE_ANY, &jerr);
        if (!*out) {
            log_warn("%s %s: the answer is not JSON (%s)", method, path, jerr.text);
            err = -EIO;
        }
    }
    if (status)
        *status = resp.status;
    if (message)
        snprintf(message, 256, "%s", resp.message);
    http_response_free(&resp);
    return err;
}
