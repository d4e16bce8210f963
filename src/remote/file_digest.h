/* file_digest: the fingerprints VRChat wants for an upload, computed in one pass while data
 * arrives in order: MD5 of the data (base64, as fileMd5) and the librsync signature
 * (RS_BLAKE2_SIG_MAGIC, block 2048, strong sum 32; byte-identical to
 * `rdiff -H blake2 -R rollsum -b 2048 -S 32 signature`) written to a FILE, with its own MD5. */
#ifndef VRCFS_FILE_DIGEST_H
#define VRCFS_FILE_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DIGEST_MD5_B64_LEN 24 /* base64 of 16 bytes, with padding */

struct file_digest_result {
    char md5_b64[DIGEST_MD5_B64_LEN + 1];
    uint64_t size;
    char sig_md5_b64[DIGEST_MD5_B64_LEN + 1];
    uint64_t sig_size;
};

struct file_digest;

/* Starts a digest that writes the signature to sig_out (kept open by the caller). NULL on
 * out-of-memory or a librsync failure. */
struct file_digest *file_digest_new(FILE *sig_out);

/* Feeds the next len bytes. Returns 0 or a negative errno (-EIO on a librsync or write error). */
int file_digest_update(struct file_digest *d, const void *buf, size_t len);

/* Ends the data, flushes the signature and fills *out. Returns 0 or a negative errno.
 * Frees d in every case. */
int file_digest_finish(struct file_digest *d, struct file_digest_result *out);

/* Discards a digest without finishing it. */
void file_digest_abort(struct file_digest *d);

/* The whole job for a file on disk: reads fd from offset 0 to the end. */
int file_digest_fd(int fd, FILE *sig_out, struct file_digest_result *out);

/* base64 (with padding) of the raw MD5 of buf: out gets DIGEST_MD5_B64_LEN chars and a NUL. */
void digest_md5_base64(const void *buf, size_t len, char out[DIGEST_MD5_B64_LEN + 1]);

/* Decodes a base64 MD5 to 16 raw bytes. Returns 0, or -EINVAL if it is not 16 bytes of base64. */
int digest_md5_from_base64(const char *b64, unsigned char raw[16]);

#endif
