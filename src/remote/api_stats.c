#include "remote/api_stats.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define API_STATS_MAX_ENDPOINTS 64
#define API_STATS_MAX_STATUSES 12

struct endpoint_count {
    char endpoint[96];
    struct {
        long status;
        uint64_t count;
    } by_status[API_STATS_MAX_STATUSES];
};

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct endpoint_count stats_endpoints[API_STATS_MAX_ENDPOINTS];
static size_t stats_nendpoints;
static atomic_uint_fast64_t stats_total, stats_bytes_down, stats_bytes_up, stats_retries,
    stats_rate_limited;
static atomic_int stats_pacing;
/* Under stats_lock. */
static double stats_backoff_until, stats_expired_since;
static long stats_backoff_status;
static bool stats_expired;

static const struct {
    const char *prefix;
    const char *name;
} id_kinds[] = {{"file_", "{fileId}"},
                {"wrld_", "{location}"},
                {"usr_", "{userId}"},
                {"grp_", "{groupId}"},
                {"not_", "{notificationId}"}};

/* A bare 8-4-4-4-12 uuid, as sharedcloud.io names its instances. */
static bool is_uuid(const char *seg, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < len; i++)
        if (i == 8 || i == 13 || i == 18 || i == 23 ? seg[i] != '-'
                                                    : !isxdigit((unsigned char)seg[i]))
            return false;
    return true;
}

static const char *segment_template(const char *seg, size_t len)
{
    for (size_t i = 0; i < sizeof id_kinds / sizeof id_kinds[0]; i++)
        if (len > strlen(id_kinds[i].prefix) &&
            strncmp(seg, id_kinds[i].prefix, strlen(id_kinds[i].prefix)) == 0)
            return id_kinds[i].name;
    if (is_uuid(seg, len))
        return "{uuid}";
    size_t digits = 0;
    while (digits < len && isdigit((unsigned char)seg[digits]))
        digits++;
    return digits == len && len > 0 ? "{n}" : NULL;
}

void api_stats_endpoint(const char *method, const char *path, char *out, size_t out_len)
{
    size_t used = (size_t)snprintf(out, out_len, "%s ", method);
    const char *p = path;
    while (*p && *p != '?' && used + 1 < out_len) {
        if (*p != '/') {
            p++;
            continue;
        }
        const char *seg = p + 1;
        size_t len = strcspn(seg, "/?");
        const char *tmpl = segment_template(seg, len);
        int n = tmpl ? snprintf(out + used, out_len - used, "/%s", tmpl)
                     : snprintf(out + used, out_len - used, "/%.*s", (int)len, seg);
        used = n < 0 || (size_t)n >= out_len - used ? out_len - 1 : used + (size_t)n;
        p = seg + len;
    }
}

void api_stats_count_request(const char *endpoint, long status)
{
    atomic_fetch_add(&stats_total, 1);
    if (status == 429)
        atomic_fetch_add(&stats_rate_limited, 1);
    pthread_mutex_lock(&stats_lock);
    struct endpoint_count *e = NULL;
    for (size_t i = 0; i < stats_nendpoints && !e; i++)
        if (strcmp(stats_endpoints[i].endpoint, endpoint) == 0)
            e = &stats_endpoints[i];
    if (!e && stats_nendpoints < API_STATS_MAX_ENDPOINTS) {
        e = &stats_endpoints[stats_nendpoints++];
        snprintf(e->endpoint, sizeof e->endpoint, "%s", endpoint);
    }
    if (e) {
        for (size_t i = 0; i < API_STATS_MAX_STATUSES; i++) {
            if (e->by_status[i].count == 0 || e->by_status[i].status == status) {
                e->by_status[i].status = status;
                e->by_status[i].count++;
                break;
            }
        }
    }
    pthread_mutex_unlock(&stats_lock);
}

void api_stats_add_bytes(uint64_t down, uint64_t up)
{
    atomic_fetch_add(&stats_bytes_down, down);
    atomic_fetch_add(&stats_bytes_up, up);
}

void api_stats_count_retry(long status)
{
    (void)status;
    atomic_fetch_add(&stats_retries, 1);
}

void api_stats_pacing(int delta)
{
    atomic_fetch_add(&stats_pacing, delta);
}

void api_stats_backoff(double until, long status)
{
    pthread_mutex_lock(&stats_lock);
    if (until > stats_backoff_until) {
        stats_backoff_until = until;
        stats_backoff_status = status;
    }
    pthread_mutex_unlock(&stats_lock);
}

void api_stats_session(bool expired, double since)
{
    pthread_mutex_lock(&stats_lock);
    if (expired != stats_expired) {
        stats_expired = expired;
        stats_expired_since = expired ? since : 0;
    }
    pthread_mutex_unlock(&stats_lock);
}

json_t *api_stats_json(void)
{
    json_t *requests = json_object();
    pthread_mutex_lock(&stats_lock);
    for (size_t i = 0; i < stats_nendpoints; i++) {
        json_t *by_status = json_object();
        for (size_t j = 0; j < API_STATS_MAX_STATUSES && stats_endpoints[i].by_status[j].count;
             j++) {
            char key[16];
            snprintf(key, sizeof key, "%ld", stats_endpoints[i].by_status[j].status);
            json_object_set_new(by_status, key,
                                json_integer((json_int_t)stats_endpoints[i].by_status[j].count));
        }
        json_object_set_new(requests, stats_endpoints[i].endpoint, by_status);
    }
    json_t *api =
        json_pack("{s:i, s:f, s:I}", "pacing", atomic_load(&stats_pacing), "backoff_until",
                  stats_backoff_until, "backoff_status", (json_int_t)stats_backoff_status);
    json_t *session = json_pack("{s:s, s:f}", "state", stats_expired ? "expired" : "ok", "since",
                                stats_expired_since);
    pthread_mutex_unlock(&stats_lock);
    return json_pack("{s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I}", "requests", requests, "api", api,
                     "session", session, "requests_total", (json_int_t)atomic_load(&stats_total),
                     "bytes_down", (json_int_t)atomic_load(&stats_bytes_down), "bytes_up",
                     (json_int_t)atomic_load(&stats_bytes_up), "retries",
                     (json_int_t)atomic_load(&stats_retries), "rate_limited",
                     (json_int_t)atomic_load(&stats_rate_limited));
}
