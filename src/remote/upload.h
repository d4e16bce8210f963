/* upload: the VRChat upload protocol (NOTES.md 3a): creating a File, and adding a version with
 * its data and its signature, each simple or multipart as the server's category says. Knows
 * nothing of FUSE or of staging; the data comes from file descriptors it only reads.
 * Every request is bounded in time by the HTTP layer, and so is the wait for "complete". */
#ifndef VRCFS_UPLOAD_H
#define VRCFS_UPLOAD_H

#include "remote/file_digest.h"
#include "remote/http.h"
#include "remote/upload_plan.h"
#include "remote/vrc_file.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPLOAD_PARALLEL_DEFAULT 4 /* parts in flight at once */
#define UPLOAD_PARALLEL_MAX 16
#define UPLOAD_PART_ATTEMPTS 3 /* tries of one part, each with a fresh URL, on top of http's */

/* Called from any thread as data reaches the server: done of total bytes (file + signature). */
typedef void (*upload_progress_fn)(void *arg, uint64_t done, uint64_t total);

struct upload_source {
    int data_fd;                             /* the data, read with pread from offset 0 */
    int sig_fd;                              /* its librsync signature, likewise */
    const struct file_digest_result *digest; /* md5 and size of both */
    const char *mime;                        /* Content-Type of the data */
};

struct upload_options {
    uint64_t part_size;        /* wished multipart part size (upload_plan raises it as needed) */
    int parallel;              /* <= 0: UPLOAD_PARALLEL_DEFAULT; capped at UPLOAD_PARALLEL_MAX */
    double complete_timeout_s; /* <= 0: upload_complete_timeout_s(size) */
    upload_progress_fn progress;
    void *progress_arg;
};

/* POST /file {name, mimeType, extension[, tags: [tag]]}: a new File with only version 0,
 * carrying tag when it is not NULL. *out is the File. */
int upload_create_file(struct http_client *c, const char *name, const char *extension,
                       const char *mime, const char *tag, struct vrc_file **out);

/* Adds a version to File file_id with src's data and signature, and returns once the server
 * says it is complete. The newest version, when it is still waiting: resumed when it was made
 * for exactly these bytes (same md5s and sizes; a multipart upload keeps the parts the server
 * already holds with the right md5), else deleted first, as VRChat's SDK does. On success
 * returns 0, *out (may be NULL) the File afterwards and *version (may be NULL) the number. On
 * failure returns the negative errno of the first thing that failed, after deleting the
 * version it made or resumed (a failed delete is logged; the next call deletes or resumes it). */
int upload_new_version(struct http_client *c, const char *file_id, const struct upload_source *src,
                       const struct upload_options *opt, struct vrc_file **out, int *version);

/* --- the pure parts, exposed for tests ------------------------------------------------------ */

/* The body of PUT .../finish: {"etags":[...],"nextPartNumber":"0","maxParts":"0"} with the etags
 * in the order given, or without "etags" when n is 0 (simple uploads, signatures). malloc'd. */
char *upload_finish_body(const char *const *etags, size_t n);

/* "Content-MD5: <md5_b64>" into out. Returns 0, or -EINVAL when md5_b64 is not the base64 of
 * 16 bytes or out is too small. */
int upload_md5_header(const char *md5_b64, char *out, size_t out_len);

/* The newest version of f that is not deleted, when it is still waiting (or queued): its number,
 * with *same set when its file and signature md5 and size equal d's. 0 when there is none. */
int upload_find_waiting(const struct vrc_file *f, const struct file_digest_result *d, bool *same);

/* How long to wait for "complete" after the last finish: 60 s plus 120 s per 50 MB (VRChat's
 * SDK allows 120 s per 50 MB), at most 600 s. */
double upload_complete_timeout_s(uint64_t size);

/* The pause before status poll number attempt (0-based): 250 ms doubling to at most 4 s. */
long upload_poll_delay_ms(int attempt);

/* Where a try at a part failed: asking the API for its URL (PUT .../start), or sending the
 * bytes to the blob store. */
enum upload_step { UPLOAD_AT_API, UPLOAD_AT_BLOB };

/* Whether a part (or a simple upload) that failed with err at that step is worth another try
 * with a fresh URL: time-outs, dropped connections, 5xx and 429 are, and so is EACCES from the
 * blob store (an expired URL, 403); EACCES from the API (401: the session is gone, 403: not
 * yours) never is, nor a refused Content-MD5 (400), a missing upload (404) or a full disk. */
bool upload_err_retryable(int err, enum upload_step at);

/* The parts a waiting multipart upload already has, from GET .../status: "parts" entries
 * {PartNumber, ETag} when given, else "etags" as parts 1..n. Etags lose their quotes. Returns
 * the count (0 for anything unusable) with *numbers and *etags malloc'd (free with
 * upload_remote_parts_free). */
size_t upload_parse_status(json_t *status, int **numbers, char ***etags);
void upload_remote_parts_free(int *numbers, char **etags, size_t n);

/* The work list of a multipart upload, shared by its workers under the caller's lock. */
enum upload_part_state { UPLOAD_PART_TODO, UPLOAD_PART_BUSY, UPLOAD_PART_DONE };

struct upload_queue {
    const struct upload_part *parts;
    int nparts;
    enum upload_part_state *state;
    int *attempts;
    char **etags; /* owned, per part */
    int done;
    int err; /* the first error that ended the upload, or 0 */
};

int upload_queue_init(struct upload_queue *q, const struct upload_part *parts, int nparts);
void upload_queue_free(struct upload_queue *q);
/* Marks part i as already on the server with etag (a resumed upload). */
void upload_queue_preload(struct upload_queue *q, int i, const char *etag);
/* The next part to send (lowest number first), marked busy; -1 when none is left or the upload
 * has failed. */
int upload_queue_take(struct upload_queue *q);
/* Records the result of part i: done with etag (err 0), put back for another try when
 * upload_err_retryable(err, at) and it had fewer than UPLOAD_PART_ATTEMPTS, else fails the
 * upload. */
void upload_queue_put(struct upload_queue *q, int i, int err, enum upload_step at,
                      const char *etag);
/* True when every part is done. */
bool upload_queue_complete(const struct upload_queue *q);

#endif
