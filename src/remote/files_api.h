/* files_api: the Files endpoints vrcfs reads and deletes with (NOTES.md 3, 3c). Each function
 * is one API request, so callers can count what an operation costs. */
#ifndef VRCFS_FILES_API_H
#define VRCFS_FILES_API_H

#include "remote/http.h"
#include "remote/vrc_file.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FILES_PAGE_MAX 100

/* GET /files?n=&offset=[&tag=]. *count is how many items of the page are in *files, at most n;
 * (*files)[i] is a reference the caller owns, or NULL for an item that is not a usable File
 * (one log line each). *last is true when the listing is over: the page had fewer than n
 * items, or more than n (a server that ignores n would send the same Files again; the first n
 * are kept, with a log line). Free with files_free_list(*files, *count). */
int files_list_page(struct http_client *c, const char *tag, int offset, int n,
                    struct vrc_file ***files, size_t *count, bool *last);
void files_free_list(struct vrc_file **files, size_t count);

/* GET /file/{id}: -ENOENT when it does not exist. */
int files_get(struct http_client *c, const char *file_id, struct vrc_file **out);

/* DELETE /file/{id}. */
int files_delete(struct http_client *c, const char *file_id);

/* DELETE /file/{id}/{version}. A refusal because the version is not the newest (VRChat's 500
 * "409 ...") is -EBUSY. *out, when non-NULL, gets the File as it is afterwards. */
int files_delete_version(struct http_client *c, const char *file_id, int version,
                         struct vrc_file **out);

/* GET /file/{id}/{version}/{kind} without following the redirect: the URL the data is really
 * at (a signed blob URL), or the API URL itself when the server answered with the data. */
int files_resolve_download(struct http_client *c, const char *file_id, int version,
                           enum vrc_data_kind kind, char **url);

/* Reads len bytes at offset of the data at url into buf (a Range request). *got is how many
 * came (less only at the end of the data). -EACCES when the URL has expired. */
int files_read_range(struct http_client *c, const char *url, uint64_t offset, void *buf, size_t len,
                     size_t *got);
/* The same, the bytes handed to sink as they arrive (http_request.sink: at is the offset from
 * offset; a retry hands them again from 0) instead of landing in a buffer. */
int files_read_range_to(struct http_client *c, const char *url, uint64_t offset, size_t len,
                        int (*sink)(void *arg, uint64_t at, const void *data, size_t len),
                        void *arg, size_t *got);

#endif
