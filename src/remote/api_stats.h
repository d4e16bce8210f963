/* api_stats: counters of what vrcfs asked of the servers, for /.vrcfs/stats.json.
 * Requests are counted by endpoint (a path template such as "GET /file/{fileId}") and status. */
#ifndef VRCFS_API_STATS_H
#define VRCFS_API_STATS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Writes the endpoint template of method + path into out: ids (file_, wrld_, usr_, grp_,
 * not_), bare uuids, numbers and locations become {fileId}, {uuid}, {n}, {location}, ...; the
 * query is dropped. */
void api_stats_endpoint(const char *method, const char *path, char *out, size_t out_len);

/* Counts one finished request (status 0: no HTTP response). */
void api_stats_count_request(const char *endpoint, long status);
void api_stats_add_bytes(uint64_t down, uint64_t up);
void api_stats_count_retry(long status);

/* {"requests": {"GET /files": {"200": 3}}, "requests_total": N, "bytes_down": N,
 *  "bytes_up": N, "retries": N, "rate_limited": N} as a new object. */
json_t *api_stats_json(void);

#endif
