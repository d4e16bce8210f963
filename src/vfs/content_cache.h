/* content_cache: the local copy of immutable version data under <cache_dir>/content
 * (docs/SEMANTICS.md "Reading" has the promise and the design). One entry per version's data kind,
 * shared by every open of it (the name alias and N/file are the same entry):
 *
 *   <key>        the data, a sparse file at the version's own offsets
 *   <key>.json   the sidecar: which ranges are present, whether the md5 checked out, last use
 *
 * with key "<fileId>.<N>.<kind>". Only bytes recorded in the sidecar are trusted after a
 * restart, and the sidecar records only what was fsync'ed first, so a kill -9 or a full disk
 * never leaves half-written or unrecorded bytes that pass for present.
 *
 * Fetching is the caller's (blob_reader): it claims a missing range, fetches it, and fills it
 * in. Once every byte is present, in whatever order it came, the entry's md5 is computed from
 * the file and compared with FileData.md5. A match marks the entry verified (for later mounts
 * too); a mismatch drops the data, starts a new generation (every handle of the old one reads
 * EIO from then on), and tells the `dropped` callback each path the version was opened by, so
 * that the kernel's page cache of it can be invalidated.
 *
 * The entries share the cache_size budget with the upload staging (content_cache_set_reserved):
 * the least recently used entries that no handle holds are evicted first. Thread-safe. */
#ifndef VRCFS_CONTENT_CACHE_H
#define VRCFS_CONTENT_CACHE_H

#include "vfs/buf_pool.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTENT_SUBDIR "content"
#define CONTENT_FORMAT 1

struct content_cache;
struct cc_entry;

/* Called (from whichever thread found the mismatch, without any lock held) with each path a
 * dropped version was opened by. */
typedef void (*cc_dropped_fn)(void *arg, const char *path);

/* Opens the cache in <cache_dir>/content (made if needed) with a budget of limit bytes, and
 * takes up what an earlier mount left: entries with a sidecar that fits their data are kept,
 * anything else there is removed. Transfer buffers for the md5 come from pool. NULL with errno
 * set on failure. */
struct content_cache *content_cache_open(const char *cache_dir, uint64_t limit,
                                         struct buf_pool *pool, cc_dropped_fn dropped, void *arg);
/* Waits for background md5 work, saves every sidecar, and frees the cache. No entry may be held. */
void content_cache_close(struct content_cache *cc);

/* The upload staging holds bytes of the same budget now: content is evicted to make room. */
void content_cache_set_reserved(struct content_cache *cc, uint64_t bytes);

/* The entry for key, made or taken up, for a version of size bytes whose md5 is md5_b64 ("":
 * unknown, then complete data counts as verified). An entry recorded with another size or md5
 * starts over. path is the mount path the caller opened (kept for invalidation). *gen is the
 * entry's generation now: the caller's reads are good while it stays so. Release with
 * content_cache_put. */
int content_cache_get(struct content_cache *cc, const char *key, uint64_t size, const char *md5_b64,
                      const char *path, struct cc_entry **out, uint64_t *gen);
void content_cache_put(struct cc_entry *e);

uint64_t content_cache_size(const struct cc_entry *e);

/* True when the data of generation gen is whole and checked: reads need no request. */
bool content_cache_verified(struct cc_entry *e, uint64_t gen);
/* True when generation gen is over: its data failed the md5 (EIO for its handles, for good). */
bool content_cache_failed(struct cc_entry *e, uint64_t gen);

/* The first missing part of [off, end) for the caller to fetch: returns 1 and claims
 * [*start, *stop) (at most max bytes) until content_cache_fill, 0 when [off, end) is all there,
 * or -EIO when generation gen is over. Waits while another caller is fetching the first
 * missing byte. */
int content_cache_claim(struct cc_entry *e, uint64_t gen, uint64_t off, uint64_t end, uint64_t max,
                        uint64_t *start, uint64_t *stop);
/* The same without waiting: 0 also when another caller is fetching the first missing byte. A
 * caller that streams claims its next range with it before it fetches the current one, so
 * that readers just ahead of it wait for its bytes instead of fetching them themselves. */
int content_cache_claim_next(struct cc_entry *e, uint64_t gen, uint64_t off, uint64_t end,
                             uint64_t max, uint64_t *start, uint64_t *stop);
/* Ends the claim [start, stop): len bytes of data arrived for its start (len may be short: the
 * rest stays missing; 0 when they were stored already with content_cache_store), or err says the
 * fetch failed (data is ignored). Returns 0, or a negative errno when the bytes could not be
 * stored (-ENOSPC: the disk is full). */
int content_cache_fill(struct cc_entry *e, uint64_t gen, uint64_t start, uint64_t stop,
                       const void *data, size_t len, int err);
/* Writes len bytes of data at off into the cache and records them as present: the caller
 * holds a claim that covers them, and may store its claim's bytes piece by piece as they arrive
 * (readers waiting for them go on as soon as theirs are there). -EIO when generation gen is over,
 * another negative errno when the bytes could not be stored (-ENOSPC: the disk is full). */
int content_cache_store(struct cc_entry *e, uint64_t gen, uint64_t off, const void *data,
                        size_t len);
/* Copies [off, off + len) out of the cache; those bytes must be present. */
int content_cache_pread(struct cc_entry *e, void *out, size_t len, uint64_t off);
/* The data file, open while the entry is held: the bytes content_cache_pread would copy are at
 * their own offsets there, and stay there while the caller holds the entry (a drop cuts the
 * file only once no handle holds it), so a reply may be spliced from it. */
int content_cache_fd(const struct cc_entry *e);
/* True when every byte of generation gen is present. */
bool content_cache_complete(struct cc_entry *e, uint64_t gen);
/* Once every byte is present: waits for the md5's verdict. 0 verified, -EIO mismatch (the data
 * is dropped and generation gen is over). */
int content_cache_verdict(struct cc_entry *e, uint64_t gen);

/* {"dir", "bytes_used", "bytes_limit", "bytes_reserved", "entries", "verified", "hits",
 * "bytes_fetched", "mismatches", "evictions"} */
json_t *content_cache_stats(struct content_cache *cc);

#endif
