/* errmap: the one table from HTTP status and transport failures to errno (docs/SEMANTICS.md,
 * Errors). */
#ifndef VRCFS_ERRMAP_H
#define VRCFS_ERRMAP_H

#include <curl/curl.h>

/* 2xx and 3xx -> 0; 400 EINVAL, 401/403 EACCES, 404/410 ENOENT, 409 EBUSY, 413 EFBIG,
 * 429/503 EAGAIN, other 5xx EIO, other 4xx EIO. Returns a positive errno or 0. */
int errmap_status(long status);

/* CURLE_OK -> 0; time-outs ETIMEDOUT; out of memory ENOMEM; everything else EIO. */
int errmap_curl(CURLcode code);

#endif
