#include "remote/files_api.h"

#include "log.h"
#include "remote/api_json.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int file_from_json(json_t *obj, struct vrc_file **out)
{
    char why[128];
    *out = vrc_file_parse(obj, why, sizeof why);
    if (!*out) {
        log_warn("the server sent a File that vrcfs cannot use: %s", why);
        return -EIO;
    }
    return 0;
}

int files_list_page(struct http_client *c, const char *tag, int offset, int n,
                    struct vrc_file ***files, size_t *count, bool *last)
{
    *files = NULL;
    *count = 0;
    *last = true;
    char path[256];
    char *tag_q = tag ? curl_easy_escape(NULL, tag, 0) : NULL;
    snprintf(path, sizeof path, "/files?n=%d&offset=%d%s%s", n, offset, tag_q ? "&tag=" : "",
             tag_q ? tag_q : "");
    curl_free(tag_q);
    json_t *list = NULL;
    int err = api_json_call(c, "GET", path, NULL, &list, NULL);
    if (!err && !json_is_array(list)) {
        log_warn("GET /files: the answer is not a list");
        err = -EIO;
    }
    size_t got = json_array_size(list), take = got > (size_t)n ? (size_t)n : got;
    if (!err && got > take)
        log_warn("GET %s: the server sent %zu Files for n=%d; the first %d are shown", path, got, n,
                 n);
    if (!err) {
        *files = calloc(take + 1, sizeof **files);
        if (!*files)
            err = -ENOMEM;
    }
    for (size_t i = 0; !err && i < take; i++)
        file_from_json(json_array_get(list, i), &(*files)[i]);
    if (!err) {
        *count = take;
        *last = got != (size_t)n;
    }
    json_decref(list);
    return err;
}

void files_free_list(struct vrc_file **files, size_t count)
{
    for (size_t i = 0; i < count; i++)
        vrc_file_unref(files[i]);
    free(files);
}

int files_get(struct http_client *c, const char *file_id, struct vrc_file **out)
{
    *out = NULL;
    char path[160];
    snprintf(path, sizeof path, "/file/%s", file_id);
    json_t *obj = NULL;
    int err = api_json_call(c, "GET", path, NULL, &obj, NULL);
    if (!err)
        err = json_is_null(obj) ? -ENOENT : file_from_json(obj, out);
    json_decref(obj);
    return err;
}

int files_delete(struct http_client *c, const char *file_id)
{
    char path[160];
    snprintf(path, sizeof path, "/file/%s", file_id);
    json_t *obj = NULL;
    int err = api_json_call(c, "DELETE", path, NULL, &obj, NULL);
    json_decref(obj);
    return err;
}

int files_delete_version(struct http_client *c, const char *file_id, int version,
                         struct vrc_file **out)
{
    if (out)
        *out = NULL;
    char path[180];
    snprintf(path, sizeof path, "/file/%s/%d", file_id, version);
    json_t *obj = NULL;
    char message[256] = "";
    int err = api_json_call(c, "DELETE", path, NULL, &obj, message);
    /* VRChat answers a delete of an older version with a 500 whose message starts "409". */
    if (err == -EIO && strstr(message, "409"))
        err = -EBUSY;
    if (!err && out && file_from_json(obj, out) != 0)
        *out = NULL;
    json_decref(obj);
    return err;
}

int files_resolve_download(struct http_client *c, const char *file_id, int version,
                           enum vrc_data_kind kind, char **url)
{
    *url = NULL;
    char path[200];
    snprintf(path, sizeof path, "/file/%s/%d/%s", file_id, version, vrc_data_kind_name(kind));
    /* A HEAD would be enough, but VRChat documents GET; one zero-length range keeps a server
     * that answers with the data itself from sending it all. */
    const char *headers[] = {"Range: bytes=0-0", NULL};
    char byte;
    struct http_request req = {
        .method = "GET", .url = path, .headers = headers, .buf = &byte, .buf_cap = 1};
    struct http_response resp;
    int err = http_perform(c, &req, &resp);
    /* A server that answers with the data itself overflows the one-byte buffer: that is fine. */
    if (resp.status >= 200 && resp.status < 300)
        err = 0;
    if (!err && resp.status >= 300 && resp.status < 400) {
        if (resp.location)
            *url = strdup(resp.location);
        else
            err = -EIO;
    } else if (!err) {
        if (asprintf(url, "%s%s", http_client_api_url(c), path) < 0)
            *url = NULL;
    }
    if (!err && !*url)
        err = -ENOMEM;
    http_response_free(&resp);
    return err;
}

/* One Range GET of len bytes at offset, into buf or to sink. */
static int read_range(struct http_client *c, const char *url, uint64_t offset, size_t len,
                      void *buf, int (*sink)(void *, uint64_t, const void *, size_t), void *arg,
                      size_t *got)
{
    *got = 0;
    if (!len)
        return 0;
    char range[80];
    snprintf(range, sizeof range, "Range: bytes=%" PRIu64 "-%" PRIu64, offset, offset + len - 1);
    const char *headers[] = {range, NULL};
    struct http_request req = {.method = "GET",
                               .url = url,
                               .headers = headers,
                               .buf = buf,
                               .buf_cap = len,
                               .sink = sink,
                               .sink_arg = arg};
    struct http_response resp;
    int err = http_perform(c, &req, &resp);
    if (!err && resp.status != 206 && !(resp.status == 200 && offset == 0)) {
        log_warn("a range request was answered with %ld", resp.status);
        err = -EIO;
    }
    if (!err)
        *got = resp.body_len;
    http_response_free(&resp);
    return err;
}

int files_read_range(struct http_client *c, const char *url, uint64_t offset, void *buf, size_t len,
                     size_t *got)
{
    return read_range(c, url, offset, len, buf, NULL, NULL, got);
}

int files_read_range_to(struct http_client *c, const char *url, uint64_t offset, size_t len,
                        int (*sink)(void *arg, uint64_t at, const void *data, size_t len),
                        void *arg, size_t *got)
{
    return read_range(c, url, offset, len, NULL, sink, arg, got);
}
