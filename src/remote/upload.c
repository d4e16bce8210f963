/* upload: creates Files and versions the way VRChat's SDK and other public uploaders do
 * (NOTES.md 3a): POST the version with its md5s and sizes, send the data and the signature
 * to the presigned URLs the server hands out, finish both, wait for "complete", and delete the
 * half-made version on any failure so that the File is left as it was. */
#include "remote/upload.h"

#include "log.h"
#include "remote/api_json.h"
#include "remote/files_api.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MD5_HEX_LEN 32
#define READ_CHUNK (1u << 20)
#define COMPLETE_BASE_S 60.0
#define COMPLETE_PER_50MB_S 120.0
#define COMPLETE_MAX_S 600.0
#define POLL_FIRST_MS 250
#define POLL_MAX_MS 4000
#define PART_RETRY_PAUSE_MS 500

/* --- pure helpers ------------------------------------------------------------------------- */

static json_t *finish_json(const char *const *etags, size_t n)
{
    json_t *body = json_object();
    if (!body)
        return NULL;
    if (n) {
        json_t *list = json_array();
        for (size_t i = 0; list && i < n; i++)
            json_array_append_new(list, json_string(etags[i]));
        json_object_set_new(body, "etags", list);
    }
    /* Deprecated and required as strings (NOTES.md 3a): "0" is what every uploader sends. */
    json_object_set_new(body, "nextPartNumber", json_string("0"));
    json_object_set_new(body, "maxParts", json_string("0"));
    return body;
}

char *upload_finish_body(const char *const *etags, size_t n)
{
    json_t *body = finish_json(etags, n);
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    return text;
}

int upload_md5_header(const char *md5_b64, char *out, size_t out_len)
{
    unsigned char raw[16];
    if (!md5_b64 || digest_md5_from_base64(md5_b64, raw) != 0)
        return -EINVAL;
    int n = snprintf(out, out_len, "Content-MD5: %s", md5_b64);
    return n < 0 || (size_t)n >= out_len ? -EINVAL : 0;
}

static const struct vrc_file_version *find_version(const struct vrc_file *f, int n)
{
    for (size_t i = 0; f && i < f->nversions; i++)
        if (f->versions[i].version == n && !f->versions[i].deleted)
            return &f->versions[i];
    return NULL;
}

static bool data_same(const struct vrc_file_data *d, const char *md5, uint64_t size)
{
    return d->present && d->size == size && strcmp(d->md5, md5) == 0;
}

int upload_find_waiting(const struct vrc_file *f, const struct file_digest_result *d, bool *same)
{
    *same = false;
    int n = vrc_file_newest(f);
    const struct vrc_file_version *v = find_version(f, n);
    /* Version 0 is the creation placeholder: complete, and never deleted by itself. */
    if (n < 1 || !v || v->status == VRC_STATUS_COMPLETE)
        return 0;
    *same = d && data_same(&v->data[VRC_DATA_FILE], d->md5_b64, d->size) &&
            data_same(&v->data[VRC_DATA_SIGNATURE], d->sig_md5_b64, d->sig_size);
    return n;
}

double upload_complete_timeout_s(uint64_t size)
{
    double t = COMPLETE_BASE_S + COMPLETE_PER_50MB_S * ((double)size / 50e6);
    return t > COMPLETE_MAX_S ? COMPLETE_MAX_S : t;
}

long upload_poll_delay_ms(int attempt)
{
    long d = POLL_FIRST_MS;
    for (int i = 0; i < attempt && d < POLL_MAX_MS; i++)
        d *= 2;
    return d > POLL_MAX_MS ? POLL_MAX_MS : d;
}

bool upload_err_retryable(int err, enum upload_step at)
{
    return err == -EIO || err == -EAGAIN || err == -ETIMEDOUT ||
           (err == -EACCES && at == UPLOAD_AT_BLOB);
}

static char *unquoted(const char *s)
{
    size_t len = strlen(s);
    while (len && *s == '"')
        s++, len--;
    while (len && s[len - 1] == '"')
        len--;
    return strndup(s, len);
}

void upload_remote_parts_free(int *numbers, char **etags, size_t n)
{
    for (size_t i = 0; etags && i < n; i++)
        free(etags[i]);
    free(etags);
    free(numbers);
}

size_t upload_parse_status(json_t *status, int **numbers, char ***etags)
{
    *numbers = NULL;
    *etags = NULL;
    json_t *parts = json_object_get(status, "parts");
    json_t *list = json_object_get(status, "etags");
    bool by_parts = json_array_size(parts) > 0;
    size_t cap = by_parts ? json_array_size(parts) : json_array_size(list);
    if (!cap)
        return 0;
    *numbers = calloc(cap, sizeof **numbers);
    *etags = calloc(cap, sizeof **etags);
    if (!*numbers || !*etags) {
        upload_remote_parts_free(*numbers, *etags, 0);
        *numbers = NULL;
        *etags = NULL;
        return 0;
    }
    size_t n = 0, i;
    json_t *item;
    json_array_foreach(by_parts ? parts : list, i, item)
    {
        const char *etag =
            by_parts ? json_string_value(json_object_get(item, "ETag")) : json_string_value(item);
        json_int_t number =
            by_parts ? json_integer_value(json_object_get(item, "PartNumber")) : (json_int_t)i + 1;
        if (!etag || !*etag || number < 1 || number > UPLOAD_PARTS_MAX)
            continue; /* an entry vrcfs cannot use is a part it sends again */
        (*etags)[n] = unquoted(etag);
        if (!(*etags)[n])
            break;
        (*numbers)[n++] = (int)number;
    }
    return n;
}

int upload_queue_init(struct upload_queue *q, const struct upload_part *parts, int nparts)
{
    memset(q, 0, sizeof *q);
    q->parts = parts;
    q->nparts = nparts;
    q->state = calloc((size_t)nparts, sizeof *q->state);
    q->attempts = calloc((size_t)nparts, sizeof *q->attempts);
    q->etags = calloc((size_t)nparts, sizeof *q->etags);
    if (!q->state || !q->attempts || !q->etags) {
        upload_queue_free(q);
        return -ENOMEM;
    }
    return 0;
}

void upload_queue_free(struct upload_queue *q)
{
    for (int i = 0; q->etags && i < q->nparts; i++)
        free(q->etags[i]);
    free(q->etags);
    free(q->state);
    free(q->attempts);
    memset(q, 0, sizeof *q);
}

void upload_queue_preload(struct upload_queue *q, int i, const char *etag)
{
    if (i < 0 || i >= q->nparts || q->state[i] == UPLOAD_PART_DONE)
        return;
    char *copy = strdup(etag);
    if (!copy)
        return; /* it is simply sent again */
    q->etags[i] = copy;
    q->state[i] = UPLOAD_PART_DONE;
    q->done++;
}

int upload_queue_take(struct upload_queue *q)
{
    if (q->err)
        return -1;
    for (int i = 0; i < q->nparts; i++) {
        if (q->state[i] == UPLOAD_PART_TODO) {
            q->state[i] = UPLOAD_PART_BUSY;
            q->attempts[i]++;
            return i;
        }
    }
    return -1;
}

void upload_queue_put(struct upload_queue *q, int i, int err, enum upload_step at, const char *etag)
{
    if (i < 0 || i >= q->nparts || q->state[i] != UPLOAD_PART_BUSY)
        return;
    if (!err && etag) {
        free(q->etags[i]);
        q->etags[i] = strdup(etag);
        if (q->etags[i]) {
            q->state[i] = UPLOAD_PART_DONE;
            q->done++;
            return;
        }
        err = -ENOMEM;
    } else if (!err) {
        err = -EIO; /* a part without an ETag cannot be finished */
    }
    if (upload_err_retryable(err, at) && q->attempts[i] < UPLOAD_PART_ATTEMPTS) {
        q->state[i] = UPLOAD_PART_TODO;
        return;
    }
    q->state[i] = UPLOAD_PART_TODO;
    if (!q->err)
        q->err = err;
}

bool upload_queue_complete(const struct upload_queue *q)
{
    return q->nparts > 0 && q->done == q->nparts;
}

/* --- requests ------------------------------------------------------------------------------ */

struct progress {
    atomic_uint_fast64_t done;
    uint64_t total;
    upload_progress_fn fn;
    void *arg;
};

/* n more bytes sent (or fewer, negative: a part sent again), told to the caller's progress. */
static void progress_add(struct progress *p, int64_t n)
{
    uint64_t done = atomic_fetch_add(&p->done, (uint64_t)n) + (uint64_t)n;
    if (p->fn)
        p->fn(p->arg, done, p->total);
}

/* The http_upload's moved: progress as the bytes go out, not a part at a time. */
static void progress_moved(void *arg, int64_t delta)
{
    progress_add(arg, delta);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* MD5 of length bytes of fd at offset, as base64 (Content-MD5) and hex (what S3's ETag is). */
static int md5_range(int fd, uint64_t offset, uint64_t length, char b64[DIGEST_MD5_B64_LEN + 1],
                     char hex[MD5_HEX_LEN + 1])
{
    unsigned char raw[16];
    char *buf = malloc(READ_CHUNK);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int err = buf && ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) ? 0 : -ENOMEM;
    while (!err && length) {
        size_t want = length < READ_CHUNK ? (size_t)length : READ_CHUNK;
        ssize_t got = pread(fd, buf, want, (off_t)offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            err = got < 0 ? -errno : -EIO; /* the staged file shrank under us */
            break;
        }
        if (!EVP_DigestUpdate(ctx, buf, (size_t)got))
            err = -EIO;
        offset += (uint64_t)got;
        length -= (uint64_t)got;
    }
    if (!err && !EVP_DigestFinal_ex(ctx, raw, NULL))
        err = -EIO;
    if (!err) {
        EVP_EncodeBlock((unsigned char *)b64, raw, 16);
        for (int i = 0; i < 16; i++)
            snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    }
    EVP_MD_CTX_free(ctx);
    free(buf);
    return err;
}

static int file_from_json(json_t *obj, struct vrc_file **out)
{
    char why[128];
    *out = vrc_file_parse(obj, why, sizeof why);
    if (!*out) {
        log_warn("upload: the server answered with a File vrcfs cannot use: %s", why);
        return -EIO;
    }
    return 0;
}

int upload_create_file(struct http_client *c, const char *name, const char *extension,
                       const char *mime, const char *tag, struct vrc_file **out)
{
    *out = NULL;
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "name", name, "mimeType", mime, "extension", extension);
    if (body && tag && json_object_set_new(body, "tags", json_pack("[s]", tag)) != 0) {
        json_decref(body);
        body = NULL;
    }
    if (!body)
        return -EINVAL; /* not UTF-8 */
    json_t *answer = NULL;
    int err = api_json_call(c, "POST", "/file", body, &answer, NULL);
    json_decref(body);
    if (!err)
        err = file_from_json(answer, out);
    json_decref(answer);
    if (!err)
        log_info("created File %s (\"%s%s\", %s)", (*out)->id, name, extension, mime);
    return err;
}

/* What one data kind of one version needs to go up. */
struct data_job {
    struct http_client *c;
    const char *file_id;
    int version;
    enum vrc_data_kind kind;
    int fd;
    uint64_t size;
    const char *md5_b64;
    const char *mime;
    struct progress *progress;
};

/* PUT .../start[?partNumber=k]: the presigned URL to send to. */
static int start_url(const struct data_job *j, int part, char **url)
{
    char path[256];
    int n = snprintf(path, sizeof path, "/file/%s/%d/%s/start", j->file_id, j->version,
                     vrc_data_kind_name(j->kind));
    if (part > 0)
        snprintf(path + n, sizeof path - (size_t)n, "?partNumber=%d", part);
    json_t *answer = NULL;
    int err = api_json_call(j->c, "PUT", path, NULL, &answer, NULL);
    const char *u = json_string_value(json_object_get(answer, "url"));
    if (!err && (!u || !*u)) {
        log_warn("upload: %s/%d/%s: the start answer has no url", j->file_id, j->version,
                 vrc_data_kind_name(j->kind));
        err = -EIO;
    }
    *url = err ? NULL : strdup(u);
    if (!err && !*url)
        err = -ENOMEM;
    json_decref(answer);
    return err;
}

/* One try at sending length bytes at offset to a fresh URL: part > 0 for a multipart part.
 * *etag gets the part's ETag; *at where a failure happened. */
static int put_range(const struct data_job *j, int part, uint64_t offset, uint64_t length,
                     const char *md5_b64, char **etag, enum upload_step *at)
{
    char *url = NULL;
    *at = UPLOAD_AT_API;
    int err = start_url(j, part, &url);
    if (err)
        return err;
    *at = UPLOAD_AT_BLOB;
    char md5_header[64];
    err = md5_b64 ? upload_md5_header(md5_b64, md5_header, sizeof md5_header) : 0;
    if (err) {
        free(url);
        return err;
    }
    const char *headers[] = {md5_b64 ? md5_header : NULL, NULL};
    struct http_upload body = {.fd = j->fd,
                               .offset = offset,
                               .length = length,
                               .moved = progress_moved,
                               .moved_arg = j->progress};
    struct http_request req = {
        .method = "PUT",
        .url = url,
        .content_type = j->mime,
        .headers = headers,
        .upload = &body,
    };
    struct http_response resp;
    err = http_perform(j->c, &req, &resp);
    if (!err && etag) {
        *etag = resp.etag && *resp.etag ? strdup(resp.etag) : NULL;
        if (!*etag) {
            log_warn("upload: part %d of %s/%d was stored without an ETag", part, j->file_id,
                     j->version);
            progress_add(j->progress, -(int64_t)length); /* it is sent again */
            err = -EIO;
        }
    }
    http_response_free(&resp);
    free(url);
    return err;
}

/* PUT .../finish; *out gets the File it answers with. */
static int finish(const struct data_job *j, const char *const *etags, size_t n,
                  struct vrc_file **out)
{
    char path[256];
    snprintf(path, sizeof path, "/file/%s/%d/%s/finish", j->file_id, j->version,
             vrc_data_kind_name(j->kind));
    json_t *body = finish_json(etags, n);
    json_t *answer = NULL;
    int err = body ? api_json_call(j->c, "PUT", path, body, &answer, NULL) : -ENOMEM;
    json_decref(body);
    if (!err)
        err = file_from_json(answer, out);
    json_decref(answer);
    return err;
}

static int upload_simple(const struct data_job *j, struct vrc_file **out)
{
    int err = 0;
    for (int attempt = 1; attempt <= UPLOAD_PART_ATTEMPTS; attempt++) {
        enum upload_step at;
        err = put_range(j, 0, 0, j->size, j->md5_b64, NULL, &at);
        if (!err || !upload_err_retryable(err, at) || attempt == UPLOAD_PART_ATTEMPTS)
            break;
        log_warn("upload: %s/%d/%s failed (%s), trying again", j->file_id, j->version,
                 vrc_data_kind_name(j->kind), strerror(-err));
        sleep_ms(PART_RETRY_PAUSE_MS * attempt);
    }
    if (err)
        return err;
    return finish(j, NULL, 0, out);
}

struct multipart {
    const struct data_job *job;
    pthread_mutex_t lock;
    struct upload_queue q;
};

static int send_part(const struct data_job *j, const struct upload_part *p, char **etag,
                     enum upload_step *at)
{
    /* No Content-MD5 on a part: hashing each part here read the whole file again and ran a
     * second MD5 over it at close. Content-MD5 is optional for parts, and finish checks the
     * whole against fileMd5. */
    return put_range(j, p->number, p->offset, p->length, NULL, etag, at);
}

static void *multipart_worker(void *arg)
{
    struct multipart *m = arg;
    for (;;) {
        pthread_mutex_lock(&m->lock);
        int i = upload_queue_take(&m->q);
        int attempt = i >= 0 ? m->q.attempts[i] : 0;
        pthread_mutex_unlock(&m->lock);
        if (i < 0)
            break;
        if (attempt > 1)
            sleep_ms(PART_RETRY_PAUSE_MS * (attempt - 1));
        const struct upload_part *p = &m->q.parts[i];
        char *etag = NULL;
        enum upload_step at;
        int err = send_part(m->job, p, &etag, &at);
        if (err)
            log_warn("upload: part %d of %s/%d failed (%s)%s", p->number, m->job->file_id,
                     m->job->version, strerror(-err),
                     upload_err_retryable(err, at) && attempt < UPLOAD_PART_ATTEMPTS
                         ? ", trying again"
                         : "");
        pthread_mutex_lock(&m->lock);
        upload_queue_put(&m->q, i, err, at, etag);
        pthread_mutex_unlock(&m->lock);
        free(etag);
    }
    return NULL;
}

/* Marks the parts the server already holds with the bytes vrcfs has (a resumed upload). */
static void preload_parts(const struct data_job *j, struct upload_queue *q)
{
    char path[256];
    snprintf(path, sizeof path, "/file/%s/%d/%s/status", j->file_id, j->version,
             vrc_data_kind_name(j->kind));
    json_t *status = NULL;
    if (api_json_call(j->c, "GET", path, NULL, &status, NULL) != 0)
        return; /* then every part is sent again */
    int *numbers;
    char **etags;
    size_t n = upload_parse_status(status, &numbers, &etags);
    json_decref(status);
    int kept = 0;
    for (size_t k = 0; k < n; k++) {
        int i = numbers[k] - 1;
        if (i >= q->nparts)
            continue;
        char b64[DIGEST_MD5_B64_LEN + 1], hex[MD5_HEX_LEN + 1];
        /* S3's ETag of a part is its MD5: a part cut differently, or from other bytes, is sent
         * again under the same number, which replaces it. */
        if (md5_range(j->fd, q->parts[i].offset, q->parts[i].length, b64, hex) == 0 &&
            strcasecmp(hex, etags[k]) == 0) {
            upload_queue_preload(q, i, etags[k]);
            progress_add(j->progress, (int64_t)q->parts[i].length);
            kept++;
        }
    }
    upload_remote_parts_free(numbers, etags, n);
    log_info("upload: resuming %s/%d: %d of %d parts are already there", j->file_id, j->version,
             kept, q->nparts);
}

static int upload_multipart(const struct data_job *j, const struct upload_options *opt, bool resume,
                            struct vrc_file **out)
{
    struct upload_part *parts = NULL;
    int nparts =
        upload_plan_parts(j->size, opt->part_size ? opt->part_size : UPLOAD_PART_MIN, &parts);
    if (nparts < 0)
        return nparts;
    struct multipart m = {.job = j};
    int err = upload_queue_init(&m.q, parts, nparts);
    if (err) {
        free(parts);
        return err;
    }
    pthread_mutex_init(&m.lock, NULL);
    if (resume)
        preload_parts(j, &m.q);
    int nthreads = opt->parallel > 0 ? opt->parallel : UPLOAD_PARALLEL_DEFAULT;
    if (nthreads > UPLOAD_PARALLEL_MAX)
        nthreads = UPLOAD_PARALLEL_MAX;
    if (nthreads > nparts - m.q.done)
        nthreads = nparts - m.q.done;
    log_info("upload: %s/%d/%s: %d parts of %" PRIu64 " bytes, %d at a time", j->file_id,
             j->version, vrc_data_kind_name(j->kind), nparts, parts[0].length, nthreads);
    pthread_t threads[UPLOAD_PARALLEL_MAX];
    int started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&threads[started], NULL, multipart_worker, &m) != 0)
            break;
    /* With no thread at all, this one does the work. */
    if (!started && nthreads > 0)
        multipart_worker(&m);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    err = m.q.err;
    if (!err && !upload_queue_complete(&m.q))
        err = -EIO;
    if (!err)
        err = finish(j, (const char *const *)m.q.etags, (size_t)nparts, out);
    pthread_mutex_destroy(&m.lock);
    upload_queue_free(&m.q);
    free(parts);
    return err;
}

/* Sends one data kind of version n as the server's category for it says. */
static int upload_data(struct data_job *j, const struct vrc_file_data *d,
                       const struct upload_options *opt, bool resume, struct vrc_file **out)
{
    if (d->multipart)
        return upload_multipart(j, opt, resume, out);
    return upload_simple(j, out);
}

/* Polls until version n is complete, from f (the last File the server sent). */
static int wait_complete(struct http_client *c, const char *file_id, int n, struct vrc_file *f,
                         double timeout_s, struct vrc_file **out)
{
    double deadline = now_s() + timeout_s;
    int err = 0;
    for (int attempt = 0;; attempt++) {
        const struct vrc_file_version *v = find_version(f, n);
        if (!v) {
            log_warn("upload: version %d of %s disappeared before it was complete", n, file_id);
            err = -EIO;
            break;
        }
        if (v->status == VRC_STATUS_COMPLETE)
            break;
        if (v->status == VRC_STATUS_OTHER) {
            log_warn("upload: version %d of %s ended in an error state", n, file_id);
            err = -EIO;
            break;
        }
        long delay = upload_poll_delay_ms(attempt);
        if (now_s() + (double)delay / 1000.0 > deadline) {
            log_warn("upload: version %d of %s was not complete after %.0f s", n, file_id,
                     timeout_s);
            err = -ETIMEDOUT;
            break;
        }
        sleep_ms(delay);
        struct vrc_file *fresh = NULL;
        err = files_get(c, file_id, &fresh);
        if (err)
            break;
        vrc_file_unref(f);
        f = fresh;
    }
    if (err) {
        vrc_file_unref(f);
        f = NULL;
    }
    *out = f;
    return err;
}

/* POST /file/{id}: the new version's number, with *f the File that has it. */
static int create_version(struct http_client *c, const char *file_id,
                          const struct file_digest_result *d, struct vrc_file **f, int *n)
{
    char path[160];
    snprintf(path, sizeof path, "/file/%s", file_id);
    json_t *body = json_pack("{s:s, s:I, s:s, s:I}", "fileMd5", d->md5_b64, "fileSizeInBytes",
                             (json_int_t)d->size, "signatureMd5", d->sig_md5_b64,
                             "signatureSizeInBytes", (json_int_t)d->sig_size);
    json_t *answer = NULL;
    int err = body ? api_json_call(c, "POST", path, body, &answer, NULL) : -ENOMEM;
    json_decref(body);
    if (!err)
        err = file_from_json(answer, f);
    json_decref(answer);
    if (err)
        return err;
    *n = vrc_file_newest(*f);
    const struct vrc_file_version *v = find_version(*f, *n);
    if (*n < 1 || !v || v->status == VRC_STATUS_COMPLETE || !v->data[VRC_DATA_FILE].present) {
        log_warn("upload: POST /file/%s did not answer with a new waiting version", file_id);
        vrc_file_unref(*f);
        *f = NULL;
        return -EIO;
    }
    return 0;
}

int upload_new_version(struct http_client *c, const char *file_id, const struct upload_source *src,
                       const struct upload_options *opt, struct vrc_file **out, int *version)
{
    if (out)
        *out = NULL;
    if (version)
        *version = 0;
    const struct file_digest_result *d = src->digest;
    struct vrc_file *f = NULL;
    int err = files_get(c, file_id, &f);
    if (err)
        return err;
    bool same = false;
    int n = upload_find_waiting(f, d, &same);
    bool resume = n > 0 && same;
    if (n > 0 && !same) {
        log_info("upload: deleting version %d of %s, left waiting by an earlier upload", n,
                 file_id);
        err = files_delete_version(c, file_id, n, NULL);
        if (err) {
            vrc_file_unref(f);
            return err;
        }
    }
    if (resume) {
        log_info("upload: version %d of %s is waiting for these very bytes: resuming it", n,
                 file_id);
    } else {
        vrc_file_unref(f);
        f = NULL;
        err = create_version(c, file_id, d, &f, &n);
        if (err)
            return err;
    }
    struct progress progress = {
        .total = d->size + d->sig_size, .fn = opt->progress, .arg = opt->progress_arg};
    atomic_init(&progress.done, 0);
    struct data_job jobs[2] = {
        {c, file_id, n, VRC_DATA_FILE, src->data_fd, d->size, d->md5_b64, src->mime, &progress},
        {c, file_id, n, VRC_DATA_SIGNATURE, src->sig_fd, d->sig_size, d->sig_md5_b64,
         "application/x-rsync-signature", &progress},
    };
    for (int k = 0; k < 2 && !err; k++) {
        const struct vrc_file_version *v = find_version(f, n);
        const struct vrc_file_data *data = v ? &v->data[jobs[k].kind] : NULL;
        if (!data || !data->present) {
            log_warn("upload: version %d of %s has no %s entry", n, file_id,
                     vrc_data_kind_name(jobs[k].kind));
            err = -EIO;
            break;
        }
        if (resume && data->status == VRC_STATUS_COMPLETE) {
            progress_add(&progress, jobs[k].size);
            continue;
        }
        struct vrc_file *after = NULL;
        err = upload_data(&jobs[k], data, opt, resume, &after);
        if (!err) {
            vrc_file_unref(f);
            f = after;
        }
    }
    if (!err) {
        double timeout = opt->complete_timeout_s > 0 ? opt->complete_timeout_s
                                                     : upload_complete_timeout_s(d->size);
        err = wait_complete(c, file_id, n, f, timeout, &f);
    } else {
        vrc_file_unref(f);
        f = NULL;
    }
    if (err) {
        int derr = files_delete_version(c, file_id, n, NULL);
        if (derr)
            log_warn("upload: version %d of %s could not be deleted after the failure (%s); "
                     "the next upload deletes or resumes it",
                     n, file_id, strerror(-derr));
        else
            log_info("upload: deleted the unfinished version %d of %s", n, file_id);
        return err;
    }
    log_info("upload: %s version %d is complete (%" PRIu64 " bytes)", file_id, n, d->size);
    if (version)
        *version = n;
    if (out)
        *out = f;
    else
        vrc_file_unref(f);
    return 0;
}
