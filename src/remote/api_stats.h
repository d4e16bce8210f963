/* api_stats: counters of what vrcfs asked of the servers, for /.vrcfs/stats.json.
 * Requests are counted by endpoint (a path template such as "GET /file/{fileId}") and status. */
#ifndef VRCFS_API_STATS_H
#define VRCFS_API_STATS_H

#include <jansson.h>
#include <stdbool.h>
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

/* What the API side is waiting for now, for a person (vrcfs status): requests held back by the
 * pacer (delta +1 when one starts waiting, -1 when it goes), the end of a retry's backoff
 * (wall-clock seconds) and the status that caused it, and whether the session has expired
 * (since: wall-clock seconds). */
void api_stats_pacing(int delta);
void api_stats_backoff(double until, long status);
void api_stats_session(bool expired, double since);

/* {"requests": {"GET /files": {"200": 3}}, "requests_total": N, "bytes_down": N,
 *  "bytes_up": N, "retries": N, "rate_limited": N,
 *  "api": {"pacing": N, "backoff_until": T, "backoff_status": S},
 *  "session": {"state": "ok" or "expired", "since": T}} as a new object (T: 0 when none). */
json_t *api_stats_json(void);

#endif
