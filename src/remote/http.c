#include "remote/http.h"

#include "log.h"
#include "remote/api_stats.h"
#include "remote/errmap.h"
#include "remote/pacer.h"
#include "remote/retry.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* An API answer bigger than this is not a File or an Instance: refuse it instead of eating RAM. */
#define HTTP_MAX_BODY (16u * 1024 * 1024)
/* curl's receive buffer for a body that goes to a sink (a blob's range): with curl's 16 KiB
 * default, a 1 GiB read costs 65,536 poll and recv calls and sink calls. */
#define HTTP_SINK_RECV_BUFFER (512L * 1024)
/* How much of an error answer to a request with its own buffer is kept for the message. */
#define HTTP_MAX_ERROR_BODY (64u * 1024)

struct http_client {
    char *api_url;
    char *user_agent;
    struct http_config cfg;
    pthread_mutex_t cookie_lock;
    char *cookie;        /* "auth=...; twoFactorAuth=..." or NULL */
    char *authorization; /* "Authorization: Token ..." or NULL; under cookie_lock */
    unsigned cred_gen;   /* counts changes of cookie or authorization; under cookie_lock */
    /* A 401 asks renew for new credentials (http_client_on_unauthorized), one thread at a time. */
    pthread_mutex_t renew_lock;
    http_renew_fn *renew;
    void *renew_arg;
    bool expired_said; /* "the session has expired" was logged for expired_gen */
    unsigned expired_gen;
    struct pacer pacer;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    pthread_key_t handle_key;
};

/* What one attempt collects from curl's callbacks. */
struct http_transfer {
    const struct http_request *req;
    struct http_response *resp;
    size_t cap;
    size_t body_alloc; /* bytes allocated at resp->body when it owns it */
    bool overflow;
    int sink_err; /* what the request's sink refused the body with */
    uint64_t upload_done;
    long retry_after_s;
    /* A request with its own buffer (a range, the download redirect) expects data there; an
     * error answer's body (or a redirect's) goes here instead, so that it neither overflows the
     * buffer nor passes for data, and its message is read as any other. */
    long status;
    char *error_body;
    size_t error_len;
};

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
    (void)h;
    (void)access;
    pthread_mutex_lock(&((struct http_client *)arg)->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
    (void)h;
    pthread_mutex_unlock(&((struct http_client *)arg)->share_locks[data]);
}

static void handle_free(void *h)
{
    curl_easy_cleanup(h);
}

struct http_client *http_client_new(const struct http_config *cfg)
{
    struct http_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cfg = *cfg;
    c->api_url = strdup(cfg->api_url);
    size_t ua_len = strlen(cfg->contact) + 64;
    c->user_agent = malloc(ua_len);
    if (!c->api_url || !c->user_agent) {
        free(c->api_url);
        free(c->user_agent);
        free(c);
        return NULL;
    }
    c->cfg.api_url = c->api_url;
    snprintf(c->user_agent, ua_len, "vrcfs/%s %s", VRCFS_VERSION, cfg->contact);
    pthread_mutex_init(&c->cookie_lock, NULL);
    pthread_mutex_init(&c->renew_lock, NULL);
    pacer_init(&c->pacer, cfg->rate_per_min);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->share_locks[i], NULL);
    c->share = curl_share_init();
    curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    pthread_key_create(&c->handle_key, handle_free);
    return c;
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    CURL *h = pthread_getspecific(c->handle_key);
    if (h)
        curl_easy_cleanup(h);
    pthread_key_delete(c->handle_key);
    curl_share_cleanup(c->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&c->share_locks[i]);
    pacer_destroy(&c->pacer);
    pthread_mutex_destroy(&c->cookie_lock);
    pthread_mutex_destroy(&c->renew_lock);
    free(c->cookie);
    free(c->authorization);
    free(c->user_agent);
    free(c->api_url);
    free(c);
}

void http_client_set_cookies(struct http_client *c, const char *auth, const char *two_factor)
{
    char *cookie = NULL;
    if (auth && two_factor) {
        if (asprintf(&cookie, "auth=%s; twoFactorAuth=%s", auth, two_factor) < 0)
            cookie = NULL;
    } else if (auth || two_factor) {
        if (asprintf(&cookie, "%s=%s", auth ? "auth" : "twoFactorAuth", auth ? auth : two_factor) <
            0)
            cookie = NULL;
    }
    pthread_mutex_lock(&c->cookie_lock);
    free(c->cookie);
    c->cookie = cookie;
    c->cred_gen++;
    pthread_mutex_unlock(&c->cookie_lock);
}

void http_client_set_authorization(struct http_client *c, const char *scheme,
                                   const char *credentials)
{
    char *line = NULL;
    if (scheme && credentials && asprintf(&line, "Authorization: %s %s", scheme, credentials) < 0)
        line = NULL;
    pthread_mutex_lock(&c->cookie_lock);
    if (c->authorization)
        explicit_bzero(c->authorization, strlen(c->authorization));
    free(c->authorization);
    c->authorization = line;
    c->cred_gen++;
    pthread_mutex_unlock(&c->cookie_lock);
}

void http_client_on_unauthorized(struct http_client *c, http_renew_fn *renew, void *arg)
{
    pthread_mutex_lock(&c->renew_lock);
    c->renew = renew;
    c->renew_arg = arg;
    pthread_mutex_unlock(&c->renew_lock);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned cred_gen(struct http_client *c)
{
    pthread_mutex_lock(&c->cookie_lock);
    unsigned gen = c->cred_gen;
    pthread_mutex_unlock(&c->cookie_lock);
    return gen;
}

/* After a 401 with the credentials of generation used: true when there are newer ones to try,
 * put there by another thread or by the renew hook now. Otherwise says once per set of
 * credentials that the session has expired. Only a client with a hook (a mount) does either. */
static bool renew_credentials(struct http_client *c, unsigned used)
{
    pthread_mutex_lock(&c->renew_lock);
    bool fresh = false;
    if (c->renew) {
        fresh = cred_gen(c) != used || c->renew(c->renew_arg, c);
        unsigned now = cred_gen(c);
        if (!fresh)
            api_stats_session(true, wall_now());
        if (!fresh && (!c->expired_said || c->expired_gen != now)) {
            log_warn("the session has expired: run vrcfs login (this mount takes up the new "
                     "session by itself)");
            c->expired_said = true;
            c->expired_gen = now;
        }
    }
    pthread_mutex_unlock(&c->renew_lock);
    return fresh;
}

const char *http_client_api_url(const struct http_client *c)
{
    return c->api_url;
}

static int origin_of(const char *url, char **scheme, char **host, char **port)
{
    CURLU *u = curl_url();
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        rc = 0;
    curl_url_cleanup(u);
    return rc;
}

bool http_same_origin(const char *api_url, const char *url)
{
    char *s1 = NULL, *h1 = NULL, *p1 = NULL, *s2 = NULL, *h2 = NULL, *p2 = NULL;
    bool same = origin_of(api_url, &s1, &h1, &p1) == 0 && origin_of(url, &s2, &h2, &p2) == 0 &&
                strcasecmp(s1, s2) == 0 && strcasecmp(h1, h2) == 0 && strcmp(p1, p2) == 0;
    curl_free(s1);
    curl_free(h1);
    curl_free(p1);
    curl_free(s2);
    curl_free(h2);
    curl_free(p2);
    return same;
}

static void copy_trimmed(char *out, size_t out_len, const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '"')) {
        s++;
        len--;
    }
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '"' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    snprintf(out, out_len, "%.*s", (int)len, s);
}

/* The text of the first <name>...</name> in body[0..len), or false. */
static bool xml_element(const char *body, size_t len, const char *name, const char **text,
                        size_t *text_len)
{
    char open[32], close[32];
    int olen = snprintf(open, sizeof open, "<%s>", name);
    int clen = snprintf(close, sizeof close, "</%s>", name);
    const char *start = memmem(body, len, open, (size_t)olen);
    if (!start)
        return false;
    start += olen;
    const char *end = memmem(start, len - (size_t)(start - body), close, (size_t)clen);
    if (!end)
        return false;
    *text = start;
    *text_len = (size_t)(end - start);
    return true;
}

/* S3's error document: <Error><Code>AccessDenied</Code><Message>Request has expired</Message>
 * gives "AccessDenied: Request has expired". False when body is not one. */
static bool s3_error_message(const char *body, size_t len, char *out, size_t out_len)
{
    const char *code, *msg;
    size_t code_len, msg_len;
    if (!memmem(body, len, "<Error>", 7) || !xml_element(body, len, "Code", &code, &code_len))
        return false;
    if (xml_element(body, len, "Message", &msg, &msg_len))
        snprintf(out, out_len, "%.*s: %.*s", (int)code_len, code, (int)msg_len, msg);
    else
        snprintf(out, out_len, "%.*s", (int)code_len, code);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    return true;
}

void http_error_message(const char *body, size_t len, char *out, size_t out_len)
{
    out[0] = '\0';
    if (!body || !len)
        return;
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY, NULL);
    json_t *err = json_object_get(root, "error");
    const char *msg = json_string_value(json_object_get(err, "message"));
    if (!msg)
        msg = json_string_value(err);
    if (!msg) /* Django REST framework: {"detail": "..."} */
        msg = json_string_value(json_object_get(root, "detail"));
    if (msg) {
        copy_trimmed(out, out_len, msg, strlen(msg));
    } else if (len && body[0] == '<') {
        if (!s3_error_message(body, len, out, out_len))
            snprintf(out, out_len, "(an HTML page)");
    } else if (!root) {
        /* The body may be a caller's buffer with no NUL: stay within len. */
        const char *newline = memchr(body, '\n', len);
        copy_trimmed(out, out_len, body, newline ? (size_t)(newline - body) : len);
    }
    json_decref(root);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct http_transfer *t = arg;
    struct http_response *r = t->resp;
    size_t len = size * n;
    if ((t->req->buf || t->req->sink) && (t->status < 200 || t->status >= 300)) {
        size_t keep =
            HTTP_MAX_ERROR_BODY - t->error_len < len ? HTTP_MAX_ERROR_BODY - t->error_len : len;
        char *grown = keep ? realloc(t->error_body, t->error_len + keep + 1) : NULL;
        if (grown) {
            memcpy(grown + t->error_len, data, keep);
            t->error_len += keep;
            grown[t->error_len] = '\0';
            t->error_body = grown;
        }
        return len;
    }
    if (r->body_len + len > t->cap) {
        t->overflow = true;
        return 0;
    }
    if (t->req->sink) {
        t->sink_err = t->req->sink(t->req->sink_arg, r->body_len, data, len);
        if (t->sink_err)
            return 0;
        r->body_len += len;
        return len;
    }
    if (r->owns_body && r->body_len + len + 1 > t->body_alloc) {
        /* Doubling: growing by each chunk copied a 12 MB answer hundreds of times. */
        size_t want = t->body_alloc ? t->body_alloc : 16384;
        while (want < r->body_len + len + 1)
            want *= 2;
        char *grown = realloc(r->body, want);
        if (!grown)
            return 0;
        r->body = grown;
        t->body_alloc = want;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    if (r->owns_body)
        r->body[r->body_len] = '\0';
    return len;
}

static char *cookie_value(const char *line, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    if (len <= nlen + 1 || strncmp(line, name, nlen) != 0 || line[nlen] != '=')
        return NULL;
    const char *v = line + nlen + 1;
    size_t vlen = strcspn(v, ";\r\n");
    return vlen ? strndup(v, vlen) : NULL;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct http_transfer *t = arg;
    size_t len = size * n;
    if (len > 9 && strncmp(data, "HTTP/", 5) == 0) {
        /* A status line: the answer's bodies go where its status says (on_body). */
        const char *sp = memchr(data, ' ', len);
        t->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return len;
    }
    const char *colon = memchr(data, ':', len);
    if (!colon)
        return len;
    size_t name_len = (size_t)(colon - data);
    const char *v = colon + 1;
    while (v < data + len && *v == ' ')
        v++;
    size_t vlen = (size_t)(data + len - v);
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
        vlen--;
    if (name_len == 4 && strncasecmp(data, "etag", 4) == 0) {
        free(t->resp->etag);
        while (vlen && *v == '"')
            v++, vlen--;
        while (vlen && v[vlen - 1] == '"')
            vlen--;
        t->resp->etag = strndup(v, vlen);
    } else if (name_len == 11 && strncasecmp(data, "retry-after", 11) == 0) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.*s", (int)vlen, v);
        char *end;
        long s = strtol(tmp, &end, 10);
        if (end != tmp && s >= 0)
            t->retry_after_s = s;
    } else if (name_len == 10 && strncasecmp(data, "set-cookie", 10) == 0) {
        char *auth = cookie_value(v, vlen, "auth");
        char *tfa = cookie_value(v, vlen, "twoFactorAuth");
        if (auth) {
            free(t->resp->set_auth);
            t->resp->set_auth = auth;
        }
        if (tfa) {
            free(t->resp->set_two_factor);
            t->resp->set_two_factor = tfa;
        }
    }
    return len;
}

/* Moves the upload's position to done, and tells the caller's progress. */
static void upload_moved(struct http_transfer *t, uint64_t done)
{
    const struct http_upload *u = t->req->upload;
    if (u->moved && done != t->upload_done)
        u->moved(u->moved_arg, (int64_t)done - (int64_t)t->upload_done);
    t->upload_done = done;
}

static size_t on_upload(char *buf, size_t size, size_t n, void *arg)
{
    struct http_transfer *t = arg;
    uint64_t left = t->req->upload->length - t->upload_done;
    size_t want = size * n < left ? size * n : (size_t)left;
    if (!want)
        return 0;
    ssize_t got =
        pread(t->req->upload->fd, buf, want, (off_t)(t->req->upload->offset + t->upload_done));
    if (got <= 0)
        return CURL_READFUNC_ABORT;
    upload_moved(t, (uint64_t)(t->upload_done + (uint64_t)got));
    return (size_t)got;
}

/* Lets curl rewind an upload it must send again (a kept-alive connection that turned out to
 * be closed), instead of failing the request. */
static int on_upload_seek(void *arg, curl_off_t offset, int origin)
{
    struct http_transfer *t = arg;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > t->req->upload->length)
        return CURL_SEEKFUNC_CANTSEEK;
    upload_moved(t, (uint64_t)offset);
    return CURL_SEEKFUNC_OK;
}

static CURL *thread_handle(struct http_client *c)
{
    CURL *h = pthread_getspecific(c->handle_key);
    if (!h) {
        h = curl_easy_init();
        if (h)
            pthread_setspecific(c->handle_key, h);
    } else {
        curl_easy_reset(h);
    }
    return h;
}

static char *full_url(struct http_client *c, const char *url)
{
    char *out = NULL;
    if (url[0] == '/') {
        if (asprintf(&out, "%s%s", c->api_url, url) < 0)
            return NULL;
        return out;
    }
    return strdup(url);
}

static void response_reset(struct http_response *r)
{
    r->status = 0;
    r->body_len = 0;
    if (r->owns_body && r->body)
        r->body[0] = '\0';
    free(r->location);
    r->location = NULL;
    free(r->etag);
    r->etag = NULL;
    r->message[0] = '\0';
}

/* Sets everything for one attempt. Returns the header list to free after. */
static struct curl_slist *setup_attempt(struct http_client *c, CURL *h, const char *url, bool api,
                                        const struct http_request *req, struct http_transfer *t)
{
    const struct http_config *cfg = &c->cfg;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_SHARE, c->share);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, cfg->connect_timeout_s);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, cfg->low_speed_time_s);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE,
                     req->sink ? HTTP_SINK_RECV_BUFFER : (long)CURL_MAX_WRITE_SIZE);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    if (strcmp(req->method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (api) {
        curl_easy_setopt(h, CURLOPT_TIMEOUT, cfg->api_timeout_s);
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
        pthread_mutex_lock(&c->cookie_lock);
        if (c->cookie)
            curl_easy_setopt(h, CURLOPT_COOKIE, c->cookie);
        pthread_mutex_unlock(&c->cookie_lock);
        if (req->basic_user) {
            curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
            curl_easy_setopt(h, CURLOPT_USERNAME, req->basic_user);
            curl_easy_setopt(h, CURLOPT_PASSWORD, req->basic_password);
        }
    }
    struct curl_slist *headers = NULL;
    if (req->content_type) {
        char line[160];
        snprintf(line, sizeof line, "Content-Type: %s", req->content_type);
        headers = curl_slist_append(headers, line);
    }
    /* curl would otherwise wait for "100 Continue" on every upload. */
    headers = curl_slist_append(headers, "Expect:");
    for (const char *const *hd = req->headers; hd && *hd; hd++)
        headers = curl_slist_append(headers, *hd);
    if (api) {
        pthread_mutex_lock(&c->cookie_lock);
        if (c->authorization)
            headers = curl_slist_append(headers, c->authorization);
        pthread_mutex_unlock(&c->cookie_lock);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (req->upload) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_upload);
        curl_easy_setopt(h, CURLOPT_READDATA, t);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_upload_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, t);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->upload->length);
    } else if (req->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    return headers;
}

static double jitter(void)
{
    static __thread unsigned seed;
    if (!seed)
        seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&seed;
    return (double)rand_r(&seed) / ((double)RAND_MAX + 1.0);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int finish_attempt(CURL *h, CURLcode rc, const char *endpoint, struct http_transfer *t)
{
    struct http_response *r = t->resp;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_off_t down = 0, up = 0;
    curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
    api_stats_add_bytes((uint64_t)down, (uint64_t)up);
    api_stats_count_request(endpoint, rc == CURLE_OK ? r->status : 0);
    if (rc != CURLE_OK) {
        if (t->sink_err) {
            snprintf(r->message, sizeof r->message, "the body cannot be stored: %s",
                     strerror(-t->sink_err));
            return t->sink_err;
        }
        if (t->overflow) {
            snprintf(r->message, sizeof r->message, "response body too large");
            return -EIO;
        }
        snprintf(r->message, sizeof r->message, "%s", curl_easy_strerror(rc));
        return -errmap_curl(rc);
    }
    if (r->status >= 300 && r->status < 400) {
        char *loc = NULL;
        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
        if (loc)
            r->location = strdup(loc);
    }
    int err = errmap_status(r->status);
    if (err && t->error_body)
        http_error_message(t->error_body, t->error_len, r->message, sizeof r->message);
    else if (err)
        http_error_message(r->body, r->body_len, r->message, sizeof r->message);
    return -err;
}

int http_perform(struct http_client *c, const struct http_request *req, struct http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    char *url = full_url(c, req->url);
    CURL *h = thread_handle(c);
    if (!url || !h) {
        free(url);
        return -ENOMEM;
    }
    bool api = http_same_origin(c->api_url, url);
    char endpoint[128];
    if (api) {
        api_stats_endpoint(req->method, url + strlen(c->api_url), endpoint, sizeof endpoint);
    } else {
        snprintf(endpoint, sizeof endpoint, "%s <blob>", req->method);
    }
    struct http_transfer t = {.req = req, .resp = resp};
    resp->owns_body = req->buf == NULL && req->sink == NULL;
    resp->body = req->buf;
    t.cap = req->buf || req->sink ? req->buf_cap : HTTP_MAX_BODY;
    int err = 0;
    bool renewed = false; /* a 401 is tried again once, with new credentials only */
    for (int attempt = 0;; attempt++) {
        response_reset(resp);
        t.overflow = false;
        t.sink_err = 0;
        if (req->upload)
            upload_moved(&t, 0);
        t.retry_after_s = -1;
        t.status = 0;
        free(t.error_body);
        t.error_body = NULL;
        t.error_len = 0;
        if (api)
            pacer_wait(&c->pacer, api_stats_pacing);
        unsigned gen = cred_gen(c);
        struct curl_slist *headers = setup_attempt(c, h, url, api, req, &t);
        CURLcode rc = curl_easy_perform(h);
        curl_slist_free_all(headers);
        err = finish_attempt(h, rc, endpoint, &t);
        if (api && rc == CURLE_OK && resp->status == 401 && !req->basic_user && !renewed &&
            renew_credentials(c, gen)) {
            renewed = true;
            api_stats_count_retry(resp->status);
            log_info("%s: 401, tried again with the new session", endpoint);
            continue;
        }
        bool transient =
            rc != CURLE_OK ? !t.overflow && !t.sink_err && retry_curl_is_transient(rc, req->method)
                           : retry_status_is_transient(resp->status, req->method);
        if (!transient || req->no_retry || attempt >= c->cfg.retries ||
            t.retry_after_s > RETRY_AFTER_MAX_S)
            break;
        api_stats_count_retry(resp->status);
        long delay = retry_delay_ms(attempt, t.retry_after_s, jitter());
        api_stats_backoff(wall_now() + (double)delay / 1000, resp->status);
        log_debug("%s: %s, retry %d in %ld ms", endpoint,
                  resp->status ? "transient status" : resp->message, attempt + 1, delay);
        sleep_ms(delay);
    }
    if (api && resp->status >= 200 && resp->status < 300)
        api_stats_session(false, 0);
    if (err && req->upload)
        upload_moved(&t, 0); /* what a failed request sent counts for nothing */
    if (err && err != -ENOENT)
        log_info("%s: %ld %s", endpoint, resp->status, resp->message);
    else if (err)
        log_debug("%s: %ld %s", endpoint, resp->status, resp->message);
    free(t.error_body);
    free(url);
    return err;
}

void http_response_free(struct http_response *resp)
{
    if (resp->owns_body)
        free(resp->body);
    free(resp->location);
    free(resp->etag);
    free(resp->set_auth);
    free(resp->set_two_factor);
    memset(resp, 0, sizeof *resp);
}
