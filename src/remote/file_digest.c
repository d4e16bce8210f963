/* file_digest: MD5 and librsync signature of an upload in one pass, so that a file written
 * through FUSE never has to be read back before it is sent. */
#include "remote/file_digest.h"

#include <errno.h>
#include <librsync.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The format VRChat's SDK produces (NOTES.md 3b); not librsync's own defaults. */
#define SIG_BLOCK_LEN 2048
#define SIG_STRONG_LEN 32
#define MD5_LEN 16

#define OUT_CHUNK 4096       /* signature bytes moved per rs_job_iter call */
#define READ_CHUNK (1 << 16) /* file_digest_fd read size */

struct file_digest {
    FILE *sig_out;
    rs_job_t *job;
    EVP_MD_CTX *md5;     /* of the data */
    EVP_MD_CTX *sig_md5; /* of the signature, as it is written */
    uint64_t size;
    uint64_t sig_size;
    int err; /* first error; once set, the digest only waits to be freed */

    /* The MD5 of a chunk runs on a helper thread while librsync makes its signature. */
    bool helper_on, helper_failed, helper_quit, md5_busy, md5_failed;
    pthread_t helper;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const void *md5_buf;
    size_t md5_len;
};

#define PARALLEL_MIN (16u * 1024) /* below this a chunk is hashed inline */

static void *md5_helper(void *arg)
{
    struct file_digest *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (!d->md5_busy && !d->helper_quit)
            pthread_cond_wait(&d->cv, &d->mu);
        if (!d->md5_busy)
            break;
        const void *buf = d->md5_buf;
        size_t len = d->md5_len;
        pthread_mutex_unlock(&d->mu);
        bool ok = EVP_DigestUpdate(d->md5, buf, len);
        pthread_mutex_lock(&d->mu);
        if (!ok)
            d->md5_failed = true;
        d->md5_busy = false;
        pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

static void helper_stop(struct file_digest *d)
{
    if (!d->helper_on)
        return;
    pthread_mutex_lock(&d->mu);
    d->helper_quit = true;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->helper, NULL);
    d->helper_on = false;
}

static void md5_to_base64(const unsigned char raw[MD5_LEN], char out[DIGEST_MD5_B64_LEN + 1])
{
    /* EVP_EncodeBlock writes exactly 24 chars and a NUL for 16 bytes. */
    EVP_EncodeBlock((unsigned char *)out, raw, MD5_LEN);
}

void digest_md5_base64(const void *buf, size_t len, char out[DIGEST_MD5_B64_LEN + 1])
{
    unsigned char raw[MD5_LEN];

    if (!EVP_Digest(buf, len, raw, NULL, EVP_md5(), NULL))
        memset(raw, 0, sizeof(raw));
    md5_to_base64(raw, out);
}

int digest_md5_from_base64(const char *b64, unsigned char raw[MD5_LEN])
{
    unsigned char buf[18]; /* 24 chars decode to 18 bytes, the last 2 being padding */
    char again[DIGEST_MD5_B64_LEN + 1];

    if (!b64 || !raw || strnlen(b64, DIGEST_MD5_B64_LEN + 1) != DIGEST_MD5_B64_LEN)
        return -EINVAL;
    if (EVP_DecodeBlock(buf, (const unsigned char *)b64, DIGEST_MD5_B64_LEN) != (int)sizeof(buf))
        return -EINVAL;
    /* EVP_DecodeBlock tolerates whitespace, misplaced padding and stray low bits; only the
     * canonical spelling of 16 bytes re-encodes to itself. */
    md5_to_base64(buf, again);
    if (strcmp(again, b64) != 0)
        return -EINVAL;
    memcpy(raw, buf, MD5_LEN);
    return 0;
}

static int emit(struct file_digest *d, const char *buf, size_t len)
{
    if (fwrite(buf, 1, len, d->sig_out) != len || !EVP_DigestUpdate(d->sig_md5, buf, len))
        return -EIO;
    d->sig_size += len;
    return 0;
}

/* Runs the job over the input in *b until it wants more input (returns 0) or has written the
 * whole signature (returns 1). librsync keeps any partial block in its own scoop buffer, so
 * every byte offered is consumed even when chunks do not line up with blocks. */
static int pump(struct file_digest *d, rs_buffers_t *b)
{
    char out[OUT_CHUNK];
    rs_result r;

    do {
        b->next_out = out;
        b->avail_out = sizeof(out);
        r = rs_job_iter(d->job, b);
        if (r != RS_DONE && r != RS_BLOCKED)
            return -EIO;
        if (emit(d, out, sizeof(out) - b->avail_out) < 0)
            return -EIO;
        if (r == RS_DONE)
            return 1;
        /* A full output buffer may hide more pending output, so go round again. */
    } while (b->avail_in > 0 || b->avail_out == 0);
    return 0;
}

void file_digest_abort(struct file_digest *d)
{
    if (!d)
        return;
    helper_stop(d);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    if (d->job)
        rs_job_free(d->job);
    EVP_MD_CTX_free(d->md5);
    EVP_MD_CTX_free(d->sig_md5);
    free(d);
}

struct file_digest *file_digest_new(FILE *sig_out)
{
    struct file_digest *d;

    if (!sig_out)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->sig_out = sig_out;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    d->md5 = EVP_MD_CTX_new();
    d->sig_md5 = EVP_MD_CTX_new();
    /* Not rs_sig_args(): it would pick RabinKarp and a size-dependent block length. */
    d->job = rs_sig_begin(SIG_BLOCK_LEN, SIG_STRONG_LEN, RS_BLAKE2_SIG_MAGIC);
    if (!d->md5 || !d->sig_md5 || !d->job || !EVP_DigestInit_ex(d->md5, EVP_md5(), NULL) ||
        !EVP_DigestInit_ex(d->sig_md5, EVP_md5(), NULL)) {
        file_digest_abort(d);
        return NULL;
    }
    return d;
}

int file_digest_update(struct file_digest *d, const void *buf, size_t len)
{
    rs_buffers_t b = {0};

    if (!d || (!buf && len))
        return -EINVAL;
    if (d->err)
        return d->err;
    if (len >= PARALLEL_MIN && !d->helper_on && !d->helper_failed)
        d->helper_failed = !(d->helper_on = pthread_create(&d->helper, NULL, md5_helper, d) == 0);
    bool parallel = d->helper_on && len >= PARALLEL_MIN;
    if (parallel) {
        pthread_mutex_lock(&d->mu);
        d->md5_buf = buf;
        d->md5_len = len;
        d->md5_busy = true;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
    } else if (!EVP_DigestUpdate(d->md5, buf, len)) {
        d->err = -EIO;
        return d->err;
    }
    d->size += len;
    /* librsync only reads the input; its struct field is not const. */
    b.next_in = (char *)buf;
    b.avail_in = len;
    if (pump(d, &b) != 0)
        d->err = -EIO; /* 1 (done) before eof_in is as wrong as an error */
    if (parallel) {
        /* buf is the caller's: the helper is done with it before this returns. */
        pthread_mutex_lock(&d->mu);
        while (d->md5_busy)
            pthread_cond_wait(&d->cv, &d->mu);
        if (d->md5_failed && !d->err)
            d->err = -EIO;
        pthread_mutex_unlock(&d->mu);
    }
    return d->err;
}

/* Drains the job with eof_in set and closes both MD5s into out. */
static int finish_into(struct file_digest *d, struct file_digest_result *out)
{
    rs_buffers_t b = {0};
    unsigned char raw[MD5_LEN];

    if (d->err)
        return d->err;
    b.eof_in = 1;
    if (pump(d, &b) != 1 || fflush(d->sig_out) != 0)
        return -EIO;
    if (!EVP_DigestFinal_ex(d->md5, raw, NULL))
        return -EIO;
    md5_to_base64(raw, out->md5_b64);
    if (!EVP_DigestFinal_ex(d->sig_md5, raw, NULL))
        return -EIO;
    md5_to_base64(raw, out->sig_md5_b64);
    out->size = d->size;
    out->sig_size = d->sig_size;
    return 0;
}

int file_digest_finish(struct file_digest *d, struct file_digest_result *out)
{
    int rc;

    if (!d)
        return -EINVAL;
    rc = out ? finish_into(d, out) : -EINVAL;
    file_digest_abort(d);
    return rc;
}

/* Feeds fd from offset 0 to its end into d; pread leaves the caller's file offset alone. */
static int feed_fd(struct file_digest *d, int fd)
{
    char *buf = malloc(READ_CHUNK);
    off_t off = 0;
    ssize_t n;
    int rc = 0;

    if (!buf)
        return -ENOMEM;
    while (rc == 0) {
        n = pread(fd, buf, READ_CHUNK, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        rc = file_digest_update(d, buf, (size_t)n);
        off += n;
    }
    free(buf);
    return rc;
}

int file_digest_fd(int fd, FILE *sig_out, struct file_digest_result *out)
{
    struct file_digest *d;
    int rc;

    if (fd < 0 || !sig_out || !out)
        return -EINVAL;
    d = file_digest_new(sig_out);
    if (!d)
        return -ENOMEM;
    rc = feed_fd(d, fd);
    if (rc < 0) {
        file_digest_abort(d);
        return rc;
    }
    return file_digest_finish(d, out);
}
