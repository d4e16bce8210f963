#include "remote/sharedcloud_api.h"

#include "log.h"
#include "remote/api_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_LEN (sizeof SHAREDCLOUD_INSTANCES_PATH + SHAREDCLOUD_UUID_LEN + 2)

bool sharedcloud_api_token_ok(const char *token)
{
    size_t n = token ? strlen(token) : 0;
    if (n == 0 || n > SHAREDCLOUD_TOKEN_MAX)
        return false;
    for (const char *p = token; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return false;
    return true;
}

void sharedcloud_api_set_token(struct http_client *c, const char *token)
{
    http_client_set_authorization(c, token ? "Token" : NULL, token);
}

/* Appends line to out (out_len bytes, holding *used) on a line of its own, if it fits. */
static bool append_line(char *out, size_t out_len, size_t *used, const char *line)
{
    size_t len = strlen(line) + (*used ? 1 : 0);
    if (*used + len >= out_len)
        return false;
    snprintf(out + *used, out_len - *used, "%s%s", *used ? "\n" : "", line);
    *used += len;
    return true;
}

int sharedcloud_api_error_lines(const char *body, size_t len, char *out, size_t out_len)
{
    if (out_len)
        out[0] = '\0';
    json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        return 0;
    }
    int lines = 0;
    size_t used = 0;
    const char *key;
    json_t *v;
    char line[512];
    json_object_foreach(root, key, v)
    {
        if (json_is_array(v)) {
            size_t i;
            json_t *m;
            json_array_foreach(v, i, m)
            {
                char *dumped = json_is_string(m) ? NULL : json_dumps(m, JSON_ENCODE_ANY);
                snprintf(line, sizeof line, "%s: %s", key,
                         dumped              ? dumped
                         : json_is_string(m) ? json_string_value(m)
                                             : "?");
                free(dumped);
                if (!append_line(out, out_len, &used, line))
                    goto done;
                lines++;
            }
            continue;
        }
        char *dumped = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        const char *text = json_is_string(v) ? json_string_value(v) : dumped ? dumped : "?";
        if (strcmp(key, "detail") == 0)
            snprintf(line, sizeof line, "%s", text);
        else
            snprintf(line, sizeof line, "%s: %s", key, text);
        free(dumped);
        if (!append_line(out, out_len, &used, line))
            break;
        lines++;
    }
done:
    json_decref(root);
    return lines;
}

/* One request: the body (may be NULL) as JSON, the answer's JSON in *out (NULL when empty). */
static int call(struct http_client *c, const char *method, const char *path, json_t *body,
                json_t **out, char *message)
{
    if (out)
        *out = NULL;
    char scratch[SHAREDCLOUD_MESSAGE_LEN];
    if (!message)
        message = scratch;
    message[0] = '\0';
    /* 15 digits: a price typed as 0.3 goes as 0.3, not 0.29999999999999999. */
    struct http_response resp;
    int err = api_json_send(c, method, path, body, JSON_COMPACT | JSON_REAL_PRECISION(15), &resp);
    if (!err && resp.status >= 300) {
        snprintf(message, SHAREDCLOUD_MESSAGE_LEN, "redirected to %s",
                 resp.location ? resp.location : "(nowhere)");
        log_warn("%s %s: %s; is api_url the service's origin?", method, path, message);
        err = -EIO;
    } else if (err == -EINVAL) {
        char lines[2048];
        int n = sharedcloud_api_error_lines(resp.body, resp.body_len, lines, sizeof lines);
        size_t used = 0;
        for (char *line = n ? lines : NULL; line;) {
            char *next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            log_info("%s %s: %s", method, path, line);
            int k = snprintf(message + used, SHAREDCLOUD_MESSAGE_LEN - used, "%s%s",
                             used ? "; " : "", line);
            used = k < 0 ? used : used + (size_t)k;
            if (used >= SHAREDCLOUD_MESSAGE_LEN)
                used = SHAREDCLOUD_MESSAGE_LEN - 1;
            line = next;
        }
        if (!n)
            snprintf(message, SHAREDCLOUD_MESSAGE_LEN, "%s", resp.message);
    } else if (err) {
        snprintf(message, SHAREDCLOUD_MESSAGE_LEN, "%s", resp.message);
    }
    if (!err && out && resp.body_len > 0) {
        json_error_t jerr;
        *out = json_loadb(resp.body, resp.body_len, JSON_DECODE_ANY, &jerr);
        if (!*out) {
            snprintf(message, SHAREDCLOUD_MESSAGE_LEN, "the answer is not JSON (%s)", jerr.text);
            log_warn("%s %s: %s", method, path, message);
            err = -EIO;
        }
    }
    http_response_free(&resp);
    return err;
}

static int instance_path(char *path, const char *uuid)
{
    if (!sharedcloud_instance_uuid_ok(uuid))
        return -ENOENT;
    snprintf(path, PATH_LEN, "%s%s/", SHAREDCLOUD_INSTANCES_PATH, uuid);
    return 0;
}

int sharedcloud_api_check(struct http_client *c, char *message)
{
    json_t *list = NULL;
    int err = call(c, "GET", SHAREDCLOUD_INSTANCES_PATH, NULL, &list, message);
    if (!err && !json_is_array(list)) {
        if (message)
            snprintf(message, SHAREDCLOUD_MESSAGE_LEN, "the answer is not a list of instances");
        err = -EIO;
    }
    json_decref(list);
    return err;
}

void sharedcloud_api_free_list(struct sharedcloud_instance *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sharedcloud_instance_clear(&list[i]);
    free(list);
}

int sharedcloud_api_list(struct http_client *c, struct sharedcloud_instance **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    json_t *list = NULL;
    int err = call(c, "GET", SHAREDCLOUD_INSTANCES_PATH, NULL, &list, NULL);
    if (err)
        return err;
    if (!json_is_array(list)) {
        log_warn("GET %s: the answer is not a list of instances", SHAREDCLOUD_INSTANCES_PATH);
        json_decref(list);
        return -EIO;
    }
    size_t total = json_array_size(list);
    struct sharedcloud_instance *items = calloc(total ? total : 1, sizeof *items);
    if (!items) {
        json_decref(list);
        return -ENOMEM;
    }
    size_t kept = 0, i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        char why[128];
        if (sharedcloud_instance_parse(v, &items[kept], why, sizeof why) != 0) {
            log_warn("GET %s: item %zu left out: %s", SHAREDCLOUD_INSTANCES_PATH, i, why);
            continue;
        }
        bool seen = false;
        for (size_t k = 0; k < kept && !seen; k++)
            seen = strcmp(items[k].uuid, items[kept].uuid) == 0;
        if (seen) {
            log_warn("GET %s: item %zu left out: uuid %s listed twice", SHAREDCLOUD_INSTANCES_PATH,
                     i, items[kept].uuid);
            sharedcloud_instance_clear(&items[kept]);
            continue;
        }
        kept++;
    }
    json_decref(list);
    *out = items;
    *n = kept;
    return 0;
}

/* The instance in an answer: 0 with *out, or -EIO (logged) when it does not parse. */
static int instance_answer(const char *method, const char *path, json_t *answer,
                           struct sharedcloud_instance *out, char *message)
{
    char why[128];
    int err = sharedcloud_instance_parse(answer, out, why, sizeof why);
    json_decref(answer);
    if (err) {
        log_warn("%s %s: the answer is not an instance: %s", method, path, why);
        if (message)
            snprintf(message, SHAREDCLOUD_MESSAGE_LEN, "the answer is not an instance: %s", why);
    }
    return err;
}

int sharedcloud_api_get(struct http_client *c, const char *uuid, struct sharedcloud_instance *out)
{
    memset(out, 0, sizeof *out);
    char path[PATH_LEN];
    int err = instance_path(path, uuid);
    json_t *answer = NULL;
    if (!err)
        err = call(c, "GET", path, NULL, &answer, NULL);
    return err ? err : instance_answer("GET", path, answer, out, NULL);
}

/* create, replace and update: one write of the request body made from fields. */
static int write_instance(struct http_client *c, const char *method, const char *path,
                          json_t *fields, struct sharedcloud_instance *out, char *message)
{
    char why[128];
    json_t *body = sharedcloud_instance_request(fields, why, sizeof why);
    if (!body) {
        if (message)
            snprintf(message, SHAREDCLOUD_MESSAGE_LEN, "%s", why);
        return -EINVAL;
    }
    json_t *answer = NULL;
    int err = call(c, method, path, body, &answer, message);
    json_decref(body);
    return err ? err : instance_answer(method, path, answer, out, message);
}

int sharedcloud_api_create(struct http_client *c, json_t *fields, struct sharedcloud_instance *out,
                           char *message)
{
    memset(out, 0, sizeof *out);
    return write_instance(c, "POST", SHAREDCLOUD_INSTANCES_PATH, fields, out, message);
}

int sharedcloud_api_replace(struct http_client *c, const char *uuid, json_t *fields,
                            struct sharedcloud_instance *out, char *message)
{
    memset(out, 0, sizeof *out);
    char path[PATH_LEN];
    int err = instance_path(path, uuid);
    return err ? err : write_instance(c, "PUT", path, fields, out, message);
}

int sharedcloud_api_update(struct http_client *c, const char *uuid, json_t *fields,
                           struct sharedcloud_instance *out, char *message)
{
    memset(out, 0, sizeof *out);
    char path[PATH_LEN];
    int err = instance_path(path, uuid);
    return err ? err : write_instance(c, "PATCH", path, fields, out, message);
}

int sharedcloud_api_delete(struct http_client *c, const char *uuid, char *message)
{
    char path[PATH_LEN];
    int err = instance_path(path, uuid);
    return err ? err : call(c, "DELETE", path, NULL, NULL, message);
}
